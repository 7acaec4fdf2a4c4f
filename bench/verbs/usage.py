"""What every verb of `python -m bench` does with bad input and interrupts: one line, and an exit
status (2 for bad input, 130 for Ctrl-C or SIGTERM), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench.sweeping.signals import raise_on_sigterm


class UsageError(Exception):
    """Bad command-line input; the message is the one line shown to the user."""


# Exit status of bad input, and of a run stopped by Ctrl-C or SIGTERM (every verb).
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def run_with_one_line_errors(prog: str, run: Callable[[], int]) -> int:
    """Runs a verb's `run()` with SIGTERM raised as KeyboardInterrupt: a UsageError is one line on
    stderr and EXIT_BAD_INPUT, an interrupt one line and EXIT_INTERRUPTED.

    Returns:
      run()'s exit status, or one of those two.
    """
    try:
        with raise_on_sigterm():
            return run()
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status 2, and whose help keeps
    the description's and examples' line breaks (unless given another formatter_class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise UsageError(message)


def check_table_format(table_format: str) -> None:
    """Raises UsageError unless tabulate knows `table_format` (--table-format of every verb)."""
    import tabulate

    if table_format not in tabulate.tabulate_formats:
        raise UsageError(
            f"--table-format {table_format}: unknown; choose from "
            + ", ".join(sorted(tabulate.tabulate_formats))
        )
