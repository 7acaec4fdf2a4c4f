"""Chrome traces (bench/measuring/trace.py): a traced training step holds forward and backward ops.

The trace does not depend on the network's depth, so the step is a two-block resnet_v2."""

import json

import tensorflow as tf
import tf_slim as slim

from bench.measuring import trace
from slim_resnet import resnet_arg_scope, resnet_v2


def run_traced(session, fetches):
    """One fully traced run: (the fetched values, its RunMetadata)."""
    options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
    run_metadata = tf.compat.v1.RunMetadata()
    return session.run(fetches, options=options, run_metadata=run_metadata), run_metadata


def test_trace_of_a_forward_backward_step(tmp_path, traced_op_types, small_blocks):
    with tf.Graph().as_default():
        images = tf.compat.v1.get_variable('images', [1, 32, 32, 3])
        with slim.arg_scope(resnet_arg_scope()):
            logits, _ = resnet_v2.resnet_v2(images, small_blocks, num_classes=10, is_training=True)
        gradients = tf.gradients(tf.reduce_sum(logits), tf.compat.v1.trainable_variables())
        fetch = tf.add_n([tf.reshape(gradient, [-1])[0] for gradient in gradients])
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            value, run_metadata = run_traced(session, fetch)
    path = tmp_path / 'step.json'
    trace.write_chrome_trace(str(path), run_metadata)
    text = path.read_text()
    events = json.loads(text)['traceEvents']
    assert value.shape == ()
    op_types = traced_op_types(text)
    # oneDNN renames some kernels (e.g. _MklConv2D), so match by substring.
    for wanted in ('Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'FusedBatchNormGrad'):
        assert any(wanted in op_type for op_type in op_types), wanted
    durations = [event['dur'] for event in events if event.get('ph') == 'X']
    # At least an event per convolution and per gradient of one (its filter's, and its input's
    # but the first's), all with a duration.
    num_convs = sum(op.type == 'Conv2D' for op in session.graph.get_operations())
    assert len(durations) >= 3 * num_convs - 1 and all(duration >= 0 for duration in durations)


def test_untraced_run_has_no_step_stats():
    with tf.Graph().as_default():
        total = tf.reduce_sum(tf.ones([8, 8]))
        with tf.compat.v1.Session() as session:
            run_metadata = tf.compat.v1.RunMetadata()
            session.run(total, run_metadata=run_metadata)
            assert not run_metadata.step_stats.dev_stats
            _, traced = run_traced(session, total)
            assert traced.step_stats.dev_stats
