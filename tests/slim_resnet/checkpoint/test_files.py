"""slim_resnet.checkpoint.files: finding a checkpoint from a prefix, file or directory; its variables."""

import os

import numpy as np
import pytest
import tensorflow as tf

from slim_resnet.checkpoint import files as checkpoint_files


def test_prefix_files_and_directory_resolve_to_the_prefix(tmp_path, save_checkpoint):
  save_checkpoint(str(tmp_path), {'v': np.zeros([1], np.float32)}, step=3)
  latest = save_checkpoint(str(tmp_path), {'v': np.zeros([1], np.float32)}, step=7)
  assert latest == str(tmp_path / 'small.ckpt-7')
  assert checkpoint_files.resolve_checkpoint(str(tmp_path)) == latest  # By the state file.
  assert checkpoint_files.resolve_checkpoint(latest) == latest
  assert checkpoint_files.resolve_checkpoint(latest + '.index') == latest
  assert checkpoint_files.resolve_checkpoint(latest + '.data-00000-of-00001') == latest


def test_checkpoint_paths_resolve_or_fail_clearly(tmp_path, save_checkpoint):
  with pytest.raises(checkpoint_files.CheckpointError, match='no checkpoint at .*nothing'):
    checkpoint_files.resolve_checkpoint(str(tmp_path / 'nothing'))
  with pytest.raises(checkpoint_files.CheckpointError, match='no checkpoint in directory'):
    checkpoint_files.resolve_checkpoint(str(tmp_path))
  first = save_checkpoint(str(tmp_path), {'v': np.zeros([1], np.float32)}, step=1)
  os.remove(tmp_path / 'checkpoint')  # No state file: the only checkpoint is found.
  assert checkpoint_files.resolve_checkpoint(str(tmp_path)) == first
  save_checkpoint(str(tmp_path), {'v': np.zeros([1], np.float32)}, step=2)
  os.remove(tmp_path / 'checkpoint')
  with pytest.raises(checkpoint_files.CheckpointError, match='holds 2 checkpoints'):
    checkpoint_files.resolve_checkpoint(str(tmp_path))
  (tmp_path / 'junk.index').write_bytes(b'not a checkpoint')
  with pytest.raises(checkpoint_files.CheckpointError, match='cannot read checkpoint'):
    checkpoint_files.list_checkpoint_variables(str(tmp_path / 'junk'))


def test_list_checkpoint_variables_gives_shapes_dtypes_and_scopes(tmp_path, save_checkpoint):
  prefix = save_checkpoint(str(tmp_path), {'net/a/w': np.ones([2, 3], np.float32),
                                           'net/b': np.ones([4], np.int32),
                                           'step': np.array(5, np.int64)})
  stored = checkpoint_files.list_checkpoint_variables(prefix)
  assert stored == {
      'net/a/w': checkpoint_files.CheckpointVariable((2, 3), tf.float32),
      'net/b': checkpoint_files.CheckpointVariable((4,), tf.int32),
      'step': checkpoint_files.CheckpointVariable((), tf.int64),
  }
  assert checkpoint_files.top_level_scopes(stored) == ['net', 'step']
