"""Graph-mode benchmark harness for the TF-Slim ResNet v2 family."""

from bench.config import BenchmarkConfig, ConfigError, expand_sweep
from bench.runner import SweepOutcome, prepare, run, run_sweep
from bench.timing import BenchmarkResult, Failure, Measurement

__all__ = [
    "BenchmarkConfig", "BenchmarkResult", "ConfigError", "Failure", "Measurement",
    "SweepOutcome", "expand_sweep", "prepare", "run", "run_sweep",
]
