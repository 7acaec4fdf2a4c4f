"""FLOP counting (bench/flops.py): a small graph and resnet_v2 against hand-computed counts, and
the whole-graph figures quoted for tf-slim's own resnet_v2 graphs."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from bench import flops
from slim_resnet import resnet_arg_scope
from slim_resnet.resnet_v2 import UNITS_PER_BLOCK, get_network

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


def test_per_image_and_achieved_rate():
    count = flops.FlopCount(total=8_000_000_000, by_op_type={}, num_ops=1)
    assert count.per_image(8) == 1e9
    assert flops.achieved_tflops(8e9, 0.004) == pytest.approx(2.0)
    with pytest.raises(ValueError, match='mean step time must be positive, got 0'):
        flops.achieved_tflops(8e9, 0)


# ---------------------------------------------------------------------------------------------
# resnet_v2 against a count by hand of its layers.


def _conv(size_out, channels_in, channels_out, kernel):
    return 2 * size_out * size_out * channels_out * kernel * kernel * channels_in


def resnet_v2_hand_count(depth, image_size, batch, num_classes):
    """Float operations of resnet_v2_<depth>'s inference step (input to logits) by the profiler's
    rules, from the architecture: 7x7/2 conv (+bias) and 3x3/2 max-pool; per bottleneck unit a
    projection shortcut (1x1 conv + bias, when the depth changes) or a 1x1 stride-s max-pool
    subsample (when it does not and s > 1), 1x1 / 3x3 (stride s) / 1x1 (+bias) convolutions and the
    residual add; the stride of blocks 1-3 sits in their last unit; global mean; 1x1 logits conv
    (+bias). Batch norm and ReLU count zero."""
    size = math.ceil(image_size / 2)
    total = _conv(size, 3, 64, 7) + size * size * 64
    size = math.ceil(size / 2)
    total += 9 * size * size * 64
    channels = 64
    for base_depth, num_units, block_stride in zip(
        (64, 128, 256, 512), UNITS_PER_BLOCK[depth], (2, 2, 2, 1), strict=True
    ):
        out_depth = 4 * base_depth
        for index in range(num_units):
            stride = block_stride if index == num_units - 1 else 1
            size_out = math.ceil(size / stride)
            outputs = size_out * size_out * out_depth
            if out_depth != channels:
                total += _conv(size_out, channels, out_depth, 1) + outputs
            elif stride > 1:
                total += outputs
            total += _conv(size, channels, base_depth, 1)
            total += _conv(size_out, base_depth, base_depth, 3)
            total += _conv(size_out, base_depth, out_depth, 1) + outputs
            total += outputs  # the residual add
            channels, size = out_depth, size_out
    total += size * size * channels  # the profiler's Mean: one per input element
    total += _conv(1, channels, num_classes, 1) + num_classes
    return batch * total


def _inference_graph(depth, image_size, batch, num_classes=1000):
    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [batch, image_size, image_size, 3])
        with slim.arg_scope(resnet_arg_scope()):
            logits, _ = get_network(depth)(images, num_classes=num_classes, is_training=False)
    return graph, logits


@pytest.mark.parametrize('batch', [1, 2])
def test_small_resnet_step_equals_hand_count(batch):
    graph, logits = _inference_graph(50, 64, batch, num_classes=10)
    count = flops.step_flops(graph, logits)
    assert count.total == resnet_v2_hand_count(50, 64, batch, 10)
    assert set(count.by_op_type) == {'Conv2D', 'BiasAdd', 'MaxPool', 'AddV2', 'Mean'}


def test_backward_graph_counts_backward_convolutions():
    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [2, 64, 64, 3])
        with slim.arg_scope(resnet_arg_scope()):
            logits, _ = get_network(50)(images, num_classes=10, is_training=True)
        loss = tf.reduce_sum(logits)
        grads = tf.gradients(loss, tf.compat.v1.trainable_variables())
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


@pytest.fixture(
    scope='module',
    params=[
        50,
        pytest.param(101, marks=pytest.mark.slow),
        pytest.param(152, marks=pytest.mark.slow),
        pytest.param(200, marks=pytest.mark.slow),
    ],
)
def full_size(request):
    """resnet_v2_<depth> inference at 224x224, batch 1, 1000 classes: (depth, whole, step) counts and
    the number of weight-decay losses."""
    graph, logits = _inference_graph(request.param, 224, 1)
    num_l2_losses = sum(op.type == 'L2Loss' for op in graph.get_operations())
    return request.param, flops.graph_flops(graph), flops.step_flops(graph, logits), num_l2_losses


def test_whole_graph_matches_tf_slim_figure(full_size):
    depth, whole, _, _ = full_size
    assert round(whole.total / 1e9, 3) == TF_SLIM_GRAPH_GFLOP[depth]


def test_full_size_step_equals_hand_count(full_size):
    depth, _, step, _ = full_size
    assert step.total == resnet_v2_hand_count(depth, 224, 1, 1000)


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
