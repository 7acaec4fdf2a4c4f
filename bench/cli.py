"""`python -m bench`: argument parsing, validation, the sweep, and the final output.

Exit status: 0 every configuration measured; 1 at least one failed (its row says why); 2 bad
input (one line on stderr, nothing built); 130 interrupted by Ctrl-C or SIGTERM (finished rows
kept).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from typing import IO

from bench import environment, quiet, report, runner
from bench.config import (
    DATA_FORMATS,
    DEVICES,
    MODES,
    PRECISIONS,
    BenchmarkConfig,
    ConfigError,
    expand_sweep,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

PROG = "python -m bench"

# BenchmarkConfig field -> the flag that sets it, for error messages.
FLAG_OF_FIELD = {
    "depth": "--depth",
    "batch_size": "--batch",
    "mode": "--mode",
    "num_batches": "--num-batches",
    "burn_in": "--burn-in",
    "image_size": "--image-size",
    "num_classes": "--num-classes",
    "seed": "--seed",
    "device": "--device",
    "intra_op_threads": "--intra-op-threads",
    "inter_op_threads": "--inter-op-threads",
    "display_every": "--display-every",
    "data_format": "--data-format",
    "precision": "--precision",
    "loss_scale": "--loss-scale",
    "peak_probe_size": "--peak-probe-size",
    "output": "--output",
}

EXAMPLES = """\
examples:
  python -m bench --depth 152 --batch 32 --mode forward-backward
  python -m bench --depth 50 101 --batch 8 --mode forward forward-backward --num-batches 20 \\
      --burn-in 3 --output results.jsonl
  python -m bench --depth all --batch 1 16 --mode train --device cpu --format csv > sweep.csv
  python -m bench --depth 50 --batch 256 --mode train --precision fp16 --xla --trace step.json
"""


class UsageError(Exception):
    """Bad command-line input; the message is the one line shown to the user."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str):
        raise UsageError(message)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults and keeps the examples' line breaks."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every flag with its default; examples in the epilog)."""
    parser = _Parser(
        prog=PROG,
        description="Time TF-Slim ResNet v2 networks in graph mode on synthetic on-device inputs. "
        "Sweeps every depth x batch x mode combination, one child process per configuration.",
        epilog=EXAMPLES,
        formatter_class=_HelpFormatter,
    )
    sweep = parser.add_argument_group("what to run (every combination is run)")
    # Single-value defaults (not lists) so --help shows them plainly; see _as_list.
    sweep.add_argument("--depth", nargs="+", default="50", metavar="DEPTH",
                       help="network depths: 50 101 152 200, or all")
    sweep.add_argument("--batch", nargs="+", type=int, default=32, metavar="N",
                       help="batch sizes (positive integers)")
    sweep.add_argument("--mode", nargs="+", choices=MODES, default="forward",
                       help="what a step computes")
    steps = parser.add_argument_group("steps and inputs")
    steps.add_argument("--num-batches", type=int, default=100, help="measured steps")
    steps.add_argument("--burn-in", type=int, default=10,
                       help="unmeasured steps before them (the first is the cold step; in "
                       "forward-backward a dynamic loss scale settles during them)")
    steps.add_argument("--image-size", type=int, default=224, help="image height and width")
    steps.add_argument("--num-classes", type=int, default=1000, help="logits per image")
    steps.add_argument("--seed", type=int, default=0, help="random seed of inputs and weights")
    device = parser.add_argument_group("device and threads")
    device.add_argument("--device", choices=DEVICES, default="auto",
                        help="auto: the first GPU TensorFlow sees, else the CPU")
    device.add_argument("--intra-op-threads", type=int, default=0,
                        help="TensorFlow intra-op threads (0: TensorFlow's default)")
    device.add_argument("--inter-op-threads", type=int, default=0,
                        help="TensorFlow inter-op threads (0: TensorFlow's default)")
    device.add_argument("--data-format", choices=DATA_FORMATS, default="auto",
                        help="activation layout; auto: NCHW on a GPU (cuDNN's native layout), "
                        "NHWC on the CPU (NCHW is refused there)")
    device.add_argument("--in-process", action="store_true",
                        help="run every configuration in this process instead of one child "
                        "process each (a crash then ends the sweep)")
    compute = parser.add_argument_group("precision, compilation, cost")
    compute.add_argument("--precision", choices=PRECISIONS, default="fp32",
                         help="compute type; variables, batch-norm statistics and the loss stay "
                         "fp32")
    compute.add_argument("--loss-scale", default="auto",
                         help="auto (dynamic for fp16, none otherwise), none, dynamic, or a "
                         "static value such as 1024; applies where gradients are computed. The "
                         "record says whether the gradients were finite and, in train, how many "
                         "measured steps skipped their update (warned about)")
    compute.add_argument("--xla", action="store_true",
                         help="compile the step with XLA (checked: the record says whether it "
                         "really ran compiled)")
    compute.add_argument("--no-peak-probe", action="store_true",
                         help="skip the matrix-product probe of the device's attainable TFLOP/s "
                         "(no efficiency then)")
    compute.add_argument("--peak-probe-size", type=int, default=0, metavar="N",
                         help="matrix size of the probe; 0: 8192 on a GPU, 2048 on the CPU")
    compute.add_argument("--trace", metavar="FILE",
                         help="write a Chrome trace (chrome://tracing, ui.perfetto.dev) of the "
                         "last burn-in step to FILE (needs --burn-in 2 or more, so the traced "
                         "step is not the cold one); with several configurations FILE gets "
                         "'.<depth>_<batch>_<mode>' before its extension")
    output = parser.add_argument_group("output")
    output.add_argument("--output", metavar="FILE",
                        help="append one JSON record per configuration to FILE (JSON Lines), "
                        "flushed as each configuration finishes")
    output.add_argument("--format", choices=report.OUTPUT_FORMATS, default="table",
                        help="final output on stdout; with json/csv, progress goes to stderr")
    output.add_argument("--table-format", default="github",
                        help="tabulate table format (github, plain, grid, pipe, ...)")
    output.add_argument("--display-every", type=int, default=10,
                        help="print a progress line every N measured steps")
    output.add_argument("--quiet", action="store_true",
                        help="print only the final output (no header, progress or summaries)")
    output.add_argument("--verbose", action="store_true",
                        help="let TensorFlow's C++ log lines and Python warnings through")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line.

    Args:
      argv: arguments without the program name (default sys.argv[1:]).

    Returns:
      The exit status (see the module docstring).
    """
    try:
        with runner.raise_on_sigterm():
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
    quiet.silence_python_warnings(args.verbose)
    _check_table_format(args.table_format)
    _check_output_path(args.output)
    _check_trace_path(args.trace)
    common = _common_settings(args)
    depth_tokens = _parse_depth_tokens(_as_list(args.depth))
    batch_sizes, modes = _as_list(args.batch), _as_list(args.mode)
    # Everything that needs no TensorFlow is checked first, so bad input fails fast.
    _validated(expand_sweep([50], batch_sizes, modes, **common))

    environment.import_tensorflow(args.verbose)
    from slim_resnet import VALID_DEPTHS

    configs = _with_trace_paths(
        expand_sweep(_expand_depths(depth_tokens, VALID_DEPTHS), batch_sizes, modes, **common),
        args.trace)
    try:
        configs, environment_info = runner.prepare(configs, verbose=args.verbose)
    except ConfigError as error:
        raise UsageError(_config_error_line(error)) from None
    sink = _open_output(args.output)
    human = None if args.quiet else (sys.stdout if args.format == "table" else sys.stderr)
    try:
        outcome = _run(configs, environment_info, args, human, sink)
    finally:
        if sink is not None:
            sink.close()
    return _finish(outcome, args, human)


def _common_settings(args: argparse.Namespace) -> dict:
    """BenchmarkConfig fields shared by every configuration of the sweep."""
    return {
        "num_batches": args.num_batches,
        "burn_in": args.burn_in,
        "image_size": args.image_size,
        "num_classes": args.num_classes,
        "seed": args.seed,
        "device": args.device,
        "intra_op_threads": args.intra_op_threads,
        "inter_op_threads": args.inter_op_threads,
        "display_every": args.display_every,
        "data_format": args.data_format,
        "precision": args.precision,
        "loss_scale": args.loss_scale,
        "xla": args.xla,
        "trace": args.trace,
        "peak_probe": not args.no_peak_probe,
        "peak_probe_size": args.peak_probe_size,
    }


def _with_trace_paths(configs: list[BenchmarkConfig], trace: str | None) -> list[BenchmarkConfig]:
    """Gives each configuration its own trace file when a sweep has several: 'step.json' becomes
    'step.50_8_forward.json'; a single configuration writes to the file as given."""
    if trace is None or len(configs) < 2:
        return configs
    root, extension = os.path.splitext(trace)
    return [dataclasses.replace(
        config, trace=f"{root}.{config.depth}_{config.batch_size}_{config.mode}{extension}")
        for config in configs]


def _as_list(value) -> list:
    """A flag's value as a list (defaults are single values, given values lists)."""
    return value if isinstance(value, list) else [value]


def _parse_depth_tokens(tokens: Sequence[str]) -> list:
    """--depth values as ints, or the string 'all'; raises UsageError for anything else."""
    parsed = []
    for token in tokens:
        if token.lower() == "all":
            parsed.append("all")
            continue
        try:
            parsed.append(int(token))
        except ValueError:
            raise UsageError(
                f"--depth {token}: not a depth; choose from 50, 101, 152, 200 or all"
            ) from None
    return parsed


def _expand_depths(tokens: Sequence, valid_depths: Sequence[int]) -> list[int]:
    """Replaces 'all' by every valid depth (order kept, repeats dropped later)."""
    depths: list[int] = []
    for token in tokens:
        depths.extend(valid_depths if token == "all" else [token])
    return depths


def _validated(configs: Sequence[BenchmarkConfig]) -> None:
    """Validates configurations; raises UsageError naming the flag of the first bad value."""
    for config in configs:
        try:
            config.validate()
        except ConfigError as error:
            raise UsageError(_config_error_line(error)) from None


def _config_error_line(error: ConfigError) -> str:
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


def _check_output_path(path: str | None) -> None:
    """Raises UsageError if results could not be appended to `path` (nothing is created)."""
    if path is None:
        return
    if os.path.isdir(path):
        raise UsageError(f"--output {path}: is a directory; give a file to append results to")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"--output {path}: not writable; give a file you can write")
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"--output {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"--output {path}: cannot create a file in {directory}")


def _check_trace_path(path: str | None) -> None:
    """Raises UsageError if a trace could not be written to `path` (nothing is created)."""
    if path is None:
        return
    from bench.trace import check_trace_path

    try:
        check_trace_path(path)
    except ValueError as error:
        raise UsageError(f"--trace {error}") from None


def _open_output(path: str | None) -> report.JsonLinesFile | None:
    """Opens the JSON Lines file, or raises UsageError."""
    if path is None:
        return None
    try:
        return report.JsonLinesFile(path)
    except OSError as error:
        raise UsageError(f"--output {path}: cannot open for appending ({error.strerror})") from None


def _run(
    configs, environment_info: dict, args, human: IO[str] | None, sink
) -> runner.SweepOutcome:
    """Prints the header, runs the sweep, writes and summarises each result as it arrives."""
    isolate = not args.in_process
    if human is not None:
        _print_lines(report.header_lines(environment_info, configs, isolate), human)
    position = iter(range(1, len(configs) + 1))

    def on_start(config: BenchmarkConfig) -> None:
        if human is not None:
            _print_lines(["", report.start_line(config, next(position), len(configs))], human)

    def on_result(result) -> None:
        if sink is not None:
            sink.write(result)
        if human is not None:
            _print_lines(report.summary_lines(result), human)

    return runner.run_sweep(
        configs, environment_info, isolate=isolate, verbose=args.verbose, progress=human,
        on_start=on_start, on_result=on_result,
    )


def _finish(outcome: runner.SweepOutcome, args, human: IO[str] | None) -> int:
    """Prints the final output and returns the exit status."""
    if human is not None:
        lines = [""]
        overhead = report.overhead_line(outcome.results)
        if overhead:
            lines.append(overhead)
        _print_lines(lines, human)
    if outcome.interrupted:
        print(f"Interrupted: {sum(r.ok for r in outcome.results)} configuration(s) finished, "
              f"{len(outcome.not_run)} not run.", file=sys.stderr, flush=True)
    if outcome.results:
        print(report.render(outcome.results, args.format, args.table_format), flush=True)
        if args.format == "table" and not args.quiet:
            _print_lines(report.table_footnotes(outcome.results, outcome.not_run), sys.stdout)
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if outcome.any_failed else EXIT_OK


def _print_lines(lines: Sequence[str], stream: IO[str]) -> None:
    """Prints lines and flushes (children write to the same file descriptors)."""
    for line in lines:
        print(line, file=stream)
    stream.flush()
