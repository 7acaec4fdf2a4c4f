"""Graph-mode benchmark harness for the TF-Slim ResNet v2 family.

Importing it makes TensorFlow as quiet as the command line (`bench.core.quiet.quiet_library_use`;
BENCH_VERBOSE=1 or a TF_CPP_MIN_LOG_LEVEL of your own keeps TensorFlow's lines).
"""

from bench.core import quiet as _quiet
from bench.core.axes import expand_sweep
from bench.core.config import BenchmarkConfig
from bench.core.errors import ConfigError
from bench.results.measurement import Measurement
from bench.results.result import BenchmarkResult, Failure
from bench.sweeping.sweep import SweepOutcome, prepare, run, run_sweep

_quiet.quiet_library_use()

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
