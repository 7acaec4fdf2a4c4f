"""resnet_utils: conv2d_same, subsample, stack_blocks_dense (atrous), the arg scope, layout errors."""

import contextlib
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from slim_resnet import resnet_utils, resnet_v2


def run(fetches, feed_dict=None):
  """Initializes the default graph's variables and evaluates `fetches` once."""
  with tf.compat.v1.Session() as session:
    session.run(tf.compat.v1.global_variables_initializer())
    return session.run(fetches, feed_dict)


def plain_conv_scope(weights):
  """Convolutions with the given kernel, zero biases, no activation, no normalizer."""
  return slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None,
                        weights_initializer=tf.compat.v1.constant_initializer(weights),
                        biases_initializer=tf.compat.v1.zeros_initializer())


# (kernel_size, padding before, padding after) for stride 2: the padding is kernel_size - 1 in total,
# the odd pixel at the end.
@pytest.mark.parametrize('kernel_size, before, after', [(3, 1, 1), (7, 3, 3), (4, 1, 2), (1, 0, 0)])
@pytest.mark.parametrize('size', [15, 16])
def test_conv2d_same_strided_equals_hand_padded_valid_conv(rng, kernel_size, before, after, size):
  images = rng.standard_normal((2, size, size, 3)).astype(np.float32)
  weights = rng.standard_normal((kernel_size, kernel_size, 3, 5)).astype(np.float32)
  padded = np.pad(images, [(0, 0), (before, after), (before, after), (0, 0)])
  with tf.Graph().as_default():
    with plain_conv_scope(weights):
      output = resnet_utils.conv2d_same(tf.constant(images), 5, kernel_size, stride=2, scope='conv')
    expected = tf.nn.conv2d(tf.constant(padded), tf.constant(weights), strides=2, padding='VALID')
    got, want = run([output, expected])
  assert got.shape == (2, -(-size // 2), -(-size // 2), 5)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('rate', [1, 2])
def test_conv2d_same_stride_one_is_same_padding(rng, rate):
  images = rng.standard_normal((1, 9, 10, 2)).astype(np.float32)
  weights = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
  with tf.Graph().as_default():
    with plain_conv_scope(weights):
      output = resnet_utils.conv2d_same(tf.constant(images), 4, 3, stride=1, rate=rate, scope='conv')
    expected = tf.nn.conv2d(tf.constant(images), tf.constant(weights), strides=1, padding='SAME',
                            dilations=rate)
    got, want = run([output, expected])
  assert got.shape == (1, 9, 10, 4)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv2d_same_aligns_even_and_odd_inputs_alike(rng):
  # Output i is centred on input pixel 2i whatever the input's parity, so an odd input's first
  # outputs equal the even input's. SAME padding would centre the even input's on 2i + 1.
  images = rng.standard_normal((1, 17, 17, 2)).astype(np.float32)
  weights = rng.standard_normal((3, 3, 2, 3)).astype(np.float32)
  with tf.Graph().as_default():
    with plain_conv_scope(weights):
      odd = resnet_utils.conv2d_same(tf.constant(images), 3, 3, stride=2, scope='conv_odd')
      even = resnet_utils.conv2d_same(tf.constant(images[:, :16, :16]), 3, 3, stride=2,
                                      scope='conv_even')
      same_padded = slim.conv2d(tf.constant(images[:, :16, :16]), 3, 3, stride=2, padding='SAME',
                                scope='conv_same')
    odd_value, even_value, same_value = run([odd, even, same_padded])
  assert odd_value.shape[1:3] == (9, 9) and even_value.shape[1:3] == (8, 8)
  np.testing.assert_allclose(odd_value[:, :8, :8], even_value, rtol=1e-5, atol=1e-5)
  assert not np.allclose(same_value, even_value, atol=1e-3)


def test_subsample_keeps_every_factor_th_pixel(rng):
  images = rng.standard_normal((2, 5, 6, 3)).astype(np.float32)
  with tf.Graph().as_default():
    inputs = tf.constant(images)
    assert resnet_utils.subsample(inputs, 1) is inputs
    got = run(resnet_utils.subsample(inputs, 2))
  np.testing.assert_array_equal(got, images[:, ::2, ::2, :])


def small_blocks():
  """A four-block ResNet v2 with the real bottleneck and tiny depths: nominal stride 32."""
  return [resnet_v2.resnet_v2_block('block1', base_depth=1, num_units=2, stride=2),
          resnet_v2.resnet_v2_block('block2', base_depth=2, num_units=2, stride=2),
          resnet_v2.resnet_v2_block('block3', base_depth=2, num_units=2, stride=2),
          resnet_v2.resnet_v2_block('block4', base_depth=4, num_units=2, stride=1)]


def blocks_output(inputs, output_stride=None, store_non_strided_activations=False):
  """Root block and `small_blocks()` under scope 'net' (created on first use, then reused)."""
  with tf.compat.v1.variable_scope('net', reuse=tf.compat.v1.AUTO_REUSE):
    net, block_output_stride = resnet_v2._root_block(inputs, output_stride)
    return resnet_utils.stack_blocks_dense(
        net, small_blocks(), block_output_stride,
        store_non_strided_activations=store_non_strided_activations)


@pytest.mark.parametrize('store_non_strided_activations', [False, True])
def test_atrous_output_stride_equals_dense_network_subsampled(rng, randomize,
                                                              store_non_strided_activations):
  images = rng.standard_normal((2, 65, 65, 3)).astype(np.float32)
  with tf.Graph().as_default():
    inputs = tf.constant(images)
    with slim.arg_scope(resnet_utils.resnet_arg_scope()):
      with slim.arg_scope([resnet_v2.batch_norm], is_training=False):
        dense = blocks_output(inputs)
        atrous = {output_stride: blocks_output(inputs, output_stride, store_non_strided_activations)
                  for output_stride in (4, 8, 16)}
    with tf.compat.v1.Session() as session:
      randomize(session)
      dense_value, atrous_values = session.run([dense, atrous])
  assert dense_value.shape == (2, 3, 3, 16)
  for output_stride, value in atrous_values.items():
    assert value.shape[1:3] == (-(-65 // output_stride),) * 2
    factor = 32 // output_stride
    np.testing.assert_allclose(value[:, ::factor, ::factor, :], dense_value, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('output_stride, message', [
    (6, 'multiple of 4'), (3, 'multiple of 4'), (12, 'cannot be reached'), (64, 'cannot be reached')])
def test_unreachable_output_stride_raises(output_stride, message):
  with tf.Graph().as_default():
    inputs = tf.zeros([1, 65, 65, 3])
    with slim.arg_scope(resnet_utils.resnet_arg_scope()):
      with pytest.raises(ValueError, match=message):
        resnet_v2.resnet_v2(inputs, small_blocks(), output_stride=output_stride)


def test_arg_scope_sets_defaults_and_layout():
  scope = resnet_utils.resnet_arg_scope(weight_decay=0.5, data_format='NCHW')
  conv_defaults = scope[slim.arg_scope_func_key(slim.conv2d)]
  assert conv_defaults['data_format'] == 'NCHW'
  assert conv_defaults['normalizer_params']['decay'] == 0.997
  assert scope[slim.arg_scope_func_key(slim.max_pool2d)]['padding'] == 'SAME'
  with tf.Graph().as_default():
    with slim.arg_scope(scope):
      assert resnet_utils.current_data_format() == 'NCHW'
      slim.conv2d(tf.zeros([1, 3, 8, 8]), 4, 3, scope='conv')
    losses = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES)
    weights = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES, 'conv/weights')[0]
    loss_value, weight_value = run([losses[0], weights])
  assert weight_value.shape == (3, 3, 3, 4)
  np.testing.assert_allclose(loss_value, 0.5 * 0.5 * np.sum(weight_value ** 2), rtol=1e-5)


def test_arg_scope_rejects_unknown_layout():
  with pytest.raises(ValueError, match="'NCWH'"):
    resnet_utils.resnet_arg_scope(data_format='NCWH')


def test_data_format_errors_lets_other_errors_through():
  with tf.Graph().as_default():
    bad = tf.debugging.check_numerics(tf.constant(np.nan), 'not a layout problem')
    with tf.compat.v1.Session() as session:
      with pytest.raises(tf.errors.InvalidArgumentError, match='not a layout problem'):
        with resnet_utils.data_format_errors():
          session.run(bad)


_NCHW_POOL_SCRIPT = textwrap.dedent("""
    import tensorflow as tf, tf_slim as slim
    from slim_resnet import data_format_errors, DataFormatError
    with tf.Graph().as_default():
      pooled = slim.max_pool2d(tf.ones([1, 3, 8, 8]), [3, 3], stride=2, data_format='NCHW')
      with tf.compat.v1.Session() as session:
        try:
          with data_format_errors():
            session.run(pooled)
        except DataFormatError as error:
          print('CAUGHT', error)
    """)


def test_data_format_errors_explains_missing_nchw_kernel_in_one_line():
  # Without oneDNN, TensorFlow's CPU MaxPool has no NCHW kernel. Where this process's TensorFlow
  # lacks it too, the script runs here; else in a child with oneDNN off (the switch is read at
  # import time).
  printed = io.StringIO()
  with contextlib.redirect_stdout(printed):
    exec(_NCHW_POOL_SCRIPT, {})  # noqa: S102 - the script above, the same in both places
  output = printed.getvalue()
  if 'CAUGHT' not in output:  # this TensorFlow runs NCHW pooling: ask one that cannot
    environment = dict(os.environ, TF_ENABLE_ONEDNN_OPTS='0', TF_CPP_MIN_LOG_LEVEL='3',
                       CUDA_VISIBLE_DEVICES='')
    completed = subprocess.run([sys.executable, '-c', _NCHW_POOL_SCRIPT], capture_output=True,
                               text=True, env=environment, timeout=300)
    output = completed.stdout + completed.stderr
  caught = [line for line in output.splitlines() if line.startswith('CAUGHT')]
  assert len(caught) == 1, output
  assert "'NCHW'" in caught[0] and 'MaxPool' in caught[0] and "'NHWC'" in caught[0]


def test_stride_plan_turns_strides_into_rates_after_the_target():
  blocks = [resnet_v2.resnet_v2_block(f'block{i + 1}', 64, 2, stride)
            for i, stride in enumerate((2, 2, 2, 1))]
  dense = resnet_utils.plan_block_strides(blocks)
  assert [plan.unit_settings for plan in dense] == [[(1, 1), (2, 1)]] * 3 + [[(1, 1), (1, 1)]]
  # Target 4 (16 with the root's 4): block3's stride becomes rate 2 for block4.
  atrous = resnet_utils.plan_block_strides(blocks, output_stride=4)
  assert [plan.unit_settings for plan in atrous] == [
      [(1, 1), (2, 1)], [(1, 1), (2, 1)], [(1, 1), (1, 1)], [(1, 2), (1, 2)]]
  # Deferred block strides: subsampled after the block until the target, then rates.
  deferred = resnet_utils.plan_block_strides(blocks, output_stride=2,
                                             store_non_strided_activations=True)
  assert [plan.stride_after for plan in deferred] == [2, 1, 1, 1]
  assert [plan.unit_settings for plan in deferred][2:] == [[(1, 2), (1, 2)], [(1, 4), (1, 4)]]
