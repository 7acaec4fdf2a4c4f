"""Bursts found in synthetic step series (fixed seeds): where they are, and where there are none."""

import pytest

from bench.results import bursts


def noisy(rng, size=120, level=0.063, spread=0.05):
    """Steps of ordinary noise: lognormal around `level` (5% spread by default)."""
    return level * rng.lognormal(0.0, spread, size=size)


@pytest.mark.parametrize("spread", [0.02, 0.05, 0.10, 0.15])
def test_flat_series_with_ordinary_noise_have_no_burst(rng, spread):
    for _ in range(50):
        assert bursts.find_bursts(list(noisy(rng, spread=spread))) == []


@pytest.mark.parametrize(
    ("first", "last", "factor"), [(31, 45, 2.2), (5, 14, 1.4), (100, 103, 1.5), (60, 62, 1.3)]
)
def test_a_burst_is_found_at_its_steps_within_one_step(rng, first, last, factor):
    steps = noisy(rng, spread=0.03)
    steps[first - 1:last] *= factor  # steps are 1-based
    (found,) = bursts.find_bursts(list(steps))
    assert abs(found.first_step - first) <= 1 and abs(found.last_step - last) <= 1
    assert found.level_s == pytest.approx(0.063 * factor, rel=0.1)
    assert found.rest_level_s == pytest.approx(0.063, rel=0.05)
    assert found.ratio == pytest.approx(factor, rel=0.1)


def test_the_issue_s_burst_gives_its_warning_line():
    # 30 steps of about 60 ms with nine at 83-87 ms in the middle (issue 34's first example).
    steps = [0.058, 0.061, 0.060, 0.059, 0.060, 0.061, 0.058, 0.060, 0.083, 0.087, 0.085, 0.084,
             0.086, 0.083, 0.085, 0.087, 0.084, 0.060, 0.059, 0.061, 0.060, 0.058, 0.060, 0.061,
             0.059, 0.060, 0.061, 0.058, 0.060, 0.059]
    (found,) = bursts.find_bursts(steps)
    assert (found.first_step, found.last_step) == (9, 17)
    assert (found.level_s, found.rest_level_s) == (0.085, 0.060)
    assert bursts.warning(found, len(steps)) == (
        "steps 9-17 ran 1.4x slower than the other 21 (median 85 ms vs 60 ms): a burst (a neighbour, "
        "throttling?); the median of the other steps is 60 ms")


@pytest.mark.parametrize("spikes", [[50], [50, 51], [0], [119], [20, 70, 100]])
def test_one_or_two_slow_steps_are_outliers_not_bursts(rng, spikes):
    steps = noisy(rng)
    steps[spikes] *= 5.0
    assert bursts.find_bursts(list(steps)) == []


def test_two_bursts_are_both_found_a_slow_and_a_fast_one(rng):
    steps = noisy(rng)
    steps[10:18] *= 1.5
    steps[80:90] *= 0.7
    found = bursts.find_bursts(list(steps))
    ends = [end for burst in found for end in (burst.first_step, burst.last_step)]
    assert ends == pytest.approx([11, 18, 81, 90], abs=1)
    assert found[0].ratio == pytest.approx(1.5, rel=0.1) and found[1].ratio == pytest.approx(0.7, rel=0.1)
    assert " ran 1.4x faster than the other " in bursts.warning(found[1], 120)


def test_a_level_change_too_small_or_too_long_is_not_a_burst(rng):
    small = noisy(rng, spread=0.02)
    small[30:45] *= 1.12  # 12%: below the 20% that makes a burst
    assert bursts.find_bursts(list(small)) == []
    half = noisy(rng, spread=0.02)
    half[60:] *= 2.0  # half the run: no "rest" to hold it against
    assert bursts.find_bursts(list(half)) == []


def test_a_burst_at_the_start_suggests_the_burn_in():
    steps = [0.09] * 5 + [0.06] * 20
    (found,) = bursts.find_bursts(steps)
    assert (found.first_step, found.last_step) == (1, 5)
    assert "too short a burn-in" in bursts.warning(found, 25)


def test_short_and_identical_series_have_no_burst():
    assert bursts.find_bursts([0.1, 0.3, 0.3, 0.3, 0.1]) == []  # too few steps to hold a rest
    assert bursts.find_bursts([0.05] * 200) == []
    assert bursts.find_bursts([]) == []


def test_the_record_field_holds_the_facts():
    burst = bursts.Burst(31, 45, 0.140, 0.063)
    assert burst.to_dict() == {"first_step": 31, "last_step": 45, "level_s": 0.140, "rest_level_s": 0.063}
    assert burst.steps == 15
    assert bursts.warning(burst, 120) == (
        "steps 31-45 ran 2.2x slower than the other 105 (median 140 ms vs 63 ms): a burst (a neighbour, "
        "throttling?); the median of the other steps is 63 ms")


def test_many_bursts_give_a_few_lines_and_a_count(rng):
    steps = noisy(rng, size=400, spread=0.03)
    for start in range(20, 380, 40):  # nine bursts, the one at 180 the longest
        steps[start:start + (12 if start == 180 else 5)] *= 1.6
    found = bursts.find_bursts(list(steps))
    assert len(found) == 9
    lines = bursts.warnings(found, 400)
    assert len(lines) == bursts.MAX_LINES
    assert lines[0].startswith("steps 181-192 ran 1.6x slower")  # the longest come first
    others = sum(burst.steps for burst in found) - sum(sorted(burst.steps for burst in found)[-3:])
    assert lines[-1].startswith(f"6 more bursts ({others} steps in all; the record's bursts lists them)")
