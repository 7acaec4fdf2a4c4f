"""Statistics against hand-computed values on fixed step times."""

import math

import numpy as np
import pytest

from bench.results import stats


def test_summary_of_four_steps_matches_hand_computed_values():
    step_times_s = [0.4, 0.1, 0.3, 0.2]  # deliberately unsorted
    summary = stats.summarize(step_times_s, batch_size=8, loop_wall_s=1.2, cold_step_s=2.5)
    # mean 0.25; deviations ±0.15, ±0.05 -> population variance (2*0.0225 + 2*0.0025) / 4.
    assert summary.mean_s == pytest.approx(0.25)
    assert summary.sd_s == pytest.approx(math.sqrt(0.0125))
    assert summary.median_s == pytest.approx(0.25)
    assert (summary.min_s, summary.max_s) == (0.1, 0.4)
    # Sorted positions 0..3: p10 at 0.3 -> 0.13, p90 at 2.7 -> 0.37, p25 at 0.75, p75 at 2.25.
    assert summary.p10_s == pytest.approx(0.13)
    assert summary.p90_s == pytest.approx(0.37)
    assert summary.iqr_s == pytest.approx(0.325 - 0.175)
    assert summary.images_per_sec == pytest.approx(8 / 0.25)
    assert summary.total_images_per_sec == pytest.approx(8 * 4 / 1.2)
    assert summary.cold_step_s == 2.5
    assert summary.num_steps == 4


def naive_variance(values):
    """E[x^2] - mean^2: the shortcut the harness must not use."""
    n = len(values)
    return sum(v * v for v in values) / n - (sum(values) / n) ** 2


def test_identical_steps_give_zero_sd_where_the_naive_formula_goes_negative():
    step_times_s = [0.123, 0.123, 0.123]
    assert naive_variance(step_times_s) < 0  # the trap is real for these values
    assert stats.population_sd(step_times_s) == 0.0


def test_sd_is_exact_with_a_large_offset():
    offset = 1e9
    values = [offset + 4, offset + 7, offset + 13, offset + 16]
    # Deviations from the mean (offset + 10): -6, -3, 3, 6 -> variance 90 / 4.
    assert stats.population_sd(values) == pytest.approx(math.sqrt(22.5), rel=1e-9)
    assert abs(naive_variance(values) - 22.5) > 1  # the shortcut is far off here


def test_median_odd_and_even_counts():
    assert stats.median([3.0, 1.0, 2.0]) == 2.0
    assert stats.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert stats.median([7.0]) == 7.0


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
def test_percentile_agrees_with_numpy_linear_method(fraction, rng):
    values = list(rng.uniform(0.05, 0.5, size=17))
    expected = np.percentile(values, fraction * 100, method="linear")
    assert stats.percentile(values, fraction) == pytest.approx(expected, rel=1e-12)


def test_single_step_has_zero_spread():
    summary = stats.summarize([0.5], batch_size=2, loop_wall_s=0.5, cold_step_s=0.5)
    assert (summary.sd_s, summary.iqr_s, summary.p10_s, summary.p90_s) == (0.0, 0.0, 0.5, 0.5)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="no step times"):
        stats.summarize([], batch_size=1, loop_wall_s=1.0, cold_step_s=1.0)
    with pytest.raises(ValueError, match="outside"):
        stats.percentile([1.0], 1.5)


def test_no_warning_for_steady_well_sampled_run():
    summary = stats.summarize([0.100, 0.101, 0.099] * 4, 1, loop_wall_s=1.2, cold_step_s=1.0)
    assert stats.reliability_warnings(summary) == []


def test_warnings_for_few_steps_and_high_spread():
    summary = stats.summarize([0.1, 0.2, 0.1], 1, loop_wall_s=0.4, cold_step_s=1.0)
    warnings = stats.reliability_warnings(summary)
    assert any("only 3 measured steps" in warning for warning in warnings)
    assert any("high spread" in warning for warning in warnings)


def test_high_spread_from_iqr_alone():
    # 12 steps: sd is under 10% of the median because the outliers are moderate, but the IQR is
    # not; check the figures first so the test means what it says.
    values = [0.100] * 3 + [0.112] * 6 + [0.100] * 3
    summary = stats.summarize(values, 1, loop_wall_s=1.3, cold_step_s=1.0)
    assert summary.sd_s < 0.1 * summary.median_s < summary.iqr_s
    assert any("high spread" in warning for warning in stats.reliability_warnings(summary))


def test_sample_sd_standard_error_and_jitter_against_numpy_and_hand_values(rng):
    values = list(rng.lognormal(-2.0, 0.3, size=25))
    assert stats.sample_sd(values) == pytest.approx(np.std(values, ddof=1), rel=1e-12)
    assert stats.standard_error(values) == pytest.approx(np.std(values, ddof=1) / 5, rel=1e-12)
    # Median 3; absolute deviations 2, 1, 0, 1, 7 -> their median 1.
    assert stats.jitter([1.0, 2.0, 3.0, 4.0, 10.0]) == pytest.approx(1.4826)
    with pytest.raises(ValueError, match="at least two"):
        stats.sample_sd([1.0])


def test_block_means_cut_contiguous_nearly_equal_blocks():
    # Seven values in three blocks: sizes 3, 2, 2.
    assert stats.block_means([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], blocks=3) == [2.0, 4.5, 6.5]
    assert stats.block_means([4.0, 2.0], blocks=10) == [4.0, 2.0]  # one block per step
    assert len(stats.block_means(list(range(105)))) == 10


def test_mean_interval_uses_the_t_quantile():
    interval = stats.mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    # sd sqrt(2.5), se sqrt(0.5), t(0.975, 4) = 2.776 from the table.
    assert (interval.mean, interval.df) == (3.0, 4)
    assert interval.standard_error == pytest.approx(math.sqrt(0.5))
    assert interval.high - 3.0 == pytest.approx(2.776 * math.sqrt(0.5), abs=1e-3)
    assert interval.low == pytest.approx(6.0 - interval.high)


def ar1_series(rng, size, correlation, mean=0.1, noise=0.005):
    """Step times whose deviations from `mean` follow an AR(1) process (stationary start)."""
    shocks = rng.normal(0.0, noise, size=size)
    values = [shocks[0] / math.sqrt(1 - correlation**2)]
    for shock in shocks[1:]:
        values.append(correlation * values[-1] + shock)
    return [mean + value for value in values]


def test_the_batch_means_interval_keeps_its_coverage_on_correlated_steps(rng):
    """On steps correlated like a warm-up drift (AR(1), 0.6), an interval that treats steps as
    independent covers the true mean far less often than 95%; the batch-means one does not."""
    covered_blocks = covered_naive = 0
    trials = 400
    for _ in range(trials):
        steps = ar1_series(rng, 100, 0.6)
        blocked = stats.step_mean_interval(steps)
        naive = stats.mean_interval(steps)
        covered_blocks += blocked.low <= 0.1 <= blocked.high
        covered_naive += naive.low <= 0.1 <= naive.high
    assert covered_naive / trials < 0.85
    assert 0.88 <= covered_blocks / trials <= 0.99


def test_a_step_time_interval_never_goes_below_zero():
    # Three 1 ms steps and one of 30 ms: mean 8.25 ms, t(3) x its standard error is larger.
    steps = [0.001, 0.001, 0.001, 0.030]
    found, uncut = stats.step_mean_interval(steps), stats.mean_interval(steps)  # 4 steps: 4 blocks
    assert uncut.low < 0 and found.low == 0.0
    assert (found.mean, found.high) == (uncut.mean, uncut.high)


def test_step_distribution_percentiles_and_single_step():
    steps = [0.01 * (index + 1) for index in range(100)]  # 0.01 .. 1.00
    distribution = stats.step_distribution(steps)
    assert distribution.p50_s == pytest.approx(0.505)
    assert distribution.p99_s == pytest.approx(0.01 + 0.99 * 0.99)
    assert distribution.mean.mean == pytest.approx(0.505) and distribution.mean.df == 9
    assert stats.step_distribution([0.2]).mean is None
