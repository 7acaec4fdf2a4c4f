"""What to benchmark: the BenchmarkConfig dataclass (its choices are `bench.core.choices`, its checks
`bench.core.config_checks`).

No TensorFlow here: configurations are built, validated and sent to child processes cheaply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bench.core import config_checks, quality_settings, steps
from bench.core.choices import (
    BREAKDOWN_LEVELS,
    BREAKDOWN_TRACED_STEPS,
    DATA_FORMATS,
    DATA_SYNTHETIC,
    DEFAULT_PREPROCESSING,
    DEVICES,
    LABELS_WITH_BACKGROUND,
    MIN_BURN_IN_WITH_TRACE,
    MODE_TITLES,
    MODEL_MODES,
    MODES,
    PRECISIONS,
    PREPROCESSINGS,
    REAL_DATA_CLASSES,
)
from bench.core.errors import ConfigError

# The choices are defined in `bench.core.choices` and handed on from here.
__all__ = [
    "BenchmarkConfig",
    "ConfigError",
    "BREAKDOWN_LEVELS",
    "BREAKDOWN_TRACED_STEPS",
    "DATA_FORMATS",
    "DATA_SYNTHETIC",
    "DEFAULT_PREPROCESSING",
    "DEVICES",
    "LABELS_WITH_BACKGROUND",
    "MIN_BURN_IN_WITH_TRACE",
    "MODEL_MODES",
    "MODES",
    "MODE_TITLES",
    "PRECISIONS",
    "PREPROCESSINGS",
    "REAL_DATA_CLASSES",
    "field_default",
    "real_data_classes",
    "without_pipeline_settings",
]


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig:
    """One configuration to time: one network, one batch size, one mode, one of every setting.

    Fields added later must have defaults, so that old JSON records still load
    (`from_dict` ignores keys it does not know).

    Attributes:
      depth: ResNet v2 depth (50, 101, 152 or 200).
      batch_size: images per step.
      mode: 'forward', 'forward-backward', 'train' or 'input' (the input pipeline alone, no model;
        needs real data).
      num_batches: measured steps, or 'auto': until the mean step time's 95% interval is within
        `target_ci` percent (`bench.core.steps`).
      burn_in: unmeasured steps run before the measured ones (the first is the cold step).
      image_size: height and width of the synthetic square images.
      num_classes: logits per image.
      seed: graph-level random seed for the synthetic inputs and initial weights.
      device: 'auto', 'gpu' or 'cpu'; `bench.sweeping.sweep.prepare` resolves 'auto' before building.
      intra_op_threads: TensorFlow intra-op thread pool size, 0 = TensorFlow's default.
      inter_op_threads: TensorFlow inter-op thread pool size, 0 = TensorFlow's default.
      display_every: print a progress line every this many measured steps.
      data_format: 'NHWC' (channels last), 'NCHW' (channels first) or 'auto' (NCHW on a GPU,
        NHWC on the CPU; resolved with the device, see `bench.step.device`).
      momentum: momentum of the SGD update in 'train' mode.
      learning_rate: learning rate of the SGD update in 'train' mode.
      precision: 'fp32', 'fp16' or 'bf16': the compute type (variables stay float32).
      loss_scale: 'auto' (dynamic for fp16, none otherwise), 'none', 'dynamic' or a positive
        number (a static scale), as a string; used where gradients are computed.
      xla: compile the step with XLA.
      trace: file to write a Chrome trace of the last burn-in step to, or None (needs burn_in >= 2,
        so the traced step is not the cold step).
      breakdown: None, or 'blocks' / 'units': after the measured steps, run a few fully traced
        steps and attribute their op times to the network's parts (`bench.measuring.breakdown_steps`).
      peak_probe: measure the device's attainable TFLOP/s before the configuration.
      peak_probe_size: matrix size of that probe, 0 for the per-device default.
      num_devices: replicas per worker, one per device (the first N GPUs, or N logical CPU
        devices); `batch_size` is per replica (see `bench.step.replicas`).
      workers: worker processes taking part (their cluster comes from TF_CONFIG; `--workers`
        starts them on this machine, see `bench.processes.workers`).
      data: 'synthetic' (images and labels living on the device) or the path of real data: TFRecord
        shards in ImageNet's format or a folder of class sub-folders (`bench.inputs.sources`); its
        stored labels are the model's classes, class 0 the background (`real_data_classes`).
      data_threads: with real data, the size of the pipeline's private thread pool, 0 = AUTOTUNE.
      preprocessing: with real data, 'inception', 'vgg' or 'none' (the training modes and 'input'
        use its training path, forward its evaluation path).
      target_ci: with num_batches 'auto', the interval's half-width to reach, in percent of the mean.
      max_time: seconds the measured steps may take (None: no bound, or with 'auto' its default).
      checkpoint: a TF-Slim checkpoint the network restores its weights from after initialising
        them, or None (fresh weights); see `bench.core.quality_settings`.
      quality: after the measured steps, an untimed pass over the real data reporting top-1 and
        top-5 accuracy (forward mode with real data only).
      quality_images: images of the untimed quality and agreement pass, 0 for the default (with
        `quality` one epoch of the data, else one batch).
      agreement: compare the answers with fp32's after the measured steps when the precision is
        fp16 or bf16 or the step is compiled with XLA (False: speed only, `--no-agreement`).
    """

    depth: int = 50
    batch_size: int = 32
    mode: str = "forward"
    num_batches: int | str = 100
    burn_in: int = 10
    image_size: int = 224
    num_classes: int = 1000
    seed: int = 0
    device: str = "auto"
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    display_every: int = 10
    data_format: str = "auto"
    momentum: float = 0.9
    learning_rate: float = 0.01
    precision: str = "fp32"
    loss_scale: str = "auto"
    xla: bool = False
    trace: str | None = None
    breakdown: str | None = None
    peak_probe: bool = True
    peak_probe_size: int = 0
    num_devices: int = 1
    workers: int = 1
    data: str = DATA_SYNTHETIC
    data_threads: int = 0
    preprocessing: str = DEFAULT_PREPROCESSING
    target_ci: float = steps.DEFAULT_TARGET_CI_PCT
    max_time: float | None = None
    checkpoint: str | None = None
    quality: bool = False
    quality_images: int = 0
    agreement: bool = True

    @property
    def real_data(self) -> bool:
        """True when the step reads real data through an input pipeline."""
        return self.data != DATA_SYNTHETIC

    @property
    def has_model(self) -> bool:
        """True in every mode but 'input' (the pipeline alone)."""
        return self.mode in MODEL_MODES

    @property
    def replicas(self) -> int:
        """Replicas in sync across the cluster: devices per worker x workers."""
        return self.num_devices * self.workers

    @property
    def data_parallel(self) -> bool:
        """True when the step runs as more than one replica."""
        return self.replicas > 1

    @property
    def global_batch_size(self) -> int:
        """Images per step over every replica: replicas x the per-replica batch."""
        return self.replicas * self.batch_size

    @property
    def local_batch_size(self) -> int:
        """Images per step on one worker: its devices x the per-replica batch."""
        return self.num_devices * self.batch_size

    @property
    def model_name(self) -> str:
        """The network's scope name, e.g. 'resnet_v2_50'."""
        return f"resnet_v2_{self.depth}"

    @property
    def label(self) -> str:
        """A short human-readable name, e.g. 'resnet_v2_50 batch 8 forward bf16 XLA', 'input
        pipeline batch 32 data shards' (--mode input names no network)."""
        options = ([self.precision] if self.precision != "fp32" else []) + (["XLA"] if self.xla else [])
        if self.data_parallel:
            options.append(f"x{self.replicas} replicas")
        if self.real_data:
            options.append(f"data {self.data}")
        if not self.has_model:  # the pipeline alone: no network ran
            return " ".join([f"input pipeline batch {self.batch_size}", *options])
        return " ".join([f"{self.model_name} batch {self.batch_size} {self.mode}", *options])

    def to_dict(self) -> dict:
        """Returns the configuration as a JSON-ready dict.

        The data-parallel keys (`num_devices`, `workers` and the derived `replicas` and
        `global_batch_size`) are written only for a configuration of more than one replica, so a
        single-device record is the same as before they existed; a record without them reads back
        as one device, one worker, global batch = batch. Likewise the data keys (`data`,
        `data_threads`, `preprocessing`) only with real data: a record without them is synthetic;
        `target_ci` only with `num_batches` 'auto' and `max_time` only when set (`bench.core.steps`).
        """
        values = dataclasses.asdict(self)
        if not steps.is_auto(self.num_batches):
            del values["target_ci"]
        if self.max_time is None:
            del values["max_time"]
        if self.breakdown is None:  # records without --breakdown are as before it existed
            del values["breakdown"]
        if not self.real_data:
            del values["data"], values["data_threads"], values["preprocessing"]
        quality_settings.drop_defaults(values)
        if not self.data_parallel:
            del values["num_devices"], values["workers"]
            return values
        return dict(values, replicas=self.replicas, global_batch_size=self.global_batch_size)

    @classmethod
    def from_dict(cls, values: dict) -> BenchmarkConfig:
        """Builds a configuration from `to_dict` output, ignoring unknown keys.

        Args:
          values: field name -> value.

        Returns:
          The configuration (not validated).
        """
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def validate(self) -> BenchmarkConfig:
        """Checks every field (the model's limits included; `bench.core.config_checks`); needs no
        TensorFlow. What depends on the machine (is there a GPU, which layout does 'auto' mean) is
        decided later, by `bench.step.device`, when the device is resolved.

        Returns:
          self, so calls can be chained.

        Raises:
          ConfigError: naming the first field with a value that is not allowed.
        """
        config_checks.check(self)
        return self


def field_default(name: str):
    """The default of BenchmarkConfig's field `name`: the one source of every default the command
    line, the sweep axes and the tests show."""
    return _FIELD_DEFAULTS[name]


def real_data_classes(num_classes: int | None, data: Sequence[str]) -> int:
    """The model's classes: `num_classes` when given, else REAL_DATA_CLASSES (1001) when any of
    `data` is real (so ImageNet's labels 1..1000 fit beside the background class) and the
    BenchmarkConfig default (1000) otherwise."""
    if num_classes is not None:
        return num_classes
    if any(value != DATA_SYNTHETIC for value in data):
        return REAL_DATA_CLASSES
    return BenchmarkConfig.num_classes


def without_pipeline_settings(config: BenchmarkConfig) -> BenchmarkConfig:
    """A synthetic configuration with the pipeline's settings at their defaults (they do not apply
    to it), so that it equals its record read back and the synthetic twin of a real-data one."""
    if config.real_data:
        return config
    return dataclasses.replace(config, data_threads=0, preprocessing=DEFAULT_PREPROCESSING)


_FIELD_DEFAULTS = {field.name: field.default for field in dataclasses.fields(BenchmarkConfig)}
