"""The bare input timing loop: burn-in and measured steps run, one raw time per measured step."""

import pytest
import tensorflow as tf

from bench.inputs import input_timing

tf1 = tf.compat.v1


def test_runs_burn_in_then_measured_steps_and_returns_their_times():
    with tf.Graph().as_default():
        counter = tf1.Variable(0, dtype=tf.int64, use_resource=True)
        images = tf.fill([2, 4, 4, 3], tf.cast(counter.assign_add(1), tf.float32))
        with tf1.Session() as session:
            session.run(counter.initializer)
            times = input_timing.time_input(session, images, burn_in=2, num_steps=3)
            assert session.run(counter) == 5
    assert len(times) == 3 and all(isinstance(value, float) and value >= 0 for value in times)


def test_bad_step_counts_are_refused():
    with pytest.raises(ValueError, match="burn_in -1, num_steps 1"):
        input_timing.time_input(None, None, burn_in=-1, num_steps=1)
    with pytest.raises(ValueError, match="num_steps >= 1"):
        input_timing.time_input(None, None, burn_in=0, num_steps=0)
