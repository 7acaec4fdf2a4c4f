"""The verdict on raw step times drawn from known distributions (fixed seeds), the ratio's interval,
and the test of whether repeated processes agree."""

import dataclasses
import math

import numpy as np
import pytest

from bench.results import significance, stats
from bench.results.result import Failure

STEPS = 100


def steps(rng, mean_s, spread=0.05, size=STEPS):
    """Skewed step times with outliers: lognormal with log-sd `spread` around `mean_s`, and about one
    step in 50 stalled to 1.5x, as real step times have."""
    values = rng.lognormal(math.log(mean_s) - spread**2 / 2, spread, size=size)
    values[rng.random(size) < 0.02] *= 1.5
    return list(values)


def sample(make_measured, *step_lists):
    """The Sample of one configuration measured by one process per list of step times."""
    return significance.sample_of([make_measured(50, 8, "forward", times) for times in step_lists])


def test_the_same_distribution_is_no_significant_difference(rng, make_measured):
    result = significance.compare(sample(make_measured, steps(rng, 0.1)),
                                  sample(make_measured, steps(rng, 0.1)))
    assert result.verdict == significance.SAME
    assert result.low < 1 < result.high and result.p_value >= 0.05


@pytest.mark.parametrize("factor, verdict", [(1.1, significance.SLOWER), (1 / 1.1, significance.FASTER)])
def test_ten_percent_slower_and_faster_are_called_so(rng, make_measured, factor, verdict):
    base = sample(make_measured, steps(rng, 0.1))
    new = sample(make_measured, steps(rng, 0.1 * factor))
    result = significance.compare(base, new)
    assert result.verdict == verdict and result.p_value < 0.01
    # The interval holds the true throughput ratio and excludes 1.
    assert result.low < 1 / factor < result.high
    assert not result.low < 1 < result.high
    assert result.ratio == pytest.approx(base.mean_s / new.mean_s)


def test_a_ten_percent_difference_drowned_in_noise_is_not_called_significant(rng, make_measured):
    base = sample(make_measured, steps(rng, 0.1, spread=0.6, size=20))
    new = sample(make_measured, steps(rng, 0.11, spread=0.6, size=20))
    result = significance.compare(base, new)
    assert result.verdict == significance.SAME and result.low < 1 < result.high


def drifting_steps(rng, mean_s=0.1, correlation=0.6, noise=0.004):
    """Steps whose deviations from `mean_s` follow an AR(1) process: they wander slowly."""
    deviation, values = rng.normal(0.0, noise / math.sqrt(1 - correlation**2)), []
    for shock in rng.normal(0.0, noise, size=STEPS):
        deviation = correlation * deviation + shock
        values.append(mean_s + deviation)
    return values


def test_autocorrelated_steps_of_equal_mean_are_rarely_called_significant(rng, make_measured):
    """Treating correlated steps as independent calls equal runs different far more often than 5%;
    batch means keep that near 5%."""

    def every_step_independent(times):
        return significance.Sample(float(np.mean(times)), stats.standard_error(times), len(times),
                                   significance.UNIT_BLOCK, 8, 1)

    trials, alarms, naive_alarms = 200, 0, 0
    for _ in range(trials):
        base_steps, new_steps = drifting_steps(rng), drifting_steps(rng)
        alarms += significance.compare(sample(make_measured, base_steps),
                                       sample(make_measured, new_steps)).significant
        naive_alarms += significance.compare(every_step_independent(base_steps),
                                             every_step_independent(new_steps)).significant
    assert naive_alarms / trials > 0.25
    assert alarms / trials < 0.12


def test_false_alarms_on_equal_distributions_stay_near_five_percent(rng, make_measured):
    trials = 300
    alarms = sum(
        significance.compare(sample(make_measured, steps(rng, 0.1, size=40)),
                             sample(make_measured, steps(rng, 0.1, size=40))).significant
        for _ in range(trials))
    assert 0.01 <= alarms / trials <= 0.09


def test_repeats_compare_process_means(rng, make_measured):
    """Three processes a side: the unit is the process, so process-to-process differences count."""
    offsets = [0.97, 1.0, 1.03]  # what differs between processes (memory layout, clocks, ...)
    base = sample(make_measured, *[steps(rng, 0.1 * offset) for offset in offsets])
    slower = sample(make_measured, *[steps(rng, 0.115 * offset) for offset in offsets])
    assert (base.unit, base.units, base.processes) == (significance.UNIT_PROCESS, 3, 3)
    assert significance.compare(base, slower).verdict == significance.SLOWER
    # 2% slower is within what the processes' own disagreement allows, though every process has
    # 100 steps: pooling the steps of all processes would have called it.
    close = sample(make_measured, *[steps(rng, 0.102 * offset) for offset in offsets])
    assert significance.compare(base, close).verdict == significance.SAME


def test_a_failed_process_is_counted_and_the_others_still_measure(rng, make_measured, make_failed):
    records = [make_measured(50, 8, "forward", steps(rng, 0.1)),
               make_failed(50, 8, "forward", Failure("signal", "killed by signal 9 (SIGKILL)", -9, 9)),
               make_measured(50, 8, "forward", steps(rng, 0.1))]
    measured = significance.sample_of(records)
    assert (measured.processes, measured.failed, measured.units) == (2, 1, 2)
    assert measured.mean_s == pytest.approx(np.mean([records[0].stats.mean_s, records[2].stats.mean_s]))
    assert significance.sample_of(records[1:2]) is None


def test_one_step_cannot_be_decided(make_measured):
    result = significance.compare(sample(make_measured, [0.1]), sample(make_measured, [0.2]))
    assert result.verdict == significance.UNDECIDED and result.ratio == pytest.approx(0.5)


def test_images_per_sec_interval_inverts_the_step_time_interval(rng, make_measured):
    measured = sample(make_measured, steps(rng, 0.1))
    low, high = measured.images_per_sec_interval
    assert low < measured.images_per_sec < high
    assert 8 / high < measured.mean_s < 8 / low


def test_processes_agree_when_they_differ_only_by_step_noise(rng, make_measured):
    records = [make_measured(50, 8, "forward", steps(rng, 0.1)) for _ in range(4)]
    found = significance.agreement(records)
    assert not found.disagree and found.p_value > 0.01
    assert (found.df_between, found.df_within) == (3, 4 * 9)


def test_processes_that_differ_by_more_than_their_noise_disagree(rng, make_measured):
    records = [make_measured(50, 8, "forward", steps(rng, 0.1 * offset, spread=0.01))
               for offset in (0.95, 1.0, 1.05)]
    found = significance.agreement(records)
    assert found.disagree and found.p_value < 1e-6
    assert found.between_cv == pytest.approx(0.05, rel=0.2) and found.expected_cv < 0.02
    assert found.f == pytest.approx((found.between_cv / found.expected_cv) ** 2)
    assert significance.agreement(records[:1]) is None


def before_scipy():
    """Figures the hand-written t and F distributions gave before scipy replaced them
    (tests/bench/data/stats_before_scipy.json says how they were produced: by running that code)."""
    import json
    import os

    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
    with open(os.path.join(folder, "stats_before_scipy.json"), encoding="utf-8") as stream:
        return json.load(stream), os.path.join(folder, "schema1_records.jsonl")


def assert_same_sample(new, old):
    """Equal, the standard error to the last bit or two (numpy's sd against the old fsum one)."""
    found = dataclasses.asdict(new)
    assert found.pop("bursts") == 0  # a field added after these figures; no stored record has one
    assert found.pop("standard_error_s") == pytest.approx(old["standard_error_s"], rel=1e-15)
    assert found == {key: value for key, value in old.items() if key != "standard_error_s"}


def assert_same_comparison(new, old):
    """The verdict equal; ratio, interval, p and df to 1e-10 (the old incomplete beta was good
    to about 1e-12; every printed figure has at most four digits)."""
    assert new.verdict == old["verdict"]
    for field in ("ratio", "low", "high", "p_value", "df"):
        assert getattr(new, field) == pytest.approx(old[field], rel=1e-10, abs=0), field


def test_comparisons_and_agreements_equal_the_hand_written_ones_on_stored_records():
    from bench.results import records

    old, path = before_scipy()
    measured = [r for r in records.read_records(path) if r.ok]
    samples = [significance.sample_of([result]) for result in measured]
    for figures, sample_ in zip(old["stored"]["records"], samples, strict=True):
        assert_same_sample(sample_, figures["sample"])
        # batch / the interval's ends; an end near 0 (mean - half-width) magnifies the last bits.
        assert sample_.images_per_sec_interval == pytest.approx(figures["images_per_sec_interval"], rel=1e-10)
    for pair in old["stored"]["block_pairs"]:
        found = significance.compare(samples[pair["base"]], samples[pair["new"]])
        assert_same_comparison(found, pair["comparison"])
    for pair in old["stored"]["process_pairs"]:
        base = significance.sample_of([measured[k] for k in pair["base"]])
        new = significance.sample_of([measured[k] for k in pair["new"]])
        assert_same_sample(base, pair["base_sample"])
        assert base.images_per_sec_interval == pytest.approx(pair["base_images_per_sec_interval"], rel=1e-10)
        assert_same_comparison(significance.compare(base, new), pair["comparison"])
    for case in old["stored"]["agreements"]:
        found = dataclasses.asdict(significance.agreement([measured[k] for k in case["records"]]))
        assert found == pytest.approx(case["agreement"], rel=1e-10)


def test_comparisons_equal_the_hand_written_ones_on_seeded_series():
    old = before_scipy()[0]["seeded"]
    samples = [significance.Sample(float(np.mean(steps)), stats.step_mean_interval(steps).standard_error,
                                   stats.BLOCKS, significance.UNIT_BLOCK, 8, 1) for steps in old["series"]]
    for pair in old["pairs"]:
        found = significance.compare(samples[pair["base"]], samples[pair["new"]])
        assert_same_comparison(found, pair["comparison"])
