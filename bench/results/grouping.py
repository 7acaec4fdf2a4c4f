"""Results of the same configuration: the key that says two records measured the same thing.

A configuration is every sweep axis (depth, batch, mode, image size, data format, precision,
XLA, devices, ...): records with equal keys are repeats of one configuration, whatever else
differs (the repeat index, the time, the machine's state). No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.core import axes
from bench.core.config import BenchmarkConfig
from bench.results.result import BenchmarkResult


def configuration_key(config: BenchmarkConfig) -> tuple:
    """The values of every sweep axis: records with equal keys measured the same configuration."""
    return axes.comparison_key(config, leave_out=None)


def group(results: Sequence[BenchmarkResult]) -> list[list[BenchmarkResult]]:
    """The results per configuration, configurations in order of first appearance, each group's
    results in order of their repeat index (then of appearance)."""
    groups: dict[tuple, list[BenchmarkResult]] = {}
    for result in results:
        groups.setdefault(configuration_key(result.config), []).append(result)
    return [sorted(members, key=lambda r: r.repeat.index if r.repeat else 0) for members in groups.values()]
