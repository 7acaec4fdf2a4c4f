"""The GPU memory cap applied before anything creates an allocator (bench/step/gpu_memory.py).

No GPU here: the order is what is proven. TensorFlow's devices, on a CPU as on a GPU, are created
once per process with the eager context; a cap asked for after that is refused, and a real child
measuring the path that used to start the context first (replicas, no peak probe) gets its cap in.
"""

import pytest
import tensorflow as tf

import bench
from bench.core import stand_ins
from bench.core.config import BenchmarkConfig
from bench.core.limits import Limits
from bench.core.run_context import RunContext
from bench.processes import child
from bench.step import gpu_memory


def test_a_cap_asked_for_after_the_devices_exist_is_refused_in_one_line():
    tf.constant(1.0) + 1.0  # this process's devices now exist
    assert gpu_memory.context_started()
    with pytest.raises(gpu_memory.GpuMemoryCapError) as raised:
        gpu_memory.apply_gpu_memory_cap(1234)
    message = str(raised.value)
    assert message.startswith("--gpu-memory-limit 1234MiB cannot apply") and "\n" not in message
    gpu_memory.apply_gpu_memory_cap(None)  # no cap: nothing to refuse


def test_a_measurement_applies_the_cap_before_any_device_exists(monkeypatch, tiny):
    # MirroredStrategy (two replicas) lists logical devices, which starts the context: without a
    # peak probe before it, the cap used to come after; the child would now refuse in one line.
    # The cap is the first thing `measure.benchmark` does, so every path through it (--mode input,
    # each --batch max try, which are children like this one) has it first too.
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, stand_ins.SMALL)
    config = BenchmarkConfig(**dict(tiny, peak_probe=False, mode="train", num_devices=2))
    configs, environment = bench.prepare([config])
    # The CPU has no GPU to cap (a sweep refuses the flag there); the child still checks the order.
    result = child.run_in_child(configs[0], RunContext(environment, limits=Limits(gpu_memory_bytes=2**30)))
    assert result.ok, result.failure
