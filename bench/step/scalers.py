"""Loss scaling for float16 gradients: a static or a dynamic scale, the scaled gradients and the
update that skips non-finite steps.

The loss is multiplied by a scale before differentiation and the gradients divided by it afterwards,
so small gradients do not underflow float16's 6e-8 minimum. The dynamic scaler lowers the scale
(and skips the update) when a gradient overflows and raises it after a run of good steps. Which
scale applies is decided by `bench.core.loss_scale` (the grammar, and 'auto' = dynamic for fp16 only);
this module builds it. bfloat16 has float32's exponent range and needs no scaling.
"""

from __future__ import annotations

import tensorflow as tf

# Dynamic loss scaling: start high (fp16 overflows show up in the first steps and halve it quickly),
# double after this many consecutive finite steps.
DYNAMIC_INITIAL_SCALE = 2.0**15
DYNAMIC_GROWTH_INTERVAL = 2000
DYNAMIC_FACTOR = 2.0


class StaticLossScaler:
    """Multiplies the loss by a fixed `value` and divides the gradients by it."""

    def __init__(self, value):
        self.value = float(value)

    def scale(self):
        """The current loss scale, a float32 scalar tensor."""
        return tf.constant(self.value, tf.float32, name="loss_scale")

    def apply_gradients(self, optimizer, grads_and_vars, global_step=None):
        """Applies already-unscaled gradients with `optimizer` (the static scale never skips a step)."""
        return optimizer.apply_gradients(grads_and_vars, global_step=global_step)


def _state_variable(name: str, value, dtype: tf.DType) -> tf.Variable:
    """One of the dynamic scaler's state variables (non-trainable, a resource variable).

    The dtype is given, not inferred from the initial value, so that a second replica reusing the
    variable asks for the same one (`get_variable` defaults to float32 on reuse). With several
    replicas every replica computes the same update (from the same all-reduced gradients), so the
    first replica's is applied to every copy (aggregation ONLY_FIRST_REPLICA; ignored without a
    strategy).
    """
    return tf.compat.v1.get_variable(
        name,
        dtype=dtype,
        initializer=tf.constant(value, dtype),
        trainable=False,
        use_resource=True,
        aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
    )


class DynamicLossScaler:
    """A loss scale held in a variable: halved (and the update skipped) when any gradient is not finite,
    doubled after `growth_interval` consecutive finite steps.

    The three state variables are non-trainable globals created on construction, in the current graph
    (`_state_variable`):
    `loss_scale` (float32), `loss_scale_good_steps` (int64, consecutive finite steps) and
    `loss_scale_skipped_steps` (int64, how many state updates saw a non-finite gradient: in training,
    the number of skipped optimizer updates).
    """

    def __init__(
        self,
        initial_scale=DYNAMIC_INITIAL_SCALE,
        growth_interval=DYNAMIC_GROWTH_INTERVAL,
        factor=DYNAMIC_FACTOR,
    ):
        self.growth_interval = int(growth_interval)
        self.factor = float(factor)
        self.scale_variable = _state_variable("loss_scale", float(initial_scale), tf.float32)
        self.good_steps = _state_variable("loss_scale_good_steps", 0, tf.int64)
        self.skipped_steps = _state_variable("loss_scale_skipped_steps", 0, tf.int64)

    def scale(self):
        """The current loss scale, a float32 scalar tensor (a read of the variable)."""
        return self.scale_variable.read_value()

    def state(self):
        """{'loss_scale': float32 scalar, 'skipped_steps': int64 scalar}: reads of the state, to fetch
        before and after a run of steps."""
        return {
            "loss_scale": self.scale_variable.read_value(),
            "skipped_steps": self.skipped_steps.read_value(),
        }

    def update_state(self, all_finite):
        """Ops moving the scale and the counters after one step, without touching any other variable.

        `apply_gradients` runs them after its (possibly skipped) update; on their own they let the scale
        settle in steps that update nothing (a forward-backward benchmark's burn-in).

        Args:
          all_finite: scalar bool tensor, whether every gradient of the step is finite (`all_finite_op`).

        Returns:
          An op.
        """
        good_steps = self.good_steps.read_value()
        scale = self.scale_variable.read_value()
        grow = tf.logical_and(all_finite, good_steps + 1 >= self.growth_interval)
        new_scale = tf.where(
            all_finite, tf.where(grow, scale * self.factor, scale), tf.maximum(scale / self.factor, 1.0)
        )
        new_good_steps = tf.where(
            tf.logical_and(all_finite, tf.logical_not(grow)), good_steps + 1, tf.zeros_like(good_steps)
        )
        skipped = tf.cast(tf.logical_not(all_finite), tf.int64)
        return tf.group(
            self.scale_variable.assign(new_scale),
            self.good_steps.assign(new_good_steps),
            self.skipped_steps.assign_add(skipped),
        )

    def apply_gradients(self, optimizer, grads_and_vars, global_step=None):
        """Applies unscaled gradients if they are all finite, else skips; then updates the scale.

        Returns:
          An op doing both.
        """
        grads_and_vars = list(grads_and_vars)
        all_finite = all_finite_op([grad for grad, _ in grads_and_vars])

        def apply():
            with tf.control_dependencies(
                [optimizer.apply_gradients(grads_and_vars, global_step=global_step)]
            ):
                return tf.constant(True)

        def skip():
            return tf.constant(False)

        applied = tf.cond(all_finite, apply, skip, name="apply_if_finite")
        with tf.control_dependencies([applied]):
            return self.update_state(all_finite)


def all_finite_op(tensors: list) -> tf.Tensor:
    """A scalar bool tensor: True when every element of every tensor (None entries skipped) is finite."""
    checks = [tf.reduce_all(tf.math.is_finite(tensor)) for tensor in tensors if tensor is not None]
    return tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)


def make_loss_scaler(setting) -> StaticLossScaler | DynamicLossScaler | None:
    """The scaler for a resolved setting (`bench.core.loss_scale.effective_loss_scale`), or None when
    no scaling is wanted. Creates the dynamic scaler's variables in the current graph.

    Args:
      setting: a LossScaleSetting of kind 'none', 'static' or 'dynamic'.

    Raises:
      ValueError: for kind 'auto' (resolve it for the precision first).
    """
    if setting.kind == "auto":
        raise ValueError("resolve loss scale 'auto' for the precision first (effective_loss_scale)")
    if setting.kind == "static":
        return StaticLossScaler(setting.value)
    if setting.kind == "dynamic":
        return DynamicLossScaler()
    return None


def scaled_gradients(loss: tf.Tensor, variables: list, scaler=None) -> list:
    """Gradients of `loss` with respect to `variables`, computed on the scaled loss and unscaled.

    Args:
      loss: a float32 scalar.
      variables: a list of (float32 master) variables.
      scaler: a StaticLossScaler, DynamicLossScaler or None (no scaling).

    Returns:
      A list of float32 gradients (None for a variable the loss does not depend on), in the order of
      `variables`.
    """
    if scaler is None:
        return tf.gradients(loss, variables)
    scale = scaler.scale()
    gradients = tf.gradients(loss * scale, variables)
    inverse = 1.0 / scale
    return [None if grad is None else grad * tf.cast(inverse, grad.dtype) for grad in gradients]


def apply_gradients(optimizer, grads_and_vars, scaler=None, global_step=None) -> tf.Operation:
    """`optimizer.apply_gradients`, skipping non-finite steps when `scaler` is dynamic."""
    if scaler is None:
        return optimizer.apply_gradients(grads_and_vars, global_step=global_step)
    return scaler.apply_gradients(optimizer, grads_and_vars, global_step=global_step)
