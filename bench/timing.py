"""The measurement loop and the result objects holding what it measured.

Only `session.run` is inside a timed interval; progress printing happens between steps. A
`BenchmarkResult` keeps the raw step times, and every statistic is derived from them on demand
(`bench.stats`), so a JSON record can always be re-summarised.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import time
from collections.abc import Callable

from bench import stats as stats_lib
from bench.config import BenchmarkConfig

# Monotonic, high-resolution, system-wide clock (CLOCK_MONOTONIC on Linux).
clock = time.perf_counter

RECORD_SCHEMA = "slim-resnet-bench/1"
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_INTERRUPTED = "interrupted"


@dataclasses.dataclass
class Measurement:
    """Raw times of one configuration's steps, in seconds.

    Attributes:
      step_times_s: every measured step, in order.
      burn_in_times_s: every unmeasured step, in order; the first is the cold step (when there
        are no burn-in steps this is empty and the cold step is the first measured step).
      loop_wall_s: wall time of the whole measured loop (first measured step start to last end,
        including progress printing between steps).
    """

    step_times_s: list[float]
    burn_in_times_s: list[float]
    loop_wall_s: float

    @property
    def cold_step_s(self) -> float:
        """Duration of the first step the session ran."""
        return (self.burn_in_times_s or self.step_times_s)[0]


def timestamp() -> str:
    """Local wall-clock time as printed on progress and summary lines."""
    return str(datetime.datetime.now())


def measure_steps(
    session,
    fetch,
    burn_in: int,
    num_steps: int,
    on_step: Callable[[int, float], None] | None = None,
    burn_in_options: dict | None = None,
    on_burn_in_metadata: Callable[[int, object], None] | None = None,
    before_measured: Callable[[], None] | None = None,
    burn_in_fetch=None,
) -> Measurement:
    """Runs `burn_in` unmeasured then `num_steps` measured steps of `session.run(fetch)`.

    Args:
      session: a tf.compat.v1.Session with variables initialised.
      fetch: what every step runs.
      burn_in: unmeasured steps (>= 0).
      num_steps: measured steps (>= 1).
      on_step: called as on_step(measured_step_number starting at 1, duration_s) after each
        measured step, outside the timed interval.
      burn_in_options: {burn-in step index (0-based): tf.compat.v1.RunOptions}: those burn-in
        steps run with these options (a trace, the partition graphs) and a RunMetadata. Measured
        steps never take options.
      on_burn_in_metadata: called as (index, run_metadata) after each such step, outside the
        timed interval.
      before_measured: called once after the burn-in, just before the measured loop (e.g. to
        reset peak-memory statistics).
      burn_in_fetch: what every burn-in step but the last runs instead of `fetch` (None:
        `fetch`), e.g. the step plus an update of harness state such as a dynamic loss scale. The
        last burn-in step always runs `fetch`: a session builds one executor per distinct fetch,
        and its first run is slow, so the measured fetch must have run once before timing.

    Returns:
      A Measurement.
    """
    import tensorflow as tf

    run = session.run
    burn_in_options = burn_in_options or {}
    burn_in_times_s = []
    for index in range(burn_in):
        step_fetch = fetch if burn_in_fetch is None or index == burn_in - 1 else burn_in_fetch
        options = burn_in_options.get(index)
        if options is None:
            start = clock()
            run(step_fetch)
            burn_in_times_s.append(clock() - start)
            continue
        run_metadata = tf.compat.v1.RunMetadata()
        start = clock()
        run(step_fetch, options=options, run_metadata=run_metadata)
        burn_in_times_s.append(clock() - start)
        if on_burn_in_metadata is not None:
            on_burn_in_metadata(index, run_metadata)

    if before_measured is not None:
        before_measured()
    step_times_s = []
    loop_start = clock()
    for step in range(1, num_steps + 1):
        start = clock()
        run(fetch)
        duration = clock() - start
        step_times_s.append(duration)
        if on_step is not None:
            on_step(step, duration)
    loop_wall_s = clock() - loop_start
    return Measurement(step_times_s, burn_in_times_s, loop_wall_s)


@dataclasses.dataclass
class Failure:
    """Why a configuration produced no measurement.

    Attributes:
      kind: 'oom', 'error', 'signal', 'exit' or 'interrupted'.
      message: one line, e.g. 'OOM', 'killed by signal 9 (SIGKILL)', 'ValueError: ...'.
      exit_code: the child process's exit status, when it ran in one.
      signal: the signal number that ended the child, if any.
      details: further lines (the tail of the child's stderr, a traceback's last lines).
    """

    kind: str
    message: str
    exit_code: int | None = None
    signal: int | None = None
    details: list[str] = dataclasses.field(default_factory=list)

    @property
    def short(self) -> str:
        """What the table's status column shows."""
        if self.kind == "oom":
            return "OOM"
        if self.kind in ("signal", "interrupted"):
            return self.message
        return f"error: {self.message}"

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclasses.dataclass
class BenchmarkResult:
    """Everything known about one configuration's run.

    Attributes:
      config: what was run.
      status: 'ok', 'failed' or 'interrupted'.
      measurement: the raw times (None unless status is 'ok').
      failure: why it failed (None when status is 'ok').
      param_count: trainable parameters of the network, when the graph was built.
      environment: the environment description (see bench.environment.describe_environment).
      phases_s: seconds spent in each phase: 'process_start', 'tf_import' (child processes only),
        'graph_build', 'session_init', 'burn_in', 'measure', 'teardown', 'total'.
      started_at: UTC ISO-8601 time the configuration started.
      extra: more raw facts, keyed by name, carried to JSON as is: 'flops' (per_step, by_op_type,
        counted_on), 'peak_probe' (the matrix-product probe's raw run times and best rate),
        'datasheet_peak', 'peak_memory' (bytes, kind, label), 'loss_scale', 'xla_compiled',
        'trace_file', 'gradients_finite' (forward-backward and train: every gradient finite
        after the measured steps), 'loss_scale_before' / 'loss_scale_after' (dynamic loss scale
        around the measured steps), 'skipped_updates' (train with a dynamic loss scale: measured
        steps whose update was skipped). The `cost` figures are derived from these and the step
        times; `warnings` from them too.
    """

    config: BenchmarkConfig
    status: str = STATUS_OK
    measurement: Measurement | None = None
    failure: Failure | None = None
    param_count: int | None = None
    environment: dict = dataclasses.field(default_factory=dict)
    phases_s: dict = dataclasses.field(default_factory=dict)
    started_at: str = ""
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True if the configuration was measured."""
        return self.status == STATUS_OK and self.measurement is not None

    @functools.cached_property
    def stats(self) -> stats_lib.StepStatistics | None:
        """Statistics derived from the raw step times (None without a measurement); computed once,
        since the record, the table, the warnings and the cost figures all read them."""
        if self.measurement is None:
            return None
        return stats_lib.summarize(
            self.measurement.step_times_s,
            self.config.batch_size,
            self.measurement.loop_wall_s,
            self.measurement.cold_step_s,
        )

    @property
    def warnings(self) -> list[str]:
        """Reliability warnings for the figures (empty when they look sound)."""
        summary = self.stats
        found = stats_lib.reliability_warnings(summary) if summary else []
        if self.measurement is not None and not self.measurement.burn_in_times_s:
            found.append("no burn-in: the first measured step is the cold step")
        found += self._numerics_warnings()
        return found

    def _numerics_warnings(self) -> list[str]:
        """Warnings from the numerics checks recorded in `extra` (see the runner)."""
        found = []
        scale_change = ""
        if "loss_scale_before" in self.extra:
            scale_change = (f" (dynamic loss scale {self.extra['loss_scale_before']:g} -> "
                            f"{self.extra['loss_scale_after']:g})")
        skipped = self.extra.get("skipped_updates") or 0
        if skipped > 0:
            found.append(f"{skipped} of {self.config.num_batches} measured steps skipped the "
                         f"optimizer update (non-finite gradients){scale_change}; raise --burn-in "
                         "so the loss scale settles first, or set --loss-scale")
        if self.extra.get("gradients_finite") is False:
            found.append(f"gradients are not all finite after the measured steps{scale_change}: "
                         "the timed steps computed NaN/inf; raise --burn-in or set --loss-scale")
        return found

    @property
    def cost(self) -> dict | None:
        """Work, rate, efficiency and memory, derived from `extra` and the step times.

        Returns:
          None without a measurement, else a dict: gflop_per_image, achieved_tflops (FLOPs per
          step / mean step time), attainable_tflops (the probe's best), efficiency (achieved /
          attainable), datasheet_tflops, efficiency_vs_datasheet, peak_memory_bytes,
          peak_memory_kind; None for any ingredient that is missing.
        """
        summary = self.stats
        if summary is None:
            return None
        flops_per_step = (self.extra.get("flops") or {}).get("per_step")
        achieved = None
        if flops_per_step is not None and summary.mean_s > 0:
            achieved = flops_per_step / summary.mean_s / 1e12
        attainable = (self.extra.get("peak_probe") or {}).get("best_tflops")
        datasheet = (self.extra.get("datasheet_peak") or {}).get("tflops")
        memory = self.extra.get("peak_memory") or {}
        return {
            "gflop_per_image": (None if flops_per_step is None
                                else flops_per_step / self.config.batch_size / 1e9),
            "achieved_tflops": achieved,
            "attainable_tflops": attainable,
            "efficiency": _ratio(achieved, attainable),
            "datasheet_tflops": datasheet,
            "efficiency_vs_datasheet": _ratio(achieved, datasheet),
            "peak_memory_bytes": memory.get("bytes"),
            "peak_memory_kind": memory.get("kind"),
        }

    def to_record(self) -> dict:
        """The JSON Lines record (schema documented in the README).

        Returns:
          A JSON-ready dict.
        """
        summary = self.stats
        return {
            "schema": RECORD_SCHEMA,
            "label": self.config.label,
            "status": self.status,
            "started_at": self.started_at,
            "config": self.config.to_dict(),
            "environment": self.environment,
            "model": {"name": self.config.model_name, "param_count": self.param_count},
            "stats": summary.to_dict() if summary else None,
            "cost": self.cost,
            "warnings": self.warnings,
            "step_times_s": self.measurement.step_times_s if self.measurement else [],
            "burn_in_times_s": self.measurement.burn_in_times_s if self.measurement else [],
            "phases_s": self.phases_s,
            "failure": self.failure.to_dict() if self.failure else None,
            "extra": self.extra,
        }

    @classmethod
    def from_record(cls, record: dict) -> BenchmarkResult:
        """Rebuilds a result from `to_record` output (statistics are recomputed, not read).

        Args:
          record: a parsed JSON record.

        Returns:
          The BenchmarkResult.
        """
        measurement = None
        if record.get("stats") is not None:
            measurement = Measurement(
                step_times_s=list(record["step_times_s"]),
                burn_in_times_s=list(record.get("burn_in_times_s", [])),
                loop_wall_s=record["stats"]["loop_wall_s"],
            )
        failure = Failure(**record["failure"]) if record.get("failure") else None
        return cls(
            config=BenchmarkConfig.from_dict(record["config"]),
            status=record["status"],
            measurement=measurement,
            failure=failure,
            param_count=record.get("model", {}).get("param_count"),
            environment=record.get("environment", {}),
            phases_s=record.get("phases_s", {}),
            started_at=record.get("started_at", ""),
            extra=record.get("extra", {}),
        )


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is not > 0."""
    if numerator is None or denominator is None or not denominator > 0:
        return None
    return numerator / denominator
