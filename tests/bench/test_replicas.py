"""Data-parallel steps on tf.distribute: every replica's gradients are computed and reduced, and
training keeps every copy of every variable equal, with the update of the mean gradient."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from bench import graphs, replicas
from bench.config import BenchmarkConfig

# One worker builds this module's shared graphs once (pytest -n 2 runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_replicas")

tf1 = tf.compat.v1
# Batch 2 per replica: at 32 px the last block is 1x1, where one image would make batch norm's
# output constant and most gradients zero.
TINY = dict(depth=50, batch_size=2, image_size=32, num_classes=10, device="cpu", num_devices=2)


def executed_ops(session, fetch):
    """Names of the nodes a traced run of `fetch` executed, with their devices."""
    metadata = tf1.RunMetadata()
    options = tf1.RunOptions(trace_level=tf1.RunOptions.FULL_TRACE)
    session.run(fetch, options=options, run_metadata=metadata)
    return {(device.device.split("/")[-1], node.node_name)
            for device in metadata.step_stats.dev_stats for node in device.node_stats}


def _open(config):
    timed = graphs.build_timed_graph(config)
    session = tf1.Session(timed.session_target, graph=timed.graph,
                          config=timed.session_config or graphs.session_config(config))
    session.run(timed.initializer)
    return timed, session


@pytest.fixture(scope="module")
def replicated():
    """Initialised sessions on 2 replicas (logical CPU devices) for forward-backward and train."""
    opened = {mode: _open(BenchmarkConfig(mode=mode, **TINY))
              for mode in ("forward-backward", "train")}
    yield opened
    for _, session in opened.values():
        session.close()


def test_forward_backward_runs_every_replicas_gradients_and_their_reduction(replicated):
    timed, session = replicated["forward-backward"]
    steps = timed.replicated.replica_steps
    assert len(steps) == 2 and timed.step.target.shape == ()
    # Reference: what runs when each replica's reduced gradients themselves are fetched.
    reference = {op for op in executed_ops(session, [step.gradients for step in steps])
                 if "gradients" in op[1]}
    devices = {device for device, _ in reference}
    assert {"device:CPU:0", "device:CPU:1"} <= devices
    assert any("Conv2DBackpropFilter" in name and device == "device:CPU:1"
               for device, name in reference)
    assert reference <= executed_ops(session, timed.target)


def test_replicas_see_different_shards(replicated):
    timed, session = replicated["forward-backward"]
    first, second = session.run(timed.replicated.images)
    assert first.shape == second.shape == (2, 32, 32, 3)
    assert not np.allclose(first, second)


def _copies(session, graph, strategy):
    """{variable name: [value of each replica's copy]} for every global variable (one run)."""
    with graph.as_default():
        variables = tf1.global_variables()
    return session.run({variable.op.name: list(strategy.experimental_local_results(variable))
                        for variable in variables})


def test_training_keeps_every_copy_of_every_variable_equal(replicated):
    timed, session = replicated["train"]
    session.run(timed.initializer)
    before = _copies(session, timed.graph, timed.replicated.strategy)
    for _ in range(2):
        session.run(timed.target)
    after = _copies(session, timed.graph, timed.replicated.strategy)
    assert any("Momentum" in name for name in after)
    for name, copies in after.items():
        assert len(copies) == 2, name
        np.testing.assert_array_equal(copies[0], copies[1], err_msg=name)
    # And they did train: weights and batch-norm moving averages moved.
    for name in ("resnet_v2_50/conv1/weights", "resnet_v2_50/block1/unit_1/bottleneck_v2/preact/"
                 "moving_mean"):
        assert not np.array_equal(before[name][0], after[name][0]), name


def test_the_update_is_that_of_the_mean_of_the_shards_gradients(replicated):
    """One replicated train step against one device computing each shard's gradients apart."""
    timed, session = replicated["train"]
    session.run(timed.initializer)
    shards = session.run(list(zip(timed.replicated.images, timed.replicated.labels,
                                       strict=True)))
    with timed.graph.as_default():
        trainable = {v.op.name: v for v in tf1.trainable_variables()}
    start = session.run(trainable)
    session.run(timed.target)
    updated = session.run(trainable)

    config = BenchmarkConfig(mode="train", **dict(TINY, num_devices=1))
    single = graphs.build_timed_graph(config)
    with tf1.Session(graph=single.graph, config=graphs.session_config(config)) as reference:
        reference.run(single.initializer)
        variables = dict(zip([v.op.name for v in single.step.variables], single.step.variables,
                             strict=True))
        assert variables.keys() == start.keys()
        reference.run([variable.initializer for variable in variables.values()],
                      feed_dict={variable.initializer.inputs[1]: start[name]
                                 for name, variable in variables.items()})
        per_shard = [reference.run(single.step.gradients,
                                   feed_dict={single.images: images, single.labels: labels})
                     for images, labels in shards]
    # Momentum's accumulator starts at zero, so the first update is -learning_rate * gradient.
    for index, name in enumerate(variables):
        mean_gradient = (per_shard[0][index] + per_shard[1][index]) / 2
        expected = start[name] - config.learning_rate * mean_gradient
        np.testing.assert_allclose(updated[name], expected, rtol=1e-4, atol=1e-6, err_msg=name)
    assert not np.allclose(per_shard[0][0], per_shard[1][0])  # the shards really differ


def test_one_replica_builds_no_strategy():
    config = BenchmarkConfig(mode="forward", **dict(TINY, num_devices=1))
    assert not replicas.is_replicated(config)
    assert replicas.is_replicated(dataclasses.replace(config, num_devices=2))
    assert replicas.is_replicated(dataclasses.replace(config, workers=2))
    assert dataclasses.replace(config, num_devices=2).global_batch_size == 4
