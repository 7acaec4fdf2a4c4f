"""Which command-line flag sets each BenchmarkConfig field, for messages, labels and comparisons.

The sweep axes' flags come from `bench.core.axes`; the other fields are listed here. The command
line (`bench.verbs.flags`) spells the flags; results, plots and errors name a field by its flag.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bench.core import axes
from bench.core.config import field_default

# BenchmarkConfig fields that are not sweep axes -> the flag that sets them, for error messages.
_OTHER_FLAGS = {
    "num_batches": "--num-batches",
    "target_ci": "--target-ci",
    "max_time": "--max-time",
    "burn_in": "--burn-in",
    "num_classes": "--num-classes",
    "seed": "--seed",
    "device": "--device",
    "intra_op_threads": "--intra-op-threads",
    "inter_op_threads": "--inter-op-threads",
    "display_every": "--display-every",
    "trace": "--trace",
    "loss_scale": "--loss-scale",
    "peak_probe_size": "--peak-probe-size",
    "memory_limit": "--memory-limit",
    "gpu_memory_limit": "--gpu-memory-limit",
    "timeout": "--timeout",
    "peer_timeout": "--peer-timeout",
    "workers": "--workers",
    "data_threads": "--data-threads",
    "preprocessing": "--preprocessing",
    "breakdown": "--breakdown",
    "checkpoint": "--checkpoint",
    "quality": "--quality",
    "quality_images": "--quality-images",
}
FLAG_OF_FIELD = {**{axis.field: axis.flag for axis in axes.AXES}, **_OTHER_FLAGS}

# Fields whose value 0 the command line also takes as this word (and shows so).
ZERO_WORDS = {"intra_op_threads": "default", "inter_op_threads": "default"}
# Switches: field -> the value the field has when the switch is given.
SWITCHES = {"peak_probe": False, "agreement": False}
SWITCH_FLAGS = {"peak_probe": "--no-peak-probe", "agreement": "--no-agreement"}
GIVEN, NOT_GIVEN = "given", "not given"


def setting_name(field: str) -> str:
    """How a user names a setting: its flag ('--intra-op-threads', '--no-peak-probe'), or for a field
    only the Python API sets, its keyword ('momentum')."""
    return SWITCH_FLAGS.get(field) or FLAG_OF_FIELD.get(field) or field


def setting_value(field: str, value: object) -> str:
    """A setting's value as the user types it after `setting_name`: 'default' for a thread count
    of 0, an axis value as its flag takes it ('on' for XLA), 'given' or 'not given' for a switch,
    'not given' for a flag left out (None)."""
    if field in SWITCHES:
        return GIVEN if value == SWITCHES[field] else NOT_GIVEN
    if value is None:
        return NOT_GIVEN
    if value == 0 and field in ZERO_WORDS:
        return ZERO_WORDS[field]
    axis = axes.AXIS_OF_FIELD.get(field)
    return axis.cell(value) if axis else str(value)


def zero_or_word(field: str) -> Callable[[str], int]:
    """The command line's type of a count that also takes ZERO_WORDS[field] for 0 ('default')."""

    def parse(token: str) -> int:
        if token.strip().lower() == ZERO_WORDS[field]:
            return 0
        try:
            return int(token)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{token!r}: not a thread count; give a whole number or {ZERO_WORDS[field]}"
            ) from None

    return parse


def add_config_flag(group, flag: str, **kwargs) -> None:
    """Adds `flag` to an argparse group or parser, setting the BenchmarkConfig field of its name
    (`--burn-in`: burn_in) with that field's default (`bench.core.config.field_default`)."""
    group.add_argument(flag, default=field_default(flag[2:].replace("-", "_")), **kwargs)
