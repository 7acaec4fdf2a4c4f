"""The child-process protocol (bench/child.py): a real child measures and relays its progress; a
child that dies is a failure named by its exit."""

import io
import re

import bench
from bench import child, faults
from bench.config import BenchmarkConfig
from bench.quiet import Quiet

PROGRESS_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: step (\d+), duration = \d+\.\d{3}$")


def test_a_child_measures_relays_progress_and_measures_its_overhead(tiny):
    progress = io.StringIO()
    config = BenchmarkConfig(mode="forward", **dict(tiny, num_batches=3, peak_probe=False))
    result = bench.run(config, isolate=True, progress=progress)
    assert result.ok and len(result.measurement.step_times_s) == 3
    steps = [PROGRESS_LINE.match(line).group(1) for line in progress.getvalue().splitlines()]
    assert steps == ["1", "2", "3"]
    phases = result.phases_s
    assert phases["child_overhead"] > phases["tf_import"] > 0
    assert phases["child_overhead"] == (
        phases["process_start"] + phases["tf_import"] + phases["teardown"])
    assert phases["total"] >= phases["child_overhead"] + phases["measure"]


def test_a_child_killed_before_its_result_is_a_signal_failure(monkeypatch, tiny):
    monkeypatch.setenv(faults.ENV_VAR, "kill:50:*:*")
    configs, environment = bench.prepare([BenchmarkConfig(**dict(tiny, peak_probe=False))])
    result = child.run_in_child(configs[0], environment, Quiet())
    assert result.status == "failed"
    assert (result.failure.kind, result.failure.message) == (
        "signal", "killed by signal 9 (SIGKILL)")
    assert result.config == configs[0] and result.phases_s["total"] > 0
    assert "child_overhead" not in result.phases_s  # the child reported no phases
