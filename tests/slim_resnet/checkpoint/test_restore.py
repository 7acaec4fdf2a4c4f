"""Restoring checkpoints: whole, with exclusions, remapped, into NCHW; all or nothing; stages.

Every ResNet graph here is built once per module and shared: a test that needs fresh values runs
the graph's initializer again (new random values) instead of building another graph.
"""

import contextlib

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from slim_resnet import checkpoint, resnet_arg_scope, resnet_v2_50
from slim_resnet.checkpoint import files as checkpoint_files
from slim_resnet.checkpoint import matching as checkpoint_matching

IMAGE_SIZE = 32
NUM_CLASSES = 10
SCOPE = 'resnet_v2_50'


@contextlib.contextmanager
def _built(num_classes=NUM_CLASSES, data_format='NHWC', outer_scope=None):
  """A new graph with resnet_v2_50 in inference mode on a fixed placeholder, and a session of it.

  Yields:
    (session, images placeholder [2, 32, 32, 3] or [2, 3, 32, 32], logits [2, num_classes]), with
    the variables initialized.
  """
  shape = [2, IMAGE_SIZE, IMAGE_SIZE, 3] if data_format == 'NHWC' else [2, 3, IMAGE_SIZE, IMAGE_SIZE]
  with tf.Graph().as_default() as graph:
    images = tf.compat.v1.placeholder(tf.float32, shape)
    outer = tf.compat.v1.variable_scope(outer_scope) if outer_scope else contextlib.nullcontext()
    with slim.arg_scope(resnet_arg_scope(data_format=data_format)), outer:
      logits, _ = resnet_v2_50(images, num_classes=num_classes, is_training=False)
    initialize = tf.compat.v1.global_variables_initializer()
  with tf.compat.v1.Session(graph=graph) as session:
    session.run(initialize)
    session.initialize = initialize
    yield session, images, logits


def _model_variables(session):
  return session.graph.get_collection(tf.compat.v1.GraphKeys.MODEL_VARIABLES)


def _values(session, variables=None):
  """{name: value} of `variables` (default: the graph's model variables) in `session`."""
  variables = _model_variables(session) if variables is None else variables
  names = [checkpoint.variable_name(variable) for variable in variables]
  return dict(zip(names, session.run(variables), strict=True))


def _reinitialized(session):
  """Gives every variable new random initial values; returns {name: value} of the model variables."""
  session.run(session.initialize)
  return _values(session)


def _random_value(name, shape, rng):
  """A random value for one variable; batch-norm variances and gammas stay positive."""
  if name.endswith(('moving_variance', 'gamma')):
    return rng.uniform(0.5, 1.5, shape).astype(np.float32)
  if name.endswith('weights'):
    fan_in = max(1, int(np.prod(shape[:-1])))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
  return (rng.standard_normal(shape) * 0.1).astype(np.float32)


@pytest.fixture(scope='module')
def saved(tmp_path_factory, load_values):
  """A resnet_v2_50 (10 classes) checkpoint of known random values, with the logits it gives.

  Yields:
    dict with 'path' (checkpoint prefix), 'values' ({name: array}), 'images' [2, 32, 32, 3],
    'logits' [2, 10], and 'built' (session, images, logits) of the graph it was saved from.
  """
  rng = np.random.default_rng(0)
  images_value = rng.uniform(-1, 1, [2, IMAGE_SIZE, IMAGE_SIZE, 3]).astype(np.float32)
  with _built() as (session, images, logits):
    with session.graph.as_default():
      global_step = tf.compat.v1.train.get_or_create_global_step()
      session.initialize = tf.compat.v1.global_variables_initializer()
      session.run(global_step.initializer)
      variables = _model_variables(session)
      saver = tf.compat.v1.train.Saver(variables + [global_step])
    load_values(session, [(variable, _random_value(checkpoint.variable_name(variable),
                                                   variable.shape.as_list(), rng))
                          for variable in variables])
    path = saver.save(session, str(tmp_path_factory.mktemp('ckpt') / 'model.ckpt'), global_step=7)
    yield {'path': path, 'values': _values(session), 'images': images_value,
           'logits': session.run(logits, {images: images_value}), 'built': (session, images, logits)}


@pytest.fixture(scope='module')
def five_classes():
  """(session, images, logits) of a 5-class resnet_v2_50: the checkpoint has 10 classes."""
  with _built(num_classes=5) as built:
    yield built


@pytest.fixture(scope='module')
def tower():
  """(session, images, logits) of a resnet_v2_50 built under the scope tower_0."""
  with _built(outer_scope='tower_0') as built:
    yield built


def _assert_values_equal(actual, expected, names):
  for name in names:
    np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


def test_whole_restore_reproduces_values_and_outputs(saved):
  session, images, logits = saved['built']
  fresh = _reinitialized(session)
  assert not np.array_equal(fresh[f'{SCOPE}/logits/weights'], saved['values'][f'{SCOPE}/logits/weights'])
  with pytest.warns(checkpoint.UnusedCheckpointVariablesWarning, match='global_step'):
    comparison = checkpoint.restore_checkpoint(session, saved['path'])
  assert len(comparison.restored) == len(saved['values'])
  assert comparison.unused == ['global_step']
  _assert_values_equal(_values(session), saved['values'], saved['values'])
  np.testing.assert_allclose(session.run(logits, {images: saved['images']}), saved['logits'],
                             rtol=1e-5, atol=1e-6)


def test_other_class_count_is_refused_whole_and_nothing_changes(saved, five_classes):
  session, _, _ = five_classes
  before = _reinitialized(session)
  with pytest.raises(checkpoint.CheckpointMismatchError) as raised:
    checkpoint.restore_checkpoint(session, saved['path'])
  message = str(raised.value)
  assert 'resnet_v2_50/logits/weights: graph [1, 1, 2048, 5] float32, checkpoint [1, 1, 2048, 10]' \
      in message
  assert 'resnet_v2_50/logits/biases: graph [5] float32, checkpoint [10]' in message
  assert len(raised.value.comparison.mismatched) == 2
  assert '\n' not in raised.value.summary()
  _assert_values_equal(_values(session), before, before)


def test_exclude_logits_restores_the_rest_and_keeps_new_logits(saved, five_classes):
  session, _, _ = five_classes
  before = _reinitialized(session)
  with pytest.warns(checkpoint.UnusedCheckpointVariablesWarning) as caught:
    comparison = checkpoint.restore_checkpoint(session, saved['path'], exclude=['resnet_v2_50/logits'])
  after = _values(session)
  logits_names = {'resnet_v2_50/logits/weights', 'resnet_v2_50/logits/biases'}
  assert set(comparison.excluded) == logits_names
  # The checkpoint's own logits are excluded, not "unused"; only global_step is.
  assert [str(w.message) for w in caught] == [
      f'1 checkpoint variable in {saved["path"]} not used by the graph: global_step']
  _assert_values_equal(after, saved['values'], set(after) - logits_names)
  _assert_values_equal(after, before, logits_names)


def test_exclude_that_matches_nothing_is_refused_before_anything_is_restored(saved, five_classes):
  session, _, _ = five_classes
  before = _reinitialized(session)
  with pytest.raises(checkpoint.CheckpointError, match='exclude resnet_v2_50/logit matches no variable'):
    checkpoint.restore_checkpoint(session, saved['path'], exclude=['resnet_v2_50/logit'])
  _assert_values_equal(_values(session), before, before)


def test_remap_into_tower_scope(saved, tower):
  session, images, logits = tower
  _reinitialized(session)
  with pytest.raises(checkpoint.CheckpointMismatchError, match='top-level scopes are '
                     'global_step, resnet_v2_50; pass scope_map'):
    checkpoint.restore_checkpoint(session, saved['path'])
  with pytest.warns(checkpoint.UnusedCheckpointVariablesWarning):
    checkpoint.restore_checkpoint(session, saved['path'],
                                  scope_map={'tower_0/resnet_v2_50': 'resnet_v2_50'})
  restored = _values(session)
  renamed = {'tower_0/' + name: value for name, value in saved['values'].items()}
  assert set(restored) == set(renamed)
  _assert_values_equal(restored, renamed, renamed)
  np.testing.assert_allclose(session.run(logits, {images: saved['images']}), saved['logits'],
                             rtol=1e-5, atol=1e-6)


def test_restore_into_nchw_graph(saved):
  # NCHW convolutions cannot run on CPU; the variables (same shapes in both layouts) can be compared.
  with _built(data_format='NCHW') as (session, _, _):
    with pytest.warns(checkpoint.UnusedCheckpointVariablesWarning):
      checkpoint.restore_checkpoint(session, saved['path'])
    restored = _values(session)
  assert set(restored) == set(saved['values'])
  _assert_values_equal(restored, saved['values'], saved['values'])


def test_make_restorer_assigns_nothing_until_called(saved):
  session, _, _ = saved['built']
  fresh = _reinitialized(session)
  with session.graph.as_default(), pytest.warns(checkpoint.UnusedCheckpointVariablesWarning):
    restorer = checkpoint.make_restorer(saved['path'])
  assert restorer.checkpoint == saved['path']
  assert restorer.comparison.ok and restorer.comparison.unused == ['global_step']
  _assert_values_equal(_values(session), fresh, fresh)
  restorer(session)
  _assert_values_equal(_values(session), saved['values'], saved['values'])


def test_variables_by_stage_partitions_the_model(tower):
  session, _, _ = tower
  variables = session.graph.get_collection(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)
  groups = checkpoint.variables_by_stage(variables, 'tower_0/resnet_v2_50')
  names = {stage: {checkpoint.variable_name(v) for v in group} for stage, group in groups.items()}
  assert list(names) == list(checkpoint.STAGES)
  assert names['root'] == {'tower_0/resnet_v2_50/conv1/weights', 'tower_0/resnet_v2_50/conv1/biases'}
  assert all(name.startswith('tower_0/resnet_v2_50/block3/') for name in names['block3'])
  assert {name.split('/')[2] for name in names['head']} == {'postnorm', 'logits'}
  assert sum(len(group) for group in names.values()) == len(variables)
  assert checkpoint.stage_of('tower_0/resnet_v2_50', 'tower_0/resnet_v2_50') is None
  assert checkpoint.stage_of('other/conv1/weights', 'tower_0/resnet_v2_50') is None


# Small hand-made graphs: what a failed restore reports and leaves, dtype casts.

def test_one_error_lists_every_missing_and_mismatched_variable(tmp_path, save_checkpoint):
  save_checkpoint(str(tmp_path), {'a/w': np.ones([2, 3], np.float32),
                                  'a/b': np.ones([3], np.float32),
                                  'c/w': np.ones([4], np.int32)})
  with tf.Graph().as_default():
    w = tf.compat.v1.get_variable('a/w', initializer=tf.zeros([2, 4]))
    b = tf.compat.v1.get_variable('a/b', initializer=tf.zeros([3]))
    extra = tf.compat.v1.get_variable('a/extra', initializer=tf.zeros([3]))
    cw = tf.compat.v1.get_variable('c/w', initializer=tf.zeros([4]))
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      with pytest.raises(checkpoint.CheckpointMismatchError) as raised:
        checkpoint.restore_checkpoint(session, str(tmp_path), variables=[w, b, extra, cw])
      b_value = session.run(b)
  lines = str(raised.value).splitlines()
  assert '  missing from checkpoint: a/extra' in lines
  assert '  mismatch: a/w: graph [2, 4] float32, checkpoint [2, 3] float32' in lines
  assert '  mismatch: c/w: graph [4] float32, checkpoint [4] int32' in lines
  np.testing.assert_array_equal(b_value, np.zeros([3]))  # Never a partial restore.


def test_float_checkpoint_restores_into_half_precision_variable(tmp_path, save_checkpoint):
  value = np.array([0.5, -1.25, 3.0], np.float32)
  save_checkpoint(str(tmp_path), {'v': value})
  with tf.Graph().as_default():
    v = tf.compat.v1.get_variable('v', initializer=tf.zeros([3], tf.float16))
    with tf.compat.v1.Session() as session:
      session.run(v.initializer)
      checkpoint.restore_checkpoint(session, str(tmp_path), variables=[v])
      restored = session.run(v)
  assert restored.dtype == np.float16
  np.testing.assert_array_equal(restored, value.astype(np.float16))


def test_a_graph_without_model_variables_is_refused(tmp_path, save_checkpoint):
  prefix = save_checkpoint(str(tmp_path), {'v': np.zeros([1], np.float32)})
  with tf.Graph().as_default():
    with pytest.raises(checkpoint.CheckpointError, match='no model variables'):
      checkpoint.make_restorer(prefix)


def test_the_parts_public_names_are_importable_from_checkpoint():
  for module in (checkpoint_files, checkpoint_matching):
    public = [name for name, value in vars(module).items()
              if not name.startswith('_') and getattr(value, '__module__', None) == module.__name__]
    assert public
    for name in public:
      assert getattr(checkpoint, name) is getattr(module, name), name
      assert name in checkpoint.__all__, name
