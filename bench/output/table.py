"""The comparison table: one row per configuration, one column per shown axis and per figure.

The axis columns come from `bench.core.axes` (depth, batch and mode always; precision, XLA, layout and
image size when the sweep varies them); the figure columns are `FIGURE_COLUMNS`, a list of
`Column`s, so a column is added without touching the layout code. Relative throughput compares
each row with the row of the sweep's first depth whose other axes are all equal. No TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import tabulate

from bench.core import axes
from bench.core.batch_search import ROLE_TRY
from bench.core.config import BenchmarkConfig
from bench.results import scaling
from bench.results.result import BenchmarkResult

# A cell function gets the row's result and the images/sec of its Relative baseline (or None).
Cell = Callable[[BenchmarkResult, "float | None"], object]


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of the table.

    Attributes:
      header: column title.
      value: function (result, baseline images/sec or None) -> cell.
    """

    header: str
    value: Cell


def format_bytes(num_bytes: int | None) -> str:
    """'1.23 GiB', '456.7 MiB'; '' for None."""
    if num_bytes is None:
        return ""
    if num_bytes >= 1024**3:
        return f"{num_bytes / 1024**3:.2f} GiB"
    return f"{num_bytes / 1024**2:.1f} MiB"


PARTIAL_MARK = " (p)"


def _measured(cell: Cell) -> Cell:
    """Wraps a cell function so a row without measured steps gets an empty cell, and a row that
    stopped after some (a timeout, an interrupted or failed run) gets its figures marked partial."""

    def wrapped(result: BenchmarkResult, baseline: float | None) -> str:
        if result.ok:
            return cell(result, baseline)
        if result.stats is None:
            return ""
        text = str(cell(result, baseline))
        return text + PARTIAL_MARK if text else ""

    return wrapped


def _relative(result: BenchmarkResult, baseline: float | None) -> str:
    """images/sec relative to the baseline row's."""
    if not baseline:
        return ""
    return f"{result.stats.images_per_sec / baseline:.2f}"


def _cost_cell(key: str, scale: float, digits: int) -> Cell:
    """Cell function showing cost.<key> * scale with `digits` decimals ('' when unknown)."""

    def cell(result: BenchmarkResult, baseline: float | None) -> str:
        value = getattr(result.cost, key)
        return "" if value is None else f"{value * scale:.{digits}f}"

    return cell


def _peak_memory(result: BenchmarkResult, baseline: float | None) -> str:
    """Peak memory, '*' marking a whole-process RSS (CPU) rather than allocator bytes (GPU)."""
    memory = result.extra.peak_memory
    text = format_bytes(memory.bytes if memory else None)
    if text and memory.is_process_rss:
        text += " *"
    return text


def _status(result: BenchmarkResult, baseline: float | None) -> str:
    """'ok', or the failure in a few words; '(!)' marks unreliable figures."""
    if result.ok:
        return "ok (!)" if result.warnings else "ok"
    return _shorten(result.failure.short, 80)


def _shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


FIGURE_COLUMNS: list[Column] = [
    Column(
        "Mean ± sd (ms)", _measured(lambda r, b: f"{r.stats.mean_s * 1e3:.1f} ± {r.stats.sd_s * 1e3:.1f}")
    ),
    Column("Median (ms)", _measured(lambda r, b: f"{r.stats.median_s * 1e3:.1f}")),
    Column("Images/sec", _measured(lambda r, b: f"{r.stats.images_per_sec:.2f}")),
    Column("Relative", _measured(_relative)),
    Column("GFLOP/img", _measured(_cost_cell("gflop_per_image", 1.0, 2))),
    Column("TFLOP/s", _measured(_cost_cell("achieved_tflops", 1.0, 3))),
    Column("Eff. %", _measured(_cost_cell("efficiency", 100.0, 1))),
    Column("Peak mem", _measured(_peak_memory)),
    Column("Status", _status),
]


def scaling_columns(results: Sequence[BenchmarkResult]) -> list[Column]:
    """With any data-parallel row: replicas, images/sec per replica and scaling efficiency
    (`bench.results.scaling`); none otherwise. No Replicas column when it would repeat the Devices
    column (the device count varies and every row has one worker)."""
    if not any(result.config.data_parallel for result in results):
        return []
    configs = [result.config for result in results]
    devices_shown = any(axis.field == "num_devices" for axis in axes.shown(configs))
    repeats_devices = devices_shown and all(config.workers == 1 for config in configs)
    found = {id(result): value for result, value in zip(results, scaling.efficiencies(results), strict=True)}

    def efficiency(result: BenchmarkResult, baseline: float | None) -> str:
        value = found.get(id(result))
        return "" if value is None else f"{value:.2f}"

    replicas = [] if repeats_devices else [Column("Replicas", lambda r, b: str(r.config.replicas))]
    return [
        *replicas,
        Column("Img/s/replica", _measured(lambda r, b: f"{r.stats.images_per_sec / r.config.replicas:.2f}")),
        Column("Scaling", _measured(efficiency)),
    ]


def axis_columns(configs: Sequence[BenchmarkConfig]) -> list[Column]:
    """A column for each axis the table shows for `configs` (see `bench.core.axes.shown`)."""
    return [Column(axis.header, lambda r, b, axis=axis: _axis_cell(axis, r)) for axis in axes.shown(configs)]


def _axis_cell(axis: axes.Axis, result: BenchmarkResult) -> str:
    """The axis's value in the row; a batch search's Batch cell says so ('max 37', '8 (try)'); a
    row of the input pipeline alone has no depth ('-')."""
    if axis.field == "depth" and not result.config.has_model:
        return "-"
    if axis.field == "batch_size" and result.batch_search is not None:
        return result.batch_search.batch_cell()
    return axis.cell(axis.of(result.config))


def _comparison_key(result: BenchmarkResult) -> tuple:
    """`axes.comparison_key` of the row; the results of batch searches compare with each other
    whatever batch each found."""
    config = result.config
    if result.batch_search is not None and result.batch_search.role != ROLE_TRY:
        config = dataclasses.replace(config, batch_size=0)
    return axes.comparison_key(config)


def relative_baselines(results: Sequence[BenchmarkResult]) -> list[float | None]:
    """For each result, the images/sec of the measured result of the sweep's first depth whose
    other axes are all equal (None when there is none, and for a row of the input pipeline alone:
    no network, so no depth to compare)."""
    modelled = [result for result in results if result.config.has_model]
    if not modelled:
        return [None] * len(results)
    first_depth = modelled[0].config.depth
    by_key = {
        _comparison_key(result): result.stats.images_per_sec
        for result in modelled
        if result.ok and result.config.depth == first_depth
    }
    return [by_key.get(_comparison_key(result)) if result.config.has_model else None for result in results]


def table(
    results: Sequence[BenchmarkResult], table_format: str = "github", columns: Sequence[Column] | None = None
) -> str:
    """The comparison table, one row per configuration.

    Args:
      results: results in sweep order.
      table_format: any tabulate format ('github', 'plain', 'grid', ...).
      columns: columns to show (default: the shown axes, then FIGURE_COLUMNS).

    Returns:
      The table as text.
    """
    if columns is None:
        columns = axis_columns([result.config for result in results]) + FIGURE_COLUMNS
        extra = scaling_columns(results)
        at = [column.header for column in columns].index("Images/sec") + 1
        columns = columns[:at] + extra + columns[at:]
        from bench.output.quality_lines import quality_columns  # it builds on Column

        columns = columns[:-1] + quality_columns(results) + columns[-1:]  # before Status
    baselines = relative_baselines(results)
    rows = [
        [column.value(result, baseline) for column in columns]
        for result, baseline in zip(results, baselines, strict=True)
    ]
    return tabulate.tabulate(
        rows, headers=[column.header for column in columns], tablefmt=table_format, disable_numparse=True
    )


def footnotes(results: Sequence[BenchmarkResult], not_run: Sequence[BenchmarkConfig]) -> list[str]:
    """Lines explaining the table: the relative column, '(!)' marks, configurations not run."""
    others = ["batch", "mode"] + [
        axis.header.lower()
        for axis in axes.varying([result.config for result in results])
        if not axis.always_shown
    ]
    modelled = [result.config.depth for result in results if result.config.has_model]
    first_depth = modelled[0] if modelled else None
    lines = [
        f"Relative: images/sec divided by that of depth {first_depth} with the same "
        f"{', '.join(others[:-1])} and {others[-1]}.",
        "GFLOP/img: FLOPs of one step (TensorFlow's profiler) / batch; TFLOP/s: FLOPs per "
        "step / mean step time; Eff. %: TFLOP/s / the matrix-product probe's TFLOP/s.",
    ]
    if any(result.extra.peak_memory and result.extra.peak_memory.is_process_rss for result in results):
        lines.append(
            "Peak mem *: peak resident set size of the process (CPU), which includes "
            "TensorFlow and the graph; on a GPU it is the allocator's peak."
        )
    if any(result.batch_search is not None for result in results):
        lines.append(
            "Batch max N: the largest batch that fits (--batch max), measured with the sweep's steps "
            "('(so far)': a try failed otherwise than out of memory and stopped the search); "
            "the tries are listed above and in the records."
        )
    if any(result.config.data_parallel for result in results):
        lines.append(
            "Images/sec: over the global batch (replicas x batch); Scaling: images/sec / (replicas x "
            "images/sec of the 1-replica run with the same other settings)."
        )
    from bench.output.quality_lines import quality_footnotes

    lines += quality_footnotes(results)
    if any(not result.ok and result.stats is not None for result in results):
        lines.append(
            f"{PARTIAL_MARK.strip()}: partial figures, from the measured steps a run finished before it "
            "stopped (its status says how many)."
        )
    if any(result.ok and result.warnings for result in results):
        lines.append("(!): figures to treat with care; see the WARNING lines above.")
    if not_run:
        lines.append("Not run (sweep interrupted): " + "; ".join(c.label for c in not_run))
    return lines
