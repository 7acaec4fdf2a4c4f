"""The flags of `python -m bench`: names, defaults, help and examples (`bench.verbs.flag_checks`
checks what argparse cannot).

Every sweep axis of `bench.core.axes` gets a flag taking one or more values; the other flags set what
every configuration of a sweep shares. No TensorFlow here.
"""

from __future__ import annotations

import argparse

from bench.core import axes, flag_names
from bench.core import steps as steps_rule
from bench.core.config import (
    BREAKDOWN_TRACED_STEPS,
    DEVICES,
    PREPROCESSINGS,
    REAL_DATA_CLASSES,
    field_default,
)
from bench.core.flag_names import add_config_flag
from bench.output import report
from bench.verbs.quality_flags import add_quality_flags
from bench.verbs.usage import OneLineParser

PROG = "python -m bench"

EXAMPLES = """\
examples:
  python -m bench --depth 152 --batch 32 --mode forward-backward
  python -m bench --depth 50 101 --batch 8 --mode forward forward-backward --num-batches 20 \\
      --burn-in 3 --output results.jsonl
  python -m bench --depth all --batch 1 16 --mode train --device cpu --format csv > sweep.csv
  python -m bench --depth 50 --batch 256 --mode train --precision fp16 --xla --trace step.json
  python -m bench --depth 50 --batch 16 --precision fp32 bf16 --xla off on --image-size 224 299
  python -m bench --depth all --batch max --mode train --memory-limit 6GiB --output search.jsonl
  python -m bench --depth all --batch 64 --mode train --memory-limit 6GiB --timeout 600 \\
      --output sweep.jsonl --resume
  python -m bench --depth 50 101 --batch 8 --repeat 5 --output new.jsonl
  python -m bench compare base.jsonl new.jsonl      (see python -m bench compare --help)
  python -m bench plot results.jsonl -o results.png  (see python -m bench plot --help)
  python -m bench --depth 50 --batch 64 --mode train --num-devices 1 2 4 8
  python -m bench --device cpu --workers 2 --depth 50 --batch 2 --image-size 64 --mode train
  python -m bench make-data shards --images 256       (see python -m bench make-data --help)
  python -m bench --data shards --mode train --batch 32 --device cpu   # real data, and a verdict
"""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults and keeps the examples' line breaks; a switch, a flag whose default is None
    (not given) or whose help says its default in words shows no '(default: ...)' of argparse's."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.nargs == 0 or "(default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _add_axis(group: argparse._ArgumentGroup, axis: axes.Axis) -> None:
    """One flag for a sweep axis: one or more values; the default is a single value so that
    --help shows it plainly (see `_tokens`). --xla alone means on."""
    group.add_argument(
        axis.flag,
        dest=axis.field,
        nargs="*" if axis.field == "xla" else "+",
        type=axis.arg_type,
        choices=axis.choices,
        default=axis.default,
        metavar=axis.metavar,
        help=axis.help,
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every flag with its default; examples in the epilog)."""
    parser = OneLineParser(
        prog=PROG,
        description="Time TF-Slim ResNet v2 networks in graph mode on synthetic on-device inputs, "
        "or on real data read through tf.data (--data PATH). "
        "Every flag of the first group takes several values; the sweep runs every combination, "
        "one child process per configuration.",
        epilog=EXAMPLES,
        formatter_class=_HelpFormatter,
    )
    sweep_group = parser.add_argument_group("what to run (every combination is run)")
    for axis in axes.AXES:
        _add_axis(sweep_group, axis)
    steps = parser.add_argument_group("steps and inputs")
    add_config_flag(steps, "--num-batches",
        type=_num_batches,
        metavar="N|auto",
        help="measured steps; auto: until the 95%% CI of the mean step is within --target-ci "
        f"(at least {steps_rule.MIN_AUTO_STEPS} steps; the record and summary say why it stopped)",
    )
    steps.add_argument(
        "--target-ci",
        type=float,
        default=None,
        metavar="PCT",
        help="with --num-batches auto: the 95%% CI's half-width to reach, in percent of the mean "
        f"step (default: {steps_rule.DEFAULT_TARGET_CI_PCT:g})",
    )
    steps.add_argument(
        "--max-time",
        type=float,
        default=None,
        metavar="SECONDS",
        help="bound each configuration's measured steps to SECONDS (checked every tenth of the steps "
        f"so far; default: {steps_rule.DEFAULT_AUTO_MAX_TIME_S:g} with --num-batches auto, else none)",
    )
    add_config_flag(steps, "--burn-in",
        type=int,
        help="unmeasured steps before them (the first is the cold step; in "
        "forward-backward a dynamic loss scale settles during them)",
    )
    steps.add_argument(
        "--num-classes",
        type=int,
        default=None,
        help=f"logits per image (default: {field_default('num_classes')}, or {REAL_DATA_CLASSES} with real "
        "data: class 0 is the "
        "background and the stored labels are the classes, as TF-Slim's checkpoints)",
    )
    add_config_flag(steps, "--data-threads",
        type=int,
        metavar="N",
        help="with real data: a private pool of N threads for the input pipeline's parallel stages "
        "(0: tf.data's AUTOTUNE)",
    )
    add_config_flag(steps, "--preprocessing",
        choices=PREPROCESSINGS,
        help="with real data: TF-Slim's preprocessing (training modes and input: its training "
        "augmentation; forward: the evaluation path of feature extraction)",
    )
    add_config_flag(steps, "--seed", type=int, help="random seed of inputs and weights")
    steps.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="measure each configuration in N child processes, interleaved across the sweep (A B C "
        "A B C ...); one record per process, and a summary over processes: mean, 95%% CI, spread",
    )
    device = parser.add_argument_group("device and threads")
    add_config_flag(device, "--device",
        choices=DEVICES,
        help="auto: the first GPU TensorFlow sees, else the CPU",
    )
    for pool in ("intra", "inter"):
        device.add_argument(
            f"--{pool}-op-threads",
            type=flag_names.zero_or_word(f"{pool}_op_threads"),
            default=flag_names.ZERO_WORDS[f"{pool}_op_threads"],
            metavar="N",
            help=f"TensorFlow {pool}-op threads: a number, or default for TensorFlow's choice (0 means "
            "the same)",
        )
    device.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="data-parallel across N worker processes started on this machine (free localhost "
        "ports, TF_CONFIG each); on a real cluster set TF_CONFIG instead and run the same "
        "command on every machine (default: 1, or the cluster in TF_CONFIG). Security: each "
        "worker runs TensorFlow's gRPC server, which has no authentication (whoever reaches its "
        "port can run code as you) and listens on every interface; local workers get a network "
        "of their own with loopback only (unshare) where the machine allows it, otherwise, and "
        "always with TF_CONFIG, a WARNING line names the open ports: trusted networks only",
    )
    device.add_argument(
        "--in-process",
        action="store_true",
        help="run every configuration in this process instead of one child "
        "process each (a crash then ends the sweep)",
    )
    bounds = parser.add_argument_group("bounds on each configuration (its child process)")
    bounds.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="bound each child's resident memory to SIZE, e.g. 6GiB (at least 1GiB): a "
        "configuration that needs more is stopped, its row 'over the memory limit (6 GiB)', "
        "and the sweep goes on",
    )
    bounds.add_argument(
        "--gpu-memory-limit",
        metavar="SIZE",
        help="on a GPU, let TensorFlow allocate at most SIZE on each device (e.g. 8GiB, to "
        "stand in for a smaller card)",
    )
    bounds.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop a configuration still running SECONDS after its child started: its row says "
        "'timeout', the steps it finished are kept in its record, the sweep goes on",
    )
    bounds.add_argument(
        "--peer-timeout",
        type=float,
        metavar="SECONDS",
        help="with several workers, end a configuration when a peer's port has not answered "
        "for SECONDS while this worker finished no step: its row names the peer (default: 15)",
    )
    compute = parser.add_argument_group("loss scale, cost, trace")
    add_config_flag(compute, "--loss-scale",
        help="auto (dynamic for fp16, none otherwise), none, dynamic, or a "
        "static value such as 1024; applies where gradients are computed. The "
        "record says whether the gradients were finite and, in train, how many "
        "measured steps skipped their update (warned about)",
    )
    compute.add_argument(
        "--no-peak-probe",
        action="store_true",
        help="skip the matrix-product probe of the device's attainable TFLOP/s (no efficiency then)",
    )
    add_config_flag(compute, "--peak-probe-size",
        type=int,
        metavar="N",
        help="matrix size of the probe; 0: 8192 on a GPU, 2048 on the CPU",
    )
    compute.add_argument(
        "--trace",
        metavar="FILE",
        help="write a Chrome trace (chrome://tracing, ui.perfetto.dev) of the "
        "last burn-in step to FILE (needs --burn-in 2 or more, so the traced "
        "step is not the cold one); with several configurations FILE gets "
        "'.<depth>_<batch>_<mode>' (and any other varying setting) before its "
        "extension",
    )
    compute.add_argument(
        "--breakdown",
        nargs="?",
        const="blocks",
        metavar="LEVEL",
        help=f"after the measured steps, run {BREAKDOWN_TRACED_STEPS} more fully traced steps (not measured) "
        "and show where "
        "the step's op time and FLOPs go: root, block1..block4, head, loss, the backward of each, "
        "optimizer, other; LEVEL units splits each block into its units (default: blocks)",
    )
    add_quality_flags(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "--output",
        metavar="FILE",
        help="append one JSON record per configuration to FILE (JSON Lines), "
        "flushed as each configuration finishes",
    )
    output.add_argument(
        "--resume",
        action="store_true",
        help="with --output FILE: configurations FILE already holds an 'ok' record of (same "
        "settings) are not run again; the table shows them with the new ones",
    )
    output.add_argument(
        "--format",
        choices=report.OUTPUT_FORMATS,
        default="table",
        help="final output on stdout; with json/csv, progress goes to stderr",
    )
    output.add_argument(
        "--table-format", default="github", help="tabulate table format (github, plain, grid, pipe, ...)"
    )
    add_config_flag(output, "--display-every",
        type=int,
        help="print a progress line every N measured steps",
    )
    output.add_argument(
        "--quiet", action="store_true", help="print only the final output (no header, progress or summaries)"
    )
    output.add_argument(
        "--verbose", action="store_true", help="let TensorFlow's C++ log lines and Python warnings through"
    )
    return parser


def _num_batches(text: str) -> int | str:
    """--num-batches: 'auto' or an integer (its range is the configuration's to check)."""
    if text == steps_rule.AUTO:
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of steps or {steps_rule.AUTO}") from None
