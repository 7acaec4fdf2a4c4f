"""The parent's watch on a child's resident memory (bench/processes/memory_watch.py), on real
processes that allocate NumPy memory: no TensorFlow."""

import os
import subprocess
import sys

import pytest

from bench.processes import memory_watch
from bench.processes.memory_watch import MemoryWatch

MIB = 2**20
STEP = 128 * MIB
# A child that allocates and touches STEP bytes after another, saying how much it holds.
GROWING = (
    "import sys, numpy\n"
    "held = []\n"
    "while True:\n"
    f"    held.append(numpy.ones({STEP // 8}))\n"
    "    print(len(held), flush=True)\n"
)

if not os.path.exists(f"/proc/{os.getpid()}/status"):
    pytest.skip("no /proc/PID/status on this machine: the watch cannot read a child", allow_module_level=True)


def watched(code: str, bound_bytes: int) -> tuple[MemoryWatch, int, list[str]]:
    """Runs `code` in a child under a watch; returns the watch, the exit status and its stdout lines."""
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    watch = MemoryWatch(child.pid, bound_bytes)
    watch.start()
    out, _ = child.communicate(timeout=120)
    watch.stop()
    return watch, child.returncode, out.split()


def test_a_child_growing_in_steps_is_stopped_just_above_the_bound():
    bound = 512 * MIB
    watch, returncode, said = watched(GROWING, bound)
    assert watch.over and returncode == -9
    # Stopped above the bound, and before the next step was taken and touched in full.
    assert bound < watch.peak_bytes <= bound + STEP
    steps_held = int(said[-1]) if said else 0
    assert steps_held * STEP < bound + STEP


def test_a_child_within_its_bound_runs_to_the_end_and_its_peak_is_known():
    code = f"import numpy; held = numpy.ones({STEP // 8}); print('ready', flush=True); input()"
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    watch = MemoryWatch(child.pid, 1024 * MIB)
    watch.start()
    assert child.stdout.readline() == "ready\n"
    assert watch.check() and watch.peak_bytes >= STEP  # the step it touched, as the watch reads it
    child.communicate("\n", timeout=60)
    watch.stop()
    assert (watch.over, child.returncode) == (False, 0)


def test_a_process_that_has_exited_has_no_memory_figures_even_before_it_is_reaped():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # a zombie: exited, not reaped
    assert memory_watch.resident_bytes(child.pid) is None
    child.wait()
    current, peak = memory_watch.resident_bytes(os.getpid())
    assert 0 < current <= peak


def test_reads_are_spaced_by_the_time_the_fastest_growth_would_take_to_reach_the_bound():
    wait = memory_watch.next_wait_s
    fastest = memory_watch.FASTEST_GROWTH
    bound = 8 * 2**30
    assert wait(bound, bound) == memory_watch.POLL_S  # at the bound: as often as it reads at all
    assert wait(bound - fastest // 1000, bound) == memory_watch.POLL_S  # 1 ms away
    assert wait(bound - fastest // 40, bound) == pytest.approx(0.025)  # 25 ms away
    assert wait(0, bound) == memory_watch.MAX_POLL_S  # far below: never longer than this
    assert wait(0, bound, poll_s=0.2, max_poll_s=0.05) == 0.2  # a poll of its own is a floor


def test_the_watch_reads_its_child_until_the_child_is_reaped_then_ends():
    code = "print('ready', flush=True); input()"
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    watch = MemoryWatch(child.pid, 1024 * MIB)
    assert child.stdout.readline() == "ready\n"
    assert watch.check() and watch.peak_bytes > 0
    child.communicate("\n", timeout=60)  # exited and reaped: its pid is free for another process
    assert not watch.check() and not watch.over
    watch.stop()
