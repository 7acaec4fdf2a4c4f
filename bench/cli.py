"""`python -m bench`: the command line. Checks the flags (`bench.flags`), runs the sweep, prints.

Every sweep axis (`bench.axes.AXES`) is a flag taking one or more values; the sweep is their
product. Exit status: 0 every configuration measured and recorded; 1 at least one failed (its row says
why) or a record could not be written to --output (one line each, the sweep goes on);
2 bad input (one line on stderr, nothing built); 130 interrupted by Ctrl-C or SIGTERM (finished
rows kept).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO

from bench import axes, batch_max, records, report, resume, sweep, table
from bench.batch_search import SearchSettings
from bench.config import BenchmarkConfig
from bench.errors import ConfigError
from bench.flags import FLAG_OF_FIELD, PROG, UsageError, build_parser
from bench.limits import Limits
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
      argv: arguments without the program name (default sys.argv[1:]); a first argument 'plot'
        hands the rest to `bench.plot_cli`.

    Returns:
      The exit status (see the module docstring).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["plot"]:
        from bench import plot_cli

        return plot_cli.main(argv[1:])
    try:
        with raise_on_sigterm():
            return _main(argv)
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
    if args.resume and args.output is None:
        raise UsageError("--resume: needs --output FILE (the records to resume from and append to)")
    try:
        limits = Limits.from_text(args.memory_limit, args.gpu_memory_limit, args.timeout)
        search = batch_max.requested(
            args.batch_size, args.device, limits, args.in_process, args.resume, args.trace
        )
        if search is not None:
            args.batch_size = [search.start]  # where each configuration's search starts
        configs = axes.expand(_axis_values(args), **_common_settings(args))
        configs, environment_info = sweep.prepare(
            configs, quiet=quiet, limits=limits, isolate=not args.in_process
        )
        if search is not None:
            batch_max.check_devices(configs, limits)
        configs = axes.with_trace_paths(configs, args.trace)
        plan = resume.plan(configs, args.output, environment_info) if args.resume else None
    except ConfigError as error:
        raise UsageError(config_error_line(error)) from None
    sink = _open_output(args.output)
    human = None if args.quiet else (sys.stdout if args.format == "table" else sys.stderr)
    stamp = ((plan and plan.sweep_id) or resume.new_sweep_id(), resume.command_line(argv))
    try:
        outcome, unsaved = _run(
            configs, plan, environment_info, args, quiet, human, sink, limits, stamp, search
        )
    finally:
        if sink is not None:
            sink.close()
    shown = outcome.results if plan is None else resume.in_sweep_order(configs, plan.reused, outcome.results)
    return _finish(outcome, shown, unsaved, args, human)


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
    }


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
    plan: resume.ResumePlan | None,
    environment_info: dict,
    args: argparse.Namespace,
    quiet: Quiet,
    human: IO[str] | None,
    sink: records.JsonLinesFile | None,
    limits: Limits,
    stamp: tuple[str, str],
    search: SearchSettings | None = None,
) -> tuple[sweep.SweepOutcome, list[BenchmarkResult]]:
    """Prints the header, runs the sweep (what --resume left of it), writes and summarises each
    result as it arrives, stamped with the sweep's (id, command line); with `search`, each
    configuration is a batch search whose tries are written and summarised as they end.

    Returns:
      (the sweep's outcome, the results whose record could not be written to --output).
    """
    isolate = not args.in_process
    to_run = configs if plan is None else plan.to_run
    shown = configs if search is None else [batch_max.as_search(config) for config in configs]
    if human is not None:
        _print_lines(report.header_lines(environment_info, shown, isolate), human)
        if search is not None:
            _print_lines(batch_max.header_lines(search, limits), human)
        if plan is not None:
            _print_lines(_resume_lines(plan, args.output), human)
    position = iter(range(1, len(to_run) + 1))
    moving = axes.varying(configs)
    unsaved: list[BenchmarkResult] = []

    def on_start(config: BenchmarkConfig) -> None:
        if human is not None:
            named = config if search is None else batch_max.as_search(config)
            _print_lines(["", report.start_line(named, next(position), len(to_run), moving)], human)

    def on_result(result) -> None:
        result.sweep_id, result.command = stamp
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
        to_run,
        environment_info,
        isolate=isolate,
        progress=human,
        on_start=on_start,
        on_result=on_result,
        quiet=quiet,
        limits=limits,
        run_one=None if search is None else batch_max.Runner(
            environment_info, search, on_result, quiet, human, limits
        ).run,
    )  # fmt: skip
    return outcome, unsaved


def _resume_lines(plan: resume.ResumePlan, path: str) -> list[str]:
    """What --resume found, for the header."""
    lines = [
        f"Resuming: {len(plan.reused)} configuration(s) already recorded ok in {path}"
        + (f" (sweep {plan.sweep_id})" if plan.sweep_id else "")
        + f", {len(plan.to_run)} to run"
    ]
    if plan.other_machine:
        lines.append(
            f"  {len(plan.other_machine)} of them recorded on another machine or TensorFlow: run again"
        )
    return lines


def _finish(
    outcome: sweep.SweepOutcome,
    shown: list[BenchmarkResult],
    unsaved: list[BenchmarkResult],
    args: argparse.Namespace,
    human: IO[str] | None,
) -> int:
    """Prints the final output (`shown`: this sweep's results with the resumed ones) and returns
    the exit status."""
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
    if shown:
        print(report.render(shown, args.format, args.table_format), flush=True)
        if args.format == "table" and not args.quiet:
            _print_lines(table.footnotes(shown, outcome.not_run), sys.stdout)
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
