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
