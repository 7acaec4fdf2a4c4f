"""Statistics derived from raw per-step times.

Nothing here measures anything: every figure is computed from the list of measured step times (in
seconds) that a :class:`bench.results.measurement.Measurement` holds, so any reported number can be recomputed
from the saved raw times. The arithmetic is numpy's (mean, sd, percentiles by its default `linear`
method, Hyndman & Fan type 7) and the t quantile scipy's. scipy.stats is imported where an interval
is computed, not with this module: it takes about 0.6 s, and the command line imports this module
before it refuses bad input.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import numpy as np

# A run is flagged as noisy when its sd or its interquartile range exceeds this fraction of the
# median step time.
HIGH_SPREAD_FRACTION = 0.10
# Fewer measured steps than this give a mean too uncertain to compare configurations by.
MIN_TRUSTED_STEPS = 10
# Confidence of every interval the harness reports.
CONFIDENCE = 0.95
# The measured steps of one process are cut into this many contiguous blocks ("batch means") to
# estimate the standard error of their mean: consecutive steps are correlated, block means far less.
BLOCKS = 10
# tf_cnn_benchmarks' jitter: the median absolute deviation scaled to the sd of a normal distribution.
MAD_TO_SD = 1.4826


@dataclasses.dataclass(frozen=True)
class StepStatistics:
    """Summary of the measured steps of one configuration. All times are in seconds.

    Attributes:
      num_steps: how many measured steps the figures come from.
      mean_s, sd_s, median_s, min_s, max_s, p10_s, p90_s, iqr_s: per-step time statistics
        (sd is the population standard deviation; iqr is p75 - p25).
      images_per_sec: batch size / mean step time.
      total_images_per_sec: batch size * steps / wall time of the whole measured loop (includes
        whatever the loop did between steps, so it is slightly below images_per_sec).
      cold_step_s: time of the very first step of the session (graph optimisation, allocation).
      loop_wall_s: wall time of the whole measured loop.
    """

    num_steps: int
    mean_s: float
    sd_s: float
    median_s: float
    min_s: float
    max_s: float
    p10_s: float
    p90_s: float
    iqr_s: float
    images_per_sec: float
    total_images_per_sec: float
    cold_step_s: float
    loop_wall_s: float

    def to_dict(self) -> dict:
        """Returns the statistics as a plain dict (field name -> value)."""
        return dataclasses.asdict(self)


def summarize(
    step_times_s: Sequence[float], batch_size: int, loop_wall_s: float, cold_step_s: float
) -> StepStatistics:
    """Computes every reported statistic from raw measured step times.

    Args:
      step_times_s: measured step durations in seconds, at least one.
      batch_size: images per step.
      loop_wall_s: wall time of the whole measured loop in seconds (> 0).
      cold_step_s: duration of the first step the session ever ran.

    Returns:
      A StepStatistics.

    Raises:
      ValueError: if `step_times_s` is empty.
    """
    times = _values(step_times_s)
    mean_s = float(np.mean(times))
    p10, p25, p50, p75, p90 = np.percentile(times, [10, 25, 50, 75, 90])
    return StepStatistics(
        num_steps=len(times),
        mean_s=mean_s,
        sd_s=float(np.std(times)),
        median_s=float(p50),
        min_s=float(np.min(times)),
        max_s=float(np.max(times)),
        p10_s=float(p10),
        p90_s=float(p90),
        iqr_s=float(p75 - p25),
        images_per_sec=_safe_ratio(batch_size, mean_s),
        total_images_per_sec=_safe_ratio(batch_size * len(step_times_s), loop_wall_s),
        cold_step_s=cold_step_s,
        loop_wall_s=loop_wall_s,
    )


def reliability_warnings(stats: StepStatistics) -> list[str]:
    """Plain-language warnings about figures that should not be trusted as they are.

    Args:
      stats: statistics of one configuration.

    Returns:
      A list of one-line warnings, empty when the measurement looks sound.
    """
    warnings = []
    if stats.num_steps < MIN_TRUSTED_STEPS:
        warnings.append(
            f"only {stats.num_steps} measured steps (fewer than {MIN_TRUSTED_STEPS}); the mean is uncertain"
        )
    if stats.median_s > 0:
        limit = HIGH_SPREAD_FRACTION * stats.median_s
        if stats.sd_s > limit or stats.iqr_s > limit:
            warnings.append(
                f"high spread: sd {stats.sd_s / stats.median_s:.0%} and IQR "
                f"{stats.iqr_s / stats.median_s:.0%} of the median step time "
                f"(over {HIGH_SPREAD_FRACTION:.0%}); is the machine busy?"
            )
    return warnings


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean of independent values: sample sd (n - 1) / sqrt(n) (ValueError
    below 2 values)."""
    if len(values) < 2:
        raise ValueError("a standard error needs at least two values")
    return float(np.std(values, ddof=1)) / math.sqrt(len(values))


def jitter(values: Sequence[float]) -> float:
    """tf_cnn_benchmarks' jitter: 1.4826 x the median absolute deviation from the median (ValueError
    if `values` is empty)."""
    times = _values(values)
    return MAD_TO_SD * float(np.median(np.abs(times - np.median(times))))


def block_means(values: Sequence[float], blocks: int = BLOCKS) -> list[float]:
    """Means of `blocks` contiguous, nearly equal blocks of `values` (fewer when there are fewer
    values: then each value is its own block); block sizes differ by at most one, the longer ones
    first. ValueError if `values` is empty."""
    times = _values(values)
    return [float(np.mean(block)) for block in np.array_split(times, min(blocks, len(times)))]


@dataclasses.dataclass(frozen=True)
class MeanInterval:
    """A mean with its standard error and t-based confidence interval.

    Attributes:
      mean: the estimate.
      standard_error: its standard error.
      df: degrees of freedom of the t quantile (independent observations - 1).
      low, high: the interval mean -/+ t(df) x standard error.
      confidence: its confidence level (0.95).
    """

    mean: float
    standard_error: float
    df: float
    low: float
    high: float
    confidence: float = CONFIDENCE


def interval(centre: float, error: float, df: float, confidence: float = CONFIDENCE) -> MeanInterval:
    """The t interval centre -/+ t_(1 - (1 - confidence) / 2, df) x error."""
    half = t_quantile(0.5 + confidence / 2, df) * error
    return MeanInterval(centre, error, df, centre - half, centre + half, confidence)


@functools.lru_cache(maxsize=256)
def t_quantile(probability: float, df: float) -> float:
    """Student's t quantile (scipy's; `math.inf` degrees of freedom: the normal's), cached: the
    stopping rule asks for the same one at every checkpoint, and the first call imports
    scipy.stats (`bench.results.stopping` asks before the measured steps, so that import is not
    timed)."""
    from scipy import stats as scipy_stats  # noqa: PLC0415 (see the module docstring)

    return float(scipy_stats.t.ppf(probability, df))


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> MeanInterval:
    """The mean of independent values with its t interval (df = n - 1; ValueError below 2 values)."""
    return interval(float(np.mean(values)), standard_error(values), len(values) - 1, confidence)


def step_mean_interval(step_times_s: Sequence[float], confidence: float = CONFIDENCE) -> MeanInterval:
    """The mean step time of one process with its t interval, the standard error taken from
    `BLOCKS` batch means (their sample sd / sqrt(blocks), df = blocks - 1) because consecutive
    steps are not independent; the mean itself is that of every step. A step time is never
    negative, so the interval is cut at 0 (which keeps its coverage): a few quick steps and one
    slow one would otherwise give a negative lower bound. ValueError below 2 steps."""
    blocks = block_means(step_times_s)
    found = interval(float(np.mean(step_times_s)), standard_error(blocks), len(blocks) - 1, confidence)
    return dataclasses.replace(found, low=max(found.low, 0.0))


@dataclasses.dataclass(frozen=True)
class StepDistribution:
    """Latency figures of one process's measured steps, in seconds.

    Attributes:
      p50_s, p90_s, p99_s: step-time percentiles (p99 at batch 1 is what serving reads).
      jitter_s: 1.4826 x the median absolute deviation.
      mean: the mean step time with its batch-means interval (None for a single step).
    """

    p50_s: float
    p90_s: float
    p99_s: float
    jitter_s: float
    mean: MeanInterval | None


def step_distribution(step_times_s: Sequence[float]) -> StepDistribution:
    """Percentiles, jitter and the interval of the mean of raw step times (ValueError if empty)."""
    p50, p90, p99 = np.percentile(_values(step_times_s), [50, 90, 99])
    return StepDistribution(
        p50_s=float(p50),
        p90_s=float(p90),
        p99_s=float(p99),
        jitter_s=jitter(step_times_s),
        mean=step_mean_interval(step_times_s) if len(step_times_s) > 1 else None,
    )


def _safe_ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, or infinity when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else math.inf


def _values(values: Sequence[float]) -> np.ndarray:
    """`values` as a float64 array; ValueError if it is empty."""
    if len(values) == 0:
        raise ValueError("no step times to summarise")
    return np.asarray(values, dtype=np.float64)
