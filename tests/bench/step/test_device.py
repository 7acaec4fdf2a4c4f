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
