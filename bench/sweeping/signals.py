"""Stopping a sweep cleanly: Ctrl-C and SIGTERM end it between configurations, never mid-record.

The command line turns SIGTERM (what `kill` and batch schedulers send) into
KeyboardInterrupt('SIGTERM') with `raise_on_sigterm`; `deferred_stop` holds both signals back while
a result is being delivered (appended and written), then raises. No TensorFlow here.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

# Signals that stop a sweep cleanly, and how a row names them.
STOP_SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class InterruptedWithResult(KeyboardInterrupt):
    """Ctrl-C or SIGTERM while running a configuration that has its own result to record for the
    interruption (a batch search: the tries it finished); the message names the signal."""

    def __init__(self, reason: str, result):
        super().__init__(reason)
        self.result = result


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def deferred_stop() -> Iterator[None]:
    """Holds back Ctrl-C and SIGTERM during the block; raises KeyboardInterrupt after it if one
    came (its message names the signal)."""
    if not _in_main_thread():
        yield
        return
    received = []
    previous = {
        signum: signal.signal(signum, lambda signum, frame: received.append(signum))
        for signum in STOP_SIGNALS
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        raise KeyboardInterrupt(STOP_SIGNALS[received[0]])


@contextlib.contextmanager
def raise_on_sigterm() -> Iterator[None]:
    """Inside the block, SIGTERM stops a sweep the way Ctrl-C does (finished rows kept)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(STOP_SIGNALS[signal.SIGTERM])

    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
