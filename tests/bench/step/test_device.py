"""Where a configuration runs (bench/step/device.py): device and layout resolved once, NCHW refused on
the CPU, TensorFlow's device names, and an NCHW graph with the same variables as the NHWC one."""

import os
import subprocess
import sys

import pytest

from bench.core.config import BenchmarkConfig, ConfigError
from bench.step import device


@pytest.mark.parametrize(
    "requested, on, resolved",
    [
        ("auto", "gpu", "NCHW"),
        ("auto", "cpu", "NHWC"),
        ("NHWC", "gpu", "NHWC"),
        ("NCHW", "gpu", "NCHW"),
        ("NHWC", "cpu", "NHWC"),
    ],
)
def test_resolve_data_format(requested, on, resolved):
    assert device.resolve_data_format(requested, on) == resolved


def test_nchw_on_cpu_is_a_config_error_in_one_line():
    with pytest.raises(ConfigError) as raised:
        device.resolve_data_format("NCHW", "cpu")
    assert raised.value.field == "data_format" and raised.value.value == "NCHW"
    assert raised.value.allowed.startswith("not available on the CPU")
    assert "use NHWC or auto" in raised.value.allowed and "\n" not in str(raised.value)


def test_device_resolution():
    assert device.resolve_device("auto", []) == "cpu"
    assert device.resolve_device("auto", ["NVIDIA H100"]) == "gpu"
    assert device.resolve_device("cpu", ["NVIDIA H100"]) == "cpu"
    with pytest.raises(ConfigError, match="device='gpu': TensorFlow sees no GPU here"):
        device.resolve_device("gpu", [])
    resolved = device.resolve(BenchmarkConfig(device="auto", data_format="auto"), ["A100"])
    assert (resolved.device, resolved.data_format) == ("gpu", "NCHW")


def test_device_strings_need_a_resolved_device():
    assert device.device_string("gpu") == "/device:GPU:0"
    assert device.device_string("cpu", 1) == "/device:CPU:1"
    with pytest.raises(ValueError, match="device must be resolved to 'gpu' or 'cpu' first, got 'auto'"):
        device.device_string("auto")
    with pytest.raises(ValueError, match="first, got 'auto'"):
        device.resolve_data_format("NHWC", "auto")


@pytest.mark.parametrize(
    "visible, gpu_count, num_devices, expected",
    [
        (None, 4, 2, ["0,1", "2,3"]),  # every worker its own pair
        (None, 3, 1, ["0", "1"]),  # a GPU left over is seen by no worker
        ("5,7,2", 3, 1, ["5", "7"]),  # the parent's own visible list, in its order
        ("GPU-a1, GPU-b2", 2, 1, ["GPU-a1", "GPU-b2"]),  # UUIDs pass through
    ],
)
def test_each_local_worker_owns_its_gpus(visible, gpu_count, num_devices, expected):
    split = [device.local_gpus("gpu", visible, gpu_count, num_devices, index) for index in range(2)]
    assert split == expected
    owned = [gpu for gpus in split for gpu in gpus.split(",")]
    assert len(owned) == len(set(owned))  # no GPU seen by two workers


def test_a_local_worker_on_the_cpu_sees_no_gpu():
    assert device.local_gpus("cpu", "0,1", 2, 1, 1) == device.NO_GPU


def test_more_local_workers_than_gpus_are_refused(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    config = BenchmarkConfig(device="gpu", workers=3, num_devices=1)
    with pytest.raises(ConfigError) as raised:
        device.resolve(config, ["H100", "H100"])
    assert raised.value.field == "workers" and "each worker owns its GPUs" in raised.value.allowed
    with pytest.raises(ValueError, match="worker 2 needs GPUs 2..2; 2 seen"):
        device.local_gpus("gpu", None, 2, 1, 2)
    assert device.resolve(BenchmarkConfig(device="gpu", workers=2), ["H100", "H100"]).device == "gpu"
    # In a TF_CONFIG cluster each worker is a machine of its own: its GPUs are not shared.
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1", "b:1", "c:1"]}, '
                                    '"task": {"type": "worker", "index": 0}}')
    assert device.resolve(config, ["H100"]).workers == 3


_NCHW_CONV_ON_CPU = """
import tensorflow as tf
with tf.Graph().as_default(), tf.device('/cpu:0'):
  output = tf.nn.conv2d(tf.ones([1, 3, 8, 8]), tf.ones([3, 3, 3, 4]), 1, 'SAME', data_format='NCHW')
  with tf.compat.v1.Session(config=tf.compat.v1.ConfigProto(device_count={'GPU': 0})) as session:
    try:
      session.run(output)
      print('ran')
    except tf.errors.OpError as error:
      print(type(error).__name__)
"""


# Slow: a fact about TensorFlow, in a process of its own; the refusal it justifies is tested
# fast above, and the same missing kernel (MaxPool) explained by data_format_errors in
# tests/slim_resnet/test_resnet_utils.py.
@pytest.mark.slow
def test_tensorflow_cpu_kernels_have_no_nchw_convolution():
    # Why NCHW is refused up front on the CPU: TensorFlow's own CPU kernels lack it. (With oneDNN on,
    # the default on x86 CPUs, oneDNN's kernels do accept NCHW, so whether it runs depends on the
    # build and the CPU; refusing keeps the choice portable.)
    environment = dict(
        os.environ, TF_ENABLE_ONEDNN_OPTS='0', TF_CPP_MIN_LOG_LEVEL='3', CUDA_VISIBLE_DEVICES=''
    )
    completed = subprocess.run(
        [sys.executable, '-c', _NCHW_CONV_ON_CPU],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert completed.stdout.strip().splitlines()[-1] == 'UnimplementedError'
