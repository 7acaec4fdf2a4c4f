"""Restoring checkpoints: whole, with exclusions, remapped, into NCHW; all-or-nothing comparison."""

import contextlib
import os
import warnings

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from slim_resnet import checkpoint, resnet_arg_scope, resnet_v2_50

IMAGE_SIZE = 32
NUM_CLASSES = 10
SCOPE = 'resnet_v2_50'


def _build(num_classes=NUM_CLASSES, data_format='NHWC', outer_scope=None):
  """Builds resnet_v2_50 in inference mode on a fixed placeholder in the current graph.

  Returns:
    (images placeholder [2, 32, 32, 3] or [2, 3, 32, 32], logits [2, num_classes]).
  """
  shape = [2, IMAGE_SIZE, IMAGE_SIZE, 3] if data_format == 'NHWC' else [2, 3, IMAGE_SIZE, IMAGE_SIZE]
  images = tf.compat.v1.placeholder(tf.float32, shape)
  outer = tf.compat.v1.variable_scope(outer_scope) if outer_scope else contextlib.nullcontext()
  with slim.arg_scope(resnet_arg_scope(data_format=data_format)), outer:
    logits, _ = resnet_v2_50(images, num_classes=num_classes, is_training=False)
  return images, logits


def _random_value(name, shape, rng):
  """A random value for one variable; batch-norm variances and gammas stay positive."""
  if name.endswith(('moving_variance', 'gamma')):
    return rng.uniform(0.5, 1.5, shape).astype(np.float32)
  if name.endswith('weights'):
    fan_in = max(1, int(np.prod(shape[:-1])))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
  return (rng.standard_normal(shape) * 0.1).astype(np.float32)


def _values(session, variables):
  """{name: value} of `variables` in `session`."""
  names = [checkpoint.variable_name(variable) for variable in variables]
  return dict(zip(names, session.run(variables), strict=True))


@contextlib.contextmanager
def _five_class_session():
  """A fresh graph with a 5-class resnet_v2_50 (the checkpoint has 10), initialized.

  Yields:
    (session, the model variables, {name: initial value}).
  """
  with tf.Graph().as_default():
    _build(num_classes=5)
    variables = tf.compat.v1.model_variables()
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      yield session, variables, _values(session, variables)


@pytest.fixture(scope='module')
def saved(tmp_path_factory):
  """A resnet_v2_50 (10 classes) checkpoint of known random values, with the logits it gives.

  Returns:
    dict with 'path' (checkpoint prefix), 'values' ({name: array}), 'images' [2, 32, 32, 3],
    'logits' [2, 10].
  """
  rng = np.random.default_rng(0)
  images_value = rng.uniform(-1, 1, [2, IMAGE_SIZE, IMAGE_SIZE, 3]).astype(np.float32)
  with tf.Graph().as_default():
    images, logits = _build()
    global_step = tf.compat.v1.train.get_or_create_global_step()
    variables = tf.compat.v1.model_variables()
    saver = tf.compat.v1.train.Saver(variables + [global_step])
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      for variable in variables:
        name = checkpoint.variable_name(variable)
        variable.load(_random_value(name, variable.shape.as_list(), rng), session)
      values = _values(session, variables)
      logits_value = session.run(logits, {images: images_value})
      path = saver.save(session, str(tmp_path_factory.mktemp('ckpt') / 'model.ckpt'),
                        global_step=7)
  return {'path': path, 'values': values, 'images': images_value, 'logits': logits_value}


def _assert_values_equal(actual, expected, names):
  for name in names:
    np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


def test_whole_restore_reproduces_values_and_outputs(saved):
  with tf.Graph().as_default():
    images, logits = _build()
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      with pytest.warns(checkpoint.UnusedCheckpointVariablesWarning, match='global_step'):
        comparison = checkpoint.restore_checkpoint(session, saved['path'])
      restored = _values(session, tf.compat.v1.model_variables())
      logits_value = session.run(logits, {images: saved['images']})
  assert len(comparison.restored) == len(saved['values'])
  assert comparison.unused == ['global_step']
  _assert_values_equal(restored, saved['values'], saved['values'])
  np.testing.assert_allclose(logits_value, saved['logits'], rtol=1e-5, atol=1e-6)


def test_restore_from_directory_finds_latest_checkpoint(saved):
  directory = os.path.dirname(saved['path'])
  assert checkpoint.resolve_checkpoint(directory) == saved['path']
  assert checkpoint.resolve_checkpoint(saved['path'] + '.index') == saved['path']


def test_other_class_count_is_refused_whole_and_nothing_changes(saved):
  with _five_class_session() as (session, variables, before):
    with pytest.raises(checkpoint.CheckpointMismatchError) as raised:
      checkpoint.restore_checkpoint(session, saved['path'])
    after = _values(session, variables)
  message = str(raised.value)
  assert 'resnet_v2_50/logits/weights: graph [1, 1, 2048, 5] float32, checkpoint [1, 1, 2048, 10]' \
      in message
  assert 'resnet_v2_50/logits/biases: graph [5] float32, checkpoint [10]' in message
  assert len(raised.value.comparison.mismatched) == 2
  assert '\n' not in raised.value.summary()
  _assert_values_equal(after, before, before)


def test_exclude_logits_restores_the_rest_and_keeps_new_logits(saved):
  with _five_class_session() as (session, variables, before):
    with warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter('always')
      comparison = checkpoint.restore_checkpoint(
          session, saved['path'], exclude=['resnet_v2_50/logits'])
    after = _values(session, variables)
  logits_names = {'resnet_v2_50/logits/weights', 'resnet_v2_50/logits/biases'}
  assert set(comparison.excluded) == logits_names
  # The checkpoint's own logits are excluded, not "unused"; only global_step is.
  assert [str(w.message) for w in caught if 'not used' in str(w.message)] == [
      f'1 checkpoint variable in {saved["path"]} not used by the graph: global_step']
  _assert_values_equal(after, saved['values'], set(after) - logits_names)
  _assert_values_equal(after, before, logits_names)


def test_exclude_that_matches_nothing_is_refused_before_anything_is_restored(saved):
  with _five_class_session() as (session, variables, before):
    with pytest.raises(checkpoint.CheckpointError,
                       match='exclude resnet_v2_50/logit matches no variable'):
      checkpoint.restore_checkpoint(session, saved['path'], exclude=['resnet_v2_50/logit'])
    after = _values(session, variables)
  _assert_values_equal(after, before, before)


def test_remap_into_tower_scope(saved):
  with tf.Graph().as_default():
    images, logits = _build(outer_scope='tower_0')
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      with pytest.raises(checkpoint.CheckpointMismatchError, match='top-level scopes are '
                         'global_step, resnet_v2_50; pass scope_map'):
        checkpoint.restore_checkpoint(session, saved['path'])
      with pytest.warns(checkpoint.UnusedCheckpointVariablesWarning):
        checkpoint.restore_checkpoint(session, saved['path'],
                                      scope_map={'tower_0/resnet_v2_50': 'resnet_v2_50'})
      restored = _values(session, tf.compat.v1.model_variables())
      logits_value = session.run(logits, {images: saved['images']})
  renamed = {'tower_0/' + name: value for name, value in saved['values'].items()}
  assert set(restored) == set(renamed)
  _assert_values_equal(restored, renamed, renamed)
  np.testing.assert_allclose(logits_value, saved['logits'], rtol=1e-5, atol=1e-6)


def test_restore_into_nchw_graph(saved):
  # NCHW convolutions cannot run on CPU; the variables (same shapes in both layouts) can be compared.
  with tf.Graph().as_default():
    _build(data_format='NCHW')
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      with pytest.warns(checkpoint.UnusedCheckpointVariablesWarning):
        checkpoint.restore_checkpoint(session, saved['path'])
      restored = _values(session, tf.compat.v1.model_variables())
  assert set(restored) == set(saved['values'])
  _assert_values_equal(restored, saved['values'], saved['values'])


def test_variables_by_stage_partitions_the_model(saved):
  del saved  # Only the graph layout matters.
  with tf.Graph().as_default():
    _build(outer_scope='tower_0')
    variables = tf.compat.v1.global_variables()
    groups = checkpoint.variables_by_stage(variables, 'tower_0/resnet_v2_50')
  names = {stage: {checkpoint.variable_name(v) for v in group} for stage, group in groups.items()}
  assert list(names) == list(checkpoint.STAGES)
  assert names['root'] == {'tower_0/resnet_v2_50/conv1/weights', 'tower_0/resnet_v2_50/conv1/biases'}
  assert all(name.startswith('tower_0/resnet_v2_50/block3/') for name in names['block3'])
  assert {name.split('/')[2] for name in names['head']} == {'postnorm', 'logits'}
  assert sum(len(group) for group in names.values()) == len(variables)


# Small hand-made graphs: the comparison logic and path handling.

def _save_small(directory, variables, step=None):
  """Saves {name: value} as a checkpoint under `directory`; returns its prefix."""
  with tf.Graph().as_default():
    created = [tf.compat.v1.get_variable(name, initializer=tf.constant(value))
               for name, value in variables.items()]
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      saver = tf.compat.v1.train.Saver(created)
      return saver.save(session, os.path.join(directory, 'small.ckpt'), global_step=step)


def test_one_error_lists_every_missing_and_mismatched_variable(tmp_path):
  _save_small(str(tmp_path), {'a/w': np.ones([2, 3], np.float32),
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


def test_float_checkpoint_restores_into_half_precision_variable(tmp_path):
  value = np.array([0.5, -1.25, 3.0], np.float32)
  _save_small(str(tmp_path), {'v': value})
  with tf.Graph().as_default():
    v = tf.compat.v1.get_variable('v', initializer=tf.zeros([3], tf.float16))
    with tf.compat.v1.Session() as session:
      session.run(v.initializer)
      checkpoint.restore_checkpoint(session, str(tmp_path), variables=[v])
      restored = session.run(v)
  assert restored.dtype == np.float16
  np.testing.assert_array_equal(restored, value.astype(np.float16))


def test_scope_map_rules():
  mapping = {'tower_0': '', 'tower_0/net': 'resnet_v2_50', '': 'outer'}
  assert checkpoint.checkpoint_name('tower_0/net/conv1/w', mapping) == 'resnet_v2_50/conv1/w'
  assert checkpoint.checkpoint_name('tower_0/other/w', mapping) == 'other/w'
  assert checkpoint.checkpoint_name('x/w', mapping) == 'outer/x/w'
  assert checkpoint.checkpoint_name('tower_01/w', {'tower_0': ''}) == 'tower_01/w'


def test_checkpoint_paths_resolve_or_fail_clearly(tmp_path):
  with pytest.raises(checkpoint.CheckpointError, match='no checkpoint at .*nothing'):
    checkpoint.resolve_checkpoint(str(tmp_path / 'nothing'))
  with pytest.raises(checkpoint.CheckpointError, match='no checkpoint in directory'):
    checkpoint.resolve_checkpoint(str(tmp_path))
  first = _save_small(str(tmp_path), {'v': np.zeros([1], np.float32)}, step=1)
  os.remove(tmp_path / 'checkpoint')  # No state file: the only checkpoint is found.
  assert checkpoint.resolve_checkpoint(str(tmp_path)) == first
  _save_small(str(tmp_path), {'v': np.zeros([1], np.float32)}, step=2)
  os.remove(tmp_path / 'checkpoint')
  with pytest.raises(checkpoint.CheckpointError, match='holds 2 checkpoints'):
    checkpoint.resolve_checkpoint(str(tmp_path))
  (tmp_path / 'junk.index').write_bytes(b'not a checkpoint')
  with pytest.raises(checkpoint.CheckpointError, match='cannot read checkpoint'):
    checkpoint.list_checkpoint_variables(str(tmp_path / 'junk'))
