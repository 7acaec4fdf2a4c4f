"""The checks of `python -m bench`'s flags that argparse cannot make: the table format, the
output paths (nothing is created), and flags that need or exclude each other. No TensorFlow here.
"""

from __future__ import annotations

import argparse

from bench.core import batch_search
from bench.core import steps as steps_rule
from bench.sweeping import repeats
from bench.verbs.usage import UsageError, check_table_format
from slim_resnet.support.files import output_path_problem


def tokens(value) -> list:
    """A flag's value as a list (defaults are single values, given values lists)."""
    return value if isinstance(value, list) else [value]


def check_combinations(args: argparse.Namespace) -> None:
    """The checks argparse does not make: the table format, the output paths (nothing is
    created), and flags that need or exclude each other.

    Raises:
      UsageError: naming the first flag that is not allowed.
    """
    check_table_format(args.table_format)
    for flag, path, example in (
        ("--output", args.output, "results.jsonl"),
        ("--trace", args.trace, "step.json"),
    ):
        problem = None if path is None else output_path_problem(path, example)
        if problem:
            raise UsageError(f"{flag} {path}: {problem}")
    problem = repeats.count_problem(args.repeat, args.in_process)
    if problem:
        raise UsageError(problem)
    searches = [token for token in tokens(args.batch_size) if batch_search.search_start(token) is not None]
    if args.repeat > 1 and searches:
        raise UsageError(f"--batch {searches[0]}: one search per configuration; drop --repeat")
    if args.resume and args.output is None:
        raise UsageError("--resume: needs --output FILE (the records to resume from and append to)")
    if args.target_ci is not None and not steps_rule.is_auto(args.num_batches):
        raise UsageError(
            f"--target-ci {args.target_ci:g}: only with --num-batches auto (a fixed count runs its steps)"
        )
