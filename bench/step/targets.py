"""What a timed step fetches, per mode, and the loss and gradients around it.

- forward: the inference graph's logits; the fetch is their sum, a scalar that depends on every
  logit, so nothing large is copied to the host.
- forward-backward: the training-mode graph, softmax cross-entropy against the synthetic labels
  and the gradients of that loss with respect to every trainable variable; no variable changes.
  The fetch is a scalar built from one element of every gradient (see `_scalar_reading_every`).
  With a dynamic loss scale, the burn-in steps but the last also run the scaler's state update
  (harness state, not a model variable) so the measured steps use a scale at which the gradients
  are finite.
- input (real data, no model): the op producing the pipeline's batch, run as a target (nothing is
  fetched, so a batch on the device is not copied back).
- train: forward-backward plus the weight-decay losses, a momentum-SGD update of every trainable
  variable and the batch-norm moving-average updates; the fetch is the op grouping them.

With several replicas (`bench.step.replicas`) each builds its own Step on its shard; the gradients are
all-reduced to their mean across replicas right after they are computed, and everything after that
(the forward-backward fetch, the finiteness check, the update) works on the reduced gradients.

Logits are cast to float32 for the loss; the weight-decay losses are summed in float32 from the
float32 variables. Where gradients are computed a loss scale may apply (the plan carries
the one in effect, `bench.step.scalers` builds it); in 'train' a dynamic scale skips the update
of a step with non-finite gradients.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from bench.step import precision as precision_lib
from bench.step import scalers
from bench.step.plan import StepPlan

tf1 = tf.compat.v1

# The name scope of the classification loss's ops (their gradients are under gradients/loss/...).
LOSS_SCOPE = "loss"
# The name (and scope of the update ops) of train's optimizer.
OPTIMIZER_SCOPE = "Momentum"


@dataclasses.dataclass
class Step:
    """A mode's fetch and the tensors around it.

    Attributes:
      target: the fetch timed by every step.
      loss: the loss gradients are taken of (None in 'forward').
      gradients: float32 gradients, one per trainable variable (None in 'forward').
      variables: the trainable variables, in the order of `gradients` (None in 'forward').
      loss_scale: the loss scale in effect where gradients are computed: 'none', 'dynamic' or
        the static value ('none' in 'forward').
      burn_in_target: what burn-in steps but the last fetch when it differs from `target`, else
        None. In 'forward-backward' with a dynamic loss scale: the target plus the scaler's state
        update, so the scale settles (halves while gradients overflow) before the measured steps,
        which use it unchanged (the last burn-in step runs `target`, warming its executor).
      gradients_finite: scalar bool tensor, whether every gradient is finite (None in 'forward');
        fetched once after the measured steps, untimed.
      loss_scale_state: reads of the dynamic scaler's state, {'loss_scale', 'skipped_steps'}, or
        None without a dynamic loss scale.
    """

    target: object
    loss: tf.Tensor | None = None
    gradients: list | None = None
    variables: list | None = None
    loss_scale: str = "none"
    burn_in_target: object = None
    gradients_finite: tf.Tensor | None = None
    loss_scale_state: dict | None = None


def classification_loss(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Mean softmax cross-entropy, computed in float32.

    Args:
      logits: [N, num_classes].
      labels: [N] int32.

    Returns:
      Scalar float32 loss.
    """
    with tf.name_scope(LOSS_SCOPE):  # `--breakdown` finds the loss's ops by this scope
        per_image = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=tf.cast(logits, tf.float32)
        )  # [N]
        return tf.reduce_mean(per_image)


def _scalar_reading_every(tensors: list[tf.Tensor]) -> tf.Tensor:
    """A float32 scalar that data-depends on every tensor in `tensors`.

    TensorFlow 2.21's graph optimizer removes stateless work that is only reached through control
    dependencies: `tf.group(*grads)` or an identity under control dependencies on the gradients
    runs no gradient op at all. A data dependency cannot be pruned, and since every op produces its
    whole output, reading one element of each tensor forces every gradient op to run while adding
    only a few tiny slices and one sum to the step (cheaper than reducing every gradient, and no
    host copy of the gradients).

    Args:
      tensors: the tensors to force, any shapes.

    Returns:
      Scalar float32 tensor.
    """
    first_elements = [tf.cast(tf.reshape(tensor, [-1])[0], tf.float32) for tensor in tensors]
    return tf.add_n(first_elements, name="read_every_gradient")


def _forward_target(logits: tf.Tensor, labels: tf.Tensor, plan: StepPlan, replica=None) -> Step:
    """Target of 'forward': a scalar depending on every logit."""
    del labels, plan, replica
    return Step(tf.reduce_sum(tf.cast(logits, tf.float32), name="sum_of_logits"))


def _gradients(
    logits: tf.Tensor, labels: tf.Tensor, plan: StepPlan, with_weight_decay: bool, replica=None
) -> tuple[Step, object]:
    """The loss and its float32 gradients w.r.t. every trainable variable, computed on the scaled
    loss when a loss scale applies (and all-reduced to their mean across replicas when `replica`
    is given, a `bench.step.replica_context.Replica`), as a Step without its target yet; and the scaler (or
    None)."""
    loss = classification_loss(logits, labels)
    weight_decay_scale = 1 if replica is None else replica.weight_decay_scale
    if with_weight_decay and weight_decay_scale:
        weight_decay = precision_lib.sum_in_float32(tf1.losses.get_regularization_losses())
        if weight_decay_scale != 1:
            weight_decay = weight_decay * float(weight_decay_scale)
        loss = tf.add(loss, weight_decay, name="total_loss")
    variables = tf1.trainable_variables()
    setting = plan.loss_scale
    scaler = scalers.make_loss_scaler(setting)
    gradients = scalers.scaled_gradients(loss, variables, scaler)
    if replica is not None:
        gradients = replica.all_reduce_mean(gradients, variables)
    finite = tf.identity(scalers.all_finite_op(gradients), name="gradients_finite")
    state = scaler.state() if isinstance(scaler, scalers.DynamicLossScaler) else None
    step = Step(
        None,
        loss=loss,
        gradients=gradients,
        variables=variables,
        loss_scale=setting.describe(),
        gradients_finite=finite,
        loss_scale_state=state,
    )
    return step, scaler


def _forward_backward_target(
    logits: tf.Tensor, labels: tf.Tensor, plan: StepPlan, replica=None
) -> Step:
    """Target of 'forward-backward': a scalar that forces every gradient; nothing is updated.

    A dynamic loss scale is adjusted in burn-in steps only (their fetch adds the scaler's state
    update, the step's `burn_in_target`); measured steps use the settled scale.
    """
    step, scaler = _gradients(logits, labels, plan, with_weight_decay=False, replica=replica)
    step.target = _scalar_reading_every(step.gradients)
    if isinstance(scaler, scalers.DynamicLossScaler):
        step.burn_in_target = [step.target, scaler.update_state(step.gradients_finite)]
    return step


def _train_target(logits: tf.Tensor, labels: tf.Tensor, plan: StepPlan, replica=None) -> Step:
    """Target of 'train': momentum-SGD on loss + weight decay, plus batch-norm updates (with
    replicas: the all-reduced gradients, applied by each replica to its own copy)."""
    step, scaler = _gradients(logits, labels, plan, with_weight_decay=True, replica=replica)
    config = plan.config
    optimizer = tf1.train.MomentumOptimizer(config.learning_rate, config.momentum, name=OPTIMIZER_SCOPE)
    if replica is not None:
        optimizer = replica.optimizer(optimizer)
    apply_gradients = scalers.apply_gradients(
        optimizer, list(zip(step.gradients, step.variables, strict=True)), scaler
    )
    batch_norm_updates = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
    step.target = tf.group(apply_gradients, *batch_norm_updates, name="train_step")
    return step


def _input_target(images: tf.Tensor, labels: tf.Tensor, plan: StepPlan, replica=None) -> Step:
    """Target of 'input': the op producing the pipeline's batch (`images` here, no logits)."""
    del labels, plan, replica
    return Step(images.op)


TARGET_BUILDERS = {
    "forward": _forward_target,
    "forward-backward": _forward_backward_target,
    "train": _train_target,
    "input": _input_target,
}


def build_step(logits: tf.Tensor, labels: tf.Tensor, plan: StepPlan, replica=None) -> Step:
    """The configuration's mode's Step, built in the current graph on `logits` (in 'input', on the
    images); `replica` (a `bench.step.replica_context.Replica`) when it is one of several replicas."""
    return TARGET_BUILDERS[plan.config.mode](logits, labels, plan, replica)
