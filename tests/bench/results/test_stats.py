"""Statistics against hand-computed values on fixed step times."""

import math
import os

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
    assert stats.summarize(step_times_s, 1, loop_wall_s=0.4, cold_step_s=1.0).sd_s == 0.0


def test_sd_is_exact_with_a_large_offset():
    offset = 1e9
    values = [offset + 4, offset + 7, offset + 13, offset + 16]
    # Deviations from the mean (offset + 10): -6, -3, 3, 6 -> variance 90 / 4.
    summary = stats.summarize(values, 1, loop_wall_s=1.0, cold_step_s=1.0)
    assert summary.sd_s == pytest.approx(math.sqrt(22.5), rel=1e-9)
    assert abs(naive_variance(values) - 22.5) > 1  # the shortcut is far off here


@pytest.mark.parametrize(
    ("values", "median"), [([3.0, 1.0, 2.0], 2.0), ([4.0, 1.0, 3.0, 2.0], 2.5), ([7.0], 7.0)]
)
def test_median_odd_and_even_counts(values, median):
    assert stats.summarize(values, 1, loop_wall_s=1.0, cold_step_s=1.0).median_s == median


def test_single_step_has_zero_spread():
    summary = stats.summarize([0.5], batch_size=2, loop_wall_s=0.5, cold_step_s=0.5)
    assert (summary.sd_s, summary.iqr_s, summary.p10_s, summary.p90_s) == (0.0, 0.0, 0.5, 0.5)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="no step times"):
        stats.summarize([], batch_size=1, loop_wall_s=1.0, cold_step_s=1.0)
    with pytest.raises(ValueError, match="no step times"):
        stats.step_distribution([])


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


def test_standard_error_and_jitter_against_hand_values():
    # Sample sd of 1..5 is sqrt(2.5); over sqrt(5) that is sqrt(0.5).
    assert stats.standard_error([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(math.sqrt(0.5), rel=1e-12)
    # Median 3; absolute deviations 2, 1, 0, 1, 7 -> their median 1.
    assert stats.jitter([1.0, 2.0, 3.0, 4.0, 10.0]) == pytest.approx(1.4826)
    with pytest.raises(ValueError, match="at least two"):
        stats.standard_error([1.0])


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


def before_scipy():
    """Figures the harness's hand-written statistics derived before numpy and scipy replaced them,
    from the stored schema-1 records and three seeded series (tests/bench/data/stats_before_scipy.json
    says how they were produced: by running that code, not by hand)."""
    import json
    import os

    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
    with open(os.path.join(folder, "stats_before_scipy.json"), encoding="utf-8") as stream:
        return json.load(stream)


def test_summaries_and_distributions_equal_the_hand_written_ones_on_stored_records():
    from bench.results import records

    old = before_scipy()
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
    measured = [r for r in records.read_records(os.path.join(folder, "schema1_records.jsonl")) if r.ok]
    assert len(measured) == len(old["stored"]["records"]) == 5
    for result, figures in zip(measured, old["stored"]["records"], strict=True):
        # The record's fields are the same floats, to the last bit.
        assert result.stats.to_dict() == figures["summary"]
        assert result.warnings == figures["warnings"]
        found = stats.step_distribution(result.measurement.step_times_s)
        assert_same_distribution(found, figures["distribution"])


def test_summaries_and_distributions_equal_the_hand_written_ones_on_seeded_series():
    old = before_scipy()["seeded"]
    cases = zip(old["series"], old["summaries"], old["distributions"], strict=True)
    for steps, summary, distribution in cases:
        new = stats.summarize(steps, 8, math.fsum(steps) * 1.01, 1.0).to_dict()
        # numpy's pairwise sum and the old fsum may differ in the last bit of a 100-step mean.
        assert new == pytest.approx(summary, rel=1e-15, abs=0)
        assert_same_distribution(stats.step_distribution(steps), distribution)


def assert_same_distribution(new, old):
    """Percentiles and jitter equal; the interval's half-width (scipy's t quantile against the old
    Newton iteration, which stopped at 1e-13) to 1e-12 of itself."""
    assert [new.p50_s, new.p90_s, new.p99_s, new.jitter_s] == pytest.approx(
        [old["p50_s"], old["p90_s"], old["p99_s"], old["jitter_s"]], rel=1e-15, abs=0)
    assert (new.mean.df, new.mean.confidence) == (old["mean"]["df"], old["mean"]["confidence"])
    assert [new.mean.mean, new.mean.standard_error] == pytest.approx(
        [old["mean"]["mean"], old["mean"]["standard_error"]], rel=1e-15, abs=0)
    half = old["mean"]["high"] - old["mean"]["mean"]
    for field in ("low", "high"):
        assert getattr(new.mean, field) == pytest.approx(old["mean"][field], rel=0, abs=1e-12 * half), field
