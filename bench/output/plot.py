"""Drawing a `bench.output.plot_panels.PlotSpec` with matplotlib, and writing it as PNG or SVG.

matplotlib is the optional extra `plot` (`pip install '.[plot]'`): it is imported only when a
figure is drawn, never by `import bench.output.plot`. Figures are drawn on the Agg canvas (no display
needed, nothing global such as pyplot's current figure). Each line of a panel is one `Line2D`
holding exactly its points' values; error bars, where a point has an interval, are drawn
separately. The lines listing what was not measured go below the panels. No TensorFlow here.
"""

from __future__ import annotations

import os

from bench.output.plot_panels import Panel, PlotSpec
from slim_resnet.support.files import atomic_output

EXTRA = "plot"
FORMATS = ("png", "svg")
PANEL_WIDTH_IN = 5.6
PANEL_HEIGHT_IN = 4.2
FAILURE_LINE_IN = 0.2
LISTED_FAILURES = 12
# Up to this many lines per panel, the legend goes inside the axes; beyond, below them.
LEGEND_INSIDE = 5
LEGEND_LINE_IN = 0.19
DPI = 100
# The id of the text below the panels that lists what was not measured.
FAILURES_GID = "not-measured"


class MissingMatplotlib(ImportError):
    """matplotlib is not installed; the message says how to install it."""


def image_format(path: str) -> str | None:
    """'png' or 'svg' from the file name's extension (any case), or None for any other."""
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    return extension if extension in FORMATS else None


def require_matplotlib() -> None:
    """Raises MissingMatplotlib unless matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingMatplotlib(
            f"plotting needs matplotlib, which is not installed; install the '{EXTRA}' extra: "
            f"pip install 'slim-resnet-bench[{EXTRA}]' (from a checkout: pip install '.[{EXTRA}]')"
        ) from None


def draw(spec: PlotSpec):
    """The figure of `spec`: its panels side by side, the title above, failures below.

    Returns:
      A matplotlib Figure on an Agg canvas.

    Raises:
      MissingMatplotlib: if matplotlib is not installed.
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    listed = _failure_lines(spec.failures)
    most_lines = max(len(panel.series) for panel in spec.panels)
    legend_below = most_lines > LEGEND_INSIDE
    height = PANEL_HEIGHT_IN + FAILURE_LINE_IN * len(listed)
    if legend_below:
        height += LEGEND_LINE_IN * most_lines
    figure = Figure(figsize=(PANEL_WIDTH_IN * len(spec.panels), height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(spec.title, fontsize="medium")
    for panel, axes in zip(spec.panels, figure.subplots(1, len(spec.panels), squeeze=False)[0], strict=True):
        _draw_panel(panel, axes, legend_below)
    if listed:
        # Below the panels: constrained layout leaves the space reserved here free of axes.
        bottom = (FAILURE_LINE_IN * len(listed) + 0.1) / height
        figure.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))
        figure.text(0.01, 0.01, "\n".join(listed), ha="left", va="bottom", fontsize="small", gid=FAILURES_GID)
    return figure


def _failure_lines(failures: tuple[str, ...]) -> list[str]:
    """The text below the plot: a heading and up to LISTED_FAILURES lines, then a count."""
    if not failures:
        return []
    shown = [f"  {line}" for line in failures[:LISTED_FAILURES]]
    if len(failures) > LISTED_FAILURES:
        shown.append(f"  ... and {len(failures) - LISTED_FAILURES} more")
    return ["Not plotted (not measured):"] + shown


def _draw_panel(panel: Panel, axes, legend_below: bool) -> None:
    """One panel's lines, error bars, ticks and labels on `axes`; the legend inside, or below the
    axes when the panels have many lines (the figure is made taller for it)."""
    for series in panel.series:
        xs = [point.x for point in series.points]
        ys = [point.y for point in series.points]
        (line,) = axes.plot(xs, ys, marker="o", label=series.label)
        bars = [point for point in series.points if point.interval is not None]
        if bars:
            axes.errorbar(
                [point.x for point in bars],
                [point.y for point in bars],
                yerr=[
                    [point.y - point.interval[0] for point in bars],
                    [point.interval[1] - point.y for point in bars],
                ],
                fmt="none",
                ecolor=line.get_color(),
                capsize=3,
            )
    if panel.log_x:
        axes.set_xscale("log", base=2)
    ticks = panel.x_values
    axes.set_xticks(ticks, [str(tick) for tick in ticks])
    axes.minorticks_off()
    axes.set_ylim(bottom=0)
    axes.set_title(panel.title, fontsize="medium")
    axes.set_xlabel(panel.x_label)
    axes.set_ylabel(panel.y_label)
    axes.grid(True, alpha=0.3)
    if legend_below:
        axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    else:
        axes.legend(fontsize="small")


def save(figure, path: str) -> None:
    """Writes `figure` to `path` atomically (a temporary file beside it, then a rename), in the
    format its extension names.

    Raises:
      ValueError: for an extension other than FORMATS.
      OSError: if the file cannot be written (nothing is left behind).
    """
    kind = image_format(path)
    if kind is None:
        raise ValueError(f"{path}: not a .png or .svg file name")
    with atomic_output(path, binary=True) as stream:
        figure.savefig(stream, format=kind, metadata=_metadata(kind))


def _metadata(kind: str) -> dict:
    """File metadata without a creation date, so the same records give the same file."""
    return {"Date": None} if kind == "svg" else {"Software": "slim-resnet-bench (matplotlib)"}
