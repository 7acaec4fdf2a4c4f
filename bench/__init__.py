"""Graph-mode benchmark harness for the TF-Slim ResNet v2 family."""

from bench.axes import expand_sweep
from bench.config import BenchmarkConfig
from bench.errors import ConfigError
from bench.result import BenchmarkResult, Failure
from bench.sweep import SweepOutcome, prepare, run, run_sweep
from bench.timing import Measurement

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
