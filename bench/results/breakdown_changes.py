"""Per-part changes between result files with `--breakdown` (`python -m bench compare`).

For each configuration the comparison matched (`bench.results.compare`), each file's breakdown is
that of its first record of the configuration that has one available; a part's change is its op
time in a file against the baseline's (the ratio of the medians the records keep). Which parts
gained is then one table per configuration: 'fp32 vs bf16: block3 1.9x faster'. No TensorFlow.
"""

from __future__ import annotations

import dataclasses

from bench.results import grouping
from bench.results.breakdown import Breakdown, part_order
from bench.results.compare import Comparison
from bench.results.result import BenchmarkResult


@dataclasses.dataclass(frozen=True)
class PartChange:
    """One part of one configuration across the files.

    Attributes:
      name: the part.
      ms: per file, its op time per step (None where the file's breakdown lacks the part or has
        no breakdown).
      shares: per file, its share of the step's op time (None likewise).
    """

    name: str
    ms: list
    shares: list

    def ratio(self, index: int) -> float | None:
        """File `index`'s time / the baseline's (None without both)."""
        base, other = self.ms[0], self.ms[index]
        if base is None or other is None or base <= 0:
            return None
        return other / base


@dataclasses.dataclass(frozen=True)
class ConfigChanges:
    """A configuration's parts across the files (the baseline first).

    Attributes:
      label: the configuration's label.
      breakdowns: per file, its Breakdown (None where the file has none).
      parts: the PartChange of every part any file has, in the network's order.
      row: the index of the configuration's row in the comparison (`Comparison.rows`).
    """

    label: str
    breakdowns: list
    parts: list
    row: int

    def against_baseline(self, index: int) -> dict | None:
        """File `index`'s breakdown against the baseline's, JSON-ready (compare's json and csv):
        both op times per step and their ratio, and per part both times, both shares and the
        ratio (None where a file lacks the part); None when file `index` has no breakdown."""
        base, other = self.breakdowns[0], self.breakdowns[index]
        if other is None:
            return None
        parts = {
            part.name: {
                "baseline_ms": part.ms[0],
                "ms": part.ms[index],
                "baseline_share": part.shares[0],
                "share": part.shares[index],
                "ratio": part.ratio(index),
            }
            for part in self.parts
        }
        ratio = other.op_ms / base.op_ms if base.op_ms else None
        return {"baseline_op_ms": base.op_ms, "op_ms": other.op_ms, "op_ratio": ratio, "parts": parts}


def first_breakdown(results: list[BenchmarkResult]) -> Breakdown | None:
    """The breakdown of the first record that has one available, else None."""
    for result in results:
        found = result.extra.breakdown if result.ok else None
        if found is not None and found.available:
            return found
    return None


def changes(comparison: Comparison) -> list[ConfigChanges]:
    """Per matched configuration with a breakdown in the baseline and another file, its parts."""
    grouped = [
        {grouping.configuration_key(members[0].config): members for members in grouping.group(file.results)}
        for file in comparison.files
    ]
    found = []
    for row_index, row in enumerate(comparison.rows):
        key = grouping.configuration_key(row.config)
        breakdowns = [first_breakdown(groups.get(key, [])) for groups in grouped]
        if breakdowns[0] is None or not any(breakdowns[1:]):
            continue
        names = part_order({part.name for item in breakdowns if item for part in item.parts})
        parts = []
        for name in names:
            own = [(item.part(name) if item else None, item) for item in breakdowns]
            parts.append(PartChange(
                name,
                [None if part is None else part.total_ms for part, _ in own],
                [None if part is None else item.share(part) for part, item in own],
            ))
        found.append(ConfigChanges(row.config.label, breakdowns, parts, row_index))
    return found
