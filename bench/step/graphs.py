"""Building the graph that is timed, one fresh `tf.Graph` per configuration.

Inputs are synthetic and live on the device: random images and integer labels are local,
non-trainable variables initialised once, so no step copies data from the host.

What each step fetches, per mode, is built by `bench.step.targets`. With more than one replica
(`--num-devices`, `--workers`) the graph holds one copy of the step per local device, built by
`bench.step.replicas` on tf.distribute; each replica gets its own synthetic shard on its device.

Precision (bench/step/precision.py): the network is built under a custom getter that keeps every
variable in float32 and hands the layers cast reads in the compute type; the synthetic images are
stored in the compute type.

XLA (bench/step/xla.py): with `xla`, the network and the mode's target (loss, gradients, update) are
built inside `tf.xla.experimental.jit_scope()`; the synthetic inputs and initializers are not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import tensorflow as tf
import tf_slim as slim

from bench.core.config import BenchmarkConfig
from bench.step import device as device_lib
from bench.step import precision as precision_lib
from bench.step import replicas, targets
from bench.step import xla as xla_lib
from slim_resnet import get_network, resnet_arg_scope

tf1 = tf.compat.v1


@dataclasses.dataclass
class TimedGraph:
    """A built graph and what to run in it.

    Attributes:
      graph: the tf.Graph (finalized).
      initializer: op initialising every variable, synthetic inputs included.
      param_count: number of trainable parameters of the network.
      images, labels: the synthetic inputs (reads of their variables); the first replica's.
      logits: the network's logits, in the compute dtype; the first replica's.
      step: the mode's fetch and the tensors around it (bench.step.targets.Step).
      session_target: where the session connects ('' in this process; a worker's server).
      session_config: the ConfigProto for sessions on this graph (None: `session_config`).
      replicated: the replicas' parts (bench.step.replicas.ReplicatedStep), or None for one device.
    """

    graph: tf.Graph
    initializer: tf.Operation
    param_count: int
    images: tf.Tensor
    labels: tf.Tensor
    logits: tf.Tensor
    step: targets.Step
    session_target: str = ""
    session_config: tf1.ConfigProto | None = None
    replicated: replicas.ReplicatedStep | None = None

    @property
    def target(self):
        """The fetch timed by every step."""
        return self.step.target


def compute_dtype(config: BenchmarkConfig) -> tf.DType:
    """The dtype activations are computed in.

    Args:
      config: the configuration ('precision' fp32, fp16 or bf16).

    Returns:
      tf.float32, tf.float16 or tf.bfloat16.
    """
    return precision_lib.compute_dtype(config.precision)


def resolved_data_format(config: BenchmarkConfig) -> str:
    """The configuration's layout, 'auto' resolved for its (resolved) device by `bench.step.device`.
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


def synthetic_inputs(
    config: BenchmarkConfig, dtype: tf.DType, shard: int = 0, local_index: int = 0
) -> tuple[tf.Tensor, tf.Tensor]:
    """Creates images and labels as local, non-trainable variables on the current device.

    Args:
      config: batch size, image size, data format and number of classes.
      dtype: dtype of the images.
      shard: the replica's index across the cluster; shards other than 0 draw their values with
        that op-level seed, so every replica (on every worker) gets a different batch.
      local_index: the replica's index on this worker (names its variables).

    Returns:
      (images, labels): images [N, H, W, 3] (or [N, 3, H, W]) of `dtype`, uniform in [-1, 1);
      labels [N] int32 in [0, num_classes).
    """
    local = [tf1.GraphKeys.LOCAL_VARIABLES]
    seed = shard or None
    with tf1.variable_scope("synthetic_inputs" + (f"_{local_index}" if local_index else "")):
        images = tf1.get_variable(
            "images",
            input_shape(config),
            dtype=dtype,
            trainable=False,
            collections=local,
            initializer=tf1.random_uniform_initializer(-1.0, 1.0, seed=seed),
        )
        labels = tf1.get_variable(
            "labels",
            [config.batch_size],
            dtype=tf.int32,
            trainable=False,
            collections=local,
            initializer=tf1.random_uniform_initializer(0, config.num_classes, seed=seed, dtype=tf.int32),
        )
    return images.read_value(), labels.read_value()


# A network as slim_resnet's resnet_v2_<depth>: (images, num_classes=, is_training=) -> (logits, end_points).
Network = Callable[..., tuple]


def build_network(
    images: tf.Tensor, config: BenchmarkConfig, is_training: bool, network: Network | None = None
) -> tf.Tensor:
    """Builds resnet_v2_<depth> on `images` under the project's arg scope, in the configured
    precision (float32 variables, compute in the precision's dtype).

    Args:
      images: the input batch in the configured layout.
      config: depth, number of classes, data format, precision.
      is_training: batch norm in training mode.
      network: another network in its place (None: resnet_v2_<depth>); tests give a smaller
        ResNet v2 for behaviour that does not depend on the depth.

    Returns:
      Logits [N, num_classes], in the compute dtype.
    """
    network = network or get_network(config.depth)
    images = precision_lib.cast_to_compute(images, config.precision)
    arg_scope = resnet_arg_scope(data_format=resolved_data_format(config))
    with slim.arg_scope(arg_scope), precision_lib.precision_scope(config.precision):
        logits, _ = network(images, num_classes=config.num_classes, is_training=is_training)
    return logits


def count_parameters(variables: list[tf.Variable]) -> int:
    """Total number of elements of `variables` (static shapes).

    Args:
      variables: variables with fully defined shapes.

    Returns:
      The element count.
    """
    return sum(variable.shape.num_elements() for variable in variables)


def build_timed_graph(config: BenchmarkConfig, network: Network | None = None) -> TimedGraph:
    """Builds the network, synthetic inputs and the mode's target in a fresh graph.

    Args:
      config: a validated configuration whose device is resolved ('gpu' or 'cpu').
      network: see `build_network` (its variables under `config.model_name`, which
        param_count counts).

    Returns:
      A TimedGraph whose graph is finalized.
    """
    if replicas.is_replicated(config):
        return _build_replicated_graph(config, network)
    graph = tf.Graph()
    with graph.as_default(), tf.device(device_lib.device_string(config.device)):
        tf1.set_random_seed(config.seed)
        images, labels = synthetic_inputs(config, compute_dtype(config))
        with xla_lib.jit_scope(config.xla):
            logits = build_network(images, config, config.mode != "forward", network)
            param_count = count_parameters(tf1.trainable_variables(scope=config.model_name))
            step = targets.build_step(logits, labels, config)
        initializer = tf.group(
            tf1.global_variables_initializer(), tf1.local_variables_initializer(), name="init"
        )
    graph.finalize()
    return TimedGraph(graph, initializer, param_count, images, labels, logits, step)


def _build_replicated_graph(config: BenchmarkConfig, network: Network | None) -> TimedGraph:
    """build_timed_graph for more than one replica (see `bench.step.replicas`)."""
    graph = tf.Graph()
    dtype = compute_dtype(config)
    is_training = config.mode != "forward"
    with graph.as_default():
        tf1.set_random_seed(config.seed)
        with xla_lib.jit_scope(config.xla):
            built = replicas.build_replicated_step(
                config,
                session_config(config),
                lambda shard, local_index: synthetic_inputs(config, dtype, shard, local_index),
                lambda images: build_network(images, config, is_training, network),
            )
        param_count = count_parameters(tf1.trainable_variables(scope=config.model_name))
        initializer = tf.group(
            tf1.global_variables_initializer(), tf1.local_variables_initializer(), name="init"
        )
    graph.finalize()
    return TimedGraph(
        graph,
        initializer,
        param_count,
        built.images[0],
        built.labels[0],
        built.logits[0],
        built.step,
        session_target=built.session_target,
        session_config=built.session_config,
        replicated=built,
    )


def session_config(config: BenchmarkConfig, gpu_memory_limit_mb: int | None = None) -> tf1.ConfigProto:
    """Session settings: thread pools, soft placement, GPUs hidden when the CPU is measured, and
    a cap on each GPU's memory.

    Args:
      config: threads and resolved device.
      gpu_memory_limit_mb: on a GPU, the MiB TensorFlow may allocate on each visible device
        (one virtual device per GPU with that memory limit), or None.

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
        if config.num_devices > 1:  # logical CPU devices, one per replica
            proto.device_count["CPU"] = config.num_devices
    elif gpu_memory_limit_mb is not None:
        for _ in tf.config.list_physical_devices("GPU"):  # one entry per visible GPU, in order
            proto.gpu_options.experimental.virtual_devices.add().memory_limit_mb.append(gpu_memory_limit_mb)
    return proto
