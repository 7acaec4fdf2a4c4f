"""The parent's end of the child-process protocol: one configuration per child process.

Why a child process per configuration (the default): an out-of-memory error, a crash in native
code or the kernel's OOM killer then ends only that configuration, whose row reports it, and the
sweep goes on. Every configuration also starts from the same state (no allocator caches, thread
pools or graph-optimizer caches left over from the previous one).

The protocol: the parent (`run_in_child`, here) starts a fresh interpreter
(`bench.processes.child_main.entry`) and writes it a job on its stdin (the configuration, the
environment description, whether progress is wanted, when it spawned the child, the parent's pid); a
fresh interpreter rather than a fork (forking a process that has started TensorFlow's thread pools
is unsafe) or multiprocessing's spawn (which would re-import the CLI's `__main__`). The child
(`bench.processes.child_main.main`) asks the kernel to kill it if the parent dies
(PR_SET_PDEATHSIG), sets its memory backstop under a --memory-limit (`bench.core.limits`; the parent
watches its resident memory against the bound itself, `bench.processes.memory_watch`), measures in
its own process and writes JSON lines to a pipe the parent passed it: one per step as it finishes
(`{"burn_in_s": t}`, `{"step_s": t}`) and at the end its result (`{"record": ...}`, the --output
schema), or, when it must end at once (a lost peer, `bench.processes.peers`), why (`{"failure":
...}`). A record cut short by the child's death does not parse and counts as no result; the steps
streamed before it are kept, so a child stopped at its --timeout, killed or crashed still leaves the
steps it finished in its row's record. Nothing goes through files, so nothing is left behind however
either process ends. Exit status 0 measured, 1 failed (the record says why). The child ignores
Ctrl-C: the parent decides what happens to the sweep and stops the child itself. The parent reads
the child's stdout (progress lines) and stderr as lines arrive, passes them on (stderr without
TensorFlow's C++ log lines unless verbose, as its `Quiet` decides), keeps the last stderr lines for
failure reports, and turns a child that wrote no result into a failure from its exit status.

Timing inside the child is the same as in-process (only `session.run` is timed). What the child
adds (interpreter start, TensorFlow import, exit) is measured and kept in the record's `phases_s`
('process_start', 'tf_import', 'teardown', 'child_overhead').
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

from bench.core.clock import clock
from bench.core.config import LABELS_WITH_BACKGROUND, BenchmarkConfig
from bench.core.limits import Limits
from bench.core.quiet import Quiet
from bench.core.run_context import RunContext
from bench.processes import child_pipes as pipes
from bench.processes.memory_watch import MemoryWatch
from bench.results import failures
from bench.results.measurement import partial_measurement
from bench.results.result import BenchmarkResult
from bench.step import device

# What the child interpreter runs: `bench.processes.child_main.entry` with the result pipe's
# descriptor (a `-c` command rather than `-m`, which would run the module as `__main__`).
CHILD_COMMAND = "import sys; from bench.processes.child_main import entry; entry(sys.argv[1])"
# Seconds a child gets to exit after SIGTERM before it is killed.
STOP_GRACE_S = 10.0
# The folder holding the `bench` package (bench/processes/child.py -> bench/processes -> bench -> it),
# put first on the child's PYTHONPATH so that it imports this very copy, installed or not.
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_in_child(
    config: BenchmarkConfig,
    context: RunContext,
    extra_env: dict[str, str] | None = None,
    on_spawn: Callable[[subprocess.Popen], None] | None = None,
    wrap_command: Callable[[list[str]], list[str]] | None = None,
) -> BenchmarkResult:
    """Runs one prepared configuration in a fresh child interpreter (see `entry`).

    Args:
      config: a prepared configuration (device resolved).
      context: the environment description; what TensorFlow may print (the child inherits it);
        the stream the child's progress lines are copied to as they come (None: none); the
        child's bounds: its resident memory (watched from here, the child sets the backstop),
        its wall time from its start (then it is stopped, see `_stop`), the GPU memory cap.
      extra_env: variables added to the child's environment (a worker's TF_CONFIG and GPUs); the
        child sees the first `config.num_devices` GPUs (CUDA_VISIBLE_DEVICES, none on the CPU)
        unless it says otherwise.
      on_spawn: called with the child's Popen once it runs (`bench.processes.workers` stops peers with it).
      wrap_command: the child's command line -> the one to run instead, which must exec it in
        the same process (`bench.processes.loopback`'s nsenter).

    Returns:
      The child's own BenchmarkResult; or, when it wrote none or was stopped above its memory
      bound, a failed one over the memory limit, a 'timeout' result (stopped at its --timeout)
      or a failed one built from its exit status and the tail of its stderr, each with the steps
      it finished (under a memory bound, a failure is worded by `failures.under_memory_limit`);
      phases_s gains 'total', 'teardown' and 'child_overhead'.

    Raises:
      KeyboardInterrupt: on Ctrl-C, after the child has been stopped.
    """
    environment, progress, limits = context.environment, context.progress, context.limits
    spawned_at = time.time()
    job = {
        "config": config.to_dict(),
        "environment": environment,
        "progress": progress is not None,
        "spawned_at": spawned_at,
        "parent_pid": os.getpid(),
        "limits": limits.to_dict(),
        "data_source": _checked_shards(config),
    }
    # The child sees the GPUs its replicas use and no other (a local worker's own set replaces them).
    visible, gpu_count = os.environ.get(device.VISIBLE_GPUS_VAR), len(environment.get("gpu_names") or [])
    gpus = device.local_gpus(config.device, visible, gpu_count, config.num_devices, 0)
    result_read, result_write = os.pipe()
    command = [sys.executable, "-c", CHILD_COMMAND, str(result_write)]
    start = clock()
    try:
        child = subprocess.Popen(
            wrap_command(command) if wrap_command else command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(result_write,),
            env={**_child_environment(context.quiet), device.VISIBLE_GPUS_VAR: gpus, **(extra_env or {})},
        )
    finally:
        os.close(result_write)
    if on_spawn is not None:
        on_spawn(child)
    reader = pipes.ResultReader(result_read)
    timed_out = False
    pumps = [
        pipes.LinePump(child.stdout, progress, show=lambda line: True),
        pipes.LinePump(child.stderr, sys.stderr, show=context.quiet.shows),
    ]
    watch = MemoryWatch(child.pid, limits.memory_bytes) if limits.memory_bytes else None
    for thread in [reader, *pumps] + ([watch] if watch else []):
        thread.start()
    try:
        with contextlib.suppress(BrokenPipeError):  # a child that died at once
            child.stdin.write(json.dumps(job).encode("utf-8"))
            child.stdin.close()
        try:
            returncode = child.wait(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            returncode = _stop(child)
    finally:
        if child.poll() is None:
            _stop(child)
        if watch is not None:
            watch.stop()
        for thread in [reader, *pumps]:
            thread.join(timeout=STOP_GRACE_S)
    total_s = clock() - start
    result = None if watch is not None and watch.over else reader.result()
    if result is None:
        result = _result_without_record(
            config, environment, limits, reader, returncode, pumps[1], timed_out, watch
        )
        result.started_at = failures.utc_from_timestamp(spawned_at)
    elif watch is not None:
        result.failure = failures.under_memory_limit(result.failure, limits, watch.peak_bytes)
    _add_child_phases(result.phases_s, total_s)
    return result


def _result_without_record(
    config: BenchmarkConfig,
    environment: dict,
    limits: Limits,
    reader: pipes.ResultReader,
    returncode: int,
    stderr: pipes.LinePump,
    timed_out: bool,
    watch: MemoryWatch | None,
) -> BenchmarkResult:
    """The result of a child that wrote no record (or was stopped above its memory bound): over
    the memory limit, stopped at its timeout, or failed (as it said itself, or as its exit status
    tells, `failures.under_memory_limit` reading it under a memory bound); with the steps it
    streamed before it ended."""
    if watch is not None and watch.over:
        failure = failures.over_memory_limit(limits, watch.peak_bytes, returncode, list(stderr.tail))
    elif timed_out:
        return failures.timeout_result(
            config, environment, limits, reader.step_times_s, reader.burn_in_times_s
        )
    else:
        failure = reader.failure or failures.from_exit(returncode, list(stderr.tail), limits)
        if watch is not None:
            failure = failures.under_memory_limit(failure, limits, watch.peak_bytes)
    result = failures.failed_result(config, environment, failure)
    result.limits = limits
    result.measurement = partial_measurement(reader.step_times_s, reader.burn_in_times_s)
    return result


def _child_environment(quiet: Quiet) -> dict[str, str]:
    """Our environment with the quiet setting, and this package importable from the child."""
    env = quiet.child_environment(os.environ)
    paths = [_PACKAGE_ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _stop(child: subprocess.Popen) -> int:
    """Ends a child: SIGTERM, then SIGKILL if it has not exited after STOP_GRACE_S.

    Returns:
      Its exit status.
    """
    child.terminate()
    try:
        return child.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


def _add_child_phases(phases_s: dict, total_s: float) -> None:
    """Adds 'total', 'teardown' and 'child_overhead' to a child's phase times (in place).

    teardown is whatever the child's own phases do not account for after its last one (closing
    the session, writing the result, interpreter exit); child_overhead is what running in a child
    costs on top of running in-process: process start + TensorFlow import + teardown.
    """
    phases_s["total"] = total_s
    if "process_start" not in phases_s:
        return
    accounted = sum(value for key, value in phases_s.items() if key != "total")
    phases_s["teardown"] = max(total_s - accounted, 0.0)
    phases_s["child_overhead"] = (
        phases_s["process_start"] + phases_s.get("tf_import", 0.0) + phases_s["teardown"]
    )


def _checked_shards(config: BenchmarkConfig) -> dict | None:
    """The TFRecord source `config.data` names, as this process checked it (`prepare` did, and
    `inspect_source` remembers it), so the child need not count every record again; None for
    synthetic data, an image folder (the child lists it again: as cheap as reading the list back)
    or a source that fails its check (the child fails the same way, as this configuration's row)."""
    if not config.real_data:
        return None
    from bench.inputs import sources  # TensorFlow: already imported by `prepare` in a real sweep

    try:
        found = sources.inspect_source(config.data, config.num_classes, LABELS_WITH_BACKGROUND)
    except (sources.DataError, ValueError):
        return None
    return found.to_dict() if found.format == sources.FORMAT_TFRECORD else None
