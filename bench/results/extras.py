"""Typed facts a measurement records beside its step times (the record's `extra` object).

Each fact is written by the one module that measures it (`bench.measuring.measure` and its helpers) and read
through these types by the result, the report and the table. `Extras.to_dict` writes the keys and
meanings of schema 1 (`"flops"`, `"peak_probe"`, `"datasheet_peak"`, `"peak_memory"`,
`"loss_scale"`, `"xla_compiled"`, `"xla_uncompiled"`, `"executed_layout"`, `"trace_file"`,
`"gradients_finite"`, `"loss_scale_before"`, `"loss_scale_after"`, `"skipped_updates"`; with real
data `"data"`), and `Extras.from_dict` reads records written before these types existed. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses

from bench.results.breakdown import Breakdown
from bench.results.cost import DatasheetPeak, FlopCount, PeakMemory, PeakProbe
from bench.results.quality import QualityFacts
from bench.results.stopping import Stopping


@dataclasses.dataclass(frozen=True)
class Numerics:
    """Untimed checks of the gradients after the measured steps (forward-backward and train).

    Attributes:
      gradients_finite: every gradient finite after the measured steps (None: not checked).
      loss_scale_before, loss_scale_after: a dynamic loss scale around the measured steps.
      skipped_updates: train with a dynamic scale: measured steps whose update was skipped.
    """

    gradients_finite: bool | None = None
    loss_scale_before: float | None = None
    loss_scale_after: float | None = None
    skipped_updates: int | None = None

    def warnings(self, num_batches: int) -> list[str]:
        """Plain-language warnings about non-finite gradients and skipped updates."""
        found = []
        change = ""
        if self.loss_scale_before is not None:
            change = f" (dynamic loss scale {self.loss_scale_before:g} -> {self.loss_scale_after:g})"
        if (self.skipped_updates or 0) > 0:
            found.append(
                f"{self.skipped_updates} of {num_batches} measured steps skipped the "
                f"optimizer update (non-finite gradients){change}; raise --burn-in so the "
                "loss scale settles first, or set --loss-scale"
            )
        if self.gradients_finite is False:
            found.append(
                f"gradients are not all finite after the measured steps{change}: the "
                "timed steps computed NaN/inf; raise --burn-in or set --loss-scale"
            )
        return found


@dataclasses.dataclass(frozen=True)
class DataFacts:
    """The real data a configuration read (None for synthetic inputs; records without it are).

    Attributes:
      source: the checked source (`bench.inputs.sources.DataSource.to_record`): its path, format
        ('tfrecord' or 'image-folder'), num_files, num_images and, for an image folder, num_classes.
      preprocessing: 'inception', 'vgg' or 'none'.
      threads: the pipeline's private thread pool, 0 for tf.data's AUTOTUNE.
      pipeline: 'training' (shuffled, training augmentation) or 'evaluation' (in order, the
        evaluation path of feature extraction).
      skipped_images: images the pipeline skipped because they did not decode (each once, however
        many passes read it; records written before counted every read), read once after
        the measured steps (prefetched batches included); None when it could not be read.
    """

    source: dict
    preprocessing: str
    threads: int
    pipeline: str
    skipped_images: int | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None) -> DataFacts | None:
        if not values:
            return None
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


_NUMERICS_KEYS = tuple(field.name for field in dataclasses.fields(Numerics))


@dataclasses.dataclass(frozen=True)
class Extras:
    """Every fact a measured configuration records beside its step times.

    Attributes:
      peak_probe: the matrix-product probe, when it ran.
      datasheet_peak: the datasheet figure of a known GPU (None elsewhere).
      flops: the step's FLOP count.
      loss_scale: the loss scale in effect: 'none', 'dynamic' or a static value.
      xla_compiled: with XLA, whether the step ran XLA's compiled code for everything marked for
        it, read from a step's executed graphs and the nodes that ran (None: not checked; see
        `bench.measuring.executed`).
      xla_uncompiled: with XLA, {op type: count} of what ran as TensorFlow kernels though marked
        for XLA (a cluster's fallback, an op XLA cannot compile); empty when compiled.
      executed_layout: the data_format of the convolutions in the graphs the runtime executed
        ('NHWC', 'NCHW', 'mixed'; None: none ran outside XLA, or not checked).
      trace_file: the Chrome trace written, if any.
      peak_memory: the peak-memory reading.
      numerics: the gradient checks.
      fingerprint: with several replicas, one untimed number every worker must agree on (the sum
        of |weights| after the steps; in forward-backward the reduced-gradient fetch), see
        `bench.step.replicas`.
      cluster: with several workers, the cluster's shape: {'workers', 'addresses', 'fingerprints'
        (one per worker), 'listening' (where local workers' servers listened: 'loopback' or every
        interface)}.
      data: the real data read and the images skipped (None for synthetic inputs).
      breakdown: with --breakdown, the step's op time and FLOPs by part of the network.
      all_reduce: with several replicas, {'implementation', 'tensors_per_step' ({'gradients',
        'moving_averages'}: counted as the graph was built), 'ops_run' (the all-reduce ops of their
        own a step ran on this worker; 0 for the reduction to one device, a plain sum; None: not
        read)}, see `bench.step.all_reduce`.
      stop: why the measured steps stopped (`bench.results.stopping`), with --num-batches auto or
        --max-time (None: a fixed count ran, as before either existed).
      quality: the untimed pass after the measured steps: accuracy (--quality) and agreement
        with fp32 (fp16, bf16, XLA); None when none ran (`bench.results.quality`).
    """

    peak_probe: PeakProbe | None = None
    datasheet_peak: DatasheetPeak | None = None
    flops: FlopCount | None = None
    loss_scale: str | None = None
    xla_compiled: bool | None = None
    xla_uncompiled: dict | None = None
    executed_layout: str | None = None
    trace_file: str | None = None
    peak_memory: PeakMemory | None = None
    numerics: Numerics = dataclasses.field(default_factory=Numerics)
    fingerprint: float | None = None
    cluster: dict | None = None
    data: DataFacts | None = None
    breakdown: Breakdown | None = None
    all_reduce: dict | None = None
    stop: Stopping | None = None
    quality: QualityFacts | None = None

    def to_dict(self) -> dict:
        """The record's `extra` object; {} when nothing was recorded (a failed configuration).

        Facts that were not taken are left out, except `datasheet_peak`, which every measured
        configuration looks up (null when no datasheet applies).
        """
        values: dict = {}
        if self.peak_probe is not None:
            values["peak_probe"] = self.peak_probe.to_dict()
        if self.flops is not None or self.datasheet_peak is not None:
            values["datasheet_peak"] = (
                None if self.datasheet_peak is None else dataclasses.asdict(self.datasheet_peak)
            )
        if self.flops is not None:
            values["flops"] = self.flops.to_dict()
        optional = {
            "loss_scale": self.loss_scale,
            "xla_compiled": self.xla_compiled,
            "xla_uncompiled": self.xla_uncompiled,
            "executed_layout": self.executed_layout,
            "trace_file": self.trace_file,
            "fingerprint": self.fingerprint,
            "cluster": self.cluster,
            "all_reduce": self.all_reduce,
        }
        values.update({key: value for key, value in optional.items() if value is not None})
        if self.peak_memory is not None:
            values["peak_memory"] = dataclasses.asdict(self.peak_memory)
        numerics = dataclasses.asdict(self.numerics)
        values.update({key: value for key, value in numerics.items() if value is not None})
        for name in ("data", "breakdown", "stop", "quality"):  # the facts that write themselves
            fact = getattr(self, name)
            if fact is not None:
                values[name] = fact.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict | None) -> Extras:
        """Reads a record's `extra` object (schema 1, any version of this harness)."""
        values = values or {}
        probe = values.get("peak_probe")
        datasheet = values.get("datasheet_peak")
        flops = values.get("flops")
        memory = values.get("peak_memory")
        return cls(
            peak_probe=None
            if not probe
            else PeakProbe(**{key: value for key, value in probe.items() if key != "best_tflops"}),
            datasheet_peak=DatasheetPeak(**datasheet) if datasheet else None,
            flops=FlopCount(**flops) if flops else None,
            loss_scale=values.get("loss_scale"),
            xla_compiled=values.get("xla_compiled"),
            xla_uncompiled=values.get("xla_uncompiled"),
            executed_layout=values.get("executed_layout"),
            trace_file=values.get("trace_file"),
            fingerprint=values.get("fingerprint"),
            cluster=values.get("cluster"),
            all_reduce=values.get("all_reduce"),
            peak_memory=PeakMemory(**memory) if memory else None,
            numerics=Numerics(**{key: values[key] for key in _NUMERICS_KEYS if key in values}),
            data=DataFacts.from_dict(values.get("data")),
            breakdown=Breakdown.from_dict(values.get("breakdown")),
            stop=Stopping.from_dict(values.get("stop")),
            quality=QualityFacts.from_dict(values.get("quality")),
        )
