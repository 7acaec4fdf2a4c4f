"""slim_resnet.extraction.interrupts: Ctrl-C and SIGTERM as one KeyboardInterrupt, held back where needed.

The signals are real: sent to this process with os.kill.
"""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from slim_resnet.extraction import interrupts


def _signal_self(signum):
  """Sends `signum` to this process and gives Python the chance to run its handler."""
  os.kill(os.getpid(), signum)
  for _ in range(100):  # The handler runs between bytecodes, at the latest within this loop.
    time.sleep(0.001)


@pytest.mark.parametrize('signum, exit_code', [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_raises_interrupted_once(signum, exit_code):
  before = signal.getsignal(signum)
  with pytest.raises(interrupts.Interrupted) as raised:
    with interrupts.stop_signals_interrupt():
      try:
        _signal_self(signum)
      finally:
        _signal_self(signal.SIGTERM)  # During clean-up: ignored, the first one is being handled.
  assert isinstance(raised.value, KeyboardInterrupt)
  assert raised.value.signum == signum and raised.value.exit_code == exit_code
  assert raised.value.signal_name == signal.Signals(signum).name
  assert signal.getsignal(signum) is before


def test_deferred_holds_the_signal_until_the_block_ends():
  steps = []
  with pytest.raises(interrupts.Interrupted):
    with interrupts.stop_signals_interrupt():
      with interrupts.deferred():
        _signal_self(signal.SIGTERM)
        steps.append('finished the deferred step')
      steps.append('after the deferred block')
  assert steps == ['finished the deferred step']


def test_deferred_lets_the_blocks_own_error_through():
  with interrupts.stop_signals_interrupt():
    with pytest.raises(OSError, match='disk full'):
      with interrupts.deferred():
        _signal_self(signal.SIGTERM)
        raise OSError('disk full')


def test_deferred_does_nothing_without_a_guard():
  with interrupts.deferred():
    pass


_SIGNAL_IN_A_CALLBACK = '''
import signal, sys, weakref
from slim_resnet.extraction.interrupts import exit_on_stop_signals
exit_on_stop_signals('stopped while starting')
class Module: pass
module = Module()
# As when the signal arrives while the import machinery runs one of its weakref callbacks.
keep = weakref.ref(module, lambda ref: signal.raise_signal(signal.SIGTERM))
del module
print('went on', flush=True)
'''


def test_a_stop_signal_at_start_up_ends_the_process_even_inside_a_callback():
  """Python reports an exception raised in a weakref callback as ignored and goes on; the start-up
  handler must end the process all the same (the signal is raised for real, in the callback)."""
  root = pathlib.Path(__file__).resolve().parents[3]  # the repository, which holds slim_resnet/
  completed = subprocess.run([sys.executable, '-c', _SIGNAL_IN_A_CALLBACK], cwd=root,
                             capture_output=True, text=True, timeout=60)
  assert completed.returncode == 143, completed.stderr
  assert completed.stdout == ''
  assert completed.stderr.splitlines() == ['stopped while starting']
