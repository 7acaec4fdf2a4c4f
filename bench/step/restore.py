"""The measured network's weights from a TF-Slim checkpoint (--checkpoint), through slim_resnet's
restore: its name matching, its all-or-nothing comparison and its one-line mismatch report.

Checked twice, so a bad checkpoint costs no timed step:

- in the parent, once per checkpoint and depth, before any child starts (`check_configs`): the file
  is found and readable, was saved from this depth (`slim_resnet.family.depth_problem`), its logits
  have --num-classes classes, and every tensor of the model's scope reads back in full (a truncated
  data file names the first variable it cuts);
- in the child, when the timed graph is built (`restore_op`): every model variable of the graph is
  matched by name and shape (`slim_resnet.checkpoint.make_restorer`); the op is run right after
  the variables are initialised, before the burn-in.

Under fp16 and bf16 the variables are the float32 masters (`bench.step.precision`), so they restore
as they are. With several replicas (tf.distribute) the first copy of each variable is restored and
every other copy is assigned from it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import tensorflow as tf

from bench.core.errors import ConfigError
from slim_resnet import checkpoint as checkpoint_lib
from slim_resnet import end_points as end_points_lib
from slim_resnet.checkpoint import CheckpointError
from slim_resnet.family import depth_problem

__all__ = ["CheckpointError", "check_configs", "checkpoint_classes", "restore_op", "without_path"]

tf1 = tf.compat.v1


def without_path(message: str, path: str) -> str:
    """`message` without a leading 'PATH: ' (the flag's line names the path)."""
    return message[len(path) + 2:] if message.startswith(f"{path}: ") else message


def checkpoint_classes(path: str, depths: Sequence[int]) -> int | None:
    """The class count of the checkpoint's logits under the first of resnet_v2_<depths> it holds,
    or None when it has none.

    Raises:
      CheckpointError: if the checkpoint cannot be found or read.
    """
    stored = checkpoint_lib.list_checkpoint_variables(path)
    for depth in depths:
        found = end_points_lib.checkpoint_classes(stored, f"resnet_v2_{depth}")
        if found is not None:
            return found
    return None


def check_checkpoint(path: str, depth: int, num_classes: int) -> None:
    """The parent's check of a checkpoint for resnet_v2_`depth` with `num_classes` logits.

    Raises:
      CheckpointError: naming the file, and the variable when one is at fault.
    """
    prefix = checkpoint_lib.resolve_checkpoint(path)
    stored = checkpoint_lib.list_checkpoint_variables(prefix)
    problem = depth_problem(checkpoint_lib.top_level_scopes(stored), depth)
    if problem:
        raise CheckpointError(f"{prefix}: {problem}")
    scope = f"resnet_v2_{depth}"
    classes = end_points_lib.checkpoint_classes(stored, scope)
    if classes is not None and classes != num_classes:
        raise CheckpointError(
            f"{prefix}: variable {scope}/logits/biases has {classes} classes, the model "
            f"{num_classes} (--num-classes); leave --num-classes out to use the checkpoint's"
        )
    _read_every_tensor(prefix, [name for name in stored if checkpoint_lib.in_scope(name, scope)])


def _read_every_tensor(prefix: str, names: Sequence[str]) -> None:
    """Reads each tensor once (one at a time), so a truncated or damaged data file is found here.

    Raises:
      CheckpointError: naming the first variable that does not read back.
    """
    reader = tf.train.load_checkpoint(prefix)
    for name in sorted(names):
        try:
            reader.get_tensor(name)
        except (tf.errors.OpError, ValueError, IndexError, RuntimeError) as error:
            text = str(error).strip().splitlines()
            raise CheckpointError(
                f"{prefix}: variable {name} cannot be read ({text[0] if text else type(error).__name__}); "
                "is the file truncated?"
            ) from None


def check_configs(configs: Sequence) -> None:
    """Checks every configuration's checkpoint once per (path, depth, classes); see `check_checkpoint`.

    Raises:
      ConfigError: on field 'checkpoint' (the --checkpoint flag), naming the file and the variable.
    """
    checked = set()
    for config in configs:
        key = (config.checkpoint, config.depth, config.num_classes)
        if config.checkpoint is None or not config.has_model or key in checked:
            continue
        try:
            check_checkpoint(*key)
        except CheckpointError as error:
            message = without_path(str(error), config.checkpoint)
            raise ConfigError("checkpoint", config.checkpoint, message) from None
        checked.add(key)


def _mismatch_hint(model_name: str, comparison: checkpoint_lib.CheckpointComparison) -> str:
    """What to do about a checkpoint whose variables do not match the graph's, in flags."""
    if comparison.nothing_matched:
        return (f"nothing matched: its top-level scopes are {', '.join(comparison.checkpoint_scopes)}, "
                f"not {model_name}; give a checkpoint of resnet_v2 and its depth with --depth")
    return f"the checkpoint was not saved from {model_name} (another depth or another network?)"


def restore_op(path: str, model_name: str, strategy=None) -> tf.Operation:
    """Builds, in the current graph, the op that restores the model's variables from `path`.

    Args:
      path: the checkpoint.
      model_name: the model's scope ('resnet_v2_50'): its model variables are restored.
      strategy: the tf.distribute strategy of a replicated graph, or None.

    Returns:
      The op: run it once the variables are initialised.

    Raises:
      CheckpointError: one line naming the file and the variables that do not match.
    """
    variables = tf1.model_variables(scope=model_name)
    copies = []
    if strategy is not None:
        local = [strategy.experimental_local_results(variable) for variable in variables]
        variables = [values[0] for values in local]
        copies = [(values[0], other) for values in local for other in values[1:]]
    try:
        with warnings.catch_warnings():  # global_step and optimizer slots are not the model's
            warnings.simplefilter("ignore", checkpoint_lib.UnusedCheckpointVariablesWarning)
            restorer = checkpoint_lib.make_restorer(path, variables=variables)
    except checkpoint_lib.CheckpointMismatchError as error:
        raise CheckpointError(error.summary(hint=_mismatch_hint(model_name, error.comparison))) from None
    if not copies:
        return restorer.restore_op
    with tf.control_dependencies([restorer.restore_op]):
        synced = [tf1.assign(other, first.read_value()) for first, other in copies]
    return tf.group(*synced, name="restore_checkpoint_replicas")
