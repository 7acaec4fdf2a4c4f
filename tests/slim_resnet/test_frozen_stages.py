"""frozen_stages=K: a train step changes only the variables of the stages after the first K blocks."""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from slim_resnet import checkpoint, resnet_arg_scope, resnet_v2, resnet_v2_50

IMAGE_SIZE = 32
NUM_CLASSES = 5
SCOPE = 'resnet_v2_50'
# Where the freezing does not depend on the depth: the generic resnet_v2 on four one-unit blocks
# (the stages are the same: root, block1..block4, head), built in a fraction of resnet_v2_50's time.
SMALL_SCOPE = 'small'


def _small_network(images, scope=SMALL_SCOPE, **kwargs):
  blocks = [resnet_v2.resnet_v2_block(f'block{index + 1}', base_depth, 1, stride)
            for index, (base_depth, stride) in enumerate([(2, 2), (2, 2), (4, 2), (4, 1)])]
  return resnet_v2.resnet_v2(images, blocks, scope=scope, **kwargs)


def _build_model(frozen_stages, network=resnet_v2_50):
  """Builds `network` for training on a [2, 32, 32, 3] placeholder in the current graph.

  Returns:
    (images placeholder, logits, end_points).
  """
  images = tf.compat.v1.placeholder(tf.float32, [2, IMAGE_SIZE, IMAGE_SIZE, 3])
  with slim.arg_scope(resnet_arg_scope()):
    logits, end_points = network(images, num_classes=NUM_CLASSES, is_training=True,
                                 frozen_stages=frozen_stages)
  return images, logits, end_points


class TrainingStep:
  """A network with frozen stages and one SGD step (update ops included), in its own graph.

  Attributes:
    graph, scope (the network's), images ([2, 32, 32, 3] placeholder), labels ([2] placeholder),
    train_op, end_points.
  """

  def __init__(self, frozen_stages, small=False):
    self.graph = tf.Graph()
    self.scope = SMALL_SCOPE if small else SCOPE
    with self.graph.as_default():
      self.images, logits, self.end_points = _build_model(
          frozen_stages, _small_network if small else resnet_v2_50)
      self.labels = tf.compat.v1.placeholder(tf.int64, [2])
      loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(self.labels, logits)
      total_loss = loss + tf.add_n(tf.compat.v1.losses.get_regularization_losses())
      optimizer = tf.compat.v1.train.GradientDescentOptimizer(0.5)
      update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
      with tf.control_dependencies(update_ops):
        self.train_op = optimizer.minimize(total_loss)


@pytest.fixture(scope='module')
def training_step():
  """`training_step(frozen_stages, small=False)`: a `TrainingStep`, built once per value in this
  module."""
  built = {}

  def get(frozen_stages, small=False):
    if (frozen_stages, small) not in built:
      built[frozen_stages, small] = TrainingStep(frozen_stages, small)
    return built[frozen_stages, small]

  return get


def _values(session, variables):
  """{name: value} of `variables` in `session`."""
  names = [checkpoint.variable_name(variable) for variable in variables]
  return dict(zip(names, session.run(variables), strict=True))


def _names_by_stage(variables, scope):
  groups = checkpoint.variables_by_stage(variables, scope)
  return {stage: {checkpoint.variable_name(v) for v in group} for stage, group in groups.items()}


# resnet_v2_50 with two frozen blocks (also used below); every block frozen on the small network.
@pytest.mark.parametrize('frozen_stages, small', [(2, False), (4, True)])
def test_train_step_changes_only_unfrozen_variables(training_step, frozen_stages, small):
  rng = np.random.default_rng(frozen_stages)
  frozen = set(checkpoint.STAGES[:1 + frozen_stages])  # 'root' and the first K blocks.
  step = training_step(frozen_stages, small)
  with step.graph.as_default():
    variables = tf.compat.v1.global_variables()
    model_stages = _names_by_stage(tf.compat.v1.model_variables(), step.scope)
    trainable = {checkpoint.variable_name(v) for v in tf.compat.v1.trainable_variables()}
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      before = _values(session, variables)
      session.run(step.train_op, {step.images: rng.uniform(-1, 1, [2, IMAGE_SIZE, IMAGE_SIZE, 3]),
                                  step.labels: [1, 3]})
      after = _values(session, variables)

  frozen_names = set().union(*(model_stages[stage] for stage in frozen))
  unfrozen_names = set().union(*(model_stages[stage] for stage in checkpoint.STAGES
                                 if stage not in frozen))
  assert frozen_names and unfrozen_names
  assert not trainable & frozen_names
  assert trainable <= unfrozen_names
  unchanged = sorted(name for name in frozen_names if not np.array_equal(before[name], after[name]))
  assert unchanged == [], 'frozen variables changed'
  # Every unfrozen variable moves: trainable ones by the gradient step, moving statistics by the
  # batch-norm updates (training mode).
  not_moved = sorted(name for name in unfrozen_names if np.array_equal(before[name], after[name]))
  assert not_moved == []


def test_frozen_batch_norm_runs_in_inference_mode(training_step):
  # In inference mode an image's features do not depend on the other images of its batch; in
  # training mode (batch statistics) they do.
  rng = np.random.default_rng(0)
  first, second, third = rng.uniform(-1, 1, [3, IMAGE_SIZE, IMAGE_SIZE, 3]).astype(np.float32)
  step = training_step(2)
  watched = {name: step.end_points[f'{SCOPE}/{name}'] for name in ('block2', 'block3')}
  with tf.compat.v1.Session(graph=step.graph) as session:
    with step.graph.as_default():
      session.run(tf.compat.v1.global_variables_initializer())
    with_second = session.run(watched, {step.images: np.stack([first, second])})
    with_third = session.run(watched, {step.images: np.stack([first, third])})
  # The same graph and kernels, run twice: only the other image differs. Nothing promises that a
  # kernel sums an image's terms in the same order whatever shares its batch (TensorFlow is not
  # deterministic unless asked), so the frozen block is compared to float32 rounding, far below
  # what batch statistics change (the trained block: relative differences of order 1).
  np.testing.assert_allclose(with_second['block2'][0], with_third['block2'][0], rtol=1e-5, atol=1e-6)
  assert not np.allclose(with_second['block3'][0], with_third['block3'][0], rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize('frozen_stages', [0, None])
def test_nothing_frozen_trains_everything(frozen_stages):
  with tf.Graph().as_default():
    _build_model(frozen_stages, _small_network)
    trainable = {checkpoint.variable_name(v) for v in tf.compat.v1.trainable_variables()}
    model = {checkpoint.variable_name(v) for v in tf.compat.v1.model_variables()}
  assert trainable == {name for name in model if 'moving_' not in name}


@pytest.mark.parametrize('frozen_stages', [-1, 5, 1.5, True])
def test_out_of_range_is_refused(frozen_stages):
  with tf.Graph().as_default(), pytest.raises(ValueError, match='frozen_stages'):
    _build_model(frozen_stages)
