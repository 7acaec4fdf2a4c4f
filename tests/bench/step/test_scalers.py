"""Loss scaling (bench/step/scalers.py): scaled gradients rescue float16 underflow, a static scale gives
the unscaled gradients, the dynamic scale skips overflows, halves and grows."""

import numpy as np
import pytest
import tensorflow as tf

from bench.core.loss_scale import parse_loss_scale
from bench.step import precision, scalers


def test_an_unresolved_loss_scale_is_refused():
    with pytest.raises(ValueError, match="resolve loss scale 'auto'"):
        scalers.make_loss_scaler(parse_loss_scale('auto'))


def _tiny_loss(value_dtype, input_value):
    """loss = 1e-4 * sum(w * x) with a float32 master w read in `value_dtype`; dloss/dw = 1e-4 * x."""
    x = tf.constant(input_value, tf.float32)
    with precision.precision_scope('fp16' if value_dtype == tf.float16 else 'fp32'):
        w = tf.compat.v1.get_variable(
            'w', [4], dtype=value_dtype, initializer=tf.compat.v1.ones_initializer()
        )
    product = w * tf.cast(x, value_dtype)
    return 1e-4 * precision.to_float32(tf.reduce_sum(product))


def _plain_and_scaled_gradient(value_dtype, input_value, scale):
    """The tiny loss's weight gradient without a loss scale and with a static `scale`."""
    with tf.Graph().as_default():
        loss = _tiny_loss(value_dtype, input_value)
        variables = tf.compat.v1.trainable_variables()
        plain = scalers.scaled_gradients(loss, variables)
        scaled = scalers.scaled_gradients(loss, variables, scalers.StaticLossScaler(scale))
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return session.run([plain[0], scaled[0]])


def test_loss_scaling_rescues_fp16_gradients_that_underflow():
    # d loss / d w = 1e-4 * 1e-4 = 1e-8, below float16's smallest subnormal (6e-8): it flushes to zero
    # in the float16 part of the backward pass unless the loss is scaled up first.
    plain_value, scaled_value = _plain_and_scaled_gradient(tf.float16, 1e-4, 1024)
    assert plain_value.dtype == np.float32
    np.testing.assert_array_equal(plain_value, 0.0)
    np.testing.assert_allclose(scaled_value, 1e-8, rtol=5e-3)  # x = 1e-4 is rounded to float16.


def test_static_scale_gives_the_unscaled_gradients_in_fp32():
    plain_value, scaled_value = _plain_and_scaled_gradient(tf.float32, 3.0, 512)
    np.testing.assert_allclose(plain_value, 3e-4, rtol=1e-6)
    np.testing.assert_array_equal(scaled_value, plain_value)  # A power-of-two scale is exact.


def test_dynamic_scaler_skips_overflows_halves_and_grows():
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float32, [])
        with precision.precision_scope('fp16'):
            w = tf.compat.v1.get_variable(
                'w', [3], dtype=tf.float16, initializer=tf.compat.v1.ones_initializer()
            )
        loss = precision.to_float32(tf.reduce_sum(w * tf.cast(x, tf.float16)))
        scaler = scalers.DynamicLossScaler(initial_scale=1024.0, growth_interval=2)
        variables = tf.compat.v1.trainable_variables()
        grads = scalers.scaled_gradients(loss, variables, scaler)
        optimizer = tf.compat.v1.train.GradientDescentOptimizer(0.5)
        train_op = scalers.apply_gradients(optimizer, list(zip(grads, variables, strict=True)), scaler)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())

            def step(value):
                session.run(train_op, {x: value})
                return session.run([variables[0], scaler.scale_variable, scaler.good_steps])

            def skipped():
                return session.run(scaler.state())['skipped_steps']

            weights, scale, good = step(1.0)  # Finite: applied, one good step.
            np.testing.assert_allclose(weights, 0.5)
            assert (scale, good) == (1024.0, 1)
            assert skipped() == 0
            weights, scale, good = step(np.inf)  # Overflow: skipped, scale halved, counter reset.
            np.testing.assert_allclose(weights, 0.5)
            assert (scale, good, skipped()) == (512.0, 0, 1)
            step(1.0)
            weights, scale, good = step(1.0)  # Second finite step in a row: the scale doubles.
            np.testing.assert_allclose(weights, -0.5)
            assert (scale, good, skipped()) == (1024.0, 0, 1)
            # The state update alone (a forward-backward burn-in) moves the scale and nothing else.
            session.run(scaler.update_state(tf.constant(False)))
            np.testing.assert_allclose(session.run(variables[0]), -0.5)
            assert (session.run(scaler.scale_variable), skipped()) == (512.0, 2)
        names = sorted(v.op.name for v in tf.compat.v1.global_variables())
        assert names == ['loss_scale', 'loss_scale_good_steps', 'loss_scale_skipped_steps', 'w']
        assert [v.op.name for v in tf.compat.v1.trainable_variables()] == ['w']


# ---------------------------------------------------------------------------------------------
# resnet_v2_50, fp32 against fp16 / bf16 on shared float32 variables.




def test_replicas_share_one_dynamic_scale_and_its_first_replicas_update():
    """Two replicas (MirroredStrategy, 2 logical CPU devices) each build the scaler, as every
    replica's step does: the second reuses the first's state (int64 counters included), and one
    state update, the same in both, leaves every copy equal."""
    with tf.Graph().as_default():
        strategy = tf.compat.v1.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        built = []

        def replica():
            scaler = scalers.DynamicLossScaler(initial_scale=1024.0)
            built.append(scaler)
            return scaler.update_state(tf.constant(False))  # an overflow: halve, count it

        with strategy.scope():
            updates = strategy.extended.call_for_each_replica(replica)
        first, second = built
        assert first.good_steps is second.good_steps and first.scale_variable is second.scale_variable
        copies = strategy.experimental_local_results(first.scale_variable)
        counters = strategy.experimental_local_results(first.skipped_steps)
        config = tf.compat.v1.ConfigProto(device_count={"CPU": 2})
        with tf.compat.v1.Session(config=config) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            session.run(strategy.experimental_local_results(updates))
            assert session.run(list(copies)) == [512.0, 512.0]
            assert session.run(list(counters)) == [1, 1]
