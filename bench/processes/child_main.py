"""The child's end of the child-process protocol (`bench.processes.child` is the parent's and
describes the protocol): read the job, guard against an orphaned or runaway child, measure in this
process, stream each step and the result back to the parent.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import sys
import threading
import time

from bench.core import cluster, faults
from bench.core import limits as limits_lib
from bench.core.clock import clock
from bench.core.config import BenchmarkConfig
from bench.core.limits import Limits
from bench.core.quiet import Quiet
from bench.processes import peers
from bench.results.result import Failure

_PR_SET_PDEATHSIG = 1  # prctl option: the signal this process gets when its parent dies


def _die_with_parent(parent_pid: int) -> None:
    """Makes the kernel SIGKILL this process when its parent dies (Linux), so a child never
    outlives a parent that was killed itself; exits at once if the parent is already gone."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


def main(result_fd: int) -> int:
    """Runs the job read from stdin in this (child) process; writes the result to `result_fd`.

    Returns:
      0 if the configuration was measured, 1 if it failed.
    """
    entered_at = time.time()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job = json.loads(sys.stdin.buffer.read())
    _die_with_parent(job["parent_pid"])
    limits = Limits.from_dict(job.get("limits"))
    limits_lib.apply_memory_backstop(limits.memory_bytes)  # before TensorFlow, so it counts all
    config = BenchmarkConfig.from_dict(job["config"])
    if faults.active():
        faults.stall(config)
    result_pipe = os.fdopen(result_fd, "w", encoding="utf-8")
    sending = threading.Lock()

    def send(message: dict) -> None:
        with sending:
            result_pipe.write(json.dumps(message) + "\n")
            result_pipe.flush()

    def on_peer_lost(line: str) -> None:  # from the watcher's thread: report, then end at once
        send({"failure": Failure("peer", line).to_dict()})
        sys.stderr.flush()
        os._exit(1)

    watch = peers.watch_cluster(
        cluster.environment_text(), config.workers, on_peer_lost, limits.peer_timeout_s or peers.GRACE_S
    )

    def on_step_time(kind: str, seconds: float) -> None:
        send({"step_s" if kind == "measured" else "burn_in_s": seconds})
        if watch is not None:
            watch.step_finished()

    import_start = clock()
    Quiet.from_environment().import_tensorflow()
    from bench.inputs.sources import DataSource
    from bench.measuring import measure  # the TensorFlow side: graphs, model, tf-slim

    tf_import_s = clock() - import_start
    progress = sys.stdout if job.get("progress") else None
    checked = job.get("data_source")
    result = measure.run_in_process(
        config,
        job["environment"],
        progress=progress,
        limits=limits,
        on_step_time=on_step_time,
        data_source=DataSource.from_dict(checked) if checked else None,
    )
    if watch is not None:
        peers.end_watch(watch, result)
    result.phases_s.pop("total", None)  # the parent measures the total from outside
    result.phases_s.update(process_start=entered_at - job["spawned_at"], tf_import=tf_import_s)
    send({"record": result.to_record()})
    result_pipe.close()
    return 0 if result.ok else 1


def entry(result_fd: str) -> None:
    """The child interpreter's entry point (CHILD_COMMAND): `main`, then a fast exit.

    Everything is written and the session closed by then: the interpreter's slow shutdown of
    TensorFlow (about a second) would only add to the per-configuration overhead.
    """
    exit_status = main(int(result_fd))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_status)
