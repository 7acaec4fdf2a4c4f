"""Restoring TF-Slim checkpoints into a built graph, for fine-tuning and feature extraction.

The restore is all or nothing. Before anything is assigned, the graph's variables are compared with the
checkpoint's (`tf.train.list_variables`): variables the checkpoint lacks and variables whose shape (or
dtype, beyond a float-to-float cast) differs are reported together in one `CheckpointMismatchError`, and
no variable is touched. Checkpoint variables that nothing in the graph uses give one
`UnusedCheckpointVariablesWarning`.

    with slim.arg_scope(resnet_arg_scope()):
      logits, _ = resnet_v2_50(images, num_classes=5, is_training=True)
    ...
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      restore_checkpoint(sess, '/ckpts/resnet_v2_50.ckpt', exclude=['resnet_v2_50/logits'])

- `exclude`: graph scopes (or full variable names) that are not restored and keep their initial values,
  e.g. new logits with another number of classes. Checkpoint variables they would have read are not
  reported as unused.
- `scope_map`: {graph scope: checkpoint scope}, for a model built under another scope than it was saved
  under, e.g. {'tower_0/resnet_v2_50': 'resnet_v2_50'}. The longest matching graph scope wins; an empty
  checkpoint scope strips the graph scope, an empty graph scope prefixes every name.
- `variables`: what to restore; by default the graph's model variables (weights, biases, batch-norm
  parameters and moving statistics), not `global_step` or optimizer slots.
- The checkpoint may be a path prefix (`model.ckpt-1000`), a V1 single-file checkpoint, or a directory
  (its latest checkpoint, or its only one).

Stages (`STAGES`, `variables_by_stage`) name the parts `frozen_stages=K` freezes: 'root' (conv1),
'block1'..'block4', and 'head' (postnorm, logits).
"""

import collections
import dataclasses
import os
import warnings

import tensorflow as tf

STAGES = ('root', 'block1', 'block2', 'block3', 'block4', 'head')
_LISTED_NAMES = 8  # How many names a one-line summary lists before "and N more".
_CHECKPOINT_SUFFIXES = ('.index', '.meta')


class CheckpointError(ValueError):
  """The checkpoint cannot be found or read."""


class CheckpointMismatchError(CheckpointError):
  """The graph's variables and the checkpoint's do not match; nothing was restored.

  Attributes:
    checkpoint: the resolved checkpoint path.
    comparison: the `CheckpointComparison` that failed.
  """

  def __init__(self, checkpoint, comparison):
    self.checkpoint = checkpoint
    self.comparison = comparison
    super().__init__(_mismatch_report(checkpoint, comparison))

  def summary(self):
    """Returns the error on one line (for command lines)."""
    return _mismatch_summary(self.checkpoint, self.comparison)


class UnusedCheckpointVariablesWarning(UserWarning):
  """The checkpoint holds variables that nothing in the graph restores."""


@dataclasses.dataclass(frozen=True)
class CheckpointVariable:
  """One tensor of a checkpoint."""
  shape: tuple
  dtype: tf.dtypes.DType


@dataclasses.dataclass(frozen=True)
class Mismatch:
  """A graph variable whose checkpoint tensor has another shape or an incompatible dtype."""
  graph_name: str
  checkpoint_name: str
  graph_shape: tuple
  checkpoint_shape: tuple
  graph_dtype: str
  checkpoint_dtype: str

  def describe(self):
    """Returns e.g. 'a/w: graph [3, 3] float32, checkpoint [3, 4] float32'."""
    looked_up = ('' if self.graph_name == self.checkpoint_name
                 else f' (checkpoint name {self.checkpoint_name})')
    return (f'{self.graph_name}{looked_up}: graph {list(self.graph_shape)} {self.graph_dtype}, '
            f'checkpoint {list(self.checkpoint_shape)} {self.checkpoint_dtype}')


@dataclasses.dataclass
class CheckpointComparison:
  """How the graph's variables line up with a checkpoint.

  Attributes:
    restored: (graph name, checkpoint name) pairs that match and will be restored.
    missing: (graph name, checkpoint name) pairs whose checkpoint name the checkpoint lacks.
    mismatched: `Mismatch`es in shape or dtype.
    excluded: graph names left out by `exclude`.
    unused: checkpoint names nothing restores (excluded ones not counted).
    checkpoint_scopes: the checkpoint's top-level scopes, as a hint for `scope_map`.
  """
  restored: list
  missing: list
  mismatched: list
  excluded: list
  unused: list
  checkpoint_scopes: list

  @property
  def ok(self):
    """True when every selected variable can be restored."""
    return not self.missing and not self.mismatched


def _listing(names, limit=_LISTED_NAMES, separator=', '):
  """Returns 'a, b, c' or 'a, b, ... and 7 more'."""
  names = list(names)
  shown = separator.join(names[:limit])
  return shown if len(names) <= limit else f'{shown} and {len(names) - limit} more'


def _plural(count, noun, plural=None):
  return f'{count} {noun}' if count == 1 else f'{count} {plural or noun + "s"}'


def _missing_name(graph_name, checkpoint_name):
  if graph_name == checkpoint_name:
    return graph_name
  return f'{graph_name} (looked up as {checkpoint_name})'


def _mismatch_hint(comparison):
  if comparison.missing and not comparison.restored:
    return (f'nothing matched: the checkpoint\'s top-level scopes are '
            f'{_listing(comparison.checkpoint_scopes)}; pass scope_map to remap')
  return 'pass exclude for variables that should keep their initial values'


def _mismatch_report(checkpoint, comparison):
  """Returns the multi-line message of a `CheckpointMismatchError`."""
  lines = [_mismatch_summary(checkpoint, comparison)]
  for graph_name, checkpoint_name in comparison.missing:
    lines.append(f'  missing from checkpoint: {_missing_name(graph_name, checkpoint_name)}')
  for mismatch in comparison.mismatched:
    lines.append(f'  mismatch: {mismatch.describe()}')
  return '\n'.join(lines)


def _mismatch_summary(checkpoint, comparison):
  """Returns the one-line form of a `CheckpointMismatchError`."""
  parts = []
  if comparison.missing:
    names = [_missing_name(g, c) for g, c in comparison.missing]
    parts.append(f'{_plural(len(names), "variable")} missing from it ({_listing(names)})')
  if comparison.mismatched:
    descriptions = [mismatch.describe() for mismatch in comparison.mismatched]
    parts.append(f'{_plural(len(descriptions), "shape/dtype mismatch", "shape/dtype mismatches")} '
                 f'({_listing(descriptions, 3, "; ")})')
  return (f'checkpoint {checkpoint} does not match the graph, nothing restored: '
          f'{"; ".join(parts)}; {_mismatch_hint(comparison)}')


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
                        f'({_listing(prefixes)}) and no "checkpoint" state file; pass one of them')


def list_checkpoint_variables(path):
  """Returns {name: CheckpointVariable} for every tensor in the checkpoint at `path`.

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


def in_scope(name, scope):
  """True if variable `name` is `scope` itself or lies under it ('' is the root scope)."""
  scope = scope.rstrip('/')
  return not scope or name == scope or name.startswith(scope + '/')


def checkpoint_name(graph_name, scope_map=None):
  """Returns the name `graph_name` has in the checkpoint under `scope_map` ({graph: checkpoint})."""
  matches = [scope for scope in (scope_map or {}) if in_scope(graph_name, scope)]
  if not matches:
    return graph_name
  graph_scope = max(matches, key=lambda scope: len(scope.rstrip('/')))
  target_scope = scope_map[graph_scope].rstrip('/')
  graph_scope = graph_scope.rstrip('/')
  rest = graph_name[len(graph_scope):].lstrip('/') if graph_scope else graph_name
  if not target_scope:
    return rest
  return f'{target_scope}/{rest}' if rest else target_scope


def variable_name(variable):
  """Returns a variable's name without the ':0' output suffix."""
  return variable.op.name


def _default_variables(graph):
  with graph.as_default():
    variables = tf.compat.v1.model_variables()
    if not variables:
      raise CheckpointError('the graph has no model variables to restore; pass variables=')
  return variables


def _castable(graph_dtype, checkpoint_dtype):
  """True if a checkpoint tensor can be assigned to a graph variable, casting floats if needed."""
  return graph_dtype == checkpoint_dtype or (graph_dtype.is_floating and checkpoint_dtype.is_floating)


def compare_with_checkpoint(variables, checkpoint_variables, exclude=(), scope_map=None):
  """Lines the graph's variables up with a checkpoint's.

  Args:
    variables: the graph variables to restore.
    checkpoint_variables: {name: CheckpointVariable}, from `list_checkpoint_variables`.
    exclude: graph scopes or variable names not to restore.
    scope_map: {graph scope: checkpoint scope}; see the module docstring.

  Returns:
    A `CheckpointComparison`.
  """
  restored, missing, mismatched, excluded = [], [], [], []
  used = set()
  for variable in variables:
    graph_name = variable_name(variable)
    name_in_checkpoint = checkpoint_name(graph_name, scope_map)
    if any(in_scope(graph_name, scope) for scope in exclude):
      excluded.append(graph_name)
      used.add(name_in_checkpoint)
      continue
    stored = checkpoint_variables.get(name_in_checkpoint)
    if stored is None:
      missing.append((graph_name, name_in_checkpoint))
      continue
    used.add(name_in_checkpoint)
    graph_shape = tuple(variable.shape.as_list())
    graph_dtype = variable.dtype.base_dtype
    if graph_shape != stored.shape or not _castable(graph_dtype, stored.dtype):
      mismatched.append(Mismatch(graph_name, name_in_checkpoint, graph_shape, stored.shape,
                                 graph_dtype.name, stored.dtype.name))
    else:
      restored.append((graph_name, name_in_checkpoint))
  unused = sorted(set(checkpoint_variables) - used)
  scopes = sorted({name.split('/')[0] for name in checkpoint_variables})
  return CheckpointComparison(restored, missing, mismatched, excluded, unused, scopes)


def _restore_op(prefix, variables_by_name, pairs, checkpoint_variables):
  """Returns one op reading each needed checkpoint tensor once and assigning it (cast if needed)."""
  names = sorted({name for _, name in pairs})
  with tf.compat.v1.name_scope('restore_checkpoint'):
    tensors = tf.raw_ops.RestoreV2(
        prefix=prefix, tensor_names=names, shape_and_slices=[''] * len(names),
        dtypes=[checkpoint_variables[name].dtype for name in names])
    tensor_by_name = dict(zip(names, tensors, strict=True))
    assigns = []
    for graph_name, name in pairs:
      variable = variables_by_name[graph_name]
      value = tf.cast(tensor_by_name[name], variable.dtype.base_dtype)
      assigns.append(tf.compat.v1.assign(variable, value))
    return tf.group(*assigns)


def _warn_unused(prefix, unused):
  if unused:
    warnings.warn(
        f'{_plural(len(unused), "checkpoint variable")} in {prefix} not used by the graph: '
        f'{_listing(unused)}', UnusedCheckpointVariablesWarning, stacklevel=3)


@dataclasses.dataclass
class Restorer:
  """A checked restore, built in a graph, to run in any session of that graph.

  Attributes:
    checkpoint: the resolved checkpoint path.
    comparison: the `CheckpointComparison` (all good, or the constructor would have raised).
    restore_op: the op that assigns every restored variable.
  """
  checkpoint: str
  comparison: CheckpointComparison
  restore_op: tf.Operation

  def __call__(self, session):
    """Restores the variables in `session` (usable as a `Scaffold` init_fn(scaffold, session))."""
    session.run(self.restore_op)


def _check_exclude_matches(exclude, variables):
  """Raises CheckpointError for an `exclude` entry that matches no variable: a typo there
  ('resnet_v2_50/logit') would otherwise restore what the caller meant to keep fresh."""
  names = [variable_name(variable) for variable in variables]
  unmatched = [scope for scope in exclude if not any(in_scope(name, scope) for name in names)]
  if unmatched:
    raise CheckpointError(
        f'exclude {_listing(unmatched)} matches no variable to restore; give graph scopes (e.g. '
        f'resnet_v2_50/logits) or full variable names')


def make_restorer(checkpoint, variables=None, exclude=(), scope_map=None, graph=None):
  """Compares the graph with a checkpoint and builds the restore op; see the module docstring.

  Args:
    checkpoint: checkpoint prefix, file or directory.
    variables: variables to restore; default the graph's model variables.
    exclude: graph scopes or variable names to leave out.
    scope_map: {graph scope: checkpoint scope}.
    graph: the graph to build in; default the current default graph.

  Returns:
    A `Restorer`; call it with a session.

  Raises:
    CheckpointError: if the checkpoint cannot be found or read, or an `exclude` entry matches no
      variable.
    CheckpointMismatchError: if variables are missing from the checkpoint or differ in shape/dtype.
  """
  graph = graph or tf.compat.v1.get_default_graph()
  if isinstance(exclude, str):
    exclude = [exclude]
  prefix = resolve_checkpoint(checkpoint)
  stored = list_checkpoint_variables(prefix)
  variables = list(variables) if variables is not None else _default_variables(graph)
  _check_exclude_matches(exclude, variables)
  comparison = compare_with_checkpoint(variables, stored, exclude, scope_map)
  if not comparison.ok:
    raise CheckpointMismatchError(prefix, comparison)
  _warn_unused(prefix, comparison.unused)
  variables_by_name = {variable_name(variable): variable for variable in variables}
  with graph.as_default():
    restore_op = _restore_op(prefix, variables_by_name, comparison.restored, stored)
  return Restorer(prefix, comparison, restore_op)


def restore_checkpoint(session, checkpoint, variables=None, exclude=(), scope_map=None):
  """Restores a checkpoint into `session`'s graph, all or nothing.

  Args:
    session: a tf.compat.v1.Session whose graph holds the model (variables initialised or not).
    checkpoint: checkpoint prefix, file or directory.
    variables: variables to restore; default the graph's model variables.
    exclude: graph scopes or variable names to leave out (they keep their current values).
    scope_map: {graph scope: checkpoint scope}.

  Returns:
    The `CheckpointComparison` (what was restored, excluded, and left unused).

  Raises:
    CheckpointError: if the checkpoint cannot be found or read.
    CheckpointMismatchError: if variables are missing from the checkpoint or differ in shape/dtype;
      no variable has been changed.
  """
  restorer = make_restorer(checkpoint, variables, exclude, scope_map, graph=session.graph)
  restorer(session)
  return restorer.comparison


def stage_of(name, scope):
  """Returns the stage ('root', 'block1'..'block4', 'head') of variable `name` of the model `scope`.

  Returns None for names outside `scope`. Everything under the model scope that is not conv1 or a
  block (postnorm, logits) is 'head'.
  """
  scope = scope.rstrip('/')
  if not in_scope(name, scope) or name == scope:
    return None
  first = name[len(scope) + 1:].split('/')[0]
  if first == 'conv1':
    return 'root'
  return first if first in STAGES else 'head'


def variables_by_stage(variables, scope):
  """Groups variables of the model built under `scope` by stage.

  Args:
    variables: an iterable of variables (e.g. tf.compat.v1.global_variables()).
    scope: the model's scope, e.g. 'resnet_v2_50' or 'tower_0/resnet_v2_50'.

  Returns:
    An OrderedDict {stage: [variables]} over all of `STAGES` (possibly empty lists); variables outside
    `scope` are left out.
  """
  groups = collections.OrderedDict((stage, []) for stage in STAGES)
  for variable in variables:
    stage = stage_of(variable_name(variable), scope)
    if stage is not None:
      groups[stage].append(variable)
  return groups

