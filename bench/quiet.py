"""Keeping TensorFlow's log noise out of the user's way (unless --verbose).

The mechanisms live in `slim_resnet.quiet` (shared with `python -m slim_resnet.extract`): on
TensorFlow 2.21, TF_CPP_MIN_LOG_LEVEL=2 silences most C++ log lines, but not the ones absl prints
before its logging is initialised, and tf-slim's layers emit Python deprecation warnings. Here:

- `quiet_environment`: the environment variables a child process gets before it imports TensorFlow;
- `silence_python_warnings`: Python-level warnings and TensorFlow's Python logger, unless verbose;
- `is_native_log_line`: recognises C++ log lines, so the runner can drop them from a child's stderr
  while keeping everything else (and keeping the dropped lines for failure reports);
- `captured_native_stderr`: redirects file descriptor 2 for the duration of a block, for the few
  TensorFlow calls the parent process itself makes.
"""

from __future__ import annotations

from slim_resnet import quiet as _shared
from slim_resnet.quiet import captured_native_stderr, is_native_log_line

__all__ = ["captured_native_stderr", "is_native_log_line", "quiet_environment",
           "silence_python_warnings"]


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
    if not verbose:
        _shared.silence_python_warnings()
