"""Describing what went wrong as a `Failure`: from an exception, a child's exit, or a stop signal.

No TensorFlow import: a TensorFlow error is recognised through the module already loaded.
"""

from __future__ import annotations

import datetime
import signal
import sys
import traceback

from bench.config import BenchmarkConfig
from bench.result import STATUS_FAILED, STATUS_INTERRUPTED, BenchmarkResult, Failure
from slim_resnet.quiet import error_summary

# Lines of a traceback or of a failed child's stderr kept in its failure record.
TAIL_LINES = 20


def utc_now() -> str:
    """Current UTC time, ISO 8601 with seconds."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def utc_from_timestamp(seconds: float) -> str:
    """A `time.time()` value as UTC ISO 8601 with seconds."""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")


def from_exception(error: BaseException) -> Failure:
    """Describes an exception: kind 'oom' for out-of-memory errors, else 'error'.

    Returns:
      A Failure whose message is the exception type and the first line of its message that names
      the cause (for TensorFlow's graph-execution errors, the op's error such as 'OOM when
      allocating tensor ...', not 'Graph execution error:'; see slim_resnet.quiet.error_summary),
      with the traceback's last lines as details.
    """
    details = traceback.format_exception(type(error), error, error.__traceback__)
    tail = "".join(details).splitlines()[-TAIL_LINES:]
    kind = "oom" if _is_out_of_memory(error) else "error"
    return Failure(kind=kind, message=error_summary(error), details=tail)


def _is_out_of_memory(error: BaseException) -> bool:
    """True for MemoryError and TensorFlow's ResourceExhaustedError."""
    if isinstance(error, MemoryError):
        return True
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(error, tf.errors.ResourceExhaustedError)


def from_exit(returncode: int, stderr_tail: list[str]) -> Failure:
    """Describes a child that exited without writing a result.

    Args:
      returncode: its exit status (negative: killed by that signal).
      stderr_tail: the last lines of its stderr.

    Returns:
      A Failure of kind 'signal' ('killed by signal 9 (SIGKILL)', plus the fatal log line if
      there was one) or 'exit' (its last stderr line, or 'exited with status N').
    """
    meaningful = [line.strip() for line in stderr_tail if line.strip()]
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


def interrupted_result(config: BenchmarkConfig, environment: dict, reason: str = "Ctrl-C") -> BenchmarkResult:
    """The result recorded for a configuration stopped by Ctrl-C (or `reason`, e.g. 'SIGTERM')."""
    return BenchmarkResult(
        config=config,
        status=STATUS_INTERRUPTED,
        failure=Failure(kind="interrupted", message=f"interrupted ({reason})"),
        environment=environment,
        started_at=utc_now(),
    )
