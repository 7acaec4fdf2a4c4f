"""Comparing files that differ in precision or XLA throughout: an fp32 run against a bf16 run.

`bench.results.compare` matches configurations on every sweep axis, so a file measured in fp32 and
one measured in bf16 share no configuration. When that is so, and each file holds one precision
(and one XLA setting), the configurations are matched across those axes instead: each row then says
what the faster setting gains (the ratio) and what it costs in the answer (the agreement with fp32
its untimed pass measured, `bench.results.quality`). No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.core import axes

# The axes a comparison may match across: the settings whose answers are compared with fp32's.
ACROSS_FIELDS = ("precision", "xla")


def across_fields(results_per_file: Sequence[Sequence]) -> list[str]:
    """The fields of ACROSS_FIELDS that hold one value in each file and differ between the files.

    Args:
      results_per_file: each file's results (anything with a `.config`).

    Returns:
      e.g. ['precision']; [] when no file pair differs that way.
    """
    found = []
    for field in ACROSS_FIELDS:
        values = [{getattr(result.config, field) for result in results} for results in results_per_file]
        if all(len(held) == 1 for held in values) and len(set().union(*values)) > 1:
            found.append(field)
    return found


def key_without(config, fields: Sequence[str]) -> tuple:
    """The configuration's key (every sweep axis) with `fields` left out."""
    return tuple(axis.of(config) for axis in axes.AXES if axis.field not in fields)


def first_quality(results: Sequence):
    """The quality facts of the first result that has them (None when none has)."""
    return next((result.extra.quality for result in results if result.extra.quality is not None), None)
