"""The records a plot is drawn from: JSON Lines files read back, and the records of one
configuration grouped.

A group is every measured record of one file whose settings are equal (`settings_key`): one record,
or the repeats of a configuration run in separate processes (records with the same config and a
"repeat" key). Its value is the mean of its records' images/sec. The device count comes from the
record config's "replicas" (records written before data-parallel runs have none: 1 device).
No matplotlib and no TensorFlow here; `bench.output.plot_labels` words files, title and failures, and
`bench.output.plot_panels` turns groups into what is drawn.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from bench.core import axes
from bench.core.batch_search import ROLE_TRY
from bench.core.config import BenchmarkConfig
from bench.results import records, significance
from bench.results.result import BenchmarkResult


class NothingToPlot(ValueError):
    """No file holds a measured configuration; the message says what they hold."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """One record of a file.

    Attributes:
      result: the record as a BenchmarkResult.
      replicas: devices the configuration ran on (the record config's "replicas", else 1).
    """

    result: BenchmarkResult
    replicas: int = 1

    def value(self, field: str) -> object:
        """The record's value of an axis field, or of 'replicas'."""
        return self.replicas if field == "replicas" else getattr(self.result.config, field)


@dataclasses.dataclass(frozen=True)
class Source:
    """One JSON Lines file and its records, in file order.

    Attributes:
      path: the file as given.
      entries: its records.
      label: what tells it apart from the other files plotted with it ('' when alone; set by
        `bench.output.plot_labels.label_sources`).
    """

    path: str
    entries: tuple[Entry, ...]
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Group:
    """The measured records of one configuration in one file.

    Attributes:
      source: index of the file in the plotted sources.
      config: the configuration (the first record's).
      replicas: devices it ran on.
      results: its measured records, one per process.
    """

    source: int
    config: BenchmarkConfig
    replicas: int
    results: tuple[BenchmarkResult, ...]

    @property
    def images_per_sec(self) -> float:
        """batch / the mean step time over its processes (`bench.results.significance.Sample`, as the
        repeats summary and compare have it; one process: its own images/sec)."""
        return significance.sample_of(self.results).images_per_sec

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% confidence interval of images/sec across processes (t over the process means,
        as the repeats summary has it), or None: a single process, or an interval without an
        upper bound (the mean step time's interval reaching down to 0)."""
        if len(self.results) < 2:
            return None
        interval = significance.sample_of(self.results).images_per_sec_interval
        return interval if interval and math.isfinite(interval[1]) else None

    def value(self, field: str) -> object:
        """The group's value of an axis field, or of 'replicas'."""
        return self.replicas if field == "replicas" else getattr(self.config, field)


def replicas_of(record: dict) -> int:
    """Devices a record's configuration ran on: its config's "replicas", 1 when absent."""
    return int((record.get("config") or {}).get("replicas") or 1)


def read_source(path: str) -> Source:
    """The records of one JSON Lines file; a batch search's tries are left out (its result,
    the largest batch measured in full, stands for it).

    Raises:
      OSError: if it cannot be read.
      ValueError: naming the line that is not a benchmark record.
    """
    pairs = records.read_records_with_json(path)
    kept = [(record, result) for record, result in pairs if not _is_try(result)]
    return Source(path, tuple(Entry(result, replicas_of(record)) for record, result in kept))


def _is_try(result: BenchmarkResult) -> bool:
    return result.batch_search is not None and result.batch_search.role == ROLE_TRY


def read_sources(paths: Sequence[str]) -> list[Source]:
    """The records of each file, unlabelled (see `bench.output.plot_labels.label_sources`).

    Raises:
      OSError, ValueError: as `read_source`, for the first file that cannot be read.
    """
    return [read_source(path) for path in paths]


def settings_key(config: BenchmarkConfig, replicas: int) -> tuple:
    """What makes two records the same configuration: every sweep axis, and the device count."""
    return (*axes.comparison_key(config, leave_out=""), replicas)


def groups(sources: Sequence[Source]) -> list[Group]:
    """The measured records grouped by file and settings, in first-seen order.

    Raises:
      NothingToPlot: if no file holds a measured record.
    """
    found: dict[tuple, list[BenchmarkResult]] = {}
    first: dict[tuple, Entry] = {}
    for index, source in enumerate(sources):
        for entry in source.entries:
            if not entry.result.ok:
                continue
            key = (index, settings_key(entry.result.config, entry.replicas))
            found.setdefault(key, []).append(entry.result)
            first.setdefault(key, entry)
    if not found:
        raise NothingToPlot(_holdings(sources))
    return [
        Group(key[0], first[key].result.config, first[key].replicas, tuple(results))
        for key, results in found.items()
    ]


def _holdings(sources: Sequence[Source]) -> str:
    """'no measured configuration in a.jsonl (2 failed), b.jsonl (no records)'."""
    parts = []
    for source in sources:
        failed = sum(not entry.result.ok for entry in source.entries)
        parts.append(f"{source.path} ({f'{failed} failed' if failed else 'no records'})")
    return "no measured configuration in " + ", ".join(parts)
