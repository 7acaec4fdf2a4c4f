"""The stopping rule on scripted step times: the target, the time budget, the floor, the
checkpoints, and what a stop records."""

import pytest

from bench.core import steps
from bench.core.config import BenchmarkConfig
from bench.results import stopping


def run_rule(rule, step_times_s, seconds_per_step=None):
    """Feeds `step_times_s` one by one as the loop would (elapsed: their sum, or step x
    `seconds_per_step`); (the step it stopped at, the reason), or (None, None)."""
    elapsed = 0.0
    for step in range(1, len(step_times_s) + 1):
        elapsed += step_times_s[step - 1] if seconds_per_step is None else seconds_per_step
        if rule.at_checkpoint(step):
            reason = rule.decide(step_times_s[:step], elapsed)
            if reason:
                return step, reason
    return None, None


def auto(**settings):
    return stopping.StopRule(BenchmarkConfig(num_batches="auto", **settings))


def test_checkpoints_start_at_the_floor_and_grow_by_a_tenth():
    rule = auto()
    points = [step for step in range(1, 160) if rule.at_checkpoint(step)]
    assert points[:13] == [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 24]
    assert [p for p in points if p >= 100] == [103, 113, 124, 136, 149]
    assert stopping.StopRule(BenchmarkConfig(num_batches=50, max_time=5)).at_checkpoint(1)


def test_stops_on_the_target_once_the_interval_is_narrow_enough(rng):
    # Steady 50 ms steps with 5% noise: the 1% interval needs tens of steps; 5% far fewer.
    times = list(0.05 * rng.lognormal(0.0, 0.05, size=2000))
    precise_step, reason = run_rule(auto(), times)
    assert reason == stopping.TARGET and 10 < precise_step < 2000
    assert stopping.half_width(times[:precise_step]) <= 0.01
    loose_step, _ = run_rule(auto(target_ci=5.0), times)
    assert loose_step < precise_step


def test_the_floor_holds_even_when_the_first_steps_agree_exactly():
    step, reason = run_rule(auto(), [0.05] * 30)
    assert (step, reason) == (steps.MIN_AUTO_STEPS, stopping.TARGET)


def test_stops_on_the_budget_when_the_target_is_out_of_reach(rng):
    times = list(0.05 * rng.lognormal(0.0, 0.6, size=5000))  # far too noisy for 0.1%
    step, reason = run_rule(auto(target_ci=0.1, max_time=20.0), times, seconds_per_step=0.05)
    assert reason == stopping.TIME
    # 20 s is step 400; the checkpoint after it is at most a tenth later.
    assert 400 <= step <= 440


def test_the_default_budget_applies_to_auto_only():
    assert auto().budget_s == steps.DEFAULT_AUTO_MAX_TIME_S
    fixed = stopping.StopRule(BenchmarkConfig(num_batches=100))
    assert fixed.budget_s is None and not fixed.checks and fixed.fixed == 100


def test_a_budget_bounds_a_fixed_count_too():
    rule = stopping.StopRule(BenchmarkConfig(num_batches=1000, max_time=3.0))
    step, reason = run_rule(rule, [1.0] * 1000)
    assert (step, reason) == (3, stopping.TIME)  # checkpoints every step while there are few


def test_a_slow_step_past_the_budget_before_the_floor_still_runs_the_floor():
    step, reason = run_rule(auto(max_time=1.0), [0.5] * 20)
    assert (step, reason) == (steps.MIN_AUTO_STEPS, stopping.TARGET)  # identical steps: on target too
    step, reason = run_rule(auto(max_time=1.0, target_ci=0.01), [0.5, 0.6] * 10)
    assert (step, reason) == (steps.MIN_AUTO_STEPS, stopping.TIME)


def test_a_stop_records_its_reason_steps_interval_target_and_budget():
    rule = auto(target_ci=2.0, max_time=30.0)
    times = [0.1, 0.102, 0.098, 0.1] * 5
    facts = rule.stopping(stopping.TARGET, times)
    assert (facts.reason, facts.steps, facts.target_ci_pct, facts.max_time_s) == ("target", 20, 2.0, 30.0)
    assert facts.ci_pct == pytest.approx(100 * stopping.half_width(times))
    assert stopping.Stopping.from_dict(facts.to_dict()) == facts
    assert facts.describe() == (
        f"stopped after 20 steps: the 95% CI of the mean step reached the target (+/-{facts.ci_pct:.1f}%, "
        "target 2%, budget 30 s)")


@pytest.mark.parametrize(("settings", "loaded"), [
    ("num_batches='auto'", True), ("num_batches=5, max_time=3.0", True), ("num_batches=5", False)])
def test_a_rule_that_checks_loads_scipy_before_the_steps(settings, loaded):
    """The interval needs scipy.stats; a child under --memory-limit that imported it after a large
    batch's steps failed with an ImportError instead of fitting or running out of memory. A fixed
    count without a budget never needs it."""
    import os
    import subprocess
    import sys

    script = ("import sys\nfrom bench.core.config import BenchmarkConfig\n"
              "from bench.results import stopping\n"
              f"assert 'scipy.stats' not in sys.modules\nstopping.StopRule(BenchmarkConfig({settings}))\n"
              "print('scipy.stats' in sys.modules)\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout == f"{loaded}\n"
