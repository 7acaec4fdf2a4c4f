"""Layout choice (bench/data_format.py): auto per device, NCHW refused on the CPU, and an NCHW
graph with the same variables as the NHWC one."""

import os
import subprocess
import sys

import pytest
import tensorflow as tf
import tf_slim as slim

from bench.data_format import resolve_data_format
from slim_resnet import resnet_arg_scope, resnet_v2_50


@pytest.mark.parametrize(
    'requested, device, resolved',
    [
        ('auto', 'gpu', 'NCHW'),
        ('auto', 'cpu', 'NHWC'),
        ('NHWC', 'gpu', 'NHWC'),
        ('NCHW', 'gpu', 'NCHW'),
        ('NHWC', 'cpu', 'NHWC'),
    ],
)
def test_resolve(requested, device, resolved):
    assert resolve_data_format(requested, device) == resolved


def test_nchw_on_cpu_is_refused_in_one_line():
    with pytest.raises(ValueError) as error:
        resolve_data_format('NCHW', 'cpu')
    message = str(error.value)
    assert "'NCHW' is not available on the CPU" in message and 'use NHWC or auto' in message
    assert '\n' not in message


@pytest.mark.parametrize(
    'requested, device, match',
    [
        ('nchw', 'cpu', "data format must be one of NHWC, NCHW, auto, got 'nchw'"),
        ('NHWC', 'auto', "device must be resolved to 'gpu' or 'cpu' first, got 'auto'"),
    ],
)
def test_bad_values(requested, device, match):
    with pytest.raises(ValueError, match=match):
        resolve_data_format(requested, device)


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


def _variable_shapes(data_format, shape):
    with tf.Graph().as_default():
        images = tf.compat.v1.placeholder(tf.float32, shape)
        with slim.arg_scope(resnet_arg_scope(data_format=data_format)):
            logits, _ = resnet_v2_50(images, num_classes=10, is_training=True)
        return (
            {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()},
            logits.shape.as_list(),
        )


def test_nchw_graph_builds_with_the_same_variables():
    nhwc_variables, nhwc_logits = _variable_shapes('NHWC', [2, 64, 64, 3])
    nchw_variables, nchw_logits = _variable_shapes('NCHW', [2, 3, 64, 64])
    assert nchw_variables == nhwc_variables
    assert len(nchw_variables) == 272
    assert nchw_logits == nhwc_logits == [2, 10]
