"""FLOP counting (bench/measuring/flops.py): a small graph and resnet_v2 against hand-computed counts, and
the whole-graph figures quoted for tf-slim's own resnet_v2 graphs."""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from bench.measuring import flops
from slim_resnet import resnet_arg_scope
from slim_resnet.resnet_v2 import get_network

# What TensorFlow's profiler gives for tf-slim 1.1.0's own resnet_v2_<depth> inference graph, 224x224,
# batch 1, 1000 classes, measured on TF 2.21 (issue 4), in GFLOP to three decimals.
TF_SLIM_GRAPH_GFLOP = {50: 7.106, 101: 14.631, 152: 22.142, 200: 29.165}


# ---------------------------------------------------------------------------------------------
# A small graph counted by hand.


def _small_graph():
    """[2, 8, 8, 3] -> 3x3 conv (4 filters, SAME) -> bias -> ReLU -> 2x2/2 max-pool -> flatten ->
    matmul [64 -> 5] -> + residual constant. Zero initializers, so variable setup has no arithmetic.
    An unfetched matmul [2, 64] x [64, 64] sits in the same graph."""
    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [2, 8, 8, 3])
        zeros = tf.compat.v1.zeros_initializer()
        kernel = tf.compat.v1.get_variable('kernel', [3, 3, 3, 4], initializer=zeros)
        bias = tf.compat.v1.get_variable('bias', [4], initializer=zeros)
        weights = tf.compat.v1.get_variable('weights', [64, 5], initializer=zeros)
        net = tf.nn.conv2d(images, kernel, strides=1, padding='SAME')
        net = tf.nn.relu(tf.nn.bias_add(net, bias))
        net = tf.nn.max_pool2d(net, 2, 2, 'VALID')  # [2, 4, 4, 4]
        flat = tf.reshape(net, [2, 64])
        output = tf.matmul(flat, weights) + tf.ones([2, 5])
        unfetched = tf.matmul(flat, tf.ones([64, 64]))
    return graph, output, unfetched


def _small_graph_hand_count_by_type():
    return {
        'Conv2D': 2 * (2 * 8 * 8 * 4) * (3 * 3 * 3),  # 2 x output elements x kernel volume
        'BiasAdd': 2 * 8 * 8 * 4,  # one per element
        'MaxPool': (2 * 2) * (2 * 4 * 4 * 4),  # kernel area x output elements
        'MatMul': 2 * 2 * 64 * 5,  # 2 x M x K x N
        'AddV2': 2 * 5,
    }


def _small_graph_hand_count():
    return sum(_small_graph_hand_count_by_type().values())


def test_small_graph_step_count_equals_hand_count():
    graph, output, _ = _small_graph()
    count = flops.step_flops(graph, output)
    assert count.total == _small_graph_hand_count()
    assert count.by_op_type == _small_graph_hand_count_by_type()


def test_whole_graph_also_counts_unfetched_ops():
    graph, output, unfetched = _small_graph()
    assert flops.graph_flops(graph).total == _small_graph_hand_count() + 2 * 2 * 64 * 64
    both = flops.step_flops(graph, [output, unfetched.op])
    assert both.total == _small_graph_hand_count() + 2 * 2 * 64 * 64


def test_step_count_follows_control_dependencies():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.ones([10, 10])
        side = tf.matmul(x, x)  # 2000 flops, reached only through the control dependency
        with tf.control_dependencies([side]):
            target = tf.identity(x)
    assert flops.step_flops(graph, target).total == 2 * 10 * 10 * 10


def test_incomplete_shapes_are_refused():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 10])
        y = tf.matmul(x, tf.ones([10, 3]))
    with pytest.raises(ValueError, match='cannot count FLOPs: 1 ops have incomplete static shapes'):
        flops.step_flops(graph, y)


# ---------------------------------------------------------------------------------------------
# resnet_v2 against a count by hand of its layers.


def _conv(size_out, channels_in, channels_out, kernel):
    return 2 * size_out * size_out * channels_out * kernel * kernel * channels_in


def _inference_graph(depth, image_size, batch, num_classes=1000):
    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [batch, image_size, image_size, 3])
        with slim.arg_scope(resnet_arg_scope()):
            logits, _ = get_network(depth)(images, num_classes=num_classes, is_training=False)
    return graph, logits


def test_backward_graph_counts_backward_convolutions(hand_count):
    """Also: a batch of 2 at 64 px counts as the hand count says (batch norm in training mode
    counts zero too); the named networks at 224 px, batch 1, are counted below."""
    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [2, 64, 64, 3])
        with slim.arg_scope(resnet_arg_scope()):
            logits, _ = get_network(50)(images, num_classes=10, is_training=True)
        loss = tf.reduce_sum(logits)
        grads = tf.gradients(loss, tf.compat.v1.trainable_variables())
    inference = flops.step_flops(graph, logits)
    assert inference.total == hand_count(50, 64, 2, 10)
    assert set(inference.by_op_type) == {'Conv2D', 'BiasAdd', 'MaxPool', 'AddV2', 'Mean'}
    forward = flops.step_flops(graph, loss)
    backward = flops.step_flops(graph, grads)
    assert forward.total < backward.total
    assert {'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BiasAddGrad', 'MaxPoolGrad'} <= set(
        backward.by_op_type
    )
    # The filter gradient of each convolution costs about what the convolution did, and so does the
    # input gradient of every convolution but the first (nothing needs the gradient of the images).
    # "About": the profiler estimates the backward output positions as input positions / stride^2,
    # slightly more than the forward outputs for the explicitly padded strided convolutions.
    conv = forward.by_op_type['Conv2D']
    first_conv = 2 * _conv(32, 3, 64, 7)
    assert 1.0 <= backward.by_op_type['Conv2DBackpropFilter'] / conv < 1.05
    assert 1.0 <= backward.by_op_type['Conv2DBackpropInput'] / (conv - first_conv) < 1.05


def test_nchw_pooling_is_refused_not_undercounted():
    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [2, 3, 64, 64])
        with slim.arg_scope(resnet_arg_scope(data_format='NCHW')):
            logits, _ = get_network(50)(images, num_classes=10, is_training=False)
    with pytest.raises(ValueError, match='only counts pooling and backward convolutions in NHWC'):
        flops.step_flops(graph, logits)


# Depth 50, and 101, whose block3 has 23 units (two-digit unit scopes). The counting rules are per
# op, the same at every depth, and tests/slim_resnet/test_resnet_v2.py proves the graphs of 152
# and 200 (every variable, shape and end point) equal the official ones: counting them too took
# 22 s of the slow suite for no rule 101 leaves unexercised.
@pytest.fixture(scope='module', params=[50, pytest.param(101, marks=pytest.mark.slow)])
def full_size(request):
    """resnet_v2_<depth> inference at 224x224, batch 1, 1000 classes: (depth, whole, step) counts and
    the number of weight-decay losses."""
    graph, logits = _inference_graph(request.param, 224, 1)
    num_l2_losses = sum(op.type == 'L2Loss' for op in graph.get_operations())
    return request.param, flops.graph_flops(graph), flops.step_flops(graph, logits), num_l2_losses


def test_whole_graph_matches_tf_slim_figure(full_size):
    depth, whole, _, _ = full_size
    assert round(whole.total / 1e9, 3) == TF_SLIM_GRAPH_GFLOP[depth]


def test_full_size_step_equals_hand_count(full_size, hand_count):
    depth, _, step, _ = full_size
    assert step.total == hand_count(depth, 224, 1, 1000)
    assert set(step.by_op_type) == {'Conv2D', 'BiasAdd', 'MaxPool', 'AddV2', 'Mean'}


def test_whole_graph_extra_is_initializers_weight_decay_and_softmax(full_size):
    _, whole, step, num_l2_losses = full_size
    extra = {op: whole.by_op_type[op] - step.by_op_type.get(op, 0) for op in whole.by_op_type}
    extra = {op: value for op, value in extra.items() if value}
    assert set(extra) == {'L2Loss', 'Mul', 'AddV2', 'Softmax'}
    assert extra['Softmax'] == 5 * 1000  # the profiler's softmax: five per logit
    # Initializers: random * stddev + mean per element; weight decay: one scalar multiply per loss.
    assert extra['Mul'] - extra['AddV2'] == num_l2_losses
    assert whole.total - step.total == sum(extra.values())
    assert np.sum(list(whole.by_op_type.values())) == whole.total
