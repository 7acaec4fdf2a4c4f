"""The clocks every layer reads: the monotonic step clock and the wall-clock stamp on lines."""

from __future__ import annotations

import datetime
import time

# Monotonic, high-resolution, system-wide clock (CLOCK_MONOTONIC on Linux).
clock = time.perf_counter


def timestamp() -> str:
    """Local wall-clock time as printed on progress and summary lines."""
    return str(datetime.datetime.now())
