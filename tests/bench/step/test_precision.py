"""Mixed precision: fp32 master variables and low-precision compute (bench/step/precision.py), checked
against fp32 through the whole step, loss scaling (bench/step/scalers.py) included.

The named network in low precision, through the harness's own graph, is resnet_v2_50's timed graph
(its convolutions compute in fp16/bf16, its 54 weight-decay losses are float32 on the masters). The
comparisons with fp32 do not depend on the depth: they build a small ResNet v2 (the root block, two
blocks of two bottleneck units, the logits) in fp32, fp16 and bf16 sharing the same float32
variables in one graph, so all three see identical weights and inputs.

Conditioning: a freshly initialized ResNet with batch norm in training mode is chaotic at this size
(batch 2, 64 px): perturbing the fp32 input by 0.1% changes resnet_v2_50's weight gradients by
65-100% (relative L2), the small network's by about 10%, so no precision could be "close to fp32"
there. The test therefore damps every residual branch (conv3 weights x 0.1, as zero-/small-init of
the last layer of each branch does in practice); then the same 0.1% input perturbation moves the
small network's fp32 gradients by about 3%, and the tolerances below sit above what fp16 and bf16
measure with some margin:

                                               fp16 measured  bound     bf16 measured  bound
  inference logits, max |diff| / max |logit|        0.03%     0.5%           0.45%       3%
  training loss (with weight decay), relative       0.01%     0.1%           0.09%       1%
  weight gradients, relative L2 (all variables)     1.2%        5%           9.0%       30%
  weight gradients, global norm ratio               1.000    1 +/- 2%        1.000    1 +/- 5%
  logits-layer weight gradient, relative L2         0.05%     0.5%           0.34%       3%
  one momentum step's update vs fp32 gradient       1.2%        5%           9.0%       30%

What the bounds rest on is the storage formats' rounding, not a kernel: the measured columns are the
same with TensorFlow's own CPU kernels and with oneDNN's (TF_ENABLE_ONEDNN_OPTS=0 and =1, an AMD
EPYC), and bf16's errors are 7 to 15 times fp16's, as the formats' unit roundoffs (2^-8 and 2^-11)
differ by 8: what rounding each activation to the format costs, whatever kernel computes it.
"""


import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from bench.core.loss_scale import effective_loss_scale
from bench.step import precision, scalers
from bench.step.plan import plan_step
from slim_resnet import resnet_arg_scope, resnet_v2

BATCH = 2
IMAGE_SIZE = 64
NUM_CLASSES = 10
RESIDUAL_DAMPING = 0.1
LEARNING_RATE = 1.0
# Two blocks of two units: projection shortcuts, a strided unit and a plain one, between the root
# block and the logits.
BLOCKS = [
    resnet_v2.resnet_v2_block('block1', base_depth=8, num_units=2, stride=2),
    resnet_v2.resnet_v2_block('block2', base_depth=16, num_units=2, stride=1),
]

TOLERANCES = {
    # precision: (logits, loss, gradients rel L2, gradient norm ratio, logits-layer gradient)
    'fp16': (0.005, 0.001, 0.05, 0.02, 0.005),
    'bf16': (0.03, 0.01, 0.30, 0.05, 0.03),
}
STATIC_SCALE = {'fp16': '128', 'bf16': 'none'}


# ---------------------------------------------------------------------------------------------
# Small API pieces.


@pytest.mark.parametrize('name, dtype', [('fp32', tf.float32), ('fp16', tf.float16), ('bf16', tf.bfloat16)])
def test_compute_dtype(name, dtype):
    assert precision.compute_dtype(name) == dtype


@pytest.mark.parametrize('bad', ['fp64', 'FP16', '', 'half', None])
def test_unknown_precision_is_refused(bad):
    with pytest.raises(ValueError, match='precision must be one of fp32, fp16, bf16'):
        precision.compute_dtype(bad)


def test_getter_creates_float32_masters_and_reads_in_compute_dtype():
    with tf.Graph().as_default() as graph:
        with precision.precision_scope('fp16'):
            with tf.compat.v1.variable_scope('layer'):
                kernel = tf.compat.v1.get_variable('kernel', [3, 3], dtype=tf.float16)
                statistic = tf.compat.v1.get_variable('statistic', [3], dtype=tf.float32)
        assert kernel.dtype == tf.float16 and isinstance(kernel, tf.Tensor)
        assert statistic.dtype.base_dtype == tf.float32
        variables = {v.op.name: v.dtype.base_dtype for v in graph.get_collection('variables')}
        assert variables == {'layer/kernel': tf.float32, 'layer/statistic': tf.float32}


def test_precision_scope_keeps_names_and_reuses():
    with tf.Graph().as_default():
        with tf.compat.v1.variable_scope('outer'):
            with precision.precision_scope('bf16'):
                first = tf.compat.v1.get_variable('w', [2], dtype=tf.bfloat16)
            with tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope(), reuse=True):
                with precision.precision_scope('bf16'):
                    second = tf.compat.v1.get_variable('w', [2], dtype=tf.bfloat16)
        assert [v.op.name for v in tf.compat.v1.global_variables()] == ['outer/w']
        assert first.op.inputs[0].op.inputs[0].op.name == second.op.inputs[0].op.inputs[0].op.name


def test_getter_regularizes_the_float32_master_once():
    # The get_variable path (slim.model_variable, a scope's default regularizer): the getter takes the
    # regularizer out and applies it to the float32 master; reuse adds no second loss.
    with tf.Graph().as_default():
        with precision.precision_scope('fp16'):
            weights = tf.compat.v1.get_variable(
                'w',
                [3],
                dtype=tf.float16,
                regularizer=lambda w: 0.5 * tf.reduce_sum(w * w),
                initializer=tf.compat.v1.constant_initializer([1.0, 2.0, 1e-3]),
            )
        with tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope(), reuse=True):
            with precision.precision_scope('fp16'):
                tf.compat.v1.get_variable(
                    'w', [3], dtype=tf.float16, regularizer=lambda w: 0.5 * tf.reduce_sum(w * w)
                )
        (loss,) = tf.compat.v1.losses.get_regularization_losses()
        assert loss.dtype == tf.float32 and weights.dtype == tf.float16
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            value = session.run(loss)
    np.testing.assert_allclose(value, 0.5 * (1.0 + 4.0 + 1e-6), rtol=1e-7)


@pytest.mark.parametrize('name', ['fp16', 'bf16'])
def test_weight_decay_of_the_timed_graph_is_float32_on_the_masters(name):
    from bench.core.config import BenchmarkConfig
    from bench.step import graphs

    config = BenchmarkConfig(
        mode='forward',
        precision=name,
        depth=50,
        batch_size=1,
        image_size=32,
        num_classes=NUM_CLASSES,
        device='cpu',
    )
    timed = graphs.build_timed_graph(plan_step(config))
    with timed.graph.as_default():
        losses = tf.compat.v1.losses.get_regularization_losses()
        masters = [v for v in tf.compat.v1.trainable_variables() if v.op.name.endswith('/weights')]
        conv_types = {op.get_attr('T') for op in timed.graph.get_operations() if op.type == 'Conv2D'}
    assert conv_types == {precision.compute_dtype(name)}  # The network does compute in low precision.
    assert {loss.dtype for loss in losses} == {tf.float32}
    assert len(losses) == len(masters) == 54  # One per convolution (53) and the logits.
    with tf.compat.v1.Session(graph=timed.graph) as session:
        session.run(timed.initializer)
        loss_values, master_values = session.run([losses, masters])
    # resnet_arg_scope's default weight decay 1e-4 times l2_loss (half the sum of squares), in float64
    # from the float32 masters. A fp16 or bf16 computation misses this by 1e-4 to 1e-2 (relative).
    expected = [1e-4 * 0.5 * np.sum(np.square(w.astype(np.float64))) for w in master_values]
    np.testing.assert_allclose(loss_values, expected, rtol=1e-5)


def _network(images, precision_name, is_training, reuse):
    with slim.arg_scope(resnet_arg_scope()), precision.precision_scope(precision_name):
        logits, _ = resnet_v2.resnet_v2(
            precision.cast_to_compute(images, precision_name),
            BLOCKS,
            num_classes=NUM_CLASSES,
            is_training=is_training,
            reuse=reuse,
            scope='resnet_v2_small',
        )
    return logits


def _regularization_count():
    return len(tf.compat.v1.losses.get_regularization_losses())


def _training_loss(images, labels, precision_name, first_weight_decay):
    """Cross-entropy plus the weight decay (of this build, or `first_weight_decay` when reusing float32
    variables adds none), in float32, and this build's update ops."""
    losses_before = _regularization_count()
    updates_before = len(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS))
    logits = _network(images, precision_name, is_training=True, reuse=True)
    weight_decay = tf.compat.v1.losses.get_regularization_losses()[losses_before:]
    if precision_name == 'fp32':
        assert not weight_decay
        weight_decay = first_weight_decay
    assert len(weight_decay) == len(first_weight_decay)  # One per convolution and the logits.
    cross_entropy = tf.compat.v1.losses.sparse_softmax_cross_entropy(
        labels, precision.to_float32(logits), loss_collection=None
    )
    updates = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)[updates_before:]
    return cross_entropy + precision.sum_in_float32(weight_decay), updates


def _conv_types(graph, build):
    """The Conv2D compute types of the ops `build()` adds to `graph`, and what it returns."""
    ops_before = len(graph.get_operations())
    built = build()
    added = graph.get_operations()[ops_before:]
    return {op.get_attr('T') for op in added if op.type == 'Conv2D'}, built


def _run_all():
    """Builds the fp32, fp16 and bf16 networks on shared float32 variables, runs every mode once.

    Returns:
      {'fp16': results, 'bf16': results}, each a dict of numpy results (fp32's next to the low
      precision's) plus the graph's variable dtypes, the low-precision logits dtype and the types
      of its inference network's convolutions. The train step of each starts from the same values
      (every global variable, momentum slots included, is restored in between).
    """
    rng = np.random.RandomState(0)
    graph = tf.Graph()
    low_names = ('fp16', 'bf16')
    with graph.as_default():
        tf.compat.v1.set_random_seed(1)
        images = tf.constant(rng.uniform(-1, 1, (BATCH, IMAGE_SIZE, IMAGE_SIZE, 3)), tf.float32)
        labels = tf.constant([3, 7])

        # forward: inference-mode logits.
        logits32 = _network(images, 'fp32', is_training=False, reuse=None)
        variables = tf.compat.v1.trainable_variables()
        first_weight_decay = tf.compat.v1.losses.get_regularization_losses()
        assert len(first_weight_decay) == len([v for v in variables if v.op.name.endswith('/weights')])
        low = {}
        for name in low_names:
            conv_types, logits_low = _conv_types(
                graph, lambda name=name: _network(images, name, is_training=False, reuse=True)
            )
            low[name] = {'logits_low': logits_low, 'conv_types': conv_types}

        # forward-backward: training-mode loss and gradients.
        loss32, _ = _training_loss(images, labels, 'fp32', first_weight_decay)
        grads32 = tf.gradients(loss32, variables)
        train_ops = {}
        for name in low_names:
            loss_low, low_updates = _training_loss(images, labels, name, first_weight_decay)
            setting = effective_loss_scale(STATIC_SCALE[name], name)
            scaler = scalers.make_loss_scaler(setting)
            grads_low = scalers.scaled_gradients(loss_low, variables, scaler)
            low[name].update(loss_low=loss_low, grads_low=grads_low)

            # train: one momentum step on the low-precision gradients, with the moving-average updates.
            optimizer = tf.compat.v1.train.MomentumOptimizer(LEARNING_RATE, momentum=0.9)
            with tf.control_dependencies(low_updates):
                train_ops[name] = scalers.apply_gradients(
                    optimizer, list(zip(grads_low, variables, strict=True)), scaler
                )

        damp = [v.assign(v * RESIDUAL_DAMPING) for v in variables if v.op.name.endswith('conv3/weights')]
        assert len(damp) == sum(len(block.args) for block in BLOCKS)  # One per unit.
        global_variables = tf.compat.v1.global_variables()
        values = [tf.compat.v1.placeholder(v.dtype.base_dtype, v.shape) for v in global_variables]
        restore = tf.group(*[v.assign(value) for v, value in zip(global_variables, values, strict=True)])
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            session.run(damp)
            shared, tensors = session.run(
                (
                    {'logits32': logits32, 'loss32': loss32, 'grads32': grads32, 'before': variables},
                    {name: {key: low[name][key] for key in ('logits_low', 'loss_low', 'grads_low')}
                     for name in low_names},
                )
            )
            start = session.run(global_variables)
            results = {}
            for name in low_names:
                session.run(restore, dict(zip(values, start, strict=True)))
                session.run(train_ops[name])
                after, global_after = session.run([variables, global_variables])
                results[name] = dict(shared, **tensors[name], after=after, global_after=global_after)
        for name in low_names:
            results[name].update(
                names=[v.op.name for v in variables],
                variable_dtypes={v.dtype.base_dtype for v in graph.get_collection('variables')},
                logits_low_dtype=low[name]['logits_low'].dtype,
                conv_types=low[name]['conv_types'],
            )
    return results


@pytest.fixture(scope='module')
def runs():
    return _run_all()


@pytest.fixture(params=['fp16', 'bf16'])
def pair(request, runs):
    return request.param, runs[request.param]


def _flat(arrays, names, keep=lambda name: True):
    return np.concatenate([a.ravel() for a, n in zip(arrays, names, strict=True) if keep(n)]).astype(
        np.float64
    )


def _is_weight(name):
    # Biases of convolutions that feed batch norm in training mode have a zero gradient in exact
    # arithmetic (the normalization removes any per-channel constant), so only rounding noise is
    # left in them on either side: they are left out of the relative comparisons.
    return not name.endswith('biases')


def test_variables_stay_float32_and_compute_is_low_precision(pair):
    name, results = pair
    assert results['variable_dtypes'] == {tf.float32}
    assert results['logits_low_dtype'] == precision.compute_dtype(name)
    assert results['conv_types'] == {precision.compute_dtype(name)}


def test_forward_logits_close_to_fp32(pair):
    name, results = pair
    logits32, logits_low = results['logits32'], results['logits_low'].astype(np.float32)
    assert np.isfinite(logits_low).all()
    error = np.abs(logits_low - logits32).max() / np.abs(logits32).max()
    assert error < TOLERANCES[name][0]


def test_forward_backward_loss_and_gradients_close_to_fp32(pair):
    name, results = pair
    _, loss_tol, grad_tol, norm_tol, logits_tol = TOLERANCES[name]
    assert np.isfinite(results['loss_low'])
    assert abs(results['loss_low'] - results['loss32']) / abs(results['loss32']) < loss_tol
    names = results['names']
    assert all(g.dtype == np.float32 and np.isfinite(g).all() for g in results['grads_low'])
    grads32 = _flat(results['grads32'], names, _is_weight)
    grads_low = _flat(results['grads_low'], names, _is_weight)
    assert np.linalg.norm(grads_low - grads32) / np.linalg.norm(grads32) < grad_tol
    assert abs(np.linalg.norm(grads_low) / np.linalg.norm(grads32) - 1) < norm_tol
    index = names.index('resnet_v2_small/logits/weights')
    logits32, logits_low = results['grads32'][index], results['grads_low'][index]
    assert np.linalg.norm(logits_low - logits32) / np.linalg.norm(logits32) < logits_tol


def test_train_step_updates_float32_variables_like_fp32(pair):
    name, results = pair
    names = results['names']
    assert all(np.isfinite(v).all() for v in results['global_after'])
    # First momentum step: variable <- variable - learning_rate * gradient.
    update = _flat(results['before'], names, _is_weight) - _flat(results['after'], names, _is_weight)
    expected = LEARNING_RATE * _flat(results['grads32'], names, _is_weight)
    assert np.linalg.norm(update) > 0
    assert np.linalg.norm(update - expected) / np.linalg.norm(expected) < TOLERANCES[name][2]
