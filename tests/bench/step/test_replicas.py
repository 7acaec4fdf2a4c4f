"""Data-parallel steps on tf.distribute: every replica's gradients are computed and reduced, and
training keeps every copy of every variable equal, with the update of the mean gradient.

None of it depends on the network's depth: the steps are the harness's own
(`graphs.build_timed_graph`) with a two-unit ResNet v2 in place of resnet_v2_50 (its `network`
argument), at a fraction of resnet_v2_50's build time (a 2-replica resnet_v2_50 train graph takes
20 s of CPU).
The harness's own replicated graph (`build_timed_graph`, resnet_v2_50) is built in forward mode,
the cheapest, for its shards.
"""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from bench.core.config import BenchmarkConfig
from bench.step import graphs, scalers
from bench.step.plan import plan_step

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


def _open(config, network=None):
    """The harness's graph for `config` (`graphs.build_timed_graph`, with `network` in place of
    resnet_v2_<depth> when given) and an initialised session on it."""
    timed = graphs.build_timed_graph(plan_step(config), network)
    session = tf1.Session(timed.session_target, graph=timed.graph,
                          config=timed.session_config)
    session.run(timed.initializer)
    return timed, session


@pytest.fixture(scope="module")
def replicated():
    """An initialised session on the harness's resnet_v2_50 2-replica (logical CPU devices)
    forward graph."""
    timed, session = _open(BenchmarkConfig(mode="forward", **TINY))
    yield timed, session
    session.close()


@pytest.fixture(scope="module")
def small(small_network):
    """The small network on 2 replicas in forward-backward and train, and on one device in
    train (the reference), each with an initialised session."""
    configs = {"forward-backward": BenchmarkConfig(mode="forward-backward", **TINY),
               "train": BenchmarkConfig(mode="train", **TINY),
               "single train": BenchmarkConfig(mode="train", **dict(TINY, num_devices=1))}
    opened = {name: _open(config, small_network(config)) for name, config in configs.items()}
    yield opened
    for _, session in opened.values():
        session.close()


def test_forward_backward_runs_every_replicas_gradients_and_their_reduction(small,
                                                                          convolution_gradient_scopes):
    """The target runs every gradient op that fetching the reduced gradients runs, and on each
    replica's device the gradient of every convolution placed there. That floor is read from the
    graph (one gradient scope per convolution, the conftest fixture), not from node names or
    counts in a trace, which depend on the kernels TensorFlow picks on the machine (oneDNN's
    fusions)."""
    built, session = small["forward-backward"]
    steps = built.replicated.replica_steps
    assert len(steps) == 2 and built.step.target.shape == ()
    # Reference: what runs when each replica's reduced gradients themselves are fetched.
    reference = {op for op in executed_ops(session, [step.gradients for step in steps])
                 if "gradients" in op[1]}
    target = executed_ops(session, built.step.target)
    assert reference <= target
    for device in ("device:CPU:0", "device:CPU:1"):
        scopes = convolution_gradient_scopes(built.graph, device)
        assert scopes, f"no convolution on {device}"
        ran = {name for ran_on, name in target if ran_on == device}
        for convolution, scope in scopes.items():
            assert any(name.startswith(scope) for name in ran), f"no gradient of {convolution}"


def test_replicas_see_different_shards(replicated):
    timed, session = replicated
    assert len(timed.replicated.replica_steps) == 2 and timed.target.shape == ()
    first, second = session.run(timed.replicated.images)
    assert first.shape == second.shape == (2, 32, 32, 3)
    assert not np.allclose(first, second)
    assert np.isfinite(session.run(timed.target))


def _stored_labels(path):
    """The labels of a shard's records, in order (read eagerly)."""
    examples = [tf.train.Example.FromString(record.numpy()) for record in tf.data.TFRecordDataset(path)]
    return [example.features.feature["image/class/label"].int64_list.value[0] for example in examples]


def test_replicas_on_real_data_read_their_own_files(real_data, small_network):
    # Forward reads in order (the evaluation path): replica k's first batch is the first records of
    # the k-th file, not a batch both replicas share.
    config = BenchmarkConfig(mode="forward", data=real_data, **dict(TINY, num_classes=1001))
    timed, session = _open(config, small_network(config))
    with session:
        labels = session.run(timed.replicated.labels)
    assert len(timed.pipelines) == 2
    files = sorted(os.path.join(real_data, name) for name in os.listdir(real_data))
    assert [replica.tolist() for replica in labels] == [_stored_labels(path)[:2] for path in files]


def test_the_pipeline_alone_on_replicas_ends_with_an_all_reduce_of_their_count(real_data):
    # 'input' has no gradient to all-reduce: its fingerprint is the barrier (every replica's count,
    # summed) that keeps one worker from leaving before the others have run.
    config = BenchmarkConfig(mode="input", data=real_data, **dict(TINY, num_classes=1001))
    timed, session = _open(config)
    with session:
        session.run(timed.target)
        assert session.run(timed.replicated.fingerprint) == 2.0


def _copies(session, graph, strategy):
    """{variable name: [value of each replica's copy]} for every global variable (one run)."""
    with graph.as_default():
        variables = tf1.global_variables()
    return session.run({variable.op.name: list(strategy.experimental_local_results(variable))
                        for variable in variables})


def test_training_keeps_every_copy_of_every_variable_equal(small):
    built, session = small["train"]
    session.run(built.initializer)
    before = _copies(session, built.graph, built.replicated.strategy)
    for _ in range(2):
        session.run(built.step.target)
    after = _copies(session, built.graph, built.replicated.strategy)
    assert any("Momentum" in name for name in after)
    for name, copies in after.items():
        assert len(copies) == 2, name
        np.testing.assert_array_equal(copies[0], copies[1], err_msg=name)
    # And they did train: weights and batch-norm moving averages moved.
    for name in ("resnet_v2_50/conv1/weights", "resnet_v2_50/block1/unit_1/bottleneck_v2/preact/"
                 "moving_mean"):
        assert not np.array_equal(before[name][0], after[name][0]), name


def test_the_update_is_that_of_the_mean_of_the_shards_gradients(small):
    """One replicated train step against one device computing each shard's gradients apart."""
    built, session = small["train"]
    session.run(built.initializer)
    shards = session.run(list(zip(built.replicated.images, built.replicated.labels,
                                  strict=True)))
    with built.graph.as_default():
        trainable = {v.op.name: v for v in tf1.trainable_variables()}
    start = session.run(trainable)
    session.run(built.step.target)
    updated = session.run(trainable)

    single, reference = small["single train"]
    variables = dict(zip([v.op.name for v in single.step.variables], single.step.variables,
                         strict=True))
    assert variables.keys() == start.keys()
    reference.run([variable.initializer for variable in variables.values()],
                  feed_dict={variable.initializer.inputs[1]: start[name]
                             for name, variable in variables.items()})
    per_shard = [reference.run(single.step.gradients,
                               feed_dict={single.images: images, single.labels: labels})
                 for images, labels in shards]
    learning_rate = BenchmarkConfig(mode="train", **TINY).learning_rate
    # Momentum's accumulator starts at zero, so the first update is -learning_rate * gradient.
    for index, name in enumerate(variables):
        mean_gradient = (per_shard[0][index] + per_shard[1][index]) / 2
        expected = start[name] - learning_rate * mean_gradient
        np.testing.assert_allclose(updated[name], expected, rtol=1e-4, atol=1e-6, err_msg=name)
    assert not np.allclose(per_shard[0][0], per_shard[1][0])  # the shards really differ


def test_one_replica_builds_no_strategy(small_network):
    config = BenchmarkConfig(mode="forward", **dict(TINY, num_devices=1))
    timed = graphs.build_timed_graph(plan_step(config), small_network(config))
    assert timed.replicated is None
    with timed.graph.as_default():
        assert not any(op.name.startswith("replica_") for op in timed.graph.get_operations())
    assert dataclasses.replace(config, num_devices=2).global_batch_size == 4


def test_fp16_training_shares_one_dynamic_loss_scale_and_keeps_the_copies_equal(small_network):
    """fp16 with its default dynamic loss scale on 2 replicas: the scaler's state is one mirrored
    value (its update comes from the reduced gradients), and after a few steps, skipped or not,
    every copy of every variable, the scaler's included, is equal."""
    config = BenchmarkConfig(mode="train", precision="fp16", **TINY)
    built, session = _open(config, small_network(config))
    assert built.step.loss_scale == "dynamic"
    for _ in range(3):
        session.run(built.step.target)
    copies = _copies(session, built.graph, built.replicated.strategy)
    assert {"loss_scale", "loss_scale_good_steps", "loss_scale_skipped_steps"} <= copies.keys()
    for name, values in copies.items():
        np.testing.assert_array_equal(values[0], values[1], err_msg=name)
    state = session.run(built.step.loss_scale_state)
    # Each skipped step halved the scale (3 steps are far below the growth interval) and reset
    # the good-step count.
    assert state["loss_scale"] == scalers.DYNAMIC_INITIAL_SCALE / 2 ** state["skipped_steps"]
    assert copies["loss_scale_good_steps"][0] <= 3 - state["skipped_steps"]
    session.close()


def test_with_xla_the_all_reduce_stays_outside_the_compiled_clusters(small_network):
    from bench.measuring import executed

    config = BenchmarkConfig(mode="train", xla=True, **TINY)
    timed, session = _open(config, small_network(config))
    with session:
        # Batch norm's moving averages are all-reduced in merge calls (ReductionToOneDevice's sum on
        # the CPU); what a merge call builds is left unmarked, so XLA never clusters it.
        reduced = [op for op in timed.graph.get_operations()
                   if op.type == "AddN" and "AssignMovingAvg" in op.name]
        assert reduced and all(
            "_XlaCompile" in op.node_def.attr and not op.get_attr("_XlaCompile") for op in reduced)
        session.run(timed.target)  # a cluster's cold run may be its fallback
        _, run_metadata = executed.run_executed_step(session, timed.target)
    ran_outside = {node.name for graph in run_metadata.partition_graphs for node in graph.node}
    assert {op.name for op in reduced} <= ran_outside
    assert executed.xla_compiled(run_metadata)  # and each replica's own step ran compiled


def test_the_step_says_which_all_reduce_it_uses_and_what_it_reduces(small):
    from bench.step import all_reduce

    for mode in ("train", "forward-backward"):
        built, _ = small[mode]
        with built.graph.as_default():
            trainable = len(tf1.trainable_variables())
            moving = len([v for v in tf1.global_variables() if "/moving_" in v.op.name])
        reduction = built.replicated.all_reduce
        assert reduction.implementation == all_reduce.ONE_DEVICE  # logical CPU devices
        # Every gradient once a step; the moving averages only where a step updates them (train).
        expected = {"gradients": trainable, **({"moving_averages": moving} if mode == "train" else {})}
        assert dict(reduction.reduced) == expected and moving > 0
        assert isinstance(built.replicated.strategy.extended._cross_device_ops,  # noqa: SLF001
                          tf.distribute.ReductionToOneDevice)


def test_gpus_are_given_nccl_never_tf_distribute_s_default(small):
    from bench.step import all_reduce

    built, _ = small["train"]
    plan = plan_step(BenchmarkConfig(mode="train", **TINY)).changed(device="gpu")
    assert all_reduce.implementation(plan) == all_reduce.NCCL
    assert isinstance(all_reduce.cross_device_ops(plan), tf.distribute.NcclAllReduce)
    workers = plan.changed(workers=2)
    kinds = tf.distribute.experimental.CommunicationImplementation
    assert all_reduce.communication(workers) == kinds.NCCL
    assert all_reduce.communication(workers.changed(device="cpu")) == kinds.RING
