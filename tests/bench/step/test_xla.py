"""XLA (bench/step/xla.py): the step really compiles (its compiled code ran, read by
bench/measuring/executed.py) and gives the same outputs as without XLA."""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from bench.measuring import executed
from bench.step import xla
from slim_resnet import resnet_arg_scope, resnet_v2


def _small_step(enabled):
    """conv -> relu -> mean -> matmul, built inside `xla.jit_scope(enabled)`; returns (graph, fetch)."""
    graph = tf.Graph()
    with graph.as_default():
        rng = np.random.RandomState(0)
        images = tf.constant(rng.uniform(-1, 1, (2, 16, 16, 3)), tf.float32)
        kernel = tf.constant(rng.normal(size=(3, 3, 3, 8)), tf.float32)
        weights = tf.compat.v1.get_variable('weights', initializer=rng.normal(size=(8, 4)).astype('f'))
        with xla.jit_scope(enabled):
            features = tf.reduce_mean(tf.nn.relu(tf.nn.conv2d(images, kernel, 1, 'SAME')), [1, 2])
            output = tf.matmul(features, weights)
    return graph, output


def _ran_with_xla(session, fetches):
    """(whether the step ran XLA's compiled code for all it marked, the fetched values)."""
    values, run_metadata = executed.run_executed_step(session, fetches)
    return executed.xla_compiled(run_metadata), values


def _run_small(enabled):
    graph, output = _small_step(enabled)
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(tf.compat.v1.global_variables_initializer())
        return _ran_with_xla(session, output)


def test_small_step_compiles_only_when_enabled():
    compiled, with_xla = _run_small(True)
    plain, without_xla = _run_small(False)
    assert compiled and not plain
    np.testing.assert_allclose(with_xla, without_xla, rtol=1e-5, atol=1e-6)


def test_a_variables_creation_and_initialisation_are_not_compiled_but_its_use_is():
    graph = tf.Graph()
    with graph.as_default():
        with xla.jit_scope(True):
            weights = tf.compat.v1.get_variable('weights', [4, 4], use_resource=True)
            output = tf.reduce_sum(tf.matmul(tf.ones([2, 4]), weights))
    marked = {op.name for op in graph.get_operations()
              if '_XlaCompile' in op.node_def.attr and op.get_attr('_XlaCompile')}
    setup = {op.name for op in graph.get_operations()
             if op.name == 'weights' or op.name.startswith(('weights/Initializer/', 'weights/Assign',
                                                            'weights/IsInitialized'))}
    assert setup and not setup & marked
    assert output.op.name in marked and 'MatMul' in marked
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(weights.initializer)
        compiled, value = _ran_with_xla(session, output)
    assert compiled and np.isfinite(value)


def test_disabled_scope_marks_nothing():
    graph, _ = _small_step(False)
    assert not any('_XlaCompile' in op.node_def.attr for op in graph.get_operations())
    graph, _ = _small_step(True)
    assert any(
        op.node_def.attr['_XlaCompile'].b
        for op in graph.get_operations()
        if '_XlaCompile' in op.node_def.attr
    )


# A ResNet v2 with every kind of layer and unit resnet_v2_50 has, at a small fraction of its cost:
# the root block (7x7/2 convolution, 3x3/2 max-pool); bottlenecks with a projection shortcut where
# the depth changes (each block's first unit) and with a 1x1/2 max-pool subsample shortcut where it
# does not and the stride is 2 (the last unit of resnet_v2_50's blocks 1-3); the post-norm, global
# pool and logits.
SMALL_BLOCKS = [
    resnet_v2.resnet_v2_block('block1', base_depth=4, num_units=2, stride=2),
    resnet_v2.resnet_v2_block('block2', base_depth=8, num_units=1, stride=1),
]


def _resnet_modes(enabled):
    """The ResNet v2 of SMALL_BLOCKS at 32 px, batch 2: every mode's step built inside
    `xla.jit_scope(enabled)`.

    Residual branches are damped (conv3 weights x 0.1) so training-mode batch norm is well
    conditioned (see test_precision.py) and rounding differences stay rounding-sized.

    Returns:
      {'train': (compiled?, values)}: the variables' changes in one momentum step from zero
      velocity, i.e. -learning rate x the gradients, so they check the compiled forward and
      backward passes and the update in one compilation (the same ops as resnet_v2_50's, which
      costs about a minute a compilation on a 2-core CPU; the forward pass of resnet_v2_50 itself
      is compiled and checked through the harness in test_cli, and a small step in
      `test_small_step_compiles_only_when_enabled` here).
    """
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(3)
        images = tf.constant(np.random.RandomState(0).uniform(-1, 1, (2, 32, 32, 3)), tf.float32)
        labels = tf.constant([1, 2])
        with xla.jit_scope(enabled), slim.arg_scope(resnet_arg_scope()):
            train_logits, _ = resnet_v2.resnet_v2(images, SMALL_BLOCKS, num_classes=10,
                                                 is_training=True, scope='resnet_v2_small')
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=train_logits)
            )
            variables = tf.compat.v1.trainable_variables()
            gradients = tf.gradients(loss, variables)
            optimizer = tf.compat.v1.train.MomentumOptimizer(0.1, 0.9)
            train_op = tf.group(
                optimizer.apply_gradients(list(zip(gradients, variables, strict=True))),
                *tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS),
            )
        damp = [v.assign(v * 0.1) for v in variables if v.op.name.endswith('conv3/weights')]
        results = {}
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            session.run(damp)
            before = session.run(variables)
            compiled, _ = _ran_with_xla(session, train_op)
            after = session.run(variables)
            results['train'] = (compiled, [new - old for new, old in zip(after, before, strict=True)])
    return results


@pytest.fixture(scope='module')
def resnet_results():
    return _resnet_modes(True), _resnet_modes(False)


@pytest.mark.slow
@pytest.mark.parametrize('mode', ['train'])
def test_resnet_train_step_compiles_and_matches(resnet_results, mode):
    with_xla, without_xla = resnet_results
    compiled, values = with_xla[mode]
    plain, expected = without_xla[mode]
    assert compiled and not plain
    values = values if isinstance(values, list) else [values]
    expected = expected if isinstance(expected, list) else [expected]
    flat = np.concatenate([np.ravel(value) for value in values])
    flat_expected = np.concatenate([np.ravel(value) for value in expected])
    assert np.isfinite(flat).all()
    # fp32 rounding in a different order: XLA's CPU convolutions are its own, the plain graph runs
    # oneDNN's. Measured relative L2 differences of the update: with resnet_v2_50 at 64 px, ~2e-6 on
    # an earlier machine and 3e-3 on an AMD EPYC (2026-12-01: training-mode batch norm over 2 images
    # of 2x2 positions amplifies the rounding); with SMALL_BLOCKS at 32 px (4x4 positions at the
    # end), ~1e-6 with oneDNN on or off on that EPYC. A step that compiled wrongly is off by O(1).
    assert np.linalg.norm(flat - flat_expected) / np.linalg.norm(flat_expected) < 2e-2
