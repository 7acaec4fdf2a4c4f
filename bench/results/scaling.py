"""Scaling efficiency: how close N replicas come to N times the throughput of one.

efficiency = images/sec(N replicas) / (N x images/sec(1 replica)), against the 1-replica run
(one device, one worker) of the same sweep whose other settings are all equal (every sweep axis
but the device count). 1.0 is perfect scaling. A configuration with no such run has none (None).
No TensorFlow here.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.core import axes
from bench.core.config import BenchmarkConfig
from bench.results.result import BenchmarkResult


def baseline_key(config: BenchmarkConfig) -> tuple:
    """What a configuration shares with its 1-replica baseline: every axis but the device count."""
    return axes.comparison_key(config, leave_out="num_devices")


def efficiency(result: BenchmarkResult, baselines: Sequence[BenchmarkResult]) -> float | None:
    """The scaling efficiency of `result` against the matching 1-replica result in `baselines`.

    Args:
      result: a result, measured or not.
      baselines: results to look for its 1-replica run in (others are ignored).

    Returns:
      The efficiency; 1.0 for a measured 1-replica result itself; None when `result` failed or
      no measured 1-replica run matches.
    """
    if not result.ok:
        return None
    if result.config.replicas == 1:
        return 1.0
    key = baseline_key(result.config)
    for baseline in baselines:
        if baseline.ok and baseline.config.replicas == 1 and baseline_key(baseline.config) == key:
            single = baseline.stats.images_per_sec
            return result.stats.images_per_sec / (result.config.replicas * single) if single else None
    return None


def efficiencies(results: Sequence[BenchmarkResult]) -> list[float | None]:
    """Each result's efficiency against the results beside it; a result whose 1-replica run is not
    among them keeps the efficiency its record was written with."""
    found = [efficiency(result, results) for result in results]
    return [
        value if value is not None or not result.ok else result.scaling_efficiency
        for value, result in zip(found, results, strict=True)
    ]
