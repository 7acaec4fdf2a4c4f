"""Stopping a command cleanly on Ctrl-C or SIGTERM, never in the middle of a step that must finish.

Inside `stop_signals_interrupt()`, SIGINT and SIGTERM (what `kill`, `timeout` and batch schedulers
send) both raise `Interrupted`, a KeyboardInterrupt, so every `except KeyboardInterrupt` and every
clean-up that handles Ctrl-C handles SIGTERM alike. Only the first signal raises: clean-up after it
is not cut short by a second one. Inside `deferred()`, a signal is held back until the block ends.

Python runs signal handlers in the main thread between bytecodes, so a signal that arrives while
TensorFlow runs a step is acted on when the step returns. No TensorFlow here.
"""

import contextlib
import os
import signal
import sys
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# The guard of the innermost active `stop_signals_interrupt()` block, if any.
_active = []


class Interrupted(KeyboardInterrupt):
  """Ctrl-C or SIGTERM stopped the run.

  Attributes:
    signum: the signal's number.
  """

  def __init__(self, signum):
    self.signum = signum
    super().__init__(self.signal_name)

  @property
  def signal_name(self):
    """'SIGINT' or 'SIGTERM'."""
    return signal.Signals(self.signum).name

  @property
  def exit_code(self):
    """The shell's convention for a process stopped by the signal: 128 + its number (130, 143)."""
    return 128 + self.signum


class _Guard:
  """What the handlers of one `stop_signals_interrupt()` block share."""

  def __init__(self):
    self.received = None  # The first signal's number.
    self.raised = False
    self.deferring = 0

  def handle(self, signum, frame):
    del frame  # Unused.
    if self.received is None:
      self.received = signum
    self.raise_pending()

  def raise_pending(self):
    if self.received is not None and not self.raised and not self.deferring:
      self.raised = True
      raise Interrupted(self.received)


def _previous_handler(handler):
  # signal.signal returns None for a handler that was not installed from Python.
  return signal.SIG_DFL if handler is None else handler


@contextlib.contextmanager
def stop_signals_interrupt():
  """Inside the block, the first SIGINT or SIGTERM raises `Interrupted`; later ones are ignored.

  The previous handlers come back when the block ends. Outside the main thread (where Python cannot
  install signal handlers) this does nothing.
  """
  if threading.current_thread() is not threading.main_thread():
    yield
    return
  guard = _Guard()
  previous = {signum: signal.signal(signum, guard.handle) for signum in STOP_SIGNALS}
  _active.append(guard)
  try:
    yield
  finally:
    _active.remove(guard)
    for signum, handler in previous.items():
      signal.signal(signum, _previous_handler(handler))


@contextlib.contextmanager
def deferred():
  """Holds Ctrl-C and SIGTERM back during the block: `Interrupted` is raised when it ends.

  For steps that must not be cut in two, such as creating a temporary file and arranging for its
  removal. Does nothing outside `stop_signals_interrupt()`. If the block raises, a held-back signal
  stays pending and is not raised in place of that error.
  """
  if not _active:
    yield
    return
  guard = _active[-1]
  guard.deferring += 1
  try:
    yield
  finally:
    guard.deferring -= 1
  guard.raise_pending()


def exit_on_stop_signals(message):
  """Until other handlers are installed, SIGINT and SIGTERM print `message` and exit 128 + signal.

  For a command's start-up (importing TensorFlow takes seconds), before it has anything to clean
  up: the process ends at once (`os._exit`), with no traceback. Not a SystemExit: the handler may
  run inside one of the import machinery's callbacks, where Python reports an exception as
  ignored and carries on, and the command would go on after saying it stopped. The line goes to
  the stderr of the moment this is called (a copy of its descriptor), as descriptor 2 may be
  captured by then (`quiet.captured_native_stderr`) and nothing replays it after `os._exit`.

  Args:
    message: the one line to print on stderr.
  """
  sys.stderr.flush()
  stderr_fd = os.dup(2)

  def leave(signum, frame):
    del frame  # Unused.
    sys.stdout.flush()
    os.write(stderr_fd, (message + '\n').encode())
    os._exit(128 + signum)

  for signum in STOP_SIGNALS:
    signal.signal(signum, leave)
