"""Finding a TF-Slim checkpoint on disk and reading the list of variables it holds.

A checkpoint may be named by its prefix (`model.ckpt-1000`), one of its files (`.index`, `.meta`,
`.data-00000-of-00001`), a V1 single-file checkpoint, or a directory: its latest checkpoint by the
`checkpoint` state file, else its only one. Nothing is restored here; see `slim_resnet.checkpoint`.
"""

import dataclasses
import os

import tensorflow as tf

from slim_resnet.support.wording import listing

_CHECKPOINT_SUFFIXES = ('.index', '.meta')


class CheckpointError(ValueError):
  """The checkpoint cannot be found or read."""


@dataclasses.dataclass(frozen=True)
class CheckpointVariable:
  """One tensor of a checkpoint."""
  shape: tuple
  dtype: tf.dtypes.DType


def resolve_checkpoint(path):
  """Returns the checkpoint path (prefix) that `path` names.

  Args:
    path: a checkpoint prefix ('dir/model.ckpt-1000'), one of its files ('...index'), a V1 single-file
      checkpoint, or a directory holding checkpoints (its latest, by its 'checkpoint' state file, or its
      only one).

  Returns:
    A path `tf.train.load_checkpoint` reads.

  Raises:
    CheckpointError: if nothing there is a checkpoint, or a directory holds several and no state file.
  """
  path = os.fspath(path)
  if tf.io.gfile.isdir(path):
    return _checkpoint_in_directory(path)
  for suffix in _CHECKPOINT_SUFFIXES:
    if path.endswith(suffix):
      path = path[:-len(suffix)]
  if '.data-' in os.path.basename(path):
    path = path[:path.rindex('.data-')]
  if tf.io.gfile.exists(path + '.index') or (
      tf.io.gfile.exists(path) and not tf.io.gfile.isdir(path)):
    return path
  raise CheckpointError(f'no checkpoint at {path}: expected a checkpoint prefix (with a .index '
                        'file), a V1 checkpoint file, or a directory of checkpoints')


def _checkpoint_in_directory(directory):
  """Returns the latest (or only) checkpoint in `directory`; see `resolve_checkpoint`."""
  latest = tf.train.latest_checkpoint(directory)
  if latest is not None:
    return latest
  names = sorted(tf.io.gfile.listdir(directory))
  prefixes = [name[:-len('.index')] for name in names if name.endswith('.index')]
  if not prefixes:
    prefixes = [name for name in names if name.endswith('.ckpt')]
  if len(prefixes) == 1:
    return os.path.join(directory, prefixes[0])
  if not prefixes:
    raise CheckpointError(f'no checkpoint in directory {directory}')
  raise CheckpointError(f'directory {directory} holds {len(prefixes)} checkpoints '
                        f'({listing(prefixes)}) and no "checkpoint" state file; pass one of them')


def list_checkpoint_variables(path):
  """Returns {name: CheckpointVariable} for every tensor in the checkpoint at `path`.

  Args:
    path: anything `resolve_checkpoint` accepts.

  Raises:
    CheckpointError: if `path` is not a readable checkpoint.
  """
  prefix = resolve_checkpoint(path)
  try:
    reader = tf.train.load_checkpoint(prefix)
    shapes = dict(tf.train.list_variables(prefix))
  except (tf.errors.OpError, ValueError) as error:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    raise CheckpointError(f'cannot read checkpoint {prefix}: {first_line}') from error
  dtypes = reader.get_variable_to_dtype_map()
  return {name: CheckpointVariable(tuple(shape), dtypes[name]) for name, shape in shapes.items()}


def top_level_scopes(checkpoint_variables):
  """The sorted first components of the checkpoint's names, e.g. ['global_step', 'resnet_v2_50']."""
  return sorted({name.split('/')[0] for name in checkpoint_variables})
