"""What `python -m bench plot --breakdown` draws: one stacked bar per configuration with a
`--breakdown`, a segment per part (forward and backward apart), from the records. No matplotlib,
no TensorFlow: `bench.output.plot_breakdown` draws it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bench.output.plot_data import NothingToPlot, Source

TITLE = "Where the time goes: op time per step by part (--breakdown)"


@dataclasses.dataclass(frozen=True)
class Segment:
    """One part's op time in one bar: `backward` False for its forward ops (or, for optimizer and
    other, all its ops), True for its backward ops."""

    part: str
    ms: float
    backward: bool


@dataclasses.dataclass(frozen=True)
class Bar:
    """One configuration: its label, its segments bottom to top, and its total op time."""

    label: str
    segments: tuple
    op_ms: float


@dataclasses.dataclass(frozen=True)
class BarSpec:
    """The bars, the title, and the configurations whose breakdown is not available (with why)."""

    bars: tuple
    title: str = TITLE
    unavailable: tuple = ()


def _segments(found) -> tuple:
    """Forward segments in the step's order, then backward ones in reverse (as the step runs)."""
    forward = [Segment(part.name, part.forward_ms, False) for part in found.parts if part.forward_ms > 0]
    backward = [Segment(part.name, part.backward_ms, True) for part in reversed(found.parts)
                if part.backward_ms > 0]
    undirected = [segment for segment in forward if segment.part in ("optimizer", "other")]
    forward = [segment for segment in forward if segment not in undirected]
    return tuple(forward + backward + undirected)


def bars(sources: Sequence[Source]) -> BarSpec:
    """A bar per measured record with a breakdown, in file order; the file's label first when
    several files are plotted.

    Raises:
      NothingToPlot: when no record holds a breakdown.
    """
    found, missing = [], []
    for source in sources:
        for entry in source.entries:
            result = entry.result
            breakdown = result.extra.breakdown if result.ok else None
            if breakdown is None:
                continue
            label = result.config.label + (f" ({source.label})" if source.label else "")
            if not breakdown.available:
                missing.append(f"{label}: {breakdown.reason}")
                continue
            found.append(Bar(label, _segments(breakdown), breakdown.op_ms))
    if not found:
        raise NothingToPlot("no measured record holds a breakdown (run python -m bench with --breakdown)")
    return BarSpec(tuple(found), unavailable=tuple(missing))
