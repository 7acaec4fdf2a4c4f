"""A configuration's step, decided once: the StepPlan every builder of `bench.step` reads.

A prepared configuration still says what a person asked for ('auto' layout, 'auto' loss scale,
fp16, two devices). `plan_step` turns it, once, into what is built: TensorFlow's device name for
every local replica, the layout, the compute dtype, the loss scale in effect and the replica
layout. The builders (`bench.step.graphs`, `targets`, `replicas`) take the plan and only build;
none of them asks `device`, `precision` or `loss_scale` again. With real data the plan also holds
the checked source (`bench.inputs.sources.inspect_source`), its preprocessing and threads.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf
from tensorflow.core.protobuf import rewriter_config_pb2

from bench.core import stand_ins
from bench.core.config import LABELS_WITH_BACKGROUND, MODEL_MODES, BenchmarkConfig
from bench.core.loss_scale import LossScaleSetting, effective_loss_scale
from bench.inputs import sources
from bench.step import device as device_lib
from bench.step import precision as precision_lib


@dataclasses.dataclass(frozen=True)
class StepPlan:
    """What the timed step is made of, every choice resolved.

    Attributes:
      model_name: the network's scope, e.g. 'resnet_v2_50'.
      depth: the ResNet v2 depth.
      mode: 'forward', 'forward-backward' or 'train'.
      batch_size: images per replica and step.
      image_size: height and width of the square images.
      num_classes: logits per image.
      seed: the graph-level random seed.
      data_format: 'NHWC' or 'NCHW' (never 'auto').
      precision: 'fp32', 'fp16' or 'bf16' (names the recipe of `bench.step.precision`).
      compute_dtype: the dtype activations are computed in.
      loss_scale: the loss scale in effect where gradients are computed (never 'auto').
      learning_rate, momentum: the SGD update of 'train'.
      xla: build the network and target inside an XLA JIT scope.
      device: 'gpu' or 'cpu'.
      device_names: TensorFlow's name of each local replica's device, e.g. ('/device:GPU:0',).
      workers: worker processes taking part (more than one: a multi-worker strategy).
      session_config: the settings of every session on the step's graph (a ConfigProto: thread
        pools, soft placement, the CPU's logical devices, GPUs hidden when the CPU is measured,
        the cap on each GPU's memory). Read it, never change it: copy it to extend it.
      data_source: the checked real data (`bench.inputs.sources.DataSource`), or None for
        synthetic inputs.
      preprocessing: real data's preprocessing ('inception', 'vgg' or 'none').
      data_threads: the pipeline's private thread pool, or None for AUTOTUNE.
      labels_with_background: real data's stored labels are the classes, class 0 the background.
      test_network: a test-only stand-in for resnet_v2_<depth> (`bench.core.stand_ins`), or None.
    """

    model_name: str
    depth: int
    mode: str
    batch_size: int
    image_size: int
    num_classes: int
    seed: int
    data_format: str
    precision: str
    compute_dtype: tf.DType
    loss_scale: LossScaleSetting
    learning_rate: float
    momentum: float
    xla: bool
    device: str
    device_names: tuple[str, ...]
    workers: int
    session_config: tf.compat.v1.ConfigProto
    data_source: sources.DataSource | None = None
    preprocessing: str = "inception"
    data_threads: int | None = None
    labels_with_background: bool = LABELS_WITH_BACKGROUND
    test_network: str | None = None

    @property
    def has_model(self) -> bool:
        """False in 'input' (the pipeline alone): no network, no FLOPs, no peak probe."""
        return self.mode in MODEL_MODES

    @property
    def training_pipeline(self) -> bool:
        """Real data read with the training preprocessing and shuffling: every mode but 'forward'
        ('input' times the pipeline that feeds training)."""
        return self.mode != "forward"

    @property
    def is_training(self) -> bool:
        """Batch norm in training mode: every mode but 'forward'."""
        return self.mode != "forward"

    @property
    def replicated(self) -> bool:
        """True when the step runs as more than one replica (a tf.distribute strategy)."""
        return self.num_replicas > 1

    @property
    def num_replicas(self) -> int:
        """Replicas across the cluster: this worker's devices times the workers."""
        return len(self.device_names) * self.workers

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """One replica's image batch: [N, H, W, 3] in NHWC, [N, 3, H, W] in NCHW."""
        size, batch = self.image_size, self.batch_size
        if self.data_format == "NCHW":
            return (batch, 3, size, size)
        return (batch, size, size, 3)


LAYOUT_OPTIMIZER = rewriter_config_pb2.RewriterConfig.OFF  # grappler's layout rewrite, never wanted


def session_config(
    device: str,
    num_devices: int,
    intra_op_threads: int,
    inter_op_threads: int,
    gpu_memory_limit_mb: int | None = None,
) -> tf.compat.v1.ConfigProto:
    """Session settings: thread pools, soft placement, grappler's layout optimizer off (the layout
    built is the layout run), GPUs hidden when the CPU is measured (and one logical CPU device per
    replica), a cap on each GPU's memory.

    Args:
      device: the resolved device, 'gpu' or 'cpu'.
      num_devices: replicas on this worker.
      intra_op_threads, inter_op_threads: the thread pools (0: TensorFlow's default).
      gpu_memory_limit_mb: on a GPU, the MiB TensorFlow may allocate on each visible device (one
        virtual device per GPU with that memory limit), or None.

    Returns:
      A new ConfigProto.
    """
    proto = tf.compat.v1.ConfigProto(
        allow_soft_placement=True,
        intra_op_parallelism_threads=intra_op_threads,
        inter_op_parallelism_threads=inter_op_threads,
    )
    # The step runs in the layout it was built in: grappler's layout optimizer would otherwise turn
    # NCHW into NHWC on a GPU (fp16, bf16, or fp32 forward under TF32 on recent GPUs) and NHWC
    # into NCHW on the others, and the record would state a layout that did not run.
    proto.graph_options.rewrite_options.layout_optimizer = LAYOUT_OPTIMIZER
    if device == "cpu":
        proto.device_count["GPU"] = 0
        if num_devices > 1:  # logical CPU devices, one per replica
            proto.device_count["CPU"] = num_devices
    elif gpu_memory_limit_mb is not None:
        for _ in tf.config.list_physical_devices("GPU"):  # one entry per visible GPU, in order
            proto.gpu_options.experimental.virtual_devices.add().memory_limit_mb.append(gpu_memory_limit_mb)
    return proto


def plan_step(config: BenchmarkConfig, gpu_memory_limit_mb: int | None = None,
              data_source: sources.DataSource | None = None) -> StepPlan:
    """Decides the configuration's step.

    Args:
      config: a configuration whose device is resolved ('gpu' or 'cpu'; `bench.sweeping.sweep.prepare`
        resolves 'auto').
      gpu_memory_limit_mb: the cap on each GPU's memory (`bench.core.limits`), or None.
      data_source: `config.data` as already checked (a child is given its parent's), or None to
        check it here.

    Returns:
      The StepPlan.

    Raises:
      ValueError: for an unresolved device or an unknown precision.
      bench.inputs.sources.DataError: for real data that cannot be used.
    """
    threads = (config.intra_op_threads, config.inter_op_threads)
    settings = session_config(config.device, config.num_devices, *threads, gpu_memory_limit_mb)
    names, data_format = device_lib.placement(config.device, config.num_devices, config.data_format)
    compute_dtype = precision_lib.compute_dtype(config.precision)
    loss_scale = effective_loss_scale(config.loss_scale, config.precision)
    source = None
    if config.real_data:
        source = data_source if data_source is not None and data_source.path == config.data else (
            sources.inspect_source(config.data, config.num_classes, LABELS_WITH_BACKGROUND))
    return StepPlan(
        model_name=config.model_name,
        depth=config.depth,
        mode=config.mode,
        batch_size=config.batch_size,
        image_size=config.image_size,
        num_classes=config.num_classes,
        seed=config.seed,
        data_format=data_format,
        precision=config.precision,
        compute_dtype=compute_dtype,
        loss_scale=loss_scale,
        learning_rate=config.learning_rate,
        momentum=config.momentum,
        xla=config.xla,
        device=config.device,
        device_names=names,
        workers=config.workers,
        session_config=settings,
        data_source=source,
        preprocessing=config.preprocessing,
        data_threads=config.data_threads or None,
        test_network=stand_ins.test_network(),
    )
