"""Graph-mode benchmark harness for the TF-Slim ResNet v2 family."""

from bench.core.axes import expand_sweep
from bench.core.config import BenchmarkConfig
from bench.core.errors import ConfigError
from bench.results.measurement import Measurement
from bench.results.result import BenchmarkResult, Failure
from bench.sweeping.sweep import SweepOutcome, prepare, run, run_sweep

__all__ = [
    "BenchmarkConfig",
    "BenchmarkResult",
    "ConfigError",
    "Failure",
    "Measurement",
    "SweepOutcome",
    "expand_sweep",
    "prepare",
    "run",
    "run_sweep",
]
