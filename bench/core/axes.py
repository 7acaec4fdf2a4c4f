"""Sweep axes: the settings a sweep can vary, declared once, and the sweep as their product.

Each `Axis` names a BenchmarkConfig field, the command-line flag that sets it, how a flag value
becomes config values (`bench.core.axis_tokens`), and the table column that shows it. The command
line adds one flag per axis, `expand` builds the product, `varying` tells which axes a sweep varies,
and the report and table read that. Depth, batch and mode are the sweep's identity and always get a
column; the other axes get one only when they vary. The product nests in the order of `AXES` (depth
outermost), so configurations that differ only in a later axis sit next to each other in the table.

No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence

from bench.core import axis_tokens as tokens
from bench.core.config import DATA_FORMATS, MODES, PRECISIONS, BenchmarkConfig, field_default


@dataclasses.dataclass(frozen=True)
class Axis:
    """One setting a sweep can vary.

    Attributes:
      field: the BenchmarkConfig field.
      flag: the command-line flag, e.g. '--depth'.
      header: the table column's title.
      help: the flag's help text.
      parse: turns one command-line token into config values (several for 'all'); raises
        ConfigError for a token it does not know.
      choices: tokens the command line accepts, or None for any.
      metavar: the flag's placeholder in --help.
      cell: formats a config value for the table and the header.
      always_shown: the table shows this column even when the sweep does not vary it.
      in_file_name: the value as part of a file name (per-configuration trace files).
      arg_type: the command line's conversion of a token before `parse` (int: argparse's own
        'invalid int value' message).
    """

    field: str
    flag: str
    header: str
    help: str
    parse: Callable[[str], list]
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    cell: Callable[[object], str] = str
    always_shown: bool = False
    in_file_name: Callable[[object], str] = str
    arg_type: Callable[[str], object] = str

    @property
    def default(self) -> str:
        """The flag's default, as the user would type it: the BenchmarkConfig field's default,
        so that each default is written once."""
        return self.cell(field_default(self.field))

    def values(self, tokens: Iterable[str]) -> list:
        """Config values for the flag's tokens, repeats dropped, first-seen order kept.

        Raises:
          ConfigError: for a token the axis does not know.
        """
        return _unique(value for token in tokens for value in self.parse(str(token)))

    def of(self, config: BenchmarkConfig) -> object:
        """This axis's value in `config`."""
        return getattr(config, self.field)


def _whole_number_axis(field: str, flag: str, header: str, help: str, unit: str) -> Axis:
    """An axis of whole numbers (argparse refuses other tokens), named in file names as the number
    and `unit`, e.g. '224px'."""
    return Axis(field, flag, header, help, tokens.integers(field), metavar="N",
                in_file_name=lambda value: f"{value}{unit}", arg_type=int)


AXES: tuple[Axis, ...] = (
    Axis(
        "depth",
        "--depth",
        "Depth",
        "network depths: 50 101 152 200, or all",
        tokens.depths,
        metavar="DEPTH",
        always_shown=True,
    ),
    Axis(
        "batch_size",
        "--batch",
        "Batch",
        "batch sizes (positive integers), or max: the largest batch that fits, searched per "
        "configuration from batch 1 (max:N: from batch N; on the CPU it needs --memory-limit)",
        tokens.integers("batch_size"),
        metavar="N",
        always_shown=True,
        arg_type=tokens.batch_token,
    ),
    Axis(
        "mode",
        "--mode",
        "Mode",
        "what a step computes",
        tokens.choice("mode", MODES),
        choices=MODES,
        always_shown=True,
    ),
    Axis(
        "precision",
        "--precision",
        "Precision",
        "compute types; variables, batch-norm statistics and the loss stay fp32",
        tokens.choice("precision", PRECISIONS),
        choices=PRECISIONS,
    ),
    Axis(
        "xla",
        "--xla",
        "XLA",
        "compile the step with XLA: off, on, or both (--xla alone means "
        "on; the record says whether it really ran compiled)",
        tokens.xla,
        choices=tuple(tokens.XLA_WORDS),
        cell=tokens.on_off,
        in_file_name=lambda value: "xla" if value else "noxla",
    ),
    Axis(
        "data_format",
        "--data-format",
        "Layout",
        "activation layouts; auto: NCHW on a GPU "
        "(cuDNN's native layout), NHWC on the CPU (NCHW is refused there)",
        tokens.choice("data_format", DATA_FORMATS),
        choices=DATA_FORMATS,
    ),
    _whole_number_axis("image_size", "--image-size", "Image", "image heights and widths (at least 32)", "px"),
    _whole_number_axis(
        "num_devices",
        "--num-devices",
        "Devices",
        "replicas per worker, one per device: the first N GPUs, or N logical CPU devices; "
        "--batch is per replica, the global batch is replicas x batch",
        "dev",
    ),
    Axis(
        "data",
        "--data",
        "Data",
        "synthetic (images living on the device, no input pipeline) or PATH: TFRecord shards in "
        "ImageNet's format (a folder, a shard prefix such as /data/imagenet/train, or one file) or "
        "a folder of class sub-folders of images, read through tf.data (see docs/real-data.md)",
        tokens.data,
        metavar="DATA",
        in_file_name=tokens.data_in_file_name,
    ),
)
AXIS_OF_FIELD: Mapping[str, Axis] = {axis.field: axis for axis in AXES}


def expand(values: Mapping[str, Sequence], **common) -> list[BenchmarkConfig]:
    """Every combination of the axes' values, in the nesting order of AXES.

    Args:
      values: {axis field: values}; an axis left out keeps its value from `common`, else the
        BenchmarkConfig default.
      **common: the other BenchmarkConfig fields, shared by every configuration.

    Returns:
      One BenchmarkConfig per combination (not validated), duplicates removed, order kept.
    """
    fields = [axis.field for axis in AXES if axis.field in values]
    combinations = itertools.product(*(_unique(values[field]) for field in fields))
    configs = [
        BenchmarkConfig(**common, **dict(zip(fields, combination, strict=True)))
        for combination in combinations
    ]
    return _unique(configs)


def expand_sweep(
    depths: Iterable[int], batch_sizes: Iterable[int], modes: Iterable[str], **common
) -> list[BenchmarkConfig]:
    """Every combination depth x batch size x mode, in that nesting order (see `expand`)."""
    return expand({"depth": list(depths), "batch_size": list(batch_sizes), "mode": list(modes)}, **common)


def varying(configs: Sequence[BenchmarkConfig]) -> list[Axis]:
    """The axes whose value differs between `configs`, in AXES order."""
    return [axis for axis in AXES if len({axis.of(config) for config in configs}) > 1]


def shown(configs: Sequence[BenchmarkConfig]) -> list[Axis]:
    """The axes the table shows for `configs`: those always shown, and those that vary."""
    moving = varying(configs)
    return [axis for axis in AXES if axis.always_shown or axis in moving]


def with_trace_paths(configs: list[BenchmarkConfig], trace: str | None) -> list[BenchmarkConfig]:
    """Gives each configuration its own trace file when a sweep has several: 'step.json' becomes
    'step.50_8_forward.json', plus '_<value>' for every other axis the sweep varies
    ('step.50_8_forward_xla_299px.json'); a single configuration writes to the file as given."""
    if trace is None or len(configs) < 2:
        return configs
    root, extension = os.path.splitext(trace)
    named = shown(configs)
    return [
        dataclasses.replace(
            config,
            trace=root + "." + "_".join(axis.in_file_name(axis.of(config)) for axis in named) + extension,
        )
        for config in configs
    ]


def comparison_key(config: BenchmarkConfig, leave_out: str = "depth") -> tuple:
    """The values of every axis but `leave_out`: configurations with equal keys differ only there."""
    return tuple(axis.of(config) for axis in AXES if axis.field != leave_out)


def _unique(values: Iterable) -> list:
    """The values with repeats dropped, first occurrence order kept."""
    return list(dict.fromkeys(values))


def description(config: BenchmarkConfig, moving: Sequence[Axis] = ()) -> str:
    """The configuration's label ('resnet_v2_50 batch 8 forward bf16 XLA'), plus the layout and
    image size when they are among `moving` (the label names the other axes)."""
    extras = [
        f"{axis.header.lower()} {axis.cell(axis.of(config))}"
        for axis in moving
        if axis.field in ("data_format", "image_size")
    ]
    return config.label + (f" ({', '.join(extras)})" if extras else "")
