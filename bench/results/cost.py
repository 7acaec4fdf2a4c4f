"""What a configuration's step cost: the facts measured beside its step times (FLOPs, the peak
probe, a GPU's datasheet figure, peak memory) and the figures derived from them (`Cost`: work per
image, achieved and attainable TFLOP/s, efficiency, memory).

The facts are written into the record's `extra` object (`bench.results.extras`); `derive` computes
the figures from them and the mean step time whenever they are read, never from stored figures.
No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bench.core.config import BenchmarkConfig

if TYPE_CHECKING:
    from bench.results.extras import Extras


@dataclasses.dataclass(frozen=True)
class FlopCount:
    """FLOPs of one step, counted by TensorFlow's profiler.

    Attributes:
      per_step: float operations of one step, or None when they could not be counted.
      by_op_type: {op type: float operations}, summing to `per_step`.
      counted_on: which graph was counted ('the timed graph' or 'the NHWC twin of the timed graph').
      error: why the count failed (None when it did not).
    """

    per_step: int | None
    by_op_type: dict = dataclasses.field(default_factory=dict)
    counted_on: str = "the timed graph"
    error: str | None = None

    def to_dict(self) -> dict:
        values = {"per_step": self.per_step, "by_op_type": self.by_op_type, "counted_on": self.counted_on}
        if self.error is not None:
            values["error"] = self.error
        return values


@dataclasses.dataclass(frozen=True)
class PeakProbe:
    """A measured matrix-product rate (the attainable peak; see `bench.measuring.peak`).

    Attributes:
      precision: 'fp32', 'fp16' or 'bf16'.
      device: 'gpu' or 'cpu'.
      matrix_size: n of the n x n matrices.
      chain_length: products per run.
      run_times_s: every timed run (warm-up runs excluded), in seconds.
    """

    precision: str
    device: str
    matrix_size: int
    chain_length: int
    run_times_s: list

    @property
    def flops_per_run(self) -> int:
        """2 n^3 per product, times the chain length."""
        return 2 * self.matrix_size**3 * self.chain_length

    @property
    def best_tflops(self) -> float:
        """The rate of the fastest run, in TFLOP/s."""
        return self.flops_per_run / min(self.run_times_s) / 1e12

    def to_dict(self) -> dict:
        """JSON-ready dict, with the best rate (derived, not read back)."""
        return dict(dataclasses.asdict(self), best_tflops=self.best_tflops)


@dataclasses.dataclass(frozen=True)
class DatasheetPeak:
    """The datasheet figure that applies to one run on a known GPU.

    Attributes:
      model: GPU model.
      tflops: dense TFLOP/s.
      basis: which figure it is, e.g. 'TF32 tensor core, dense'.
      source: the datasheet.
    """

    model: str
    tflops: float
    basis: str
    source: str


@dataclasses.dataclass(frozen=True)
class PeakMemory:
    """Peak memory of the measured steps (see `bench.measuring.memory`).

    Attributes:
      bytes: the peak, or None when it could not be read.
      kind: 'gpu_allocator_peak', 'process_peak_rss', 'process_peak_rss_since_start' or
        'unavailable'.
      label: what the figure is, in words.
    """

    bytes: int | None
    kind: str
    label: str

    @property
    def is_process_rss(self) -> bool:
        """True when the figure is the whole process's resident set (the CPU measure)."""
        return self.kind.startswith("process")


@dataclasses.dataclass(frozen=True)
class Cost:
    """Work, rate, efficiency and memory of a measured configuration (None where unknown).

    Attributes:
      gflop_per_image: FLOPs per step / batch size, in GFLOP.
      achieved_tflops: FLOPs per step / mean step time.
      attainable_tflops: the peak probe's best rate.
      efficiency: achieved / attainable.
      datasheet_tflops: the datasheet figure of a known GPU.
      efficiency_vs_datasheet: achieved / datasheet.
      peak_memory_bytes, peak_memory_kind: the peak-memory reading and what it measures.
    """

    gflop_per_image: float | None
    achieved_tflops: float | None
    attainable_tflops: float | None
    efficiency: float | None
    datasheet_tflops: float | None
    efficiency_vs_datasheet: float | None
    peak_memory_bytes: int | None
    peak_memory_kind: str | None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def derive(config: BenchmarkConfig, extra: Extras, mean_s: float) -> Cost:
    """The cost figures of a measured configuration.

    Args:
      config: what ran (batch, workers, replicas, device).
      extra: its recorded facts (FLOPs, probe, datasheet, peak memory).
      mean_s: the mean measured step time.

    Returns:
      The Cost (None in each figure whose facts are missing).
    """
    # The FLOPs are counted on this worker's graph (its local replicas); every worker runs the same.
    flops_per_step = extra.flops.per_step if extra.flops else None
    achieved = None
    if flops_per_step is not None and mean_s > 0:
        achieved = flops_per_step * config.workers / mean_s / 1e12
    attainable = extra.peak_probe.best_tflops * probed_devices(config) if extra.peak_probe else None
    datasheet = extra.datasheet_peak.tflops * probed_devices(config) if extra.datasheet_peak else None
    memory = extra.peak_memory
    return Cost(
        gflop_per_image=None if flops_per_step is None else flops_per_step / config.local_batch_size / 1e9,
        achieved_tflops=achieved,
        attainable_tflops=attainable,
        efficiency=_ratio(achieved, attainable),
        datasheet_tflops=datasheet,
        efficiency_vs_datasheet=_ratio(achieved, datasheet),
        peak_memory_bytes=memory.bytes if memory else None,
        peak_memory_kind=memory.kind if memory else None,
    )


def probed_devices(config: BenchmarkConfig) -> int:
    """How many devices like the probed one the step runs on: on GPUs one per replica; on the CPU
    the replicas are logical devices sharing the host's cores (and --workers run on one host), so
    one. (Workers from a TF_CONFIG naming other hosts are counted by `bench.processes.workers`.)"""
    return config.replicas if config.device == "gpu" else 1


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is not > 0."""
    if numerator is None or denominator is None or not denominator > 0:
        return None
    return numerator / denominator
