"""The child-process protocol (bench/child.py): a real child measures and relays its progress; a
child that dies is a failure named by its exit; a child dies with its parent."""

import io
import os
import re
import subprocess
import sys
import time

import pytest

import bench
from bench import child, faults
from bench.config import BenchmarkConfig
from bench.quiet import Quiet

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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


def _children_of(pid):
    """Pids whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid):
    """True while `pid` runs (a zombie waiting to be reaped counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_child_dies_with_its_killed_parent_and_leaves_no_files(tmp_path, tiny_args):
    if not os.path.isdir("/proc/self"):
        pytest.skip("needs /proc")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {key: value for key, value in os.environ.items() if key != faults.ENV_VAR}
    env["TMPDIR"] = str(temporary)
    # A child that prints nothing until it ends: it would never notice a dead parent by itself.
    parent = subprocess.Popen(
        [sys.executable, "-m", "bench", "--batch", "1", *tiny_args, "--no-peak-probe",
         "--num-batches", "100000", "--display-every", "100000"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _children_of(parent.pid):
            assert parent.poll() is None and time.monotonic() < deadline, "no child started"
            time.sleep(0.05)
        (child_pid,) = _children_of(parent.pid)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 30
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child_pid), "the child outlived its SIGKILLed parent"
    assert os.listdir(temporary) == []
