"""`python -m bench`: the command line. Checks the flags (`bench.flags`), runs the sweep, prints.

Every sweep axis (`bench.axes.AXES`) is a flag taking one or more values; the sweep is their
product. Exit status: 0 every configuration measured and recorded; 1 at least one failed (its row says
why) or a record could not be written to --output (one line each, the sweep goes on);
2 bad input (one line on stderr, nothing built); 130 interrupted by Ctrl-C or SIGTERM (finished
rows kept).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import IO

from bench import axes, records, report, scaling, sweep, table, workers
from bench.config import BenchmarkConfig
from bench.errors import ConfigError
from bench.flags import FLAG_OF_FIELD, PROG, UsageError, build_parser
from bench.quiet import Quiet
from bench.result import BenchmarkResult
from bench.signals import raise_on_sigterm
from slim_resnet.files import output_path_problem

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line.

    Args:
      argv: arguments without the program name (default sys.argv[1:]).

    Returns:
      The exit status (see the module docstring).
    """
    try:
        with raise_on_sigterm():
            return _main(list(sys.argv[1:] if argv is None else argv))
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str]) -> int:
    """main() without the usage-error handling."""
    args = build_parser().parse_args(argv)
    quiet = Quiet(args.verbose)
    _check_table_format(args.table_format)
    _check_path("--output", args.output, "results.jsonl")
    _check_path("--trace", args.trace, "step.json")
    try:
        configs = axes.expand(_axis_values(args), **_common_settings(args))
        configs, environment_info = sweep.prepare(configs, quiet=quiet)
    except ConfigError as error:
        raise UsageError(config_error_line(error)) from None
    configs = axes.with_trace_paths(configs, args.trace)
    sink = _open_output(args.output) if workers.is_chief() else None  # the chief records
    human = None if args.quiet else (sys.stdout if args.format == "table" else sys.stderr)
    try:
        outcome, unsaved = _run(configs, environment_info, args, quiet, human, sink)
    finally:
        if sink is not None:
            sink.close()
    return _finish(outcome, unsaved, args, human)


def _tokens(value) -> list:
    """A flag's value as a list (defaults are single values, given values lists)."""
    return value if isinstance(value, list) else [value]


def _axis_values(args: argparse.Namespace) -> dict[str, list]:
    """{axis field: config values} from the axis flags (an empty --xla means on).

    Raises:
      ConfigError: for a value an axis does not know.
    """
    values = {}
    for axis in axes.AXES:
        tokens = _tokens(getattr(args, axis.field))
        if axis.field == "xla" and not tokens:
            tokens = ["on"]
        values[axis.field] = axis.values(tokens)
    return values


def _common_settings(args: argparse.Namespace) -> dict:
    """BenchmarkConfig fields shared by every configuration of the sweep."""
    return {
        "num_batches": args.num_batches,
        "burn_in": args.burn_in,
        "num_classes": args.num_classes,
        "seed": args.seed,
        "device": args.device,
        "intra_op_threads": args.intra_op_threads,
        "inter_op_threads": args.inter_op_threads,
        "display_every": args.display_every,
        "loss_scale": args.loss_scale,
        "trace": args.trace,
        "peak_probe": not args.no_peak_probe,
        "peak_probe_size": args.peak_probe_size,
        "workers": _worker_count(args),
    }


def _worker_count(args: argparse.Namespace) -> int:
    """--workers, or the size of the cluster in TF_CONFIG.

    Raises:
      ConfigError: for a malformed TF_CONFIG.
      UsageError: for --workers with --in-process, or a --workers the cluster contradicts.
    """
    text = os.environ.get(workers.ENV_VAR)
    if text is None:
        if args.workers is not None and args.workers > 1 and args.in_process:
            raise UsageError(
                f"--workers {args.workers}: not with --in-process (each worker is a process of its own)"
            )
        return 1 if args.workers is None else args.workers
    size = len(workers.parse_tf_config(text)["addresses"])
    if args.workers is not None and args.workers != size:
        raise UsageError(f"--workers {args.workers}: TF_CONFIG names a cluster of {size} workers")
    if size > 1 and args.in_process:
        raise UsageError(
            "--in-process: not with a TF_CONFIG cluster (each configuration's worker server "
            "needs a process of its own)"
        )
    return size


def config_error_line(error: ConfigError) -> str:
    """'--batch 0: must be a positive integer' from a ConfigError."""
    flag = FLAG_OF_FIELD.get(error.field, error.field)
    return f"{flag} {error.value}: {error.allowed}"


def _check_table_format(table_format: str) -> None:
    """Raises UsageError unless tabulate knows `table_format`."""
    import tabulate

    if table_format not in tabulate.tabulate_formats:
        raise UsageError(
            f"--table-format {table_format}: unknown; choose from "
            + ", ".join(sorted(tabulate.tabulate_formats))
        )


def _check_path(flag: str, path: str | None, example: str) -> None:
    """Raises UsageError if `path` could not be written (nothing is created)."""
    problem = None if path is None else output_path_problem(path, example)
    if problem:
        raise UsageError(f"{flag} {path}: {problem}")


def _open_output(path: str | None) -> records.JsonLinesFile | None:
    """Opens the JSON Lines file, or raises UsageError."""
    if path is None:
        return None
    try:
        return records.JsonLinesFile(path)
    except OSError as error:
        raise UsageError(f"--output {path}: cannot open for appending ({error.strerror})") from None


def _run(
    configs: list[BenchmarkConfig],
    environment_info: dict,
    args: argparse.Namespace,
    quiet: Quiet,
    human: IO[str] | None,
    sink: records.JsonLinesFile | None,
) -> tuple[sweep.SweepOutcome, list[BenchmarkResult]]:
    """Prints the header, runs the sweep, writes and summarises each result as it arrives.

    Returns:
      (the sweep's outcome, the results whose record could not be written to --output).
    """
    isolate = not args.in_process
    if human is not None:
        _print_lines(report.header_lines(environment_info, configs, isolate), human)
    position = iter(range(1, len(configs) + 1))
    moving = axes.varying(configs)
    unsaved: list[BenchmarkResult] = []
    finished: list[BenchmarkResult] = []

    def on_start(config: BenchmarkConfig) -> None:
        if human is not None:
            _print_lines(["", report.start_line(config, next(position), len(configs), moving)], human)

    def on_result(result) -> None:
        result.scaling_efficiency = (
            scaling.efficiency(result, finished) if result.config.data_parallel else None
        )
        finished.append(result)
        if human is not None:
            _print_lines(report.summary_lines(result), human)
        if sink is not None:
            try:
                sink.write(result)
            except OSError as error:
                unsaved.append(result)
                print(
                    f"{PROG}: warning: the record of {result.config.label} could not be written "
                    f"to {sink.path} ({error.strerror or error}); it is kept in the output below",
                    file=sys.stderr,
                    flush=True,
                )

    outcome = sweep.run_sweep(
        configs,
        environment_info,
        isolate=isolate,
        progress=human,
        on_start=on_start,
        on_result=on_result,
        quiet=quiet,
    )
    return outcome, unsaved


def _finish(
    outcome: sweep.SweepOutcome,
    unsaved: list[BenchmarkResult],
    args: argparse.Namespace,
    human: IO[str] | None,
) -> int:
    """Prints the final output and returns the exit status."""
    if human is not None:
        overhead = report.overhead_line(outcome.results)
        _print_lines([""] + ([overhead] if overhead else []), human)
    if outcome.interrupted:
        print(
            f"Interrupted: {sum(r.ok for r in outcome.results)} configuration(s) finished, "
            f"{len(outcome.not_run)} not run.",
            file=sys.stderr,
            flush=True,
        )
    if outcome.results:
        print(report.render(outcome.results, args.format, args.table_format), flush=True)
        if args.format == "table" and not args.quiet:
            _print_lines(table.footnotes(outcome.results, outcome.not_run), sys.stdout)
    if unsaved:
        print(
            f"{PROG}: {len(unsaved)} record(s) could not be written to {args.output}; "
            "they are in the output above",
            file=sys.stderr,
            flush=True,
        )
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if outcome.any_failed or unsaved else EXIT_OK


def _print_lines(lines: Sequence[str], stream: IO[str]) -> None:
    """Prints lines and flushes (children write to the same file descriptors)."""
    for line in lines:
        print(line, file=stream)
    stream.flush()
