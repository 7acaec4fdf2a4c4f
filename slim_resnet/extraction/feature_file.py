"""The .npz file of extracted features: what it holds, and writing it in one piece.

The file holds:
  <end point>      float32 features per end point, e.g. 'resnet_v2_50/block4' [N, 7, 7, 2048] or
                   'global_pool' [N, 1, 1, 2048], rows in the order of 'files'
  end_points       the end-point names stored
  files            image paths relative to the image folder, one per feature row
  labels           int64 class index per row (only with class sub-folders)
  class_names      the sub-folder names, index = label (only with class sub-folders)
  skipped_files    unreadable files (relative paths), not in 'files'
  depth, image_size, preprocessing, checkpoint   how the features were made

It is written to a temporary file in the same folder and renamed into place
(`slim_resnet.support.files.atomic_output`), so an interrupted run never leaves a partial file and an older
file of that name survives until the new one is complete. Ctrl-C or SIGTERM (under
`slim_resnet.extraction.interrupts.stop_signals_interrupt`) during the write removes the temporary file.
"""

import contextlib

import numpy as np

from slim_resnet.extraction import interrupts
from slim_resnet.support import files


def feature_arrays(folder, extraction, end_point_names, depth, image_size, preprocessing_name,
                   checkpoint):
  """The arrays of the file (see the module docstring).

  Args:
    folder: the `ImageFolder` the features came from.
    extraction: the `Extraction` of a run over it.
    end_point_names: the end points to store, in order.
    depth, image_size, preprocessing_name: how the network was built and fed.
    checkpoint: the checkpoint given, or None for random weights.

  Returns:
    {key: numpy array}.
  """
  arrays = {name: np.concatenate(extraction.features[name]) for name in end_point_names}
  arrays['end_points'] = np.array(end_point_names)
  arrays['files'] = np.array([folder.files[i] for i in extraction.kept_indices], dtype=str)
  if folder.class_names is not None:
    arrays['labels'] = np.array([folder.labels[i] for i in extraction.kept_indices], np.int64)
    arrays['class_names'] = np.array(folder.class_names, dtype=str)
  arrays['skipped_files'] = np.array([folder.files[i] for i in extraction.skipped_indices],
                                     dtype=str)
  arrays['depth'] = np.array(depth)
  arrays['image_size'] = np.array(image_size)
  arrays['preprocessing'] = np.array(preprocessing_name)
  arrays['checkpoint'] = np.array(checkpoint or '')
  return arrays


def write_feature_file(path, arrays):
  """Writes `arrays` ({key: array}) to `path` as .npz, through a temporary file and a rename.

  An existing file at `path` stays untouched until the new one is complete; on any failure, Ctrl-C
  and SIGTERM included, the temporary file is removed.

  Raises:
    OSError: if the file cannot be created, written or renamed into place.
  """
  with contextlib.ExitStack() as stack:
    # A signal between creating the temporary file and arranging its removal would leave it behind.
    with interrupts.deferred():
      stream = stack.enter_context(files.atomic_output(path, binary=True))
    np.savez(stream, **arrays)
