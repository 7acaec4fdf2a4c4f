"""batch_norm: TF-Slim's variables, training and inference statistics, updates, layouts, dtypes."""

import numpy as np
import pytest
import tensorflow as tf

from slim_resnet.batch_norm import batch_norm

GraphKeys = tf.compat.v1.GraphKeys
EPSILON = 1e-3
DECAY = 0.9


def variables_by_name():
  return {variable.op.name: variable for variable in tf.compat.v1.global_variables()}


def numpy_normalize(images, mean, variance, gamma=1.0, beta=0.0):
  return gamma * (images - mean) / np.sqrt(variance + EPSILON) + beta


@pytest.mark.parametrize('center, scale', [(True, True), (True, False), (False, True)])
def test_creates_slim_variables_in_the_right_collections(center, scale):
  with tf.Graph().as_default():
    batch_norm(tf.zeros([2, 4, 4, 3], tf.float16), center=center, scale=scale, scope='bn')
    variables = variables_by_name()
    trainable = {v.op.name for v in tf.compat.v1.trainable_variables()}
    model = {v.op.name for v in tf.compat.v1.get_collection(GraphKeys.MODEL_VARIABLES)}
  expected = {'bn/moving_mean', 'bn/moving_variance'}
  expected |= {'bn/beta'} if center else set()
  expected |= {'bn/gamma'} if scale else set()
  assert set(variables) == expected
  assert model == expected
  assert trainable == expected - {'bn/moving_mean', 'bn/moving_variance'}
  assert all(v.dtype.base_dtype == tf.float32 and v.shape.as_list() == [3]
             for v in variables.values())


def test_default_scope_is_batchnorm_and_reuse_shares_variables():
  with tf.Graph().as_default():
    with tf.compat.v1.variable_scope('conv'):
      batch_norm(tf.zeros([1, 2, 2, 4]))
    with tf.compat.v1.variable_scope('conv', reuse=True):
      batch_norm(tf.zeros([1, 2, 2, 4]))
    assert sorted(variables_by_name()) == [
        'conv/BatchNorm/beta', 'conv/BatchNorm/moving_mean', 'conv/BatchNorm/moving_variance']


def test_training_normalizes_with_batch_statistics_and_updates_only_when_asked(rng):
  images = rng.standard_normal((4, 3, 5, 2)).astype(np.float32) * 3 + 1
  with tf.Graph().as_default():
    outputs = batch_norm(tf.constant(images), decay=DECAY, epsilon=EPSILON, scale=True, scope='bn')
    updates = tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS)
    variables = variables_by_name()
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      normalized = session.run(outputs)
      mean_before = session.run(variables['bn/moving_mean'])
      session.run(updates)
      mean_after, variance_after = session.run(
          [variables['bn/moving_mean'], variables['bn/moving_variance']])
  batch_mean = images.mean(axis=(0, 1, 2))
  batch_variance = images.var(axis=(0, 1, 2))
  count = images.size // images.shape[-1]
  assert len(updates) == 2
  np.testing.assert_allclose(normalized, numpy_normalize(images, batch_mean, batch_variance),
                             rtol=1e-4, atol=1e-4)
  np.testing.assert_array_equal(mean_before, np.zeros(2))
  np.testing.assert_allclose(mean_after, (1 - DECAY) * batch_mean, rtol=1e-5)
  # The fused kernel hands the moving average the unbiased (n - 1) batch variance, as in TF-Slim.
  unbiased = batch_variance * count / (count - 1)
  np.testing.assert_allclose(variance_after, DECAY * 1.0 + (1 - DECAY) * unbiased, rtol=1e-5)


def test_inference_uses_moving_statistics_and_adds_no_updates(rng):
  images = rng.standard_normal((3, 4, 4, 2)).astype(np.float32)
  moving_mean, moving_variance = np.array([0.5, -1.0]), np.array([2.0, 0.25])
  gamma, beta = np.array([1.5, 0.5]), np.array([0.1, -0.2])
  with tf.Graph().as_default():
    outputs = batch_norm(tf.constant(images), epsilon=EPSILON, scale=True, is_training=False,
                         activation_fn=tf.nn.relu, scope='bn')
    assert tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS) == []
    variables = variables_by_name()
    with tf.compat.v1.Session() as session:
      for name, value in [('moving_mean', moving_mean), ('moving_variance', moving_variance),
                          ('gamma', gamma), ('beta', beta)]:
        variables['bn/' + name].load(value, session)
      got = session.run(outputs)
  expected = np.maximum(numpy_normalize(images, moving_mean, moving_variance, gamma, beta), 0)
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_updates_collections_none_updates_in_place(rng):
  images = rng.standard_normal((2, 2, 2, 3)).astype(np.float32) + 5
  with tf.Graph().as_default():
    outputs = batch_norm(tf.constant(images), decay=DECAY, updates_collections=None, scope='bn')
    assert tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS) == []
    moving_mean = variables_by_name()['bn/moving_mean']
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      session.run(outputs)
      got = session.run(moving_mean)
  np.testing.assert_allclose(got, (1 - DECAY) * images.mean(axis=(0, 1, 2)), rtol=1e-5)


def test_is_training_can_be_a_tensor(rng):
  images = rng.standard_normal((4, 2, 2, 2)).astype(np.float32) * 2 + 3
  with tf.Graph().as_default():
    is_training = tf.compat.v1.placeholder(tf.bool, [])
    outputs = batch_norm(tf.constant(images), decay=DECAY, epsilon=EPSILON,
                         is_training=is_training, scope='bn')
    updates = tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS)
    moving_mean = variables_by_name()['bn/moving_mean']
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      inference, _ = session.run([outputs, updates], {is_training: False})
      unchanged = session.run(moving_mean)
      training, _ = session.run([outputs, updates], {is_training: True})
      changed = session.run(moving_mean)
  np.testing.assert_allclose(inference, numpy_normalize(images, 0.0, 1.0), rtol=1e-4, atol=1e-4)
  np.testing.assert_array_equal(unchanged, np.zeros(2))
  np.testing.assert_allclose(
      training, numpy_normalize(images, images.mean(axis=(0, 1, 2)), images.var(axis=(0, 1, 2))),
      rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(changed, (1 - DECAY) * images.mean(axis=(0, 1, 2)), rtol=1e-5)


@pytest.mark.parametrize('fused', [None, False])
@pytest.mark.parametrize('is_training', [True, False])
def test_nchw_matches_nhwc(rng, is_training, fused):
  images = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
  outputs = {}
  for data_format, layout in [('NHWC', images), ('NCHW', images.transpose(0, 3, 1, 2))]:
    with tf.Graph().as_default():
      output = batch_norm(tf.constant(layout), scale=True, is_training=is_training,
                          data_format=data_format, fused=fused, scope='bn')
      assert variables_by_name()['bn/gamma'].shape.as_list() == [5]
      with tf.compat.v1.Session() as session:
        session.run(tf.compat.v1.global_variables_initializer())
        variables_by_name()['bn/moving_mean'].load(np.arange(5.0), session)
        outputs[data_format] = session.run(output)
  np.testing.assert_allclose(outputs['NCHW'].transpose(0, 2, 3, 1), outputs['NHWC'], rtol=1e-5,
                             atol=1e-5)


@pytest.mark.parametrize('dtype, tolerance', [(tf.float32, 1e-4), (tf.float16, 1e-2)])
def test_unfused_normalizes_in_float32_and_averages_the_biased_batch_variance(rng, dtype,
                                                                              tolerance):
  # tf-slim's fused=False: separate moments, so the moving variance moves towards the biased (n)
  # batch variance.
  images = rng.standard_normal((4, 3, 5, 2)).astype(np.float32) * 3 + 1
  with tf.Graph().as_default() as graph:
    outputs = batch_norm(tf.cast(tf.constant(images), dtype), decay=DECAY, epsilon=1e-6,
                         fused=False, scope='bn')
    assert outputs.dtype == dtype
    assert 'FusedBatchNormV3' not in {op.type for op in graph.get_operations()}
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      normalized, _ = session.run([tf.cast(outputs, tf.float32),
                                   tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS)])
      variance_after = session.run(variables_by_name()['bn/moving_variance'])
  half = images.astype(dtype.as_numpy_dtype).astype(np.float32)
  mean, variance = half.mean(axis=(0, 1, 2)), half.var(axis=(0, 1, 2))
  np.testing.assert_allclose(normalized, (half - mean) / np.sqrt(variance + 1e-6), atol=tolerance)
  np.testing.assert_allclose(variance_after, DECAY + (1 - DECAY) * variance, rtol=1e-4)


def test_param_initializers_and_regularizers_reach_their_variables():
  with tf.Graph().as_default():
    batch_norm(tf.zeros([1, 2, 2, 3]), scale=True, scope='bn',
               param_initializers={'gamma': tf.compat.v1.constant_initializer(2.0),
                                   'moving_mean': tf.compat.v1.constant_initializer(-1.0)},
               param_regularizers={'gamma': lambda gamma: tf.reduce_sum(gamma) * 0.5})
    variables = variables_by_name()
    losses = tf.compat.v1.get_collection(GraphKeys.REGULARIZATION_LOSSES)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      gamma, moving_mean, beta, loss_values = session.run(
          [variables['bn/gamma'], variables['bn/moving_mean'], variables['bn/beta'], losses])
  np.testing.assert_array_equal(gamma, [2.0] * 3)
  np.testing.assert_array_equal(moving_mean, [-1.0] * 3)
  np.testing.assert_array_equal(beta, [0.0] * 3)
  assert loss_values == [3.0]


@pytest.mark.parametrize('dtype, tolerance', [(tf.float16, 1e-2), (tf.bfloat16, 5e-2)])
def test_half_precision_inputs_keep_float32_parameters(rng, dtype, tolerance):
  images = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
  with tf.Graph().as_default():
    half = batch_norm(tf.cast(tf.constant(images), dtype), scale=True, scope='half')
    full = batch_norm(tf.constant(images), scale=True, scope='full')
    assert half.dtype == dtype
    assert all(v.dtype.base_dtype == tf.float32 for v in tf.compat.v1.global_variables())
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      half_value, full_value = session.run([tf.cast(half, tf.float32), full])
  np.testing.assert_allclose(half_value, full_value, atol=tolerance)


@pytest.mark.parametrize('inputs, kwargs, message', [
    (lambda: tf.zeros([2, 3]), {}, 'rank-4'),
    (lambda: tf.zeros([2, 3, 3, 2], tf.int32), {}, 'int32'),
    (lambda: tf.compat.v1.placeholder(tf.float32, [2, 3, 3, None]), {}, 'channel'),
    (lambda: tf.zeros([2, 3, 3, 2]), {'data_format': 'NWHC'}, "'NWHC'"),
])
def test_bad_inputs_raise_clear_errors(inputs, kwargs, message):
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match=message):
      batch_norm(inputs(), **kwargs)
