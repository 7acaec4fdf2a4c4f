"""When the measured steps stop: after a fixed count, when the mean is precise enough, or when the
time budget is spent (the settings are `bench.core.steps`').

The rule looks at the steps only at checkpoints, so that it costs nothing between most steps and
so that several workers, which run the same steps, look at the same moments (the chief decides and
the others follow, `bench.measuring.run_hooks`): in `auto` the first checkpoint is the floor of
MIN_AUTO_STEPS steps, and each next one a block of a tenth of the steps so far later (10, 11, ...,
20, 22, 24, ..., 103, 113, 124, ...), so that checking often does not pick a moment when the
interval happens to be narrow, and a budget is overrun by at most a tenth of the steps taken. A
fixed count with a time budget checks the time on the same schedule from its first step. No
TensorFlow here.
"""

from __future__ import annotations

import dataclasses

from bench.core import steps as steps_rule
from bench.core.config import BenchmarkConfig
from bench.results import stats

TARGET = "target"  # the interval reached the target
TIME = "time"  # the time budget was spent
STEPS = "steps"  # the fixed count of steps ran

# What the output line says for each reason.
REASON_WORDS = {
    TARGET: "the 95% CI of the mean step reached the target",
    TIME: "the time budget was spent",
    STEPS: "the requested steps ran",
}


@dataclasses.dataclass(frozen=True)
class Stopping:
    """Why a run's measured steps stopped where they did (the record's `extra.stop`).

    Attributes:
      reason: TARGET, TIME or STEPS.
      steps: measured steps that ran.
      ci_pct: the 95% interval's half-width in percent of the mean step at the stop (None below
        2 steps).
      target_ci_pct: the target (None for a fixed count).
      max_time_s: the time budget (None: none).
    """

    reason: str
    steps: int
    ci_pct: float | None
    target_ci_pct: float | None
    max_time_s: float | None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None) -> Stopping | None:
        return cls(**values) if values else None

    def describe(self) -> str:
        """'stopped after 37 steps: the 95% CI of the mean step reached the target (+/-0.9%, target
        1%)'."""
        numbers = []
        if self.ci_pct is not None:
            numbers.append(f"+/-{self.ci_pct:.1f}%")
        if self.target_ci_pct is not None:
            numbers.append(f"target {self.target_ci_pct:g}%")
        if self.max_time_s is not None:
            numbers.append(f"budget {self.max_time_s:g} s")
        return f"stopped after {self.steps} steps: {REASON_WORDS[self.reason]} ({', '.join(numbers)})"


class StopRule:
    """The stopping rule of one configuration.

    Attributes:
      fixed: the fixed number of steps, or None with auto.
      target: the interval's half-width to reach, as a fraction of the mean (None: fixed count).
      budget_s: the time budget of the measured steps (None: none).
      floor: steps before the first checkpoint.
    """

    def __init__(self, config: BenchmarkConfig):
        auto = steps_rule.is_auto(config.num_batches)
        self.fixed = None if auto else config.num_batches
        self.target = config.target_ci / 100 if auto else None
        self.budget_s = steps_rule.time_budget_s(config.num_batches, config.max_time)
        self.floor = steps_rule.MIN_AUTO_STEPS if auto else 1
        self._next_checkpoint = self.floor
        if self.checks:
            # scipy's import and the quantile now, not between timed steps nor after them: under
            # --memory-limit a large batch's import would fail as an ImportError, not an OOM.
            stats.t_quantile(0.5 + stats.CONFIDENCE / 2, stats.BLOCKS - 1)

    @property
    def checks(self) -> bool:
        """False for a fixed count without a budget: the loop runs it with no checkpoint."""
        return self.fixed is None or self.budget_s is not None

    def at_checkpoint(self, step: int) -> bool:
        """Whether the rule looks at the steps after measured step `step` (1-based; called for
        every step in order)."""
        if step < self._next_checkpoint:
            return False
        self._next_checkpoint = step + max(1, step // 10)
        return True

    def decide(self, step_times_s: list[float], elapsed_s: float) -> str | None:
        """At a checkpoint: TARGET or TIME to stop now, None to go on.

        Args:
          step_times_s: the measured steps so far.
          elapsed_s: seconds since the first measured step started.
        """
        if self.target is not None:
            width = half_width(step_times_s)
            if width is not None and width <= self.target:
                return TARGET
        if self.budget_s is not None and elapsed_s >= self.budget_s:
            return TIME
        return None

    def stopping(self, reason: str, step_times_s: list[float]) -> Stopping:
        """The facts of a stop for `reason`."""
        width = half_width(step_times_s)
        return Stopping(
            reason,
            len(step_times_s),
            None if width is None else 100 * width,
            None if self.target is None else 100 * self.target,
            self.budget_s,
        )


def half_width(step_times_s: list[float]) -> float | None:
    """The 95% batch-means interval's half-width / the mean step (None below 2 steps)."""
    if len(step_times_s) < 2:
        return None
    interval = stats.step_mean_interval(step_times_s)
    return (interval.high - interval.mean) / interval.mean if interval.mean > 0 else float("inf")
