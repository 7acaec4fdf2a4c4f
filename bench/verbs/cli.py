"""`python -m bench`: the command line. Checks the flags (`bench.verbs.flags`), runs the sweep, prints.

Every sweep axis (`bench.core.axes.AXES`) is a flag taking one or more values; the sweep is their
product. Exit status: 0 every configuration measured and recorded; 1 at least one failed (its row says
why) or a record could not be written to --output (one line each, the sweep goes on);
2 bad input (one line on stderr, nothing built); 130 interrupted by Ctrl-C or SIGTERM (finished
rows kept). `--repeat N` runs each configuration in N interleaved child processes (`bench.sweeping.repeats`);
`--resume` leaves out what the --output file already holds (`bench.sweeping.resume`). The verbs
`python -m bench compare ...`, `python -m bench plot ...` and `python -m bench make-data ...` have
their own modules (`bench.verbs.compare_cli`, `bench.verbs.plot_cli`, `bench.verbs.make_data_cli`),
flags and exit codes. With real data (`--data PATH`) the sweep also runs what the verdict on the
input pipeline needs (`bench.results.verdict`) and the output ends with the verdict table.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import IO

from bench.core import axes, cluster, exposure
from bench.core.batch_search import SearchSettings
from bench.core.config import BenchmarkConfig
from bench.core.errors import ConfigError
from bench.core.flag_names import FLAG_OF_FIELD
from bench.core.limits import Limits
from bench.core.quiet import Quiet
from bench.output import breakdown_table, header, report, table, verdict_table
from bench.results import records, scaling, verdict
from bench.results.result import BenchmarkResult
from bench.sweeping import batch_max, repeats, resume, sweep
from bench.verbs import settings
from bench.verbs.flag_checks import check_combinations
from bench.verbs.flags import PROG, build_parser
from bench.verbs.usage import EXIT_INTERRUPTED, UsageError, run_with_one_line_errors

EXIT_OK = 0
EXIT_FAILED = 1


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What the sweep runs: every configuration, what --resume found, the runs left in the order
    they go (with repeats), the bounds, the (sweep id, command line) each record carries, and the
    batch search settings when --batch is max."""

    configs: list[BenchmarkConfig]
    resumed: resume.ResumePlan | None
    schedule: repeats.Schedule
    limits: Limits
    stamp: tuple[str, str]
    search: SearchSettings | None = None


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line.

    Args:
      argv: arguments without the program name (default sys.argv[1:]).

    Returns:
      The exit status (see the module docstring).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        from bench.verbs import compare_cli

        return compare_cli.main(argv[1:])
    if argv[:1] == ["plot"]:
        from bench.verbs import plot_cli

        return plot_cli.main(argv[1:])
    if argv[:1] == ["make-data"]:
        from slim_resnet.support.quiet import quiet_tensorflow_import

        quiet_tensorflow_import()  # before make_data_cli imports TensorFlow
        from bench.verbs import make_data_cli

        return make_data_cli.main(argv[1:])
    return run_with_one_line_errors(PROG, lambda: _main(argv))


def _main(argv: list[str]) -> int:
    """main() without the usage-error handling."""
    args = build_parser().parse_args(argv)
    quiet = Quiet(args.verbose)
    check_combinations(args)
    try:
        limits = Limits.from_text(args.memory_limit, args.gpu_memory_limit, args.timeout, args.peer_timeout)
        search = batch_max.requested(
            args.batch_size, args.device, limits, args.in_process, args.resume, args.trace
        )
        if search is not None:
            args.batch_size = [search.start]  # where each configuration's search starts
        configs = axes.expand(settings.axis_values(args), **settings.common_settings(args))
        if search is None:  # a search's real and synthetic runs would find different batches
            configs = verdict.with_verdict_runs(configs)
        configs, environment_info = sweep.prepare(
            configs, quiet=quiet, limits=limits, isolate=not args.in_process
        )
        if search is not None:
            batch_max.check_devices(configs, limits)
        configs = axes.with_trace_paths(configs, args.trace)
        plan = resume.plan(configs, args.output, environment_info, args.repeat) if args.resume else None
    except ConfigError as error:
        raise UsageError(config_error_line(error)) from None
    stamp = ((plan and plan.sweep_id) or resume.new_sweep_id(), resume.command_line(argv))
    schedule = repeats.Schedule(configs if plan is None else plan.to_run, args.repeat)
    sink = _open_output(args.output) if cluster.is_chief() else None  # the chief records
    open_server = exposure.cluster_warning(cluster.environment_text())  # a cluster's server: say so
    if open_server is not None:
        print(open_server, file=sys.stderr, flush=True)
    human = None if args.quiet else (sys.stdout if args.format == "table" else sys.stderr)
    try:
        outcome, unsaved = _run(
            _Plan(configs, plan, schedule, limits, stamp, search), environment_info, args, quiet, human, sink
        )
    finally:
        if sink is not None:
            sink.close()
    shown = outcome.results if plan is None else resume.in_sweep_order(configs, plan.reused, outcome.results)
    return _finish(outcome, shown, unsaved, args, human, schedule)


def config_error_line(error: ConfigError) -> str:
    """'--batch 0: must be a positive integer' from a ConfigError."""
    flag = FLAG_OF_FIELD.get(error.field, error.field)
    return f"{flag} {error.value}: {error.allowed}"


def _open_output(path: str | None) -> records.JsonLinesFile | None:
    """Opens the JSON Lines file, or raises UsageError."""
    if path is None:
        return None
    try:
        return records.JsonLinesFile(path)
    except OSError as error:
        raise UsageError(f"--output {path}: cannot open for appending ({error.strerror})") from None


def _run(
    plan: _Plan,
    environment_info: dict,
    args: argparse.Namespace,
    quiet: Quiet,
    human: IO[str] | None,
    sink: records.JsonLinesFile | None,
) -> tuple[sweep.SweepOutcome, list[BenchmarkResult]]:
    """Prints the header, runs the sweep (what --resume left of it), writes and summarises each
    result as it arrives, stamped with the sweep's (id, command line); with `search`, each
    configuration is a batch search whose tries are written and summarised as they end.

    Returns:
      (the sweep's outcome, the results whose record could not be written to --output).
    """
    isolate = not args.in_process
    schedule = plan.schedule
    configs = schedule.configs
    search = plan.search
    if human is not None:
        to_run = schedule.distinct_configs  # what --resume left of the sweep
        named = to_run if search is None else [batch_max.as_search(config) for config in to_run]
        recorded = len(plan.configs) - len(to_run)
        lines = header.header_lines(environment_info, named, isolate, recorded)
        lines += [schedule.header_line()] if schedule.repeated else []
        lines += batch_max.header_lines(search, plan.limits) if search is not None else []
        lines += resume.header_lines(plan.resumed, args.output) if plan.resumed else []
        _print_lines(lines, human)
    position = iter(range(1, len(configs) + 1))
    moving = axes.varying(configs)
    unsaved: list[BenchmarkResult] = []
    finished: list[BenchmarkResult] = []

    def on_start(config: BenchmarkConfig) -> None:
        index = next(position)
        if human is not None:
            named = config if search is None else batch_max.as_search(config)
            start = report.start_line(named, index, len(configs), moving) + schedule.start_note(index)
            _print_lines(["", start], human)

    def on_result(result) -> None:
        schedule.tag(result)
        result.sweep_id, result.command = plan.stamp
        result.scaling_efficiency = (
            scaling.efficiency(result, finished) if result.config.data_parallel else None
        )
        finished.append(result)
        if human is not None:
            _print_lines(report.summary_lines(result) + report.closing_lines(result), human)
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
        limits=plan.limits,
        run_one=None if search is None else batch_max.Runner(
            environment_info, search, on_result, quiet, human, plan.limits
        ).run,
    )  # fmt: skip
    return outcome, unsaved


def _finish(
    outcome: sweep.SweepOutcome,
    shown: list[BenchmarkResult],
    unsaved: list[BenchmarkResult],
    args: argparse.Namespace,
    human: IO[str] | None,
    schedule: repeats.Schedule,
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
    if shown and schedule.repeated:
        _repeats_output(shown, outcome.not_run, args, human)
    elif shown:
        print(report.render(shown, args.format, args.table_format), flush=True)
        if args.format == "table" and not args.quiet:
            _print_lines(table.footnotes(shown, outcome.not_run), sys.stdout)
    if shown and args.format == "table":
        _print_lines(verdict_table.verdict_lines(shown, outcome.not_run, args.table_format), sys.stdout)
        _print_lines(breakdown_table.sweep_lines(shown, args.table_format), sys.stdout)
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


def _repeats_output(
    results: list[BenchmarkResult],
    not_run: list[BenchmarkConfig],
    args: argparse.Namespace,
    human: IO[str] | None,
) -> None:
    """The final output of a repeated sweep: the per-process table (or JSON/CSV records), then the
    summary over processes (on stdout with the table, else with the progress lines)."""
    as_table = args.format == "table"
    rendered = repeats.process_table(results, args.table_format) if as_table else None
    print(rendered or report.render(results, args.format, args.table_format), flush=True)
    summary_stream = sys.stdout if as_table else human
    if summary_stream is not None:
        _print_lines(repeats.summary_lines(results, args.table_format), summary_stream)
    if not_run and as_table and not args.quiet:
        _print_lines(table.footnotes([], not_run)[-1:], sys.stdout)


def _print_lines(lines: Sequence[str], stream: IO[str]) -> None:
    """Prints lines and flushes (children write to the same file descriptors)."""
    for line in lines:
        print(line, file=stream)
    stream.flush()
