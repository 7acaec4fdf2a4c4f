"""The child-process protocol (bench/processes/child.py): a real child measures and relays its progress; a
child that dies is a failure named by its exit; a child dies with its parent."""

import io
import json
import os
import re
import subprocess
import sys
import time

import pytest

import bench
from bench.core import faults, stand_ins
from bench.core.config import BenchmarkConfig
from bench.core.limits import Limits
from bench.core.quiet import Quiet
from bench.core.run_context import RunContext
from bench.inputs import sources
from bench.processes import child

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PROGRESS_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: step (\d+), duration = \d+\.\d{3}$")


def test_a_child_measures_relays_progress_and_measures_its_overhead(monkeypatch, tiny):
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, stand_ins.SMALL)  # the protocol, not the depth
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


def _is_bench_child(pid):
    """True if `pid` runs bench.processes.child's entry point."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return child.CHILD_COMMAND.encode() in cmdline.read()
    except OSError:
        return False


def _alive(pid):
    """True while `pid` runs (a zombie waiting to be reaped counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_child_dies_with_its_killed_parent_and_leaves_no_files(tmp_path, tiny_args, children_of):
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
        # The measuring child (the parent may also run short-lived helpers, e.g. while it
        # describes the machine).
        while not (measuring := [pid for pid in children_of(parent.pid) if _is_bench_child(pid)]):
            assert parent.poll() is None and time.monotonic() < deadline, "no child started"
            time.sleep(0.05)
        (child_pid,) = measuring
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 30
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child_pid), "the child outlived its SIGKILLed parent"
    assert os.listdir(temporary) == []


def test_a_child_past_its_timeout_is_stopped_and_recorded_as_timeout(monkeypatch, tiny):
    monkeypatch.setenv(faults.ENV_VAR, "stall:50:*:*")  # never gets going
    configs, environment = bench.prepare([BenchmarkConfig(**dict(tiny, peak_probe=False))])
    start = time.monotonic()
    result = child.run_in_child(configs[0], RunContext(environment, limits=Limits(timeout_s=1.5)))
    assert time.monotonic() - start < 1.5 + child.STOP_GRACE_S
    assert result.status == "timeout" and not result.ok
    assert result.failure.short == (
        "timeout after 1.5 s (0 of 2 measured steps, 0 of 1 burn-in steps finished)")
    assert result.limits.timeout_s == 1.5 and result.measurement is None
    record = result.to_record()
    assert record["limits"]["timeout_s"] == 1.5 and record["failure"]["limit"] == "timeout 1.5 s"


def test_a_child_killed_before_its_result_is_a_signal_failure_keeping_its_finished_steps(
        monkeypatch, tiny):
    # Killed after measured step 2 of 5: no result line, so its exit status names the failure,
    # and the steps it streamed before it died are kept.
    monkeypatch.setenv(faults.ENV_VAR, "killstep:50:*:*")
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, stand_ins.SMALL)
    config = BenchmarkConfig(**dict(tiny, num_batches=5, burn_in=2, peak_probe=False))
    configs, environment = bench.prepare([config])
    result = child.run_in_child(configs[0], RunContext(environment))
    assert result.status == "failed"
    assert (result.failure.kind, result.failure.message) == (
        "signal", "killed by signal 9 (SIGKILL)")
    assert result.config == configs[0] and result.phases_s["total"] > 0
    assert "child_overhead" not in result.phases_s  # the child reported no phases
    kept = result.measurement
    assert len(kept.step_times_s) == faults.KILL_AFTER_STEP and len(kept.burn_in_times_s) == 2
    assert all(seconds > 0 for seconds in kept.step_times_s + kept.burn_in_times_s)
    again = type(result).from_record(json.loads(json.dumps(result.to_record())))
    assert again.measurement.step_times_s == kept.step_times_s and not again.ok


def test_a_configuration_over_the_memory_limit_is_stopped_and_its_row_says_so(tiny):
    """A batch of 64 at 224 px needs well over 1 GiB for its activations alone (the first
    convolution's output is 64 x 112 x 112 x 64 floats, 205 MB); building the graph does not.
    Whichever kernels run (oneDNN's or TensorFlow's own, on any CPU) and whatever they do when an
    allocation fails, the parent stops the child once it holds more than the bound, so the row
    is the same: over the memory limit, with the peak the child reached."""
    config = BenchmarkConfig(**dict(tiny, batch_size=64, image_size=224, peak_probe=False))
    configs, environment = bench.prepare([config])
    result = child.run_in_child(configs[0], RunContext(environment, limits=Limits(memory_bytes=2**30)))
    assert result.status == "failed" and result.failure.kind == "oom", result.failure
    assert result.failure.short.startswith("over the memory limit (1 GiB): ")
    assert result.failure.limit == "memory limit 1 GiB" and result.limits.memory_bytes == 2**30


@pytest.mark.parametrize(
    "fault, short, signal_number",
    [
        ("grow", "over the memory limit (1 GiB): peak ", 9),  # stopped by the parent's watch
        ("segv", "crashed at the memory bound (SIGSEGV): most likely out of memory", 11),
    ],
)
def test_how_a_child_ends_under_a_memory_bound(monkeypatch, tiny, fault, short, signal_number):
    """'grow' allocates 256 MiB of NumPy memory after another until something stops it; 'segv'
    crashes the way a kernel writing through a failed allocation does."""
    monkeypatch.setenv(faults.ENV_VAR, f"{fault}:*:*:*")
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, stand_ins.SMALL)
    configs, environment = bench.prepare([BenchmarkConfig(**dict(tiny, peak_probe=False))])
    result = child.run_in_child(configs[0], RunContext(environment, limits=Limits(memory_bytes=2**30)))
    failure = result.failure
    assert (result.status, failure.kind, failure.signal) == ("failed", "oom", signal_number), failure
    assert failure.short.startswith(short) and failure.limit == "memory limit 1 GiB"
    if fault == "grow":
        assert 2**30 < failure.peak_bytes <= 2**30 + faults.GROW_STEP_BYTES


def test_the_child_imports_this_copy_of_the_package(monkeypatch):
    # The first PYTHONPATH entry is the folder that holds bench/, whatever else the caller set.
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    paths = child._child_environment(Quiet()).get("PYTHONPATH").split(os.pathsep)
    assert os.path.isfile(os.path.join(paths[0], "bench", "processes", "child.py"))
    assert os.path.samefile(os.path.join(paths[0], "bench", "processes", "child.py"), child.__file__)
    assert paths[1:] == ["/elsewhere"]


def test_the_child_is_given_the_shards_its_parent_checked(real_data, class_folder, tiny_real):
    checked = sources.inspect_source(real_data, 1001)
    assert child._checked_shards(BenchmarkConfig(**tiny_real)) == checked.to_dict()
    # Nothing to give: synthetic data, an image folder (the child lists it again), a bad path.
    for data in ("synthetic", class_folder, "/no/such/data"):
        assert child._checked_shards(BenchmarkConfig(**dict(tiny_real, data=data))) is None
