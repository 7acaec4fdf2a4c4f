"""Describing what went wrong as a `Failure`: from an exception, a child's exit, or a stop signal.

No TensorFlow import: a TensorFlow error is recognised through the module already loaded.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import signal
import sys
import traceback

from bench.core import steps
from bench.core.config import BenchmarkConfig
from bench.core.limits import Limits, format_size
from bench.results.measurement import partial_measurement
from bench.results.result import STATUS_FAILED, STATUS_INTERRUPTED, STATUS_TIMEOUT, BenchmarkResult, Failure
from slim_resnet.support.quiet import error_summary

# Lines of a traceback or of a failed child's stderr kept in its failure record.
TAIL_LINES = 20
# What a process that ran out of memory leaves in its last stderr lines (Python, C++, libc).
_OUT_OF_MEMORY_SIGNS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")
# How TensorFlow's oneDNN kernels report oneDNN's own out-of-memory status (dnnl_out_of_memory = 1
# in dnnl_status_t): "Operation received an exception:Status: 1, message: could not create a
# primitive, in file .../mkl_fused_batch_norm_op.cc:1188", raised as AbortedError. Seen on CPUs
# where oneDNN's rewrites are on (TF_ENABLE_ONEDNN_OPTS=1) under a memory bound.
_ONEDNN_OUT_OF_MEMORY = re.compile(r"received an exception:\s*Status: 1,")
# Signals a child dies of when an allocation failed where nothing checks it: a write through the
# null pointer it got (SIGSEGV, SIGBUS), or C++ terminating on it without a message (SIGABRT).
_CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT)


def utc_now() -> str:
    """Current UTC time, ISO 8601 with seconds."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def utc_from_timestamp(seconds: float) -> str:
    """A `time.time()` value as UTC ISO 8601 with seconds."""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")


def from_exception(error: BaseException, limits: Limits = Limits(), device: str | None = None) -> Failure:
    """Describes an exception: kind 'oom' for out-of-memory errors, else 'error'.

    An out-of-memory error under a memory bound names it (`Failure.limit`, and the message
    `over_limit_text` words): the GPU bound for an allocation on a GPU (TensorFlow's allocator
    names the device; XLA's compiled code does not, its out-of-memory error on a GPU run is the
    GPU's), the child's memory bound otherwise (whose peak its parent adds, `under_memory_limit`).
    `device` is the configuration's ('gpu' or 'cpu'; None: unknown).

    Returns:
      A Failure whose message is the exception type and the first line of its message that names
      the cause (for TensorFlow's graph-execution errors, the op's error such as 'OOM when
      allocating tensor ...', not 'Graph execution error:'; see slim_resnet.support.quiet.error_summary),
      or the bound it went over, with the traceback's last lines as details.
    """
    details = traceback.format_exception(type(error), error, error.__traceback__)
    tail = "".join(details).splitlines()[-TAIL_LINES:]
    if not _is_out_of_memory(error):
        return Failure(kind="error", message=error_summary(error), details=tail)
    text = str(error)
    on_gpu = "device:GPU" in text or "GPU_" in text or (device == "gpu" and _XLA_OUT_OF_MEMORY in text)
    limit = limit_hit(limits, on_gpu)
    message = over_limit_text(limits, on_gpu) if limit else error_summary(error)
    return Failure(kind="oom", message=message, details=tail, limit=limit)


# XLA's allocation failure (its BufferAssignment or run time), which names no device.
_XLA_OUT_OF_MEMORY = "Out of memory while trying to allocate"


def limit_hit(limits: Limits, on_gpu: bool = False) -> str | None:
    """The memory bound an out-of-memory error ran into, in words, or None without one."""
    if on_gpu:
        return f"GPU memory limit {format_size(limits.gpu_memory_bytes)}" if limits.gpu_memory_bytes else None
    return limits.memory_text() or None


def over_limit_text(limits: Limits, on_gpu: bool = False, peak_bytes: int | None = None) -> str:
    """The row of a configuration that needed more than its bound: 'over the memory limit (3 GiB):
    peak 3.01 GiB resident' (stopped above it), 'over the memory limit (3 GiB): an allocation
    failed at 2.5 GiB resident' (one that would have taken it over failed at the backstop),
    'over the GPU memory limit (16 GiB)'."""
    if on_gpu:
        return f"over the GPU memory limit ({format_size(limits.gpu_memory_bytes)})"
    text = f"over the memory limit ({format_size(limits.memory_bytes)})"
    if not peak_bytes:
        return text
    if peak_bytes > limits.memory_bytes:
        return text + f": peak {_above(peak_bytes, limits.memory_bytes)} resident"
    return text + f": an allocation failed at {format_size(peak_bytes)} resident"


def _above(peak_bytes: int, bound_bytes: int) -> str:
    """The peak with the digits that show it above the bound: '3.002 GiB', '3.0004 GiB' (not '3 GiB'
    for a peak 0.4 MiB over a 3 GiB bound)."""
    for digits in range(4, 10):
        text = format_size(peak_bytes, digits)
        if text != format_size(bound_bytes, digits):
            return text
    return f"{format_size(bound_bytes)} + {peak_bytes - bound_bytes} B"


def over_memory_limit(
    limits: Limits, peak_bytes: int | None, returncode: int, stderr_tail: list[str]
) -> Failure:
    """The failure of a child its parent stopped above --memory-limit (`bench.processes.memory_watch`).

    Args:
      limits: the bounds it ran under.
      peak_bytes: the most resident memory it was seen holding.
      returncode: its exit status (-9: the watch's SIGKILL).
      stderr_tail: the last lines of its stderr.
    """
    number = -returncode if returncode < 0 else None
    return Failure(
        "oom",
        over_limit_text(limits, peak_bytes=peak_bytes),
        returncode,
        number,
        list(stderr_tail),
        limits.memory_text(),
        peak_bytes,
    )


def under_memory_limit(failure: Failure | None, limits: Limits, peak_bytes: int | None) -> Failure | None:
    """How a child's failure reads when --memory-limit was active and its watch did not stop it.

    An out-of-memory failure at the host's bound (TensorFlow's error, MemoryError, C++'s
    std::bad_alloc: the RLIMIT_DATA backstop, `bench.core.limits`) is 'over the memory limit
    (N GiB)' with the peak; a crash (SIGSEGV, SIGBUS, SIGABRT: an allocation that failed where
    nothing checks it) is 'crashed at the memory bound (SIGSEGV): most likely out of memory',
    kind 'oom' too. Anything else (a Python error, SIGKILL from elsewhere, the GPU's own bound) is
    left as it is.

    Args:
      failure: what the child reported or its exit status told (None: it did not fail).
      limits: the bounds it ran under.
      peak_bytes: the most resident memory its watch saw it hold.

    Returns:
      The failure as the row and record show it.
    """
    if failure is None or limits.memory_bytes is None:
        return failure
    if failure.kind == "oom" and failure.limit == limits.memory_text():
        return dataclasses.replace(
            failure, message=over_limit_text(limits, peak_bytes=peak_bytes), peak_bytes=peak_bytes
        )
    if failure.kind == "signal" and failure.signal in _CRASH_SIGNALS:
        name = signal.Signals(failure.signal).name
        message = f"crashed at the memory bound ({name}): most likely out of memory"
        details = [failure.message, *failure.details]
        limit = limits.memory_text()
        return dataclasses.replace(
            failure, kind="oom", message=message, details=details, limit=limit, peak_bytes=peak_bytes
        )
    return failure


def _is_out_of_memory(error: BaseException) -> bool:
    """True for MemoryError, TensorFlow's ResourceExhaustedError, and a TensorFlow error that
    carries oneDNN's out-of-memory status (the same condition on a CPU whose kernels are oneDNN's)."""
    if isinstance(error, MemoryError):
        return True
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(error, tf.errors.OpError):
        return False
    return (isinstance(error, tf.errors.ResourceExhaustedError)
            or bool(_ONEDNN_OUT_OF_MEMORY.search(str(error))))


def from_exit(returncode: int, stderr_tail: list[str], limits: Limits = Limits()) -> Failure:
    """Describes a child that exited without writing a result.

    Args:
      returncode: its exit status (negative: killed by that signal).
      stderr_tail: the last lines of its stderr.
      limits: the bounds it ran under.

    Returns:
      A Failure of kind 'oom' when it ran out of memory under a memory bound outside
      TensorFlow's allocator (e.g. a MemoryError while importing, or C++'s std::bad_alloc;
      `under_memory_limit` words it), 'signal' ('killed by signal 9 (SIGKILL)', plus the fatal
      log line if there was one) or 'exit' (its last stderr line, or 'exited with status N').
    """
    meaningful = [line.strip() for line in stderr_tail if line.strip()]
    out_of_memory = [line for line in meaningful if any(sign in line for sign in _OUT_OF_MEMORY_SIGNS)]
    if limits.memory_bytes is not None and out_of_memory:
        number = -returncode if returncode < 0 else None
        message = f"out of memory ({out_of_memory[-1].split('what():')[-1].strip()})"
        return Failure("oom", message, returncode, number, list(stderr_tail), limits.memory_text())
    if returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "unknown signal"
        message = f"killed by signal {number} ({name})"
        fatal = [line for line in meaningful if line.startswith("F")]
        if fatal:
            message += ": " + fatal[-1].split("] ", 1)[-1]
        return Failure("signal", message, returncode, number, list(stderr_tail))
    last_line = meaningful[-1] if meaningful else f"exited with status {returncode}"
    return Failure("exit", last_line, returncode, None, list(stderr_tail))


def failed_result(
    config: BenchmarkConfig, environment: dict, failure: Failure, started_at: str | None = None
) -> BenchmarkResult:
    """The result of a configuration that produced no measurement."""
    return BenchmarkResult(
        config=config,
        status=STATUS_FAILED,
        failure=failure,
        environment=environment,
        started_at=started_at or utc_now(),
    )


def timeout_result(
    config: BenchmarkConfig,
    environment: dict,
    limits: Limits,
    step_times_s: list[float],
    burn_in_times_s: list[float],
) -> BenchmarkResult:
    """The result of a configuration stopped at its --timeout, with the steps it finished
    (`bench.results.measurement.partial_measurement`)."""
    measured = f"{len(step_times_s)} of {config.num_batches} measured steps"
    if steps.is_auto(config.num_batches):
        measured = f"{len(step_times_s)} measured steps (--num-batches auto)"
    if not step_times_s:
        measured += f", {len(burn_in_times_s)} of {config.burn_in} burn-in steps"
    return BenchmarkResult(
        config=config,
        status=STATUS_TIMEOUT,
        measurement=partial_measurement(step_times_s, burn_in_times_s),
        failure=Failure(
            kind="timeout",
            message=f"timeout after {limits.timeout_s:g} s ({measured} finished)",
            limit=f"timeout {limits.timeout_s:g} s",
        ),
        environment=environment,
        started_at=utc_now(),
        limits=limits,
    )


def interrupted_result(config: BenchmarkConfig, environment: dict, reason: str = "Ctrl-C") -> BenchmarkResult:
    """The result recorded for a configuration stopped by Ctrl-C (or `reason`, e.g. 'SIGTERM')."""
    return BenchmarkResult(
        config=config,
        status=STATUS_INTERRUPTED,
        failure=Failure(kind="interrupted", message=f"interrupted ({reason})"),
        environment=environment,
        started_at=utc_now(),
    )
