"""Helpers for the bench tests: results built from fixed step times (no TensorFlow needed)."""

import pytest

from bench.config import BenchmarkConfig
from bench.timing import STATUS_FAILED, BenchmarkResult, Failure, Measurement

ENVIRONMENT = {
    "tensorflow_version": "2.21.0",
    "python_version": "3.11.7",
    "platform": "Linux",
    "device": "cpu",
    "device_name": "Test CPU",
    "cpu_model": "Test CPU",
    "cpu_count": 2,
    "usable_cpu_count": 2,
    "gpu_names": [],
    "cuda_build": True,
    "cuda_version": "12.5.1",
    "cudnn_version": "9",
}


def measured(depth, batch_size, mode, step_times_s, burn_in_times_s=(1.0, 0.2)):
    """An 'ok' result with the given raw times (loop wall = sum of the steps + 1 ms)."""
    config = BenchmarkConfig(depth=depth, batch_size=batch_size, mode=mode, device="cpu",
                             num_batches=len(step_times_s), burn_in=len(burn_in_times_s))
    measurement = Measurement(list(step_times_s), list(burn_in_times_s),
                              loop_wall_s=sum(step_times_s) + 0.001)
    return BenchmarkResult(config=config, measurement=measurement, param_count=25_568_360,
                           environment=dict(ENVIRONMENT), started_at="2026-01-01T00:00:00+00:00",
                           phases_s={"graph_build": 1.0, "session_init": 0.5})


def failed(depth, batch_size, mode, failure):
    """A 'failed' result."""
    config = BenchmarkConfig(depth=depth, batch_size=batch_size, mode=mode, device="cpu")
    return BenchmarkResult(config=config, status=STATUS_FAILED, failure=failure,
                           environment=dict(ENVIRONMENT))


@pytest.fixture
def make_measured():
    """Factory: make_measured(depth, batch_size, mode, step_times_s) -> an 'ok' result."""
    return measured


@pytest.fixture
def environment_info():
    """A fixed environment description."""
    return dict(ENVIRONMENT)


@pytest.fixture
def sweep_results():
    """Three measured configurations and two failures, in sweep order."""
    return [
        measured(50, 8, "forward", [0.100] * 12),
        measured(101, 8, "forward", [0.200, 0.202, 0.198] * 4),
        measured(50, 8, "train", [0.400] * 12),
        failed(101, 8, "train", Failure("oom", "ResourceExhaustedError: OOM when allocating")),
        failed(152, 8, "forward", Failure("signal", "killed by signal 9 (SIGKILL)", -9, 9)),
    ]
