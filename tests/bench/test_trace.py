"""Chrome traces (bench/trace.py): a traced training step holds forward and backward ops, and bad
paths are refused before anything runs."""

import json
import os

import pytest
import tensorflow as tf
import tf_slim as slim

from bench import trace
from slim_resnet import resnet_arg_scope, resnet_v2_50


def test_trace_of_a_forward_backward_step(tmp_path):
    with tf.Graph().as_default():
        images = tf.compat.v1.get_variable('images', [1, 32, 32, 3])
        with slim.arg_scope(resnet_arg_scope()):
            logits, _ = resnet_v2_50(images, num_classes=10, is_training=True)
        gradients = tf.gradients(tf.reduce_sum(logits), tf.compat.v1.trainable_variables())
        fetch = tf.add_n([tf.reshape(gradient, [-1])[0] for gradient in gradients])
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            value, run_metadata = trace.run_traced(session, fetch)
    path = tmp_path / 'step.json'
    trace.write_chrome_trace(str(path), run_metadata)
    text = path.read_text()
    events = json.loads(text)['traceEvents']
    assert value.shape == ()
    op_types = trace.traced_op_types(text)
    # oneDNN renames some kernels (e.g. _MklConv2D), so match by substring.
    for wanted in ('Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'FusedBatchNormGrad'):
        assert any(wanted in op_type for op_type in op_types), wanted
    durations = [event['dur'] for event in events if event.get('ph') == 'X']
    assert len(durations) > 500 and all(duration >= 0 for duration in durations)


def test_untraced_run_has_no_step_stats():
    with tf.Graph().as_default():
        total = tf.reduce_sum(tf.ones([8, 8]))
        with tf.compat.v1.Session() as session:
            run_metadata = tf.compat.v1.RunMetadata()
            session.run(total, run_metadata=run_metadata)
            assert not run_metadata.step_stats.dev_stats
            _, traced = trace.run_traced(session, total)
            assert traced.step_stats.dev_stats


def test_bad_trace_paths_are_refused(tmp_path):
    trace.check_trace_path(str(tmp_path / 'fine.json'))
    assert not (tmp_path / 'fine.json').exists()
    with pytest.raises(ValueError, match='is a directory'):
        trace.check_trace_path(str(tmp_path))
    with pytest.raises(ValueError, match='does not exist'):
        trace.check_trace_path(str(tmp_path / 'missing' / 'step.json'))


def test_unwritable_trace_directory_is_refused(tmp_path):
    locked = tmp_path / 'locked'
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip('running with permissions that ignore directory modes (root)')
        with pytest.raises(ValueError, match='is not writable'):
            trace.check_trace_path(str(locked / 'step.json'))
    finally:
        locked.chmod(0o700)
