"""Building the graph that is timed, one fresh `tf.Graph` per configuration.

Inputs are synthetic and live on the device: random images and integer labels are local,
non-trainable variables initialised once, so no step copies data from the host.

Targets (what `session.run` fetches each step):
- forward: inference graph (`is_training=False`); the fetch is the sum of the logits, a scalar that
  depends on every logit, so nothing large is copied to the host.
- forward-backward: training-mode graph, softmax cross-entropy against the synthetic labels and the
  gradients of that loss with respect to every trainable variable; no variable changes. The fetch
  is a scalar built from one element of every gradient (see `_scalar_reading_every`). With a
  dynamic loss scale, the burn-in steps but the last also run the scaler's state update (harness
  state, not a model variable) so the measured steps use a scale at which the gradients are finite.
- train: forward-backward plus the weight-decay losses, a momentum-SGD update of every trainable
  variable and the batch-norm moving-average updates; the fetch is the op grouping them.

Precision (bench/precision.py): the network is built under a custom getter that keeps every
variable in float32 and hands the layers cast reads in the compute type; the synthetic images are
stored in the compute type; logits are cast to float32 for the loss, and the weight-decay losses
are computed from the float32 variables and summed in float32. Where gradients are computed a
loss scale may apply (fp16: dynamic by default); in 'train' a dynamic scale skips the update of a
step with non-finite gradients.

XLA (bench/xla.py): with `xla`, the network and the mode's target (loss, gradients, update) are
built inside `tf.xla.experimental.jit_scope()`; the synthetic inputs and initializers are not.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf
import tf_slim as slim

from bench import device as device_lib
from bench import precision as precision_lib
from bench import xla as xla_lib
from bench.config import BenchmarkConfig
from bench.loss_scale import effective_loss_scale
from slim_resnet import get_network, resnet_arg_scope

tf1 = tf.compat.v1


@dataclasses.dataclass
class TimedGraph:
    """A built graph and what to run in it.

    Attributes:
      graph: the tf.Graph (finalized).
      target: the fetch timed by every step.
      initializer: op initialising every variable, synthetic inputs included.
      param_count: number of trainable parameters of the network.
      images, labels: the synthetic inputs (reads of their variables).
      logits: the network's logits, in the compute dtype.
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

    graph: tf.Graph
    target: object
    initializer: tf.Operation
    param_count: int
    images: tf.Tensor
    labels: tf.Tensor
    logits: tf.Tensor
    loss: tf.Tensor | None = None
    gradients: list | None = None
    variables: list | None = None
    loss_scale: str = "none"
    burn_in_target: object = None
    gradients_finite: tf.Tensor | None = None
    loss_scale_state: dict | None = None


@dataclasses.dataclass
class _Step:
    """What a mode's target builder returns: the fetch and the tensors around it."""

    target: object
    loss: tf.Tensor | None = None
    gradients: list | None = None
    variables: list | None = None
    loss_scale: str = "none"
    burn_in_target: object = None
    gradients_finite: tf.Tensor | None = None
    loss_scale_state: dict | None = None


def compute_dtype(config: BenchmarkConfig) -> tf.DType:
    """The dtype activations are computed in.

    Args:
      config: the configuration ('precision' fp32, fp16 or bf16).

    Returns:
      tf.float32, tf.float16 or tf.bfloat16.
    """
    return precision_lib.compute_dtype(config.precision)


def resolved_data_format(config: BenchmarkConfig) -> str:
    """The configuration's layout, 'auto' resolved for its (resolved) device by `bench.device`.
    An explicit layout is kept as is (a sweep refuses NCHW on the CPU before building; a graph can
    still be built that way, e.g. to inspect it)."""
    if config.data_format == "auto":
        return device_lib.resolve_data_format("auto", config.device)
    return config.data_format


def input_shape(config: BenchmarkConfig) -> list[int]:
    """Shape of the synthetic image batch in the configured layout.

    Args:
      config: the configuration.

    Returns:
      [N, H, W, 3] for NHWC, [N, 3, H, W] for NCHW.
    """
    size, batch = config.image_size, config.batch_size
    if resolved_data_format(config) == "NCHW":
        return [batch, 3, size, size]
    return [batch, size, size, 3]


def synthetic_inputs(config: BenchmarkConfig, dtype: tf.DType) -> tuple[tf.Tensor, tf.Tensor]:
    """Creates images and labels as local, non-trainable variables on the current device.

    Args:
      config: batch size, image size, data format and number of classes.
      dtype: dtype of the images.

    Returns:
      (images, labels): images [N, H, W, 3] (or [N, 3, H, W]) of `dtype`, uniform in [-1, 1);
      labels [N] int32 in [0, num_classes).
    """
    local = [tf1.GraphKeys.LOCAL_VARIABLES]
    with tf1.variable_scope("synthetic_inputs"):
        images = tf1.get_variable(
            "images", input_shape(config), dtype=dtype, trainable=False, collections=local,
            initializer=tf1.random_uniform_initializer(-1.0, 1.0),
        )
        labels = tf1.get_variable(
            "labels", [config.batch_size], dtype=tf.int32, trainable=False, collections=local,
            initializer=tf1.random_uniform_initializer(0, config.num_classes, dtype=tf.int32),
        )
    return images.read_value(), labels.read_value()


def build_network(images: tf.Tensor, config: BenchmarkConfig, is_training: bool) -> tf.Tensor:
    """Builds resnet_v2_<depth> on `images` under the project's arg scope, in the configured
    precision (float32 variables, compute in the precision's dtype).

    Args:
      images: the input batch in the configured layout.
      config: depth, number of classes, data format, precision.
      is_training: batch norm in training mode.

    Returns:
      Logits [N, num_classes], in the compute dtype.
    """
    network = get_network(config.depth)
    images = precision_lib.cast_to_compute(images, config.precision)
    arg_scope = resnet_arg_scope(data_format=resolved_data_format(config))
    with slim.arg_scope(arg_scope), precision_lib.precision_scope(config.precision):
        logits, _ = network(images, num_classes=config.num_classes, is_training=is_training)
    return logits


def classification_loss(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Mean softmax cross-entropy, computed in float32.

    Args:
      logits: [N, num_classes].
      labels: [N] int32.

    Returns:
      Scalar float32 loss.
    """
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


def _forward_target(logits: tf.Tensor, labels: tf.Tensor, config: BenchmarkConfig) -> _Step:
    """Target of 'forward': a scalar depending on every logit."""
    del labels, config
    return _Step(tf.reduce_sum(tf.cast(logits, tf.float32), name="sum_of_logits"))


def _gradients(logits: tf.Tensor, labels: tf.Tensor, config: BenchmarkConfig,
               with_weight_decay: bool) -> tuple[_Step, object]:
    """The loss and its float32 gradients w.r.t. every trainable variable, computed on the scaled
    loss when a loss scale applies, as a _Step without its target yet; and the scaler (or None)."""
    loss = classification_loss(logits, labels)
    if with_weight_decay:
        weight_decay = precision_lib.sum_in_float32(tf1.losses.get_regularization_losses())
        loss = tf.add(loss, weight_decay, name="total_loss")
    variables = tf1.trainable_variables()
    setting = effective_loss_scale(config.loss_scale, config.precision)
    scaler = precision_lib.make_loss_scaler(setting)
    gradients = precision_lib.scaled_gradients(loss, variables, scaler)
    finite = tf.identity(precision_lib.all_finite_op(gradients), name="gradients_finite")
    state = scaler.state() if isinstance(scaler, precision_lib.DynamicLossScaler) else None
    step = _Step(None, loss=loss, gradients=gradients, variables=variables,
                 loss_scale=setting.describe(), gradients_finite=finite, loss_scale_state=state)
    return step, scaler


def _forward_backward_target(logits: tf.Tensor, labels: tf.Tensor,
                             config: BenchmarkConfig) -> _Step:
    """Target of 'forward-backward': a scalar that forces every gradient; nothing is updated.

    A dynamic loss scale is adjusted in burn-in steps only (their fetch adds the scaler's state
    update, the step's `burn_in_target`); measured steps use the settled scale.
    """
    step, scaler = _gradients(logits, labels, config, with_weight_decay=False)
    step.target = _scalar_reading_every(step.gradients)
    if isinstance(scaler, precision_lib.DynamicLossScaler):
        step.burn_in_target = [step.target, scaler.update_state(step.gradients_finite)]
    return step


def _train_target(logits: tf.Tensor, labels: tf.Tensor, config: BenchmarkConfig) -> _Step:
    """Target of 'train': momentum-SGD on loss + weight decay, plus batch-norm updates."""
    step, scaler = _gradients(logits, labels, config, with_weight_decay=True)
    optimizer = tf1.train.MomentumOptimizer(config.learning_rate, config.momentum)
    apply_gradients = precision_lib.apply_gradients(
        optimizer, list(zip(step.gradients, step.variables, strict=True)), scaler)
    batch_norm_updates = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
    step.target = tf.group(apply_gradients, *batch_norm_updates, name="train_step")
    return step


TARGET_BUILDERS = {
    "forward": _forward_target,
    "forward-backward": _forward_backward_target,
    "train": _train_target,
}


def count_parameters(variables: list[tf.Variable]) -> int:
    """Total number of elements of `variables` (static shapes).

    Args:
      variables: variables with fully defined shapes.

    Returns:
      The element count.
    """
    return sum(variable.shape.num_elements() for variable in variables)


def build_timed_graph(config: BenchmarkConfig) -> TimedGraph:
    """Builds the network, synthetic inputs and the mode's target in a fresh graph.

    Args:
      config: a validated configuration whose device is resolved ('gpu' or 'cpu').

    Returns:
      A TimedGraph whose graph is finalized.
    """
    graph = tf.Graph()
    with graph.as_default(), tf.device(device_lib.device_string(config.device)):
        tf1.set_random_seed(config.seed)
        images, labels = synthetic_inputs(config, compute_dtype(config))
        with xla_lib.jit_scope(config.xla):
            logits = build_network(images, config, is_training=config.mode != "forward")
            param_count = count_parameters(tf1.trainable_variables(scope=config.model_name))
            step = TARGET_BUILDERS[config.mode](logits, labels, config)
        initializer = tf.group(
            tf1.global_variables_initializer(), tf1.local_variables_initializer(), name="init"
        )
    graph.finalize()
    return TimedGraph(graph, step.target, initializer, param_count, images, labels, logits,
                      loss=step.loss, gradients=step.gradients, variables=step.variables,
                      loss_scale=step.loss_scale, burn_in_target=step.burn_in_target,
                      gradients_finite=step.gradients_finite,
                      loss_scale_state=step.loss_scale_state)


def session_config(config: BenchmarkConfig) -> tf1.ConfigProto:
    """Session settings: thread pools, soft placement, GPUs hidden when the CPU is measured.

    Args:
      config: threads and resolved device.

    Returns:
      A ConfigProto.
    """
    proto = tf1.ConfigProto(
        allow_soft_placement=True,
        intra_op_parallelism_threads=config.intra_op_threads,
        inter_op_parallelism_threads=config.inter_op_threads,
    )
    if config.device == "cpu":
        proto.device_count["GPU"] = 0
    return proto
