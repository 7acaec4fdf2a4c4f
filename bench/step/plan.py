"""A configuration's step, decided once: the StepPlan every builder of `bench.step` reads.

A prepared configuration still says what a person asked for ('auto' layout, 'auto' loss scale,
fp16, two devices). `plan_step` decides, once, what is built from it: TensorFlow's device name for
every local replica, the layout, the compute dtype, the loss scale in effect, the sessions'
settings, with real data the checked source (`bench.inputs.sources.inspect_source`), and what
the untimed pass after the measured steps does (`UntimedPass`, by `bench.core.quality_settings`'s
rules). The plan keeps the configuration itself (`plan.config`) beside those decisions and copies
none of its fields. The builders (`bench.step.graphs`, `targets`, `replicas`) take the plan and only
build; none of them decides the layout, the dtype or the loss scale again.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf
from tensorflow.core.protobuf import rewriter_config_pb2

from bench.core import quality_settings, stand_ins
from bench.core.config import LABELS_WITH_BACKGROUND, MODEL_MODES, BenchmarkConfig
from bench.core.loss_scale import LossScaleSetting, effective_loss_scale
from bench.inputs import sources
from bench.step import device as device_lib
from bench.step import precision as precision_lib


@dataclasses.dataclass(frozen=True)
class UntimedPass:
    """What runs after the measured steps, untimed (`bench.measuring.quality_pass`).

    Attributes:
      images: how many real images it scores (--quality-images, else the data's count with
        --quality, else one batch), or None on synthetic data: the measured step's own batch.
      agreement: whether it also compares the answers with fp32's (`quality_settings.wants_agreement`).
    """

    images: int | None
    agreement: bool


@dataclasses.dataclass(frozen=True)
class StepPlan:
    """What the timed step is made of: the configuration as asked, and what was decided from it.

    The configuration's own facts (depth, mode, batch, image size, classes, seed, precision, XLA,
    device, workers, preprocessing, learning rate) are read from `config`; the plan adds only
    what `plan_step` decides.

    Attributes:
      config: the prepared configuration (device resolved to 'gpu' or 'cpu').
      data_format: 'NHWC' or 'NCHW' (never 'auto').
      compute_dtype: the dtype activations are computed in.
      loss_scale: the loss scale in effect where gradients are computed (never 'auto').
      device_names: TensorFlow's name of each local replica's device, e.g. ('/device:GPU:0',).
      session_config: the settings of every session on the step's graph (a ConfigProto: thread
        pools, soft placement, the CPU's logical devices, GPUs hidden when the CPU is measured,
        the cap on each GPU's memory). Read it, never change it: copy it to extend it.
      data_source: the checked real data (`bench.inputs.sources.DataSource`), or None for
        synthetic inputs.
      test_network: a test-only stand-in for resnet_v2_<depth> (`bench.core.stand_ins`), or None.
      untimed_pass: what runs after the measured steps (--quality, the agreement with fp32), or
        None when nothing does.
    """

    config: BenchmarkConfig
    data_format: str
    compute_dtype: tf.DType
    loss_scale: LossScaleSetting
    device_names: tuple[str, ...]
    session_config: tf.compat.v1.ConfigProto
    data_source: sources.DataSource | None = None
    test_network: str | None = None
    untimed_pass: UntimedPass | None = None

    def changed(self, **fields) -> StepPlan:
        """A copy whose configuration has `fields` changed (the decided facts stay as they are)."""
        return dataclasses.replace(self, config=dataclasses.replace(self.config, **fields))

    @property
    def data_threads(self) -> int | None:
        """The pipeline's private thread pool, or None for AUTOTUNE."""
        return self.config.data_threads or None

    @property
    def checkpoint(self) -> str | None:
        """The TF-Slim checkpoint the network's weights are restored from; None without a model."""
        return self.config.checkpoint if self.has_model else None

    @property
    def has_model(self) -> bool:
        """False in 'input' (the pipeline alone): no network, no FLOPs, no peak probe."""
        return self.config.mode in MODEL_MODES

    @property
    def training_pipeline(self) -> bool:
        """Real data read with the training preprocessing and shuffling: every mode but 'forward'
        ('input' times the pipeline that feeds training)."""
        return self.config.mode != "forward"

    @property
    def is_training(self) -> bool:
        """Batch norm in training mode: every mode but 'forward'."""
        return self.config.mode != "forward"

    @property
    def replicated(self) -> bool:
        """True when the step runs as more than one replica (a tf.distribute strategy)."""
        return self.num_replicas > 1

    @property
    def num_replicas(self) -> int:
        """Replicas across the cluster: this worker's devices times the workers."""
        return len(self.device_names) * self.config.workers

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """One replica's image batch: [N, H, W, 3] in NHWC, [N, 3, H, W] in NCHW."""
        size, batch = self.config.image_size, self.config.batch_size
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
    return StepPlan(config, data_format, compute_dtype, loss_scale, names, settings, source,
                    stand_ins.test_network(), untimed_pass(config, source))


def untimed_pass(config: BenchmarkConfig, source: sources.DataSource | None) -> UntimedPass | None:
    """What runs after the configuration's measured steps (`quality_settings` has the rules).

    Args:
      config: the configuration.
      source: its checked real data, or None for synthetic inputs.

    Returns:
      The UntimedPass, or None when nothing runs after the measured steps.
    """
    if not quality_settings.wants_untimed_pass(config):
        return None
    images = None if source is None else quality_settings.untimed_images(config, source.num_images)
    return UntimedPass(images, quality_settings.wants_agreement(config))
