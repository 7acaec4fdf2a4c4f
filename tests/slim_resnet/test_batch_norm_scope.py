"""batch_norm and tf-slim's arg scopes: `slim.arg_scope([slim.batch_norm], ...)` reaches our layer.

Scripts written for TF-Slim set batch-norm options on tf-slim's own function; the networks here call
`slim_resnet.batch_norm.batch_norm`, which shares tf-slim's arg-scope key.
"""

import contextlib
import inspect

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim
from tf_slim.layers import layers as tf_slim_layers

from slim_resnet import resnet_utils, resnet_v2
from slim_resnet.batch_norm import batch_norm
from slim_resnet.batch_norm_arguments import tf_slim_batch_norm_key

GraphKeys = tf.compat.v1.GraphKeys
FIRST_PREACT = 'block1/unit_1/bottleneck_v2/preact'
FIRST_CONV_NORM = 'block1/unit_1/bottleneck_v2/conv1/BatchNorm'


def strided_blocks():
  """Three one-unit blocks of ResNet v2 bottlenecks, each of stride 2: nominal stride 8."""
  return [resnet_v2.resnet_v2_block(f'block{number}', base_depth=1, num_units=1, stride=2)
          for number in (1, 2, 3)]


def one_unit():
  """One block of one ResNet v2 bottleneck (three batch norms), stride 1."""
  return [resnet_v2.resnet_v2_block('block1', base_depth=1, num_units=1, stride=1)]


def blocks_output(images, output_stride=None):
  """`strided_blocks()` on `images` under scope 'net' (created on first use, then reused)."""
  with tf.compat.v1.variable_scope('net', reuse=tf.compat.v1.AUTO_REUSE):
    return resnet_utils.stack_blocks_dense(images, strided_blocks(), output_stride=output_stride)


def variable_names(scope=''):
  return {variable.op.name for variable in tf.compat.v1.global_variables(scope)}


def test_tf_slim_keys_arg_scopes_as_this_package_relies_on():
  # The tf-slim internals batch_norm relies on; if a tf-slim release changes them, this fails.
  assert slim.layers.batch_norm is slim.batch_norm is tf_slim_layers.batch_norm
  assert slim.batch_norm is not batch_norm
  key = tf_slim_batch_norm_key()
  assert slim.batch_norm._key_op == key == slim.arg_scope_func_key(slim.batch_norm)
  assert batch_norm._key_op == key
  assert slim.arg_scope_func_key(batch_norm) == key
  assert slim.has_arg_scope(batch_norm)
  with slim.arg_scope([slim.batch_norm], decay=0.5):
    with slim.arg_scope([batch_norm], decay=0.25, scale=True):
      assert slim.current_arg_scope()[key] == {'decay': 0.25, 'scale': True}
    assert slim.current_arg_scope()[key] == {'decay': 0.5}
  # Every argument tf-slim's batch_norm takes is one of ours, under the same name and position.
  ours = list(inspect.signature(batch_norm).parameters)
  assert ours == list(inspect.signature(slim.batch_norm).parameters)


def test_inference_set_on_slim_batch_norm_makes_atrous_equal_nominal_stride(rng, randomize):
  # The snippet: dense extraction at each output stride, subsampled to the nominal stride 8.
  images = rng.standard_normal((2, 17, 17, 3)).astype(np.float32)
  with tf.Graph().as_default():
    inputs = tf.constant(images)
    with slim.arg_scope(resnet_utils.resnet_arg_scope()):
      with slim.arg_scope([slim.batch_norm], is_training=False):
        nominal = blocks_output(inputs, output_stride=None)
        alone = blocks_output(inputs[:1], output_stride=None)
        atrous = {output_stride: resnet_utils.subsample(blocks_output(inputs, output_stride),
                                                         8 // output_stride)
                  for output_stride in (1, 2, 4, 8)}
    assert tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS) == []
    with tf.compat.v1.Session() as session:
      randomize(session)
      nominal_value, alone_value, atrous_values = session.run([nominal, alone, atrous])
  assert nominal_value.shape == (2, 3, 3, 4)
  # In inference an image's features do not depend on the rest of its batch (output_stride None).
  np.testing.assert_allclose(alone_value, nominal_value[:1], rtol=1e-4, atol=1e-4)
  for output_stride, value in atrous_values.items():
    np.testing.assert_allclose(value, nominal_value, rtol=1e-4, atol=1e-4,
                               err_msg=f'output_stride {output_stride}')


def update_op_count(*scopes):
  """Builds `one_unit()` under the arg scopes `scopes`, outermost first: (functions, kwargs) pairs,
  or 'resnet' for `resnet_arg_scope()` (called inside the scopes around it, as a script would).

  Returns:
    The graph's UPDATE_OPS count.
  """
  with tf.Graph().as_default(), contextlib.ExitStack() as stack:
    for scope in scopes:
      if scope == 'resnet':
        stack.enter_context(slim.arg_scope(resnet_utils.resnet_arg_scope()))
      else:
        functions, kwargs = scope
        stack.enter_context(slim.arg_scope(functions, **kwargs))
    resnet_utils.stack_blocks_dense(tf.zeros([1, 9, 9, 3]), one_unit())
    return len(tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS))


TRAINING_UPDATES = 2 * 3  # Two per batch norm, three batch norms in a unit.
INFERENCE = {'is_training': False}
TRAINING = {'is_training': True}


@pytest.mark.parametrize('scopes, updates', [
    (['resnet'], TRAINING_UPDATES),
    ([([slim.batch_norm], INFERENCE), 'resnet'], 0),
    (['resnet', ([slim.layers.batch_norm], INFERENCE)], 0),
    (['resnet', ([slim.batch_norm, batch_norm], INFERENCE)], 0),
    ([([batch_norm], TRAINING), ([slim.batch_norm], INFERENCE), 'resnet'], 0),
    ([([slim.batch_norm], TRAINING), 'resnet', ([batch_norm], INFERENCE)], 0),
    ([([batch_norm], INFERENCE), 'resnet', ([slim.batch_norm], TRAINING)], TRAINING_UPDATES),
    ([([slim.batch_norm], INFERENCE), ([batch_norm], TRAINING), 'resnet'], TRAINING_UPDATES),
], ids=['no scope', 'outside resnet_arg_scope', 'slim.layers.batch_norm', 'both names',
        'inner slim over outer ours', 'inner ours over outer slim', 'inner slim training',
        'inner ours training'])
def test_the_innermost_scope_on_either_name_sets_the_mode(scopes, updates):
  assert update_op_count(*scopes) == updates


def test_explicit_arguments_win_over_a_slim_batch_norm_scope():
  with tf.Graph().as_default():
    with slim.arg_scope([slim.batch_norm], is_training=False, scale=True):
      batch_norm(tf.zeros([1, 2, 2, 3]), is_training=True, scale=False, scope='bn')
    assert len(tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS)) == 2
    assert variable_names() == {'bn/beta', 'bn/moving_mean', 'bn/moving_variance'}


def build_with(images, **batch_norm_defaults):
  """`one_unit()` on `images` in training mode, under `resnet_arg_scope()` and, inside it,
  `slim.arg_scope([slim.batch_norm], outputs_collections='norms', **batch_norm_defaults)`.

  Returns:
    {layer scope name: batch-norm output}, from the 'norms' collection.
  """
  with slim.arg_scope(resnet_utils.resnet_arg_scope()):
    with slim.arg_scope([slim.batch_norm], outputs_collections='norms', **batch_norm_defaults):
      resnet_utils.stack_blocks_dense(images, one_unit())
  return slim.utils.convert_collection_to_dict('norms')


def run_once(fetches, randomize=None, values=None):
  """Evaluates `fetches` once, the variables initialized, or loaded by `randomize` (with `values`).

  Returns:
    (the fetched values, the variables' values).
  """
  with tf.compat.v1.Session() as session:
    if randomize is None:
      session.run(tf.compat.v1.global_variables_initializer())
    else:
      values = randomize(session, values)
    return session.run(fetches), values


def test_outputs_collections_reach_every_batch_norm():
  with tf.Graph().as_default():
    norms = build_with(tf.zeros([1, 9, 9, 3]))
  assert len(norms) == 3
  assert {FIRST_PREACT, FIRST_CONV_NORM} <= set(norms)


def test_scale_and_center_set_on_slim_batch_norm_drop_the_preact_parameters():
  # As with tf-slim's nets: resnet_arg_scope passes `scale` to the convolutions' batch norms
  # explicitly (normalizer_params), which wins; `center` and the pre-activation come from the scope.
  with tf.Graph().as_default():
    build_with(tf.zeros([1, 9, 9, 3]), scale=False, center=False)
    names = variable_names()
  assert FIRST_PREACT + '/moving_mean' in names
  assert not {FIRST_PREACT + '/gamma', FIRST_PREACT + '/beta'} & names
  assert FIRST_CONV_NORM + '/gamma' in names
  assert FIRST_CONV_NORM + '/beta' not in names


def test_decay_set_on_slim_batch_norm_moves_the_preact_average(rng):
  images = rng.standard_normal((2, 9, 9, 3)).astype(np.float32) + 2
  with tf.Graph().as_default():
    build_with(tf.constant(images), decay=0.5)
    moving_mean = tf.compat.v1.global_variables(FIRST_PREACT + '/moving_mean')[0]
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      session.run(tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS))
      got = session.run(moving_mean)
  np.testing.assert_allclose(got, 0.5 * images.mean(axis=(0, 1, 2)), rtol=1e-5)


def test_epsilon_set_on_slim_batch_norm_reaches_the_preact(rng):
  images = rng.standard_normal((2, 9, 9, 3)).astype(np.float32)
  with tf.Graph().as_default():
    got, _ = run_once(build_with(tf.constant(images), epsilon=4.0)[FIRST_PREACT])
  normalized = (images - images.mean(axis=(0, 1, 2))) / np.sqrt(images.var(axis=(0, 1, 2)) + 4.0)
  np.testing.assert_allclose(got, np.maximum(normalized, 0), rtol=1e-4, atol=1e-4)


def test_updates_collections_set_on_slim_batch_norm_moves_the_preact_updates():
  with tf.Graph().as_default():
    build_with(tf.zeros([1, 9, 9, 3]), updates_collections='preact_updates')
    preact_updates = tf.compat.v1.get_collection('preact_updates')
    update_ops = tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS)
  assert len(preact_updates) == 2
  assert all('/preact/' in update.name for update in preact_updates)
  assert len(update_ops) == 2 * 2


def test_param_initializers_set_on_slim_batch_norm_initialize_the_preact():
  initializers = {'beta': tf.compat.v1.constant_initializer(0.5),
                  'moving_variance': tf.compat.v1.constant_initializer(3.0)}
  with tf.Graph().as_default():
    build_with(tf.zeros([1, 9, 9, 3]), param_initializers=initializers)
    (beta, moving_variance), _ = run_once([
        tf.compat.v1.global_variables(FIRST_PREACT + '/beta')[0],
        tf.compat.v1.global_variables(FIRST_PREACT + '/moving_variance')[0]])
  np.testing.assert_array_equal(beta, [0.5] * 3)
  np.testing.assert_array_equal(moving_variance, [3.0] * 3)


def test_fused_false_set_on_slim_batch_norm_builds_separate_ops_with_the_same_values(rng,
                                                                                     randomize):
  images = rng.standard_normal((2, 9, 9, 3)).astype(np.float32)
  values, variables = {}, None
  for fused in (True, False):
    with tf.Graph().as_default() as graph:
      values[fused], variables = run_once(build_with(tf.constant(images), fused=fused), randomize,
                                          variables)
      types = {op.type for op in graph.get_operations() if op.name.startswith(FIRST_PREACT + '/')}
    assert ('FusedBatchNormV3' in types) == fused
  for name, fused_value in values[True].items():
    np.testing.assert_allclose(values[False][name], fused_value, rtol=1e-4, atol=1e-4,
                               err_msg=name)


@pytest.mark.parametrize('kwargs, error, message', [
    ({'renorm': True}, ValueError, 'renorm=True'),
    ({'renorm_clipping': {'rmax': 3.0}}, ValueError, 'renorm_clipping'),
    ({'renorm_decay': 0.9}, ValueError, 'renorm_decay=0.9'),
    ({'adjustment': lambda shape: (1.0, 0.0)}, ValueError, 'adjustment'),
    ({'zero_debias_moving_mean': True}, ValueError, 'zero_debias_moving_mean=True'),
    ({'batch_weights': tf.ones}, ValueError, 'batch_weights'),
    ({'fused': 'yes'}, ValueError, "fused must be None, True or False, got 'yes'"),
    ({'param_initializers': {'gama': tf.compat.v1.ones_initializer()}}, ValueError, "'gama'"),
    ({'param_regularizers': {'moving_mean': slim.l2_regularizer(1.0)}}, ValueError,
     "'moving_mean'; allowed: beta, gamma"),
    ({'virtual_batch_size': 2}, TypeError, 'virtual_batch_size'),
])
def test_arguments_set_on_slim_batch_norm_that_cannot_be_honoured_are_refused(kwargs, error,
                                                                              message):
  with tf.Graph().as_default():
    with slim.arg_scope([slim.batch_norm], **kwargs):
      with pytest.raises(error, match=message):
        batch_norm(tf.zeros([1, 2, 2, 3]))
    assert tf.compat.v1.global_variables() == []


def test_slim_batch_norm_called_directly_is_still_tf_slims():
  # Only the arg-scope key is shared. (On TensorFlow >= 2.16 tf-slim's own batch_norm fails to build
  # at all, on the removed `ops.Tensor` or the missing tf_keras; it must not be ours that answers.)
  assert inspect.unwrap(slim.batch_norm).__module__ == 'tf_slim.layers.layers'
  with tf.Graph().as_default():
    with slim.arg_scope([batch_norm], renorm=True):
      try:
        slim.batch_norm(tf.zeros([1, 2, 2, 3]), updates_collections=None, scope='bn')
      except ValueError as error:
        assert 'does not support' not in str(error)
      except (AttributeError, ImportError):
        pass
