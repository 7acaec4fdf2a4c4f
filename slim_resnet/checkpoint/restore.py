"""Restoring TF-Slim checkpoints into a built graph, for fine-tuning and feature extraction.

The package `slim_resnet.checkpoint` exports these names with those of `files` and `matching`.

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
import warnings

import tensorflow as tf

from slim_resnet.checkpoint.files import CheckpointError, list_checkpoint_variables, resolve_checkpoint
from slim_resnet.checkpoint.matching import (
    CheckpointComparison,
    CheckpointMismatchError,
    check_exclude_matches,
    compare_with_checkpoint,
    in_scope,
    variable_name,
)
from slim_resnet.support.wording import listing, plural

__all__ = [
    'STAGES',
    'Restorer',
    'UnusedCheckpointVariablesWarning',
    'make_restorer',
    'restore_checkpoint',
    'stage_of',
    'variables_by_stage',
]

STAGES = ('root', 'block1', 'block2', 'block3', 'block4', 'head')


class UnusedCheckpointVariablesWarning(UserWarning):
  """The checkpoint holds variables that nothing in the graph restores."""


def _default_variables(graph):
  with graph.as_default():
    variables = tf.compat.v1.model_variables()
    if not variables:
      raise CheckpointError('the graph has no model variables to restore; pass variables=')
  return variables


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
        f'{plural(len(unused), "checkpoint variable")} in {prefix} not used by the graph: '
        f'{listing(unused)}', UnusedCheckpointVariablesWarning, stacklevel=3)


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
  check_exclude_matches(exclude, variables)
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

