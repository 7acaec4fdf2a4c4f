"""What one configuration's run produced: `BenchmarkResult`, `Failure`, its derived `Cost`, and the
JSON record (schema "slim-resnet-bench/1") they are written to and read back from.

A result keeps the raw step times (`bench.results.measurement.Measurement`) and typed facts
(`bench.results.extras`); statistics, cost figures and warnings are derived from them on demand,
never stored as the source of truth, so a record written by any version of the harness is
re-summarised the same way. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import functools

from bench.core.batch_search import ROLE_TRY, SearchFacts
from bench.core.config import BenchmarkConfig
from bench.core.limits import Limits
from bench.results import bursts as bursts_lib
from bench.results import cost as cost_lib
from bench.results import stats as stats_lib
from bench.results.extras import Extras
from bench.results.measurement import Measurement

RECORD_SCHEMA = "slim-resnet-bench/1"
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_INTERRUPTED = "interrupted"
STATUS_TIMEOUT = "timeout"


@dataclasses.dataclass
class Failure:
    """Why a configuration produced no measurement.

    Attributes:
      kind: 'oom', 'error', 'signal', 'exit', 'interrupted', 'timeout' or 'peer' (a worker's
        peer stopped answering during the run, `bench.processes.peers`).
      message: one line, e.g. 'OOM', 'killed by signal 9 (SIGKILL)', 'ValueError: ...'.
      exit_code: the child process's exit status, when it ran in one.
      signal: the signal number that ended the child, if any.
      details: further lines (the tail of the child's stderr, a traceback's last lines).
      limit: the bound that was hit, in words ('memory limit 6 GiB'), when one was; an 'oom'
        failure under a bound then says so in its message ('over the memory limit (6 GiB): peak
        6.01 GiB resident', `bench.results.failures` words it).
      peak_bytes: the most memory the process was seen holding when it went over a memory bound
        (its resident memory, `bench.processes.memory_watch`), when known.
    """

    kind: str
    message: str
    exit_code: int | None = None
    signal: int | None = None
    details: list[str] = dataclasses.field(default_factory=list)
    limit: str | None = None
    peak_bytes: int | None = None

    @property
    def short(self) -> str:
        """What the table's status column shows."""
        if self.kind == "oom":
            return self.message if self.limit else "OOM"
        if self.kind in ("signal", "interrupted", "timeout", "peer"):
            return self.message
        return f"error: {self.message}"

    def to_dict(self) -> dict:
        """JSON-ready dict ('limit' and 'peak_bytes' only when known, so older records keep their
        keys)."""
        values = dataclasses.asdict(self)
        for optional in ("limit", "peak_bytes"):
            if values[optional] is None:
                del values[optional]
        return values


@dataclasses.dataclass(frozen=True)
class Repeat:
    """Which of a configuration's repeated processes a result is (`--repeat`).

    Attributes:
      index: 1-based position among the configuration's processes.
      count: how many processes the configuration was to be measured in.
    """

    index: int
    count: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class BenchmarkResult:
    """Everything known about one configuration's run.

    Attributes:
      config: what was run.
      status: 'ok', 'failed' or 'interrupted'.
      measurement: the raw times (None unless status is 'ok', or a failed, stopped or interrupted
        run finished some steps first: those).
      failure: why it failed (None when status is 'ok').
      param_count: trainable parameters of the network, when the graph was built.
      environment: the environment description (see bench.measuring.environment.describe_environment).
      phases_s: seconds spent in each phase: 'process_start', 'tf_import' (child processes only),
        'peak_probe', 'graph_build', 'flop_count', 'session_init', 'burn_in', 'measure',
        'numerics_check', 'session_close', 'teardown', 'child_overhead', 'total'.
      started_at: UTC ISO-8601 time the configuration started.
      extra: the typed facts recorded beside the step times (bench.results.extras.Extras).
      limits: the bounds its child process ran under.
      sweep_id: the sweep it belongs to ('' outside a command-line sweep).
      command: the command line of that sweep.
      repeat: which repeated process this is (None for a single-process configuration; the
        record then has no "repeat" key, like records written before --repeat existed).
      batch_search: for a record of a `--batch max` search, what it says about the search (one
        of its tries, or its result); None otherwise.
      scaling_efficiency: with more than one replica, images/sec / (replicas x images/sec of the
        sweep's matching 1-replica run), set by the sweep when that run exists (`bench.results.scaling`);
        written to the record as the top-level "scaling_efficiency" (null without such a run),
        only for data-parallel configurations.
    """

    config: BenchmarkConfig
    status: str = STATUS_OK
    measurement: Measurement | None = None
    failure: Failure | None = None
    param_count: int | None = None
    environment: dict = dataclasses.field(default_factory=dict)
    phases_s: dict = dataclasses.field(default_factory=dict)
    started_at: str = ""
    extra: Extras = dataclasses.field(default_factory=Extras)
    limits: Limits = dataclasses.field(default_factory=Limits)
    sweep_id: str = ""
    command: str = ""
    repeat: Repeat | None = None
    batch_search: SearchFacts | None = None
    scaling_efficiency: float | None = None

    @property
    def ok(self) -> bool:
        """True if the configuration was measured."""
        return self.status == STATUS_OK and self.measurement is not None

    def __str__(self) -> str:
        """One line: what ran and how it ended, e.g. 'resnet_v2_50 batch 8 train: ok, 12.3
        images/sec', 'resnet_v2_50 batch 64 train: failed, OOM', a timeout's figures marked
        partial; a `--batch max` try says its batch, outcome and why: 'resnet_v2_50 batch max
        train, try 3: batch 64 no-fit (OOM (memory limit 6 GiB))'."""
        summary = self.stats
        rate = ""
        if summary is not None:
            rate = f", {summary.images_per_sec:.1f} images/sec" + ("" if self.ok else " (partial)")
        facts = self.batch_search
        if facts is not None and facts.role == ROLE_TRY:
            return f"{facts.search}, try {facts.index}: {facts.tries[0]}{rate}"
        outcome = self.status + (f", {self.failure.short}" if self.failure is not None else "")
        return f"{self.config.label}: {outcome}{rate}"

    @functools.cached_property
    def stats(self) -> stats_lib.StepStatistics | None:
        """Statistics derived from the raw step times (None without a measurement); computed once,
        since the record, the table, the warnings and the cost figures all read them. A run
        stopped before its first measured step (a timeout) has burn-in times only: no statistics."""
        if self.measurement is None or not self.measurement.step_times_s:
            return None
        return stats_lib.summarize(
            self.measurement.step_times_s,
            self.config.global_batch_size,
            self.measurement.loop_wall_s,
            self.measurement.cold_step_s,
        )

    @functools.cached_property
    def bursts(self) -> list[bursts_lib.Burst]:
        """Runs of consecutive measured steps at a level of their own (`bench.results.bursts`;
        empty without a measurement)."""
        return bursts_lib.find_bursts(self.measurement.step_times_s) if self.measurement else []

    @property
    def warnings(self) -> list[str]:
        """Reliability warnings for the figures (empty when they look sound)."""
        summary = self.stats
        found = stats_lib.reliability_warnings(summary) if summary else []
        found += bursts_lib.warnings(self.bursts, summary.num_steps) if summary else []
        if self.measurement is not None and not self.measurement.burn_in_times_s:
            found.append("no burn-in: the first measured step is the cold step")
        return found + self.extra.numerics.warnings(summary.num_steps if summary else self.config.num_batches)

    @property
    def cost(self) -> cost_lib.Cost | None:
        """Work, rate, efficiency and memory, derived from `extra` and the step times (None
        without a measurement; `bench.results.cost.derive`)."""
        summary = self.stats
        return None if summary is None else cost_lib.derive(self.config, self.extra, summary.mean_s)

    def to_record(self) -> dict:
        """The JSON record (schema documented in docs/records.md); derived figures are included for
        readers, but `from_record` recomputes them from the raw times.

        Returns:
          A JSON-ready dict.
        """
        summary = self.stats
        cost = self.cost
        sweep = {"sweep_id": self.sweep_id, "command": self.command} if self.sweep_id else {}
        record = {
            "schema": RECORD_SCHEMA,
            **sweep,
            "label": self.config.label,
            "status": self.status,
            "started_at": self.started_at,
            "config": self.config.to_dict(),
            "environment": self.environment,
            "model": {"name": self.config.model_name, "param_count": self.param_count},
            "stats": summary.to_dict() if summary else None,
            "cost": cost.to_dict() if cost else None,
            "warnings": self.warnings,
            **({"bursts": [burst.to_dict() for burst in self.bursts]} if self.bursts else {}),
            "step_times_s": self.measurement.step_times_s if self.measurement else [],
            "burn_in_times_s": self.measurement.burn_in_times_s if self.measurement else [],
            "phases_s": self.phases_s,
            "failure": self.failure.to_dict() if self.failure else None,
            "extra": self.extra.to_dict(),
            **({"limits": self.limits.to_dict()} if self.limits.any else {}),
            **({"batch_search": self.batch_search.to_dict()} if self.batch_search else {}),
        }
        if self.repeat is not None:
            record["repeat"] = self.repeat.to_dict()
        if self.config.data_parallel:
            record["scaling_efficiency"] = self.scaling_efficiency
        return record

    @classmethod
    def from_record(cls, record: dict) -> BenchmarkResult:
        """Rebuilds a result from a JSON record (statistics are recomputed, not read).

        Args:
          record: a parsed JSON record of schema 1.

        Returns:
          The BenchmarkResult.
        """
        measurement = None
        step_times_s = list(record.get("step_times_s") or [])
        burn_in_times_s = list(record.get("burn_in_times_s") or [])
        if record.get("stats") is not None or step_times_s or burn_in_times_s:
            loop_wall_s = (record.get("stats") or {}).get("loop_wall_s", sum(step_times_s))
            measurement = Measurement(step_times_s, burn_in_times_s, loop_wall_s)
        failure = Failure(**record["failure"]) if record.get("failure") else None
        return cls(
            config=BenchmarkConfig.from_dict(record["config"]),
            status=record["status"],
            measurement=measurement,
            failure=failure,
            param_count=(record.get("model") or {}).get("param_count"),
            environment=record.get("environment") or {},
            phases_s=record.get("phases_s") or {},
            started_at=record.get("started_at", ""),
            extra=Extras.from_dict(record.get("extra")),
            limits=Limits.from_dict(record.get("limits")),
            sweep_id=record.get("sweep_id", ""),
            command=record.get("command", ""),
            repeat=Repeat(**record["repeat"]) if record.get("repeat") else None,
            batch_search=SearchFacts.from_dict(record.get("batch_search")),
            scaling_efficiency=record.get("scaling_efficiency"),
        )
