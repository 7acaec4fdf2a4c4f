"""Statistics derived from raw per-step times.

Nothing here measures anything: every figure is computed from the list of measured step times (in
seconds) that a :class:`bench.results.measurement.Measurement` holds, so any reported number can be recomputed
from the saved raw times.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from bench.results import distributions

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


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean, summed with `math.fsum` so no precision is lost to rounding.

    Args:
      values: at least one number.

    Returns:
      The mean.

    Raises:
      ValueError: if `values` is empty.
    """
    _require_values(values)
    return math.fsum(values) / len(values)


def population_sd(values: Sequence[float]) -> float:
    """Population standard deviation, computed in two passes.

    The deviations from the mean are squared and summed (second pass), so the result can never be
    negative or lose all precision the way E[x^2] - mean^2 does when the spread is small compared
    with the values themselves.

    Args:
      values: at least one number.

    Returns:
      sqrt(sum((x - mean)^2) / n); 0.0 for a single value.

    Raises:
      ValueError: if `values` is empty.
    """
    centre = mean(values)
    squared_deviations = math.fsum((value - centre) ** 2 for value in values)
    return math.sqrt(squared_deviations / len(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Percentile by linear interpolation between closest ranks.

    This is the usual definition (numpy's default `linear` method, Hyndman & Fan type 7): the
    sorted values sit at positions 0..n-1 and position `fraction * (n - 1)` is interpolated.

    Args:
      values: at least one number, in any order.
      fraction: which percentile, as a fraction in [0, 1] (0.9 for p90).

    Returns:
      The interpolated value.

    Raises:
      ValueError: if `values` is empty or `fraction` is outside [0, 1].
    """
    _require_values(values)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"percentile fraction {fraction!r} is outside [0, 1]")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower_index = math.floor(position)
    upper_index = min(lower_index + 1, len(ordered) - 1)
    weight = position - lower_index
    lower, upper = ordered[lower_index], ordered[upper_index]
    return lower + (upper - lower) * weight


def median(values: Sequence[float]) -> float:
    """The 50th percentile (mean of the two middle values for an even count).

    Args:
      values: at least one number.

    Returns:
      The median.

    Raises:
      ValueError: if `values` is empty.
    """
    return percentile(values, 0.5)


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
    mean_s = mean(step_times_s)
    return StepStatistics(
        num_steps=len(step_times_s),
        mean_s=mean_s,
        sd_s=population_sd(step_times_s),
        median_s=median(step_times_s),
        min_s=min(step_times_s),
        max_s=max(step_times_s),
        p10_s=percentile(step_times_s, 0.10),
        p90_s=percentile(step_times_s, 0.90),
        iqr_s=percentile(step_times_s, 0.75) - percentile(step_times_s, 0.25),
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


def sample_sd(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1 in the denominator), in two passes; ValueError for fewer
    than two values."""
    if len(values) < 2:
        raise ValueError("a sample standard deviation needs at least two values")
    centre = mean(values)
    return math.sqrt(math.fsum((value - centre) ** 2 for value in values) / (len(values) - 1))


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean of independent values: sample sd / sqrt(n) (ValueError below 2)."""
    return sample_sd(values) / math.sqrt(len(values))


def jitter(values: Sequence[float]) -> float:
    """tf_cnn_benchmarks' jitter: 1.4826 x the median absolute deviation from the median (ValueError
    if `values` is empty)."""
    centre = median(values)
    return MAD_TO_SD * median([abs(value - centre) for value in values])


def block_means(values: Sequence[float], blocks: int = BLOCKS) -> list[float]:
    """Means of `blocks` contiguous, nearly equal blocks of `values` (fewer when there are fewer
    values: then each value is its own block); block sizes differ by at most one. ValueError if
    `values` is empty."""
    _require_values(values)
    count = min(blocks, len(values))
    size, extra = divmod(len(values), count)
    means, start = [], 0
    for index in range(count):
        stop = start + size + (1 if index < extra else 0)
        means.append(mean(values[start:stop]))
        start = stop
    return means


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
    half = distributions.t_quantile(0.5 + confidence / 2, df) * error
    return MeanInterval(centre, error, df, centre - half, centre + half, confidence)


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> MeanInterval:
    """The mean of independent values with its t interval (df = n - 1; ValueError below 2 values)."""
    return interval(mean(values), standard_error(values), len(values) - 1, confidence)


def step_mean_interval(step_times_s: Sequence[float], confidence: float = CONFIDENCE) -> MeanInterval:
    """The mean step time of one process with its t interval, the standard error taken from
    `BLOCKS` batch means (their sample sd / sqrt(blocks), df = blocks - 1) because consecutive
    steps are not independent; the mean itself is that of every step. A step time is never
    negative, so the interval is cut at 0 (which keeps its coverage): a few quick steps and one
    slow one would otherwise give a negative lower bound. ValueError below 2 steps."""
    blocks = block_means(step_times_s)
    found = interval(mean(step_times_s), standard_error(blocks), len(blocks) - 1, confidence)
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
    return StepDistribution(
        p50_s=percentile(step_times_s, 0.50),
        p90_s=percentile(step_times_s, 0.90),
        p99_s=percentile(step_times_s, 0.99),
        jitter_s=jitter(step_times_s),
        mean=step_mean_interval(step_times_s) if len(step_times_s) > 1 else None,
    )


def _safe_ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, or infinity when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else math.inf


def _require_values(values: Sequence[float]) -> None:
    """Raises ValueError if `values` is empty."""
    if len(values) == 0:
        raise ValueError("no step times to summarise")
