"""slim_resnet.extraction.feature_file: the arrays of a features .npz, and its all-or-nothing write."""

import os
import signal
import time

import numpy as np
import pytest

from slim_resnet.extraction import feature_file, interrupts
from slim_resnet.extraction.progress import Progress
from slim_resnet.extraction.run import Extraction
from slim_resnet.images.folder import ImageFolder


def test_arrays_hold_rows_in_file_order_with_labels_and_provenance():
  folder = ImageFolder('/images', ['cats/a.png', 'cats/b.png', 'dogs/c.png'], [0, 0, 1],
                       ['cats', 'dogs'])
  features = {'global_pool': [np.zeros([1, 1, 1, 4]), np.ones([1, 1, 1, 4])]}
  extraction = Extraction(features, [0, 2], [1], Progress(3))
  arrays = feature_file.feature_arrays(folder, extraction, ['global_pool'], 50, 64, 'vgg', None)
  assert sorted(arrays) == ['checkpoint', 'class_names', 'depth', 'end_points', 'files',
                            'global_pool', 'image_size', 'labels', 'preprocessing', 'skipped_files']
  assert arrays['global_pool'].shape == (2, 1, 1, 4)
  assert arrays['files'].tolist() == ['cats/a.png', 'dogs/c.png']
  assert arrays['labels'].tolist() == [0, 1] and arrays['labels'].dtype == np.int64
  assert arrays['skipped_files'].tolist() == ['cats/b.png']
  assert (int(arrays['depth']), int(arrays['image_size'])) == (50, 64)
  assert (str(arrays['preprocessing']), str(arrays['checkpoint'])) == ('vgg', '')
  flat = ImageFolder('/images', ['a.png'])
  flat_arrays = feature_file.feature_arrays(flat, Extraction({'x': [np.zeros([1, 2])]}, [0], [],
                                                             Progress(1)), ['x'], 50, 64, 'none', 'c')
  assert 'labels' not in flat_arrays and 'class_names' not in flat_arrays


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
  output = tmp_path / 'features.npz'
  feature_file.write_feature_file(str(output), {'old': np.arange(3)})

  class Unwritable:
    def __array__(self, dtype=None, copy=None):
      raise RuntimeError('disk full, say')

  with pytest.raises(RuntimeError, match='disk full'):
    feature_file.write_feature_file(str(output), {'new': np.zeros(2), 'bad': Unwritable()})
  assert np.load(output)['old'].tolist() == [0, 1, 2]
  assert sorted(path.name for path in tmp_path.iterdir()) == ['features.npz']


def test_sigterm_during_the_write_removes_the_temporary_file(tmp_path):
  output = tmp_path / 'features.npz'
  feature_file.write_feature_file(str(output), {'old': np.arange(3)})

  class SignalsWhileWritten:
    """An array whose conversion, once the first array is in the file, sends a real SIGTERM."""

    def __array__(self, dtype=None, copy=None):
      os.kill(os.getpid(), signal.SIGTERM)
      time.sleep(0.1)  # The handler runs here, between bytecodes.
      return np.zeros(3)

  with pytest.raises(interrupts.Interrupted) as raised:
    with interrupts.stop_signals_interrupt():
      feature_file.write_feature_file(str(output), {'first': np.ones(1000), 'then': SignalsWhileWritten()})
  assert raised.value.signum == signal.SIGTERM
  assert np.load(output)['old'].tolist() == [0, 1, 2]
  assert sorted(path.name for path in tmp_path.iterdir()) == ['features.npz']
