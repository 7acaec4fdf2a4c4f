"""How many steps a configuration measures: a fixed count, or `auto` until the mean is precise.

`--num-batches N` measures N steps. `--num-batches auto` measures until the 95% confidence
interval of the mean step time (the batch-means interval every summary reports,
`bench.results.stats.step_mean_interval`) is within `--target-ci` percent of the mean, at least
MIN_AUTO_STEPS steps and, past them, at most `--max-time` seconds of measuring (DEFAULT_AUTO_MAX_TIME_S
unless given). `--max-time` with a fixed count bounds that count's measuring time too. The rule that
applies them step by step is `bench.results.stopping`. No TensorFlow here.
"""

from __future__ import annotations

import math

from bench.core.errors import ConfigError

# --num-batches auto.
AUTO = "auto"
# Fewer steps than this give no interval worth stopping on (the batch means are single steps).
MIN_AUTO_STEPS = 10
# --target-ci's default: the interval's half-width as a percentage of the mean step time.
DEFAULT_TARGET_CI_PCT = 1.0
# --max-time's default with --num-batches auto: a minute of measuring per configuration is enough
# for a 1% interval on a quiet machine at any step time up to a few seconds, and bounds a noisy one.
DEFAULT_AUTO_MAX_TIME_S = 60.0


def is_auto(num_batches: object) -> bool:
    """True for --num-batches auto."""
    return num_batches == AUTO


def time_budget_s(num_batches: object, max_time: float | None) -> float | None:
    """The bound on the measured phase: --max-time when given, else DEFAULT_AUTO_MAX_TIME_S with
    auto, else none."""
    if max_time is not None:
        return max_time
    return DEFAULT_AUTO_MAX_TIME_S if is_auto(num_batches) else None


def check(num_batches: object, target_ci: object, max_time: object) -> None:
    """Raises ConfigError naming the first of the three that is not allowed."""
    counted = isinstance(num_batches, int) and not isinstance(num_batches, bool) and num_batches >= 1
    if num_batches != AUTO and not counted:
        raise ConfigError("num_batches", num_batches, f"must be a positive integer or {AUTO}")
    if not _number(target_ci) or not 0 < target_ci < 100:
        raise ConfigError("target_ci", target_ci, "must be a percentage above 0 and below 100")
    if max_time is not None and (not _number(max_time) or not max_time > 0):
        raise ConfigError("max_time", max_time, "must be a number of seconds above 0")


def _number(value: object) -> bool:
    """True for a finite int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
