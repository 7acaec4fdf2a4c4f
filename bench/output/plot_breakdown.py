"""Drawing a `bench.output.plot_breakdown_data.BarSpec` with matplotlib: one stacked bar per
configuration, one colour per part (the units of a block share its colour), backward segments
hatched, optimizer and other in greys at the top. matplotlib is imported only when drawing
(`bench.output.plot.require_matplotlib`); the figure is written by `bench.output.plot.save`.
"""

from __future__ import annotations

import textwrap

from bench.output import plot
from bench.output.plot_breakdown_data import BarSpec

BACKWARD_HATCH = "///"
_FIXED_COLOURS = {"root": "#8c564b", "head": "#9467bd", "loss": "#e377c2", "optimizer": "#7f7f7f",
                  "other": "#c7c7c7"}
_BLOCK_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#17becf", "#bcbd22")
BAR_WIDTH_IN, HEIGHT_IN, DPI = 1.4, 5.0, 100
LABEL_CHARS = 16  # a bar's label is wrapped at this width


def colour_of(part: str) -> str:
    """The part's colour: blocks (and their units) by block number, the rest fixed."""
    if part in _FIXED_COLOURS:
        return _FIXED_COLOURS[part]
    block = part.split("/")[0]
    number = int(block[len("block"):]) if block[len("block"):].isdigit() else 0
    return _BLOCK_COLOURS[(number - 1) % len(_BLOCK_COLOURS)]


def legend_name(part: str) -> str:
    """A unit is in the legend as its block."""
    return part.split("/")[0]


def draw(spec: BarSpec):
    """The figure: the bars side by side, y = op time per step (ms), a legend of parts and of
    the hatch.

    Raises:
      MissingMatplotlib: if matplotlib is not installed.
    """
    plot.require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    width = max(6.0, 2.5 + BAR_WIDTH_IN * len(spec.bars))
    figure = Figure(figsize=(width, HEIGHT_IN + 0.2 * len(spec.unavailable)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(spec.title, fontsize="medium")
    axes = figure.subplots()
    legend: dict = {}
    for index, bar in enumerate(spec.bars):
        bottom = 0.0
        for segment in bar.segments:
            colour = colour_of(segment.part)
            axes.bar(index, segment.ms, bottom=bottom, color=colour, edgecolor="white", linewidth=0.3,
                     hatch=BACKWARD_HATCH if segment.backward else None,
                     gid=f"{index}:{segment.part}:{'backward' if segment.backward else 'forward'}")
            legend.setdefault(legend_name(segment.part), colour)
            bottom += segment.ms
    labels = [textwrap.fill(bar.label, LABEL_CHARS, break_on_hyphens=False) for bar in spec.bars]
    axes.set_xticks(range(len(spec.bars)), labels, fontsize="small")
    axes.set_ylabel("op time per step (ms, medians of the traced steps)")
    handles = [Patch(facecolor=colour, label=name) for name, colour in legend.items()]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch=BACKWARD_HATCH, label="backward"))
    axes.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if spec.unavailable:
        figure.text(0.01, 0.01, "\n".join(f"not available: {line}" for line in spec.unavailable),
                    ha="left", va="bottom", fontsize="small")
    return figure
