"""Keeping TensorFlow's log noise out of the user's way (unless --verbose).

On TensorFlow 2.21, TF_CPP_MIN_LOG_LEVEL=2 silences most C++ log lines, but not the ones absl
prints before its logging is initialised (oneDNN notice, "Could not find cuda drivers",
"failed call to cuInit"), and tf-slim's layers emit Python deprecation warnings through
TensorFlow's Python logger. This module provides:

- `quiet_environment`: the environment variables a child process gets before it imports TensorFlow;
- `silence_python_warnings`: Python-level warnings and TensorFlow's Python logger;
- `is_native_log_line`: recognises C++ log lines, so the runner can drop them from a child's stderr
  while keeping everything else (and keeping the dropped lines for failure reports);
- `captured_native_stderr`: redirects file descriptor 2 for the duration of a block, for the few
  TensorFlow calls the parent process itself makes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator

# glog/absl prefix: severity letter, MMDD, time, thread id, file:line]. Before absl's logging is
# initialised the time reads '00:00:<seconds since the epoch>', hence \d+ for the seconds.
_NATIVE_LOG_LINE = re.compile(r"^[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+\s+\S+:\d+\]")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called"


def quiet_environment(base: dict[str, str], verbose: bool) -> dict[str, str]:
    """Environment for a process that will import TensorFlow.

    Args:
      base: the environment to start from (not modified).
      verbose: if True, TensorFlow's own logging settings are left as they are.

    Returns:
      A copy of `base` with TF_CPP_MIN_LOG_LEVEL=2 unless the user chose a level (or verbose).
    """
    env = dict(base)
    if not verbose:
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def silence_python_warnings(verbose: bool) -> None:
    """Hides Python deprecation/user warnings and TensorFlow's Python log below ERROR.

    Args:
      verbose: if True, nothing is changed.
    """
    if verbose:
        return
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category)
    # TensorFlow's deprecation notices ("WARNING:tensorflow:From ...") go through this logger.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def is_native_log_line(line: str) -> bool:
    """True for a TensorFlow/absl C++ log line (INFO, WARNING or ERROR; FATAL is kept).

    Args:
      line: one line of a process's stderr.

    Returns:
      Whether the line is C++ log noise.
    """
    return bool(_NATIVE_LOG_LINE.match(line)) or line.startswith(_ABSL_PREAMBLE)


@contextlib.contextmanager
def captured_native_stderr(enabled: bool = True) -> Iterator[list[str]]:
    """Sends everything written to file descriptor 2 inside the block to a temporary file.

    Lines that are not C++ log noise are written back to stderr when the block ends, so a real
    error message is never swallowed.

    Args:
      enabled: if False, does nothing (yields an empty list).

    Yields:
      A list that, after the block, holds the captured native log lines.
    """
    dropped: list[str] = []
    if not enabled:
        yield dropped
        return
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield dropped
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines():
                if is_native_log_line(line):
                    dropped.append(line)
                else:
                    print(line, file=sys.stderr)
