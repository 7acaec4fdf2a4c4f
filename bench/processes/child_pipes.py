"""The parent's readers of a child process: its output streams and its result pipe.

Each is a thread that reads as the child writes, so neither pipe fills up and blocks the child:
`LinePump` copies stdout or stderr line by line (keeping the last lines for failure reports),
`ResultReader` takes the JSON lines of the result pipe (`bench.processes.child` describes the protocol).
"""

from __future__ import annotations

import collections
import json
import os
import threading
from collections.abc import Callable
from typing import IO

from bench.results import failures
from bench.results.result import BenchmarkResult, Failure


class LinePump(threading.Thread):
    """Copies a child's output stream to one of ours line by line, as the lines arrive, and keeps
    the last lines (all of them, shown or not) for failure reports."""

    def __init__(self, source: IO[bytes], destination: IO[str] | None, show: Callable[[str], bool]):
        super().__init__(daemon=True)
        self._source = source
        self._destination = destination
        self._show = show
        self.tail: collections.deque[str] = collections.deque(maxlen=failures.TAIL_LINES)

    def run(self) -> None:
        for raw in iter(self._source.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.tail.append(line)
            if self._destination is not None and self._show(line):
                print(line, file=self._destination, flush=True)
        self._source.close()


class ResultReader(threading.Thread):
    """Reads what the child streams to its result pipe: each finished step, then its record (or
    the failure it ended with, when it could not write one)."""

    def __init__(self, descriptor: int):
        super().__init__(daemon=True)
        self._descriptor = descriptor
        self.step_times_s: list[float] = []
        self.burn_in_times_s: list[float] = []
        self._record: dict | None = None
        self.failure: Failure | None = None

    def run(self) -> None:
        with os.fdopen(self._descriptor, "rb") as pipe:
            for line in pipe:
                self._take(line)

    def _take(self, line: bytes) -> None:
        """One JSON line; a line cut short by the child's death is ignored."""
        try:
            message = json.loads(line)
        except ValueError:
            return
        if "step_s" in message:
            self.step_times_s.append(message["step_s"])
        elif "burn_in_s" in message:
            self.burn_in_times_s.append(message["burn_in_s"])
        elif "record" in message:
            self._record = message["record"]
        elif "failure" in message:
            self.failure = Failure(**message["failure"])

    def result(self) -> BenchmarkResult | None:
        """The child's result, or None if it wrote none (or died while writing it)."""
        return None if self._record is None else BenchmarkResult.from_record(self._record)
