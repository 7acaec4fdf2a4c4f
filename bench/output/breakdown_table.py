"""--breakdown's tables: one configuration's parts after its summary, and a sweep's parts side by side.

A configuration's table has a row per part (root, the blocks or units, head, loss, optimizer,
other, then the total): forward and backward op time per step, the share of the step's op time,
FLOPs, GFLOP/s and the efficiency against the matrix-product probe; lines above it give the traced
steps' wall time, the span of their ops and the overlap. The sweep's table has a row per part and a
column group per configuration (time, share, GFLOP/s), so a depth sweep reads across. The figures
come from `bench.results.breakdown`. No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

import tabulate

from bench.core import axes
from bench.results.breakdown import Breakdown, Part, part_order
from bench.results.result import BenchmarkResult

SWEEP_TITLE = "Where the time goes (--breakdown: op time per step by part of the network)"
UNAVAILABLE = "not available"


def _ms(value: float) -> str:
    return f"{value:.2f}"


def _gflops(part: Part) -> str:
    rate = part.gflops_per_s
    return "" if rate is None else f"{rate:.1f}"


def _efficiency(part: Part, probe_tflops: float | None) -> str:
    rate = part.gflops_per_s
    if rate is None or not probe_tflops:
        return ""
    return f"{100 * rate / (probe_tflops * 1e3):.1f}"


def part_row(part: Part, found: Breakdown, probe_tflops: float | None) -> list[str]:
    """[part, forward ms, backward ms, total ms, share %, GFLOP, GFLOP/s, efficiency %]."""
    directed = part.directed
    return [
        part.name,
        _ms(part.forward_ms) if directed else "",
        _ms(part.backward_ms) if directed else "",
        _ms(part.total_ms),
        f"{100 * found.share(part):.1f}",
        f"{part.flops / 1e9:.3f}" if part.flops else "",
        _gflops(part),
        _efficiency(part, probe_tflops),
    ]


HEADERS = ["Part", "Forward ms", "Backward ms", "Total ms", "Share %", "GFLOP", "GFLOP/s", "Eff. %"]


def timing_line(found: Breakdown) -> str:
    """'breakdown: 3 traced steps after the measured ones took 2.31 s; ...' (wall, span, op time,
    overlap, per replica)."""
    line = (
        f"  breakdown: {found.traced_steps} fully traced steps after the measured ones (not in the "
        f"statistics) took {found.seconds or 0:.2f} s; per traced step (medians): wall "
        f"{found.wall_ms or 0:.2f} ms, ops from first start to last end {found.span_ms or 0:.2f} ms, "
        f"op times added up {found.op_ms:.2f} ms"
    )
    if found.overlap:
        line += f" (overlap {found.overlap:.2f}x: " + (
            "ops ran side by side)" if found.overlap > 1 else "gaps between ops)")
    if len(found.replica_op_ms) > 1:
        line += "; op time per replica " + ", ".join(_ms(value) for value in found.replica_op_ms) + " ms"
    return line


def summary_lines(result: BenchmarkResult, table_format: str = "github") -> list[str]:
    """The breakdown's lines after a configuration's summary ([] without --breakdown)."""
    found = result.extra.breakdown
    if found is None:
        return []
    if not found.available:
        return [f"  breakdown: {UNAVAILABLE}: {found.reason}"]
    probe = result.extra.peak_probe
    probe_tflops = probe.best_tflops if probe else None
    rows = [part_row(part, found, probe_tflops) for part in found.parts]
    total = Part("total", forward_ms=sum(p.forward_ms for p in found.parts if p.directed),
                 backward_ms=sum(p.backward_ms for p in found.parts if p.directed),
                 forward_flops=sum(p.forward_flops for p in found.parts),
                 backward_flops=sum(p.backward_flops for p in found.parts))
    total_row = part_row(total, found, probe_tflops)
    total_row[3:5] = [_ms(found.op_ms), "100.0"]
    text = tabulate.tabulate(rows + [total_row], headers=HEADERS, tablefmt=table_format,
                             disable_numparse=True)
    return [timing_line(found)] + ["  " + line for line in text.splitlines()]


def _title(result: BenchmarkResult, moving: Sequence[axes.Axis]) -> str:
    """A configuration's column title: the values of the axes the sweep varies ('depth 101'), and
    the process of a repeated one ('depth 101 #2')."""
    named = [f"{axis.header.lower()} {axis.cell(axis.of(result.config))}" for axis in moving]
    title = ", ".join(named) or result.config.model_name
    return title + (f" #{result.repeat.index}" if result.repeat else "")


def _sweep_cells(found: Breakdown | None, name: str) -> list[str]:
    """[fwd + bwd ms, share %, GFLOP/s] of one part in one configuration ('' where it has none)."""
    part = None if found is None or not found.available else found.part(name)
    if part is None:
        return ["", "", ""]
    time = f"{part.forward_ms:.1f} + {part.backward_ms:.1f}" if part.directed and part.backward_ms else (
        f"{part.total_ms:.1f}")
    return [time, f"{100 * found.share(part):.1f}", _gflops(part)]


def sweep_lines(results: Sequence[BenchmarkResult], table_format: str = "github") -> list[str]:
    """The title, one table of every part across the configurations with a breakdown, and its
    footnote; [] when no result has one."""
    with_breakdown = [result for result in results if result.ok and result.extra.breakdown is not None]
    if not with_breakdown:
        return []
    moving = axes.varying([result.config for result in with_breakdown])
    names = part_order({part.name for result in with_breakdown for part in result.extra.breakdown.parts})
    headers = ["Part"]
    for result in with_breakdown:
        title = _title(result, moving)
        headers += [f"{title}: ms", "%", "GFLOP/s"]
    rows = [
        [name] + [cell for result in with_breakdown for cell in _sweep_cells(result.extra.breakdown, name)]
        for name in names
    ]
    totals = ["op time (ms)"]
    for result in with_breakdown:
        found = result.extra.breakdown
        if found.available:
            rate = found.flops / (found.op_ms / 1e3) / 1e9 if found.op_ms and found.flops else None
            overlap = f"overlap {found.overlap:.2f}x" if found.overlap else ""
            totals += [f"{found.op_ms:.1f}", overlap, "" if rate is None else f"{rate:.1f}"]
        else:
            totals += [UNAVAILABLE, "", ""]
    text = tabulate.tabulate(rows + [totals], headers=headers, tablefmt=table_format, disable_numparse=True)
    notes = ["ms: forward + backward op time per step (medians of the traced steps); %: share of the step's "
             "op time; GFLOP/s: the part's FLOPs / its op time; overlap: op time / the span of the ops."]
    notes += [f"{_title(result, moving)}: breakdown {UNAVAILABLE}: {result.extra.breakdown.reason}"
              for result in with_breakdown if not result.extra.breakdown.available]
    return ["", SWEEP_TITLE, *text.splitlines(), *notes]
