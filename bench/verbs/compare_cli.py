"""`python -m bench compare BASE.jsonl NEW.jsonl [MORE.jsonl ...]`: the command line of a comparison.

Exit status: 0 compared (whatever the verdicts); 1 `--fail-if-slower PCT` and some configuration is
significantly slower than the baseline by more than PCT percent of its images/sec; 2 bad input (a
missing or unreadable file, a file that is not JSON Lines records, no configuration in common, a
bad PCT), one line on stderr; 130 interrupted (Ctrl-C or SIGTERM), one line. No TensorFlow.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench.output import breakdown_compare, compare_output, report
from bench.results import compare
from bench.verbs.usage import OneLineParser, UsageError, check_table_format, run_with_one_line_errors

PROG = "python -m bench compare"
EXIT_OK = 0
EXIT_SLOWER = 1

DESCRIPTION = """\
Compare benchmark records (JSON Lines from python -m bench --output): every file against the first.
Configurations are matched by their settings (depth, batch, mode, precision, XLA, layout, image
size); every record of a configuration in a file is one process of it (--repeat N gives N).

For each configuration: images/sec in each file, the ratio to the baseline (above 1: faster) with its
95% confidence interval, and a verdict: faster, slower, or no significant difference. The verdict is
Welch's t-test (5%) on the log mean step time; its observations are the processes' mean step times
when a file has two or more processes of the configuration, else 10 batch means of the one
process's steps (consecutive steps are correlated, so single steps are not independent). The
interval comes from the same statistic, so "faster" or "slower" exactly when it excludes 1."""

EXAMPLES = """\
examples:
  python -m bench --depth 50 101 --batch 8 --repeat 5 --output base.jsonl   # on the old setup
  python -m bench --depth 50 101 --batch 8 --repeat 5 --output new.jsonl    # on the new one
  python -m bench compare base.jsonl new.jsonl
  python -m bench compare tf-2.20.jsonl tf-2.21.jsonl tf-nightly.jsonl --format csv > cmp.csv
  python -m bench compare main.jsonl branch.jsonl --fail-if-slower 5   # CI gate: exit 1 when slower

exit status: 0 compared; 1 with --fail-if-slower, some configuration significantly slower by more
than PCT percent; 2 bad input."""


def build_parser() -> argparse.ArgumentParser:
    """The parser of the compare verb."""
    parser = OneLineParser(prog=PROG, description=DESCRIPTION, epilog=EXAMPLES)
    parser.add_argument("base", metavar="BASE.jsonl", help="the baseline records")
    parser.add_argument("others", metavar="NEW.jsonl", nargs="+", help="records compared with the baseline")
    parser.add_argument(
        "--fail-if-slower",
        metavar="PCT",
        type=float,
        help="exit 1 when some configuration is significantly slower than the baseline by more "
        "than PCT percent of its images/sec (0 <= PCT < 100; 0: any significant slowdown)",
    )
    parser.add_argument(
        "--format", choices=report.OUTPUT_FORMATS, default="table", help="output on stdout (default table)"
    )
    parser.add_argument(
        "--table-format", default="github", help="tabulate table format (github, plain, grid, pipe, ...)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the compare verb.

    Args:
      argv: the arguments after 'compare' (default sys.argv[2:]).

    Returns:
      The exit status (see the module docstring).
    """
    return run_with_one_line_errors(PROG, lambda: _main(list(sys.argv[2:] if argv is None else argv)))


def _main(argv: list[str]) -> int:
    """main() without the error handling."""
    try:
        return _compare(argv)
    except compare.CompareError as error:
        raise UsageError(str(error)) from error


def _compare(argv: list[str]) -> int:
    """Parses `argv`, compares the files and prints the comparison."""
    args = build_parser().parse_args(argv)
    percent = args.fail_if_slower
    if percent is not None and not 0 <= percent < 100:
        raise UsageError(f"--fail-if-slower {percent:g}: must be a percentage from 0 to below 100")
    check_table_format(args.table_format)
    result = compare.compare_files(compare.load([args.base, *args.others]))
    failing = result.slower_than(percent) if percent is not None else []
    print(compare_output.render(result, args.format, args.table_format, percent, failing), flush=True)
    if args.format == "table":
        for line in breakdown_compare.breakdown_lines(result, args.table_format):
            print(line)
    for row, index in failing:
        print(f"{PROG}: {compare_output.slower_line(result, row, index, percent)}", file=sys.stderr)
    return EXIT_SLOWER if failing else EXIT_OK
