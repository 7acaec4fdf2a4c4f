"""Is one measurement of a configuration faster than another, and do repeated processes agree?

What is compared is throughput, images/sec = batch / mean step time: total images over total time,
so a few slow steps (a stall, a neighbour) count as much as they cost. Raw step times are skewed,
have outliers and are autocorrelated (caches, clocks and neighbours change slowly), so they are not
treated as independent observations. The observations are:

- with two or more processes of the configuration (`--repeat`, or several records of it in a file):
  the processes' mean step times, one per process. Processes are the independent unit; they also
  carry what differs between runs (memory layout, clock, neighbours), which steps of one run cannot;
- with one process: `bench.results.stats.BLOCKS` batch means of its steps (contiguous blocks), which are far
  less correlated than steps and close to normal by averaging.

The test is Welch's unequal-variance t-test on the log of the mean step time, with the delta-method
standard error se(mean) / mean and Welch-Satterthwaite degrees of freedom (scipy.stats's
`ttest_ind_from_stats`; the interval's quantile is scipy's t). The ratio's confidence
interval is exp(log ratio -/+ t x se), so the verdict and the interval always agree: significant at
5% exactly when the 95% interval excludes 1. A rank test (Mann-Whitney U) on raw steps was not used:
it assumes independent steps (autocorrelation makes it call noise significant), it tests whether a
random step is faster rather than whether throughput is higher, and on three process means per side
its smallest possible two-sided p is 0.1, so it could never decide from repeats.

Whether repeated processes agree: a one-way F test of the variance of the process means against
what each process's own step noise predicts for it (its batch-means standard error squared). No
TensorFlow here; scipy.stats is imported by the functions that test, not with the module (see
`bench.results.stats`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from bench.results import stats
from bench.results.result import BenchmarkResult

FASTER = "faster"
SLOWER = "slower"
SAME = "no significant difference"
UNDECIDED = "too few steps to tell"
# Significance level of the comparison verdict (the intervals are 1 - ALPHA).
ALPHA = 0.05
# Processes "disagree" when the F test's p is below this: rare by chance, so a warning means it.
DISAGREEMENT_ALPHA = 0.01
UNIT_PROCESS = "process"
UNIT_BLOCK = "batch mean"


@dataclasses.dataclass(frozen=True)
class Sample:
    """One configuration's mean step time as measured in one file, with its uncertainty.

    Attributes:
      mean_s: the mean step time (over processes when there are several, else over steps).
      standard_error_s: its standard error (nan when it cannot be estimated).
      units: how many independent observations the standard error comes from.
      unit: UNIT_PROCESS or UNIT_BLOCK.
      batch_size: images per step (the global batch: every replica's).
      processes: processes that measured the configuration.
      failed: processes of it that failed.
      bursts: processes of it with a burst of steps (`bench.results.bursts`), whose mean the
        burst's steps are part of.
    """

    mean_s: float
    standard_error_s: float
    units: int
    unit: str
    batch_size: int
    processes: int
    failed: int = 0
    bursts: int = 0

    @property
    def images_per_sec(self) -> float:
        """batch / mean step time."""
        return self.batch_size / self.mean_s if self.mean_s > 0 else math.inf

    @property
    def images_per_sec_interval(self) -> tuple[float, float] | None:
        """The 95% interval of images/sec (the mean step time's interval, inverted), or None."""
        if self.units < 2 or not math.isfinite(self.standard_error_s):
            return None
        interval = stats.interval(self.mean_s, self.standard_error_s, self.units - 1)
        high = self.batch_size / interval.low if interval.low > 0 else math.inf
        return self.batch_size / interval.high, high


def sample_of(results: Sequence[BenchmarkResult]) -> Sample | None:
    """The Sample of one configuration's records (every process of it in a file).

    Args:
      results: records of the same configuration, failed ones included.

    Returns:
      The Sample, or None when no record of it was measured.
    """
    measured = [result for result in results if result.ok]
    if not measured:
        return None
    failed = len(results) - len(measured)
    bursty = sum(1 for result in measured if result.bursts)
    batch = measured[0].config.global_batch_size  # the table's images/sec counts every replica's
    if len(measured) > 1:
        means = [result.stats.mean_s for result in measured]
        return Sample(
            float(np.mean(means)),
            stats.standard_error(means),
            len(means),
            UNIT_PROCESS,
            batch,
            len(measured),
            failed,
            bursty,
        )
    steps = measured[0].measurement.step_times_s
    error = stats.step_mean_interval(steps).standard_error if len(steps) > 1 else math.nan
    # The mean the table's figures come from (`BenchmarkResult.stats`), so one record's
    # images/sec is the table's wherever it is shown (plot, compare, repeats summary).
    mean_s = measured[0].stats.mean_s
    units = min(len(steps), stats.BLOCKS)
    return Sample(mean_s, error, units, UNIT_BLOCK, batch, 1, failed, bursty)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """NEW against BASE for one configuration.

    Attributes:
      ratio: NEW's images/sec / BASE's (above 1: NEW is faster).
      low, high: its 95% confidence interval.
      p_value: Welch's two-sided p for "same mean step time".
      df: Welch-Satterthwaite degrees of freedom.
      verdict: FASTER, SLOWER, SAME or UNDECIDED.
    """

    ratio: float
    low: float
    high: float
    p_value: float
    df: float
    verdict: str

    @property
    def significant(self) -> bool:
        return self.verdict in (FASTER, SLOWER)


def compare(base: Sample, new: Sample) -> Comparison:
    """Welch's t-test on log mean step times, and the throughput ratio's confidence interval.

    Args:
      base: the reference measurement.
      new: the one compared with it.

    Returns:
      The Comparison (UNDECIDED when either side has fewer than two observations).
    """
    log_ratio = math.log(base.mean_s) - math.log(new.mean_s)
    ratio = math.exp(log_ratio)
    if min(base.units, new.units) < 2 or not (
        math.isfinite(base.standard_error_s) and math.isfinite(new.standard_error_s)
    ):
        return Comparison(ratio, math.nan, math.nan, math.nan, math.nan, UNDECIDED)
    parts = [(base.standard_error_s / base.mean_s) ** 2, (new.standard_error_s / new.mean_s) ** 2]
    dfs = [base.units - 1, new.units - 1]
    variance = sum(parts)
    if variance == 0:  # no noise at all: any difference is real
        verdict = SAME if log_ratio == 0 else (FASTER if log_ratio > 0 else SLOWER)
        return Comparison(ratio, ratio, ratio, 1.0 if log_ratio == 0 else 0.0, math.inf, verdict)
    from scipy import stats as scipy_stats  # noqa: PLC0415 (see the module docstring)

    df = variance**2 / sum(part**2 / dof for part, dof in zip(parts, dfs, strict=True) if part > 0)
    error = math.sqrt(variance)
    # Each side as a sample whose standard error is the delta method's: sd = se x sqrt(n).
    welch = scipy_stats.ttest_ind_from_stats(
        math.log(base.mean_s), math.sqrt(parts[0] * base.units), base.units,
        math.log(new.mean_s), math.sqrt(parts[1] * new.units), new.units,
        equal_var=False,
    )
    p_value = float(welch.pvalue)
    half = float(scipy_stats.t.ppf(1 - ALPHA / 2, df)) * error
    verdict = SAME if p_value >= ALPHA else (FASTER if log_ratio > 0 else SLOWER)
    return Comparison(ratio, math.exp(log_ratio - half), math.exp(log_ratio + half), p_value, df, verdict)


@dataclasses.dataclass(frozen=True)
class Agreement:
    """Do a configuration's processes agree within their own step noise?

    Attributes:
      between_cv: sample sd of the process means / their mean.
      expected_cv: what the processes' step noise alone predicts for it (root mean square of their
        batch-means standard errors / the mean).
      f: the F statistic, (between_cv / expected_cv)^2.
      df_between, df_within: its degrees of freedom.
      p_value: P(F >= f) if the processes differed only by step noise.
    """

    between_cv: float
    expected_cv: float
    f: float
    df_between: int
    df_within: int
    p_value: float

    @property
    def disagree(self) -> bool:
        return self.p_value < DISAGREEMENT_ALPHA


def agreement(results: Sequence[BenchmarkResult]) -> Agreement | None:
    """The F test of one configuration's measured processes (None with fewer than two, or when a
    process has a single step).

    Args:
      results: records of the same configuration (failed ones are ignored).

    Returns:
      The Agreement, or None.
    """
    steps = [result.measurement.step_times_s for result in results if result.ok]
    if len(steps) < 2 or min(len(times) for times in steps) < 2:
        return None
    from scipy import stats as scipy_stats  # noqa: PLC0415 (see the module docstring)

    means = [float(np.mean(times)) for times in steps]
    centre = float(np.mean(means))
    between = float(np.var(means, ddof=1))
    within = float(np.mean([stats.step_mean_interval(times).standard_error ** 2 for times in steps]))
    df_within = sum(len(stats.block_means(times)) - 1 for times in steps)
    if within == 0:
        f = 0.0 if between == 0 else math.inf
    else:
        f = between / within
    return Agreement(
        between_cv=math.sqrt(between) / centre,
        expected_cv=math.sqrt(within) / centre,
        f=f,
        df_between=len(steps) - 1,
        df_within=df_within,
        p_value=float(scipy_stats.f.sf(f, len(steps) - 1, df_within)),
    )
