"""The timing loop's hooks (bench/measuring/run_hooks.py): the progress line, the callbacks a
configuration asks for, and the burn-in steps that report back."""

import io
import re

import pytest
import tensorflow as tf

from bench.core import faults
from bench.core.config import BenchmarkConfig
from bench.measuring import run_hooks


def test_progress_line_names_the_step_and_its_duration():
    line = run_hooks.progress_line(7, 0.1234)
    assert re.match(r"^\d{4}-\d\d-\d\d [\d:.]+: step 7, duration = 0.123$", line)


def test_a_quiet_run_without_observer_or_faults_has_no_callbacks(monkeypatch):
    monkeypatch.delenv(faults.ENV_VAR, raising=False)
    hooks = run_hooks.RunHooks(BenchmarkConfig(burn_in=3, num_batches=5))
    assert (hooks.burn_in, hooks.num_batches) == (3, 5)
    assert hooks.on_measured_step is None and hooks.on_burn_in_step is None
    hooks.at_session_start()  # nothing to strike


def test_progress_every_display_every_steps_and_every_time_to_the_observer(monkeypatch):
    monkeypatch.delenv(faults.ENV_VAR, raising=False)
    stream, seen = io.StringIO(), []
    hooks = run_hooks.RunHooks(BenchmarkConfig(display_every=2), stream, lambda *kind_s: seen.append(kind_s))
    for step in range(1, 6):
        hooks.on_measured_step(step, 0.5)
    hooks.on_burn_in_step(0, 0.25)
    assert [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()] == [
        "step 2, duration = 0.500", "step 4, duration = 0.500"]
    assert seen == [("measured", 0.5)] * 5 + [("burn_in", 0.25)]


def test_a_step_fault_strikes_after_its_step_only(monkeypatch):
    monkeypatch.setenv(faults.ENV_VAR, "errorstep:*:*:*")
    hooks = run_hooks.RunHooks(BenchmarkConfig())
    hooks.at_session_start()  # a step fault does not strike at the start
    hooks.on_measured_step(faults.KILL_AFTER_STEP - 1, 0.1)
    with pytest.raises(RuntimeError, match=f"after measured step {faults.KILL_AFTER_STEP} of "):
        hooks.on_measured_step(faults.KILL_AFTER_STEP, 0.1)


def test_the_last_burn_in_step_reports_what_ran_and_is_the_one_traced():
    special = run_hooks.special_burn_in(3, True, "step.json")
    assert list(special) == [2]
    options, _ = special[2]
    assert options.trace_level == tf.compat.v1.RunOptions.FULL_TRACE and options.output_partition_graphs
    plain, _ = run_hooks.special_burn_in(3, False, None)[2]
    assert plain.trace_level == tf.compat.v1.RunOptions.SOFTWARE_TRACE and plain.output_partition_graphs
    # A worker's server hands back the nodes that ran only for a full trace.
    remote, _ = run_hooks.special_burn_in(3, False, None, distributed=True)[2]
    assert remote.trace_level == tf.compat.v1.RunOptions.FULL_TRACE
    # With XLA a single burn-in step is the cold one (maybe lazy compilation's fallback): the
    # check waits for the measured steps.
    assert run_hooks.special_burn_in(1, True, None) == {} and 0 in run_hooks.special_burn_in(1, False, None)


def steady(count, seconds=0.05):
    return [seconds] * count


def test_auto_stops_at_the_rule_s_checkpoint_and_records_why(monkeypatch):
    monkeypatch.delenv(faults.ENV_VAR, raising=False)
    hooks = run_hooks.RunHooks(BenchmarkConfig(num_batches="auto"))
    assert hooks.num_batches is None and hooks.rule.checks
    assert not any(hooks.should_stop(step, steady(step), 0.05 * step) for step in range(1, 10))
    assert hooks.should_stop(10, steady(10), 0.5)
    assert (hooks.facts["stop"].reason, hooks.facts["stop"].steps) == ("target", 10)


def test_a_fixed_count_with_a_budget_records_that_its_steps_ran(monkeypatch):
    monkeypatch.delenv(faults.ENV_VAR, raising=False)
    hooks = run_hooks.RunHooks(BenchmarkConfig(num_batches=4, max_time=60))
    assert not any(hooks.should_stop(step, steady(step), 0.05 * step) for step in range(1, 5))
    assert (hooks.facts["stop"].reason, hooks.facts["stop"].steps) == ("steps", 4)
    assert not run_hooks.RunHooks(BenchmarkConfig(num_batches=4)).rule.checks  # as before: no checks


def test_workers_follow_the_chief_s_vote_not_their_own(monkeypatch):
    """Two workers see different steps; each asks the vote at the same checkpoints; the shared
    answer is the chief's decision (here the vote's sum, as the all-reduce gives it)."""
    monkeypatch.delenv(faults.ENV_VAR, raising=False)
    chief, follower = (run_hooks.RunHooks(BenchmarkConfig(num_batches="auto")) for _ in range(2))
    votes = {}

    def share(name):
        def shared(stop):
            votes[name] = stop if name == "chief" else False  # a follower feeds 0 whatever it thinks
            return votes.get("chief", False)
        return shared

    chief.share_stop, follower.share_stop = share("chief"), share("follower")
    noisy = [0.05, 0.09] * 100  # the chief's steps: far from a 1% interval at step 10
    calm = steady(200)  # the follower's: on target at once
    for step in range(1, 200):
        chief_stops = chief.should_stop(step, noisy[:step], 0.07 * step)
        follower_stops = follower.should_stop(step, calm[:step], 0.05 * step)
        assert chief_stops == follower_stops, step
        if chief_stops:
            break
    assert chief.facts["stop"].reason == "target" and step > 10
    assert follower.facts["stop"].steps == step
