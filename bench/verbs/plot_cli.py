"""`python -m bench plot RESULTS.jsonl [MORE.jsonl ...] -o FILE.png|FILE.svg`: the plot verb.

Reads JSON Lines records (`bench.output.plot_data`), decides what to draw (`bench.output.plot_panels`),
draws and writes the image atomically (`bench.output.plot`). Exit status: 0 written; 1 the image could not be
written at the end (one line); 2 bad input, one line on stderr and nothing written: an output path
that cannot be written or names neither .png nor .svg, a file that cannot be read or is not JSON
Lines of benchmark records, no measured record in any file, matplotlib not installed; 130 Ctrl-C
or SIGTERM. No TensorFlow is imported.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench.output import plot, plot_breakdown, plot_breakdown_data, plot_data, plot_labels, plot_panels
from bench.verbs.usage import OneLineParser, UsageError, run_with_one_line_errors
from slim_resnet.support.files import output_path_problem

PROG = "python -m bench plot"
EXIT_OK = 0
EXIT_NOT_WRITTEN = 1

DESCRIPTION = """\
Plots images/sec against depth (a line per batch size and mode) and against batch size (a line per
depth and mode) from the JSON Lines records of `python -m bench --output`; with several device
counts also the scaling efficiency. Several files give one line each, labelled by what differs
between them (TensorFlow version, device, settings). Configurations that failed are listed below
the plot. Needs matplotlib: pip install '.[plot]'.
"""

EXAMPLES = """\
examples:
  python -m bench plot results.jsonl -o results.png
  python -m bench plot tf220.jsonl tf221.jsonl -o compare.svg
  python -m bench plot --breakdown depths.jsonl -o breakdown.png
"""


def build_parser() -> argparse.ArgumentParser:
    """The verb's flags."""
    parser = OneLineParser(prog=PROG, description=DESCRIPTION, epilog=EXAMPLES)
    parser.add_argument("results", nargs="+", metavar="RESULTS.jsonl", help="JSON Lines record files")
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the image to write: FILE.png or FILE.svg"
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="draw the records of python -m bench --breakdown instead: a stacked bar of op time per "
        "configuration, a colour per part, backward hatched",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the verb.

    Args:
      argv: arguments after 'plot' (default sys.argv[2:]).

    Returns:
      The exit status (see the module docstring).
    """
    return run_with_one_line_errors(PROG, lambda: _main(list(sys.argv[2:] if argv is None else argv)))


def _main(argv: list[str]) -> int:
    """main() without the usage-error handling."""
    args = build_parser().parse_args(argv)
    if plot.image_format(args.output) is None:
        raise UsageError(f"-o {args.output}: unknown image type; give a file name ending in .png or .svg")
    problem = output_path_problem(args.output, "plot.png")
    if problem:
        raise UsageError(f"-o {args.output}: {problem}")
    try:
        plot.require_matplotlib()
    except plot.MissingMatplotlib as error:
        raise UsageError(str(error)) from None
    if args.breakdown:
        return _plot_breakdown(args)
    try:
        spec = plot_panels.build(_read(args.results))
    except plot_data.NothingToPlot as error:
        raise UsageError(f"nothing to plot: {error}") from None
    figure = plot.draw(spec)
    try:
        plot.save(figure, args.output)
    except OSError as error:
        print(f"{PROG}: {args.output} could not be written ({error.strerror or error})", file=sys.stderr)
        return EXIT_NOT_WRITTEN
    plotted = sum(len(series.points) for series in spec.panels[0].series)
    print(f"wrote {args.output}: {plotted} configuration(s) plotted, {len(spec.failures)} not measured")
    return EXIT_OK


def _plot_breakdown(args: argparse.Namespace) -> int:
    """--breakdown: the stacked bars of the records' breakdowns, written to args.output."""
    sources = plot_labels.label_sources(_read(args.results))
    try:
        spec = plot_breakdown_data.bars(sources)
    except plot_data.NothingToPlot as error:
        raise UsageError(f"nothing to plot: {error}") from None
    try:
        plot.save(plot_breakdown.draw(spec), args.output)
    except OSError as error:
        print(f"{PROG}: {args.output} could not be written ({error.strerror or error})", file=sys.stderr)
        return EXIT_NOT_WRITTEN
    print(f"wrote {args.output}: {len(spec.bars)} configuration(s) plotted, "
          f"{len(spec.unavailable)} without a breakdown available")
    return EXIT_OK


def _read(paths: Sequence[str]) -> list[plot_data.Source]:
    """The sources, or UsageError naming the file that cannot be read or is not records."""
    try:
        return plot_data.read_sources(paths)
    except OSError as error:
        raise UsageError(f"{error.filename}: cannot read ({error.strerror or error})") from None
    except ValueError as error:
        raise UsageError(str(error)) from None
