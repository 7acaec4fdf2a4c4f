"""What a plot draws, as plain data: panels of series of points, the title, the failures.

`build` turns the grouped records of `bench.output.plot_data` into up to three panels: images/sec against
depth (a line per batch size and mode) and against batch size (a line per depth and mode), each
drawn only when the records hold several values of its x axis (the depth panel also when neither
does, so the first panel always holds every measured configuration); and, with several device
counts, the scaling efficiency against the device count. Any other axis that varies within a file,
and the device count, split the lines further; with several files each line also names its file's
label. `bench.output.plot` draws the result. No matplotlib here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bench.core import axes
from bench.output.plot_data import Group, Source, groups
from bench.output.plot_labels import failures, label_sources, title, value_words

# Fields a line can be split by, in the order their words appear in a legend; the device count
# ('replicas': devices per worker x workers) stands for the --num-devices axis, named once.
SPLITTING_FIELDS = tuple(axis.field for axis in axes.AXES if axis.field != "num_devices") + ("replicas",)
# The record label names depth, batch, mode, precision and XLA; a failure line adds the others.
FIELDS_NOT_IN_LABEL = ("data_format", "image_size", "replicas")


@dataclasses.dataclass(frozen=True)
class Point:
    """One plotted value.

    Attributes:
      x: its x value (depth, batch size or device count).
      y: images/sec, or the scaling efficiency.
      interval: a (low, high) confidence interval of y, or None.
      processes: how many records (processes) it is the mean of.
    """

    x: int
    y: float
    interval: tuple[float, float] | None = None
    processes: int = 1


@dataclasses.dataclass(frozen=True)
class Series:
    """One line: its legend label and its points in x order."""

    label: str
    points: tuple[Point, ...]


@dataclasses.dataclass(frozen=True)
class Panel:
    """One set of axes.

    Attributes:
      title: the panel's title.
      x_field: 'depth', 'batch_size' or 'replicas'.
      x_label, y_label: the axis labels.
      series: its lines.
      log_x: whether x is on a log-2 scale (batch sizes).
    """

    title: str
    x_field: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    log_x: bool = False

    @property
    def x_values(self) -> list[int]:
        """Every x value of the panel's points, sorted (the tick positions)."""
        return sorted({point.x for series in self.series for point in series.points})


@dataclasses.dataclass(frozen=True)
class PlotSpec:
    """A whole figure: title, panels, and the lines listing what was not measured."""

    title: str
    panels: tuple[Panel, ...]
    failures: tuple[str, ...]


def build(sources: Sequence[Source]) -> PlotSpec:
    """The figure for the records of `sources` (`bench.output.plot_data.read_sources`), each file
    labelled by what differs between them (`bench.output.plot_labels.label_sources`).

    Raises:
      NothingToPlot: if no file holds a measured record.
    """
    sources = label_sources(list(sources))
    measured = groups(sources)
    within = _varying_within_a_file(measured)
    x_fields = [field for field in ("depth", "batch_size") if _distinct(measured, field) > 1]
    panels = [_throughput_panel(measured, sources, field, within) for field in x_fields or ["depth"]]
    if _distinct(measured, "replicas") > 1:
        scaling = _scaling_panel(measured, sources, within)
        if scaling.series:
            panels.append(scaling)
    return PlotSpec(title(sources), tuple(panels), tuple(failures(sources, _named_in_failures(sources))))


def _named_in_failures(sources: Sequence[Source]) -> list[str]:
    """The fields a failure line names beyond the record label: those of FIELDS_NOT_IN_LABEL
    whose value differs between any two records."""
    entries = [entry for source in sources for entry in source.entries]
    return [field for field in FIELDS_NOT_IN_LABEL if len({entry.value(field) for entry in entries}) > 1]


def _distinct(measured: Sequence[Group], field: str) -> int:
    """How many values of `field` the groups hold."""
    return len({group.value(field) for group in measured})


def _varying_within_a_file(measured: Sequence[Group]) -> set[str]:
    """The splitting fields that take several values within at least one file."""
    by_source: dict[int, list[Group]] = {}
    for group in measured:
        by_source.setdefault(group.source, []).append(group)
    return {
        field for field in SPLITTING_FIELDS for found in by_source.values() if _distinct(found, field) > 1
    }


def _line_fields(x_field: str, identity: Sequence[str], within: set[str]) -> list[str]:
    """The fields a panel's lines are told apart by: its identity fields, then every other field
    that varies within a file, never its x field."""
    return [
        field for field in SPLITTING_FIELDS if field != x_field and (field in identity or field in within)
    ]


def _lines(
    measured: Sequence[Group], sources: Sequence[Source], fields: Sequence[str]
) -> dict[tuple, tuple[str, list[Group]]]:
    """{(file, values of `fields`): (legend label, its groups)}, in first-seen order."""
    lines: dict[tuple, tuple[str, list[Group]]] = {}
    for group in measured:
        key = (group.source, *(group.value(field) for field in fields))
        if key not in lines:
            words = ", ".join(value_words(field, group.value(field)) for field in fields)
            prefix = sources[group.source].label
            lines[key] = (f"{prefix}: {words}" if prefix else words, [])
        lines[key][1].append(group)
    return lines


def _throughput_panel(
    measured: Sequence[Group], sources: Sequence[Source], x_field: str, within: set[str]
) -> Panel:
    """Images/sec against depth (a line per batch size and mode) or batch size (per depth and
    mode)."""
    identity = ("batch_size", "mode") if x_field == "depth" else ("depth", "mode")
    fields = _line_fields(x_field, identity, within)
    series = []
    for label, members in _lines(measured, sources, fields).values():
        points = [
            Point(group.value(x_field), group.images_per_sec, group.interval, len(group.results))
            for group in members
        ]
        series.append(Series(label, tuple(sorted(points, key=lambda point: point.x))))
    if x_field == "depth":
        return Panel("Images/sec by depth", "depth", "depth (resnet_v2_N)", "images/sec", tuple(series))
    return Panel(
        "Images/sec by batch size", "batch_size", "batch size", "images/sec", tuple(series), log_x=True
    )


def _scaling_panel(measured: Sequence[Group], sources: Sequence[Source], within: set[str]) -> Panel:
    """Scaling efficiency against the device count: (images/sec per device) divided by that at
    the line's fewest devices (normally 1), for lines with at least two device counts."""
    fields = _line_fields("replicas", ("depth", "batch_size", "mode"), within)
    series = []
    fewest = set()
    for label, members in _lines(measured, sources, fields).values():
        members = sorted(members, key=lambda group: group.replicas)
        if len(members) < 2:
            continue
        base = members[0]
        fewest.add(base.replicas)
        per_device = base.images_per_sec / base.replicas
        points = [
            Point(group.replicas, efficiency, None, len(group.results))
            for group, efficiency in zip(members, _efficiencies(members, per_device), strict=True)
        ]
        series.append(Series(label, tuple(points)))
    if len(fewest) == 1:
        (count,) = fewest
        y_label = f"scaling efficiency vs {value_words('replicas', count)}"
    else:
        y_label = "scaling efficiency vs the fewest devices"
    return Panel("Scaling efficiency", "replicas", "devices", y_label, tuple(series))


def _efficiencies(members: Sequence[Group], per_device: float) -> list[float]:
    """Each group's images/sec per device divided by `per_device`."""
    return [group.images_per_sec / group.replicas / per_device for group in members]
