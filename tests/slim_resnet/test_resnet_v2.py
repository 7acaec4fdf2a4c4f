"""resnet_v2: checkpoint layout against the official graphs, shapes, training behaviour, layouts."""

import warnings

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

import slim_resnet
from slim_resnet import resnet_utils, resnet_v2

GraphKeys = tf.compat.v1.GraphKeys


def build(depth, image_size=64, batch=2, data_format='NHWC', **kwargs):
  """Builds resnet_v2_<depth> on a zero input in the current graph; returns (inputs, net, end_points)."""
  shape = ([batch, image_size, image_size, 3] if data_format == 'NHWC'
           else [batch, 3, image_size, image_size])
  inputs = tf.compat.v1.placeholder(tf.float32, shape, name='images')
  with slim.arg_scope(resnet_utils.resnet_arg_scope(data_format=data_format)):
    net, end_points = resnet_v2.get_network(depth)(inputs, **kwargs)
  return inputs, net, end_points


def small_blocks():
  """Four one-unit blocks with the named networks' strides (2, 2, 2, 1) and tiny depths (8, 8, 16,
  16 channels): the same heads, strides and layouts as resnet_v2_50 in a fraction of its build."""
  return [resnet_v2.resnet_v2_block('block1', base_depth=2, num_units=1, stride=2),
          resnet_v2.resnet_v2_block('block2', base_depth=2, num_units=1, stride=2),
          resnet_v2.resnet_v2_block('block3', base_depth=4, num_units=1, stride=2),
          resnet_v2.resnet_v2_block('block4', base_depth=4, num_units=1, stride=1)]


def build_small(image_size=65, batch=2, data_format='NHWC', **kwargs):
  """Like `build`, for `resnet_v2.resnet_v2(inputs, small_blocks())` under the scope 'small'."""
  shape = ([batch, image_size, image_size, 3] if data_format == 'NHWC'
           else [batch, 3, image_size, image_size])
  inputs = tf.compat.v1.placeholder(tf.float32, shape, name='images')
  with slim.arg_scope(resnet_utils.resnet_arg_scope(data_format=data_format)):
    net, end_points = resnet_v2.resnet_v2(inputs, small_blocks(), scope='small', **kwargs)
  return inputs, net, end_points


class OfficialLayout:
  """What a graph built like the manifest's holds (224x224, 1001 classes, training mode)."""

  def __init__(self, depth):
    with tf.Graph().as_default():
      _, self.logits, end_points = build(depth, image_size=224, batch=1, num_classes=1001)
      self.variables = {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()}
      self.trainable = sorted(v.op.name for v in tf.compat.v1.trainable_variables())
      self.model_variables = {v.op.name for v in tf.compat.v1.get_collection(GraphKeys.MODEL_VARIABLES)}
      self.end_points = {name: tensor.shape.as_list()[1:] for name, tensor in end_points.items()}
      self.update_ops = len(tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS))
      self.regularization_losses = len(tf.compat.v1.get_collection(GraphKeys.REGULARIZATION_LOSSES))


OFFICIAL_PARAMETER_COUNTS = {50: 25_570_409, 101: 44_579_945, 152: 60_238_953, 200: 64_728_169}


# One test per depth, so that each depth is built once (152 and 200 take many seconds), on
# whichever worker runs it. The deeper ones are slow: depth 50 runs the same builder code (only the
# units per block differ, family.UNITS_PER_BLOCK), and test_get_network_returns_the_builders checks
# which builder each depth gets.
@pytest.mark.parametrize('depth', [
    50, *(pytest.param(depth, marks=pytest.mark.slow) for depth in resnet_v2.VALID_DEPTHS[1:])])
def test_graph_matches_the_official_layout(manifest, depth):
  built = OfficialLayout(depth)
  parameters = sum(int(np.prod(built.variables[name])) for name in built.trainable)
  assert parameters == OFFICIAL_PARAMETER_COUNTS[depth]
  assert built.logits.shape.as_list() == [1, 1001]
  assert built.end_points['global_pool'] == [1, 1, 2048]
  assert built.end_points[f'resnet_v2_{depth}/spatial_squeeze'] == [1001]

  expected = manifest[f'resnet_v2_{depth}']
  assert built.variables == expected['global_variables']
  assert built.trainable == expected['trainable_variables']
  assert built.model_variables == set(expected['global_variables'])
  assert built.update_ops == expected['update_ops']
  assert built.regularization_losses == expected['regularization_losses']
  # The end points are a superset of the official ones.
  squeezed = {'predictions', f'resnet_v2_{depth}/logits'}
  for name, shape in expected['end_points'].items():
    assert name in built.end_points, name
    want = [1001] if name in squeezed else shape  # tf-slim 1.1.0 does not squeeze; we do.
    assert built.end_points[name] == want, name


# The heads, strides and layouts are the same code at every depth, so the small network stands for
# all (the official layout test checks every depth's end-point shapes, NHWC).
@pytest.mark.parametrize('num_classes, global_pool, spatial_squeeze, expected', [
    (10, True, True, [2, 10]),
    (10, True, False, [2, 1, 1, 10]),
    (10, False, False, [2, 3, 3, 10]),
    (None, True, True, [2, 1, 1, 16]),
    (None, False, True, [2, 3, 3, 16]),
])
def test_output_shapes(num_classes, global_pool, spatial_squeeze, expected):
  with tf.Graph().as_default():
    _, net, end_points = build_small(num_classes=num_classes, global_pool=global_pool,
                                     spatial_squeeze=spatial_squeeze)
  assert net.shape.as_list() == expected
  assert end_points['small/block4'].shape.as_list() == [2, 3, 3, 16]
  assert end_points['small/block1'].shape.as_list() == [2, 9, 9, 8]
  assert ('global_pool' in end_points) == global_pool
  assert ('predictions' in end_points) == bool(num_classes)
  if num_classes:
    assert end_points['predictions'].shape.as_list() == expected


def test_dense_features_at_output_stride_16():
  with tf.Graph().as_default():
    _, net, end_points = build_small(image_size=224, batch=3, global_pool=False, output_stride=16,
                                     is_training=False)
  assert end_points['small/block4'].shape.as_list() == [3, 14, 14, 16]
  assert net.shape.as_list() == [3, 14, 14, 16]


def test_nchw_builds_the_official_variables_and_channel_first_end_points(manifest):
  # The official layout test proves the NHWC graph's variables are the manifest's.
  with tf.Graph().as_default():
    _, nchw_net, end_points = build(50, image_size=64, num_classes=1001, data_format='NCHW')
    nchw = {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()}
  assert nchw == manifest['resnet_v2_50']['global_variables']
  assert nchw_net.shape.as_list() == [2, 1001]
  assert end_points['resnet_v2_50/block4'].shape.as_list() == [2, 2048, 2, 2]


@pytest.fixture(scope='module')
def nchw_runs_here():
  """Skips unless this TensorFlow build runs NCHW convolution and pooling on its device.

  Checked on a few small layers, so a CPU build without NCHW kernels skips in a fraction of a
  second instead of after building and running two networks.
  """
  with tf.Graph().as_default():
    with slim.arg_scope(resnet_utils.resnet_arg_scope(data_format='NCHW')):
      net = slim.conv2d(tf.ones([1, 3, 8, 8]), 4, [3, 3], scope='probe_conv')
      net = slim.max_pool2d(net, [3, 3], stride=2, scope='probe_pool')
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      try:
        with slim_resnet.data_format_errors():
          session.run(net)
      except slim_resnet.DataFormatError as error:
        pytest.skip(f'this TensorFlow build cannot run NCHW on CPU: {error}')


# The layout plumbing (resnet_utils, batch_norm, the classifier) is the same at every depth.
@pytest.mark.parametrize('is_training', [False, True])
def test_nchw_and_nhwc_give_the_same_outputs(nchw_runs_here, rng, randomize, is_training):
  images = rng.standard_normal((2, 65, 65, 3)).astype(np.float32)
  with tf.Graph().as_default():
    inputs, logits, end_points = build_small(num_classes=5, is_training=is_training)
    with tf.compat.v1.Session() as session:
      values = randomize(session)
      nhwc_logits, nhwc_block2 = session.run([logits, end_points['small/block2']], {inputs: images})
  with tf.Graph().as_default():
    inputs, logits, end_points = build_small(num_classes=5, is_training=is_training,
                                             data_format='NCHW')
    with tf.compat.v1.Session() as session:
      randomize(session, values)
      try:
        with slim_resnet.data_format_errors():
          nchw_logits, nchw_block2 = session.run([logits, end_points['small/block2']],
                                                 {inputs: images.transpose(0, 3, 1, 2)})
      except slim_resnet.DataFormatError as error:
        pytest.skip(f'this TensorFlow build cannot run NCHW on CPU: {error}')
  np.testing.assert_allclose(nchw_block2.transpose(0, 2, 3, 1), nhwc_block2, rtol=1e-3, atol=1e-3)
  np.testing.assert_allclose(nchw_logits, nhwc_logits, rtol=1e-3, atol=1e-3)


class TrainingGraph:
  """resnet_v2_50 in training mode (4 classes, [2, 64, 64, 3] images) in its own graph, built with
  every Python warning recorded.

  Attributes:
    graph, inputs, logits, warnings (the messages of the warnings the build issued).
  """

  def __init__(self):
    self.graph = tf.Graph()
    with self.graph.as_default(), warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter('always')
      self.inputs, self.logits, _ = build(50, num_classes=4, is_training=True)
    self.warnings = [str(warning.message) for warning in caught]


@pytest.fixture(scope='module')
def training_graph():
  """A `TrainingGraph` shared by this module's tests; each opens its own session (and may add ops)."""
  return TrainingGraph()


def test_building_shows_no_keras_layer_apply_warning(training_graph):
  # tf-slim's layers call Keras' deprecated `layer.apply` for every layer, which warns (the same
  # recording sees it for a bare tf-slim layer); building the network must not.
  with tf.Graph().as_default(), warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    slim.conv2d(tf.zeros([1, 8, 8, 3]), 4, [3, 3], scope='bare_conv')
  assert any('layer.apply' in str(warning.message) for warning in caught)
  assert not [message for message in training_graph.warnings if 'layer.apply' in message]


def test_gradients_reach_every_trainable_variable(training_graph, rng):
  images = rng.standard_normal((2, 64, 64, 3)).astype(np.float32)
  labels = np.array([1, 3])
  with training_graph.graph.as_default():
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, training_graph.logits,
                                                            loss_collection=None)
    variables = tf.compat.v1.trainable_variables()
    gradients = tf.gradients(loss, variables)
    assert [v.op.name for v, g in zip(variables, gradients, strict=True) if g is None] == []
    norms = [tf.norm(gradient) for gradient in gradients]
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      norm_values = session.run(norms, {training_graph.inputs: images})
  assert np.all(np.isfinite(norm_values))
  # Every variable but the biases before a batch norm gets a nonzero gradient. Those biases (the
  # root conv1's, each unit's conv3 and shortcut) reach the loss only through batch norms in
  # training mode, which subtract the batch mean and with it any per-channel constant: their
  # gradient is zero in exact arithmetic, and what is computed is rounding noise (about 1e-8 here,
  # exactly 0 on a kernel that happens to round alike), so nothing is asserted of them.
  def must_move(name):
    return not name.endswith('/biases') or name.endswith('/logits/biases')

  names = [v.op.name for v in variables]
  # resnet_v2_50's: conv1, the 3 + 4 + 6 + 3 units' conv3, the 4 blocks' projection shortcuts.
  assert sum(not must_move(name) for name in names) == 1 + (3 + 4 + 6 + 3) + 4
  assert [name for name, n in zip(names, norm_values, strict=True) if must_move(name) and n == 0] == []


def test_training_mode_moves_moving_averages_only_through_update_ops(training_graph, rng):
  images = rng.standard_normal((2, 64, 64, 3)).astype(np.float32) + 1
  with training_graph.graph.as_default():
    updates = tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS)
    moving_means = [v for v in tf.compat.v1.global_variables() if v.op.name.endswith('moving_mean')]
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      session.run(training_graph.logits, {training_graph.inputs: images})
      after_forward = session.run(moving_means)
      session.run(updates, {training_graph.inputs: images})
      after_updates = session.run(moving_means)
  assert all(np.all(value == 0) for value in after_forward)
  assert all(np.any(value != 0) for value in after_updates)


# Batch norm's modes are passed down the same way at every depth.
def test_inference_output_of_an_image_does_not_depend_on_the_rest_of_the_batch(rng):
  images = rng.standard_normal((2, 65, 65, 3)).astype(np.float32)
  other = images.copy()
  other[1] = rng.standard_normal((65, 65, 3)) * 5
  results = {}
  for is_training in (False, True):
    with tf.Graph().as_default():
      tf.compat.v1.set_random_seed(0)
      inputs, logits, _ = build_small(num_classes=3, is_training=is_training)
      assert bool(tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS)) == is_training
      with tf.compat.v1.Session() as session:
        session.run(tf.compat.v1.global_variables_initializer())
        results[is_training] = [session.run(logits, {inputs: batch})[0] for batch in (images, other)]
  np.testing.assert_allclose(results[False][0], results[False][1], rtol=1e-5, atol=1e-5)
  assert not np.allclose(results[True][0], results[True][1], atol=1e-5)


def test_frozen_stages_are_not_trainable_and_run_batch_norm_in_inference():
  with tf.Graph().as_default():
    build(50, num_classes=3, frozen_stages=2)
    trainable = {v.op.name for v in tf.compat.v1.trainable_variables()}
    all_names = {v.op.name for v in tf.compat.v1.global_variables()}
    update_names = {op.name for op in tf.compat.v1.get_collection(GraphKeys.UPDATE_OPS)}
    decayed = {loss.op.name for loss in tf.compat.v1.get_collection(GraphKeys.REGULARIZATION_LOSSES)}
  frozen_prefixes = ('resnet_v2_50/conv1/', 'resnet_v2_50/block1/', 'resnet_v2_50/block2/')
  assert trainable and not any(name.startswith(frozen_prefixes) for name in trainable)
  assert any(name.startswith('resnet_v2_50/block3/') for name in trainable)
  assert 'resnet_v2_50/logits/weights' in trainable and 'resnet_v2_50/postnorm/gamma' in trainable
  assert {name for name in all_names if name.startswith(frozen_prefixes)}  # Still in the graph.
  assert update_names and not any(name.startswith(frozen_prefixes) for name in update_names)
  # Weight decay only on what trains: block3 (6 units x 3 convs + 1 shortcut), block4 (10), logits.
  assert decayed and not any(name.startswith(frozen_prefixes) for name in decayed)
  assert len(decayed) == 19 + 10 + 1


@pytest.mark.parametrize('make_inputs, kwargs, message', [
    (lambda: tf.zeros([64, 64, 3]), {}, 'rank-4'),
    (lambda: tf.zeros([1, 64, 64, 3], tf.uint8), {}, 'uint8'),
    (lambda: tf.zeros([1, 31, 64, 3]), {}, 'at least 32'),
    (lambda: tf.zeros([1, 64, 64, 3]), {'output_stride': 6}, 'multiple of 4'),
    (lambda: tf.zeros([1, 64, 64, 3]), {'output_stride': 64}, 'cannot be reached'),
    (lambda: tf.zeros([1, 64, 64, 3]), {'frozen_stages': 5}, 'from 0 to 4'),
    (lambda: tf.zeros([1, 64, 64, 3]), {'frozen_stages': -1}, 'from 0 to 4'),
])
def test_bad_inputs_raise_clear_errors(make_inputs, kwargs, message):
  with tf.Graph().as_default():
    with slim.arg_scope(resnet_utils.resnet_arg_scope()):
      with pytest.raises(ValueError, match=message):
        resnet_v2.resnet_v2_50(make_inputs(), **kwargs)


def test_spatial_squeeze_of_logits_larger_than_1x1_raises_a_clear_error():
  # Raised by the classifier, after the blocks are built: the small network stands for all depths.
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='got 3x3'):
      build_small(image_size=96, batch=1, num_classes=5, global_pool=False)


@pytest.mark.parametrize('depth', [77, 0, '50', None, True])
def test_get_network_rejects_unknown_depths(depth):
  with pytest.raises(ValueError, match='50, 101, 152, 200'):
    resnet_v2.get_network(depth)


def test_get_network_returns_the_builders():
  assert [resnet_v2.get_network(depth) for depth in (50, 101, 152, 200)] == [
      slim_resnet.resnet_v2_50, slim_resnet.resnet_v2_101, slim_resnet.resnet_v2_152,
      slim_resnet.resnet_v2_200]
  assert all(builder.default_image_size == 224 for builder in resnet_v2.NETWORKS.values())
