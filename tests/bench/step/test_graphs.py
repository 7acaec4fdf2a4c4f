"""The timed graphs: on-device synthetic inputs, and targets that do their mode's work."""


import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from bench.core.config import BenchmarkConfig
from bench.step import graphs, step_inputs, targets
from bench.step.plan import plan_step
from slim_resnet import resnet_arg_scope, resnet_v2

tf1 = tf.compat.v1
TINY = dict(depth=50, batch_size=2, image_size=64, num_classes=10, device="cpu")

def executed_ops(session, fetch):
    """Names of the nodes a traced run of `fetch` executed."""
    metadata = tf1.RunMetadata()
    options = tf1.RunOptions(trace_level=tf1.RunOptions.FULL_TRACE)
    session.run(fetch, options=options, run_metadata=metadata)
    return {node.node_name for device in metadata.step_stats.dev_stats
            for node in device.node_stats}


@pytest.fixture(scope="module")
def sessions(small_network):
    """An initialised session per mode on the tiny configuration: resnet_v2_50 in forward mode
    (its layout is checked), the small network in the other two."""
    opened = {}
    for mode in ("forward", "forward-backward", "train"):
        config = BenchmarkConfig(mode=mode, **TINY)
        network = None if mode == "forward" else small_network(config)
        timed = graphs.build_timed_graph(plan_step(config), network)
        session = tf1.Session(graph=timed.graph, config=timed.session_config)
        session.run(timed.initializer)
        opened[mode] = (timed, session)
    yield opened
    for _, session in opened.values():
        session.close()


def test_forward_backward_target_executes_every_gradient_op(sessions, convolution_gradient_scopes):
    """Every gradient op that runs when the gradients are fetched runs for the target too, and
    that includes each convolution's gradient. The floor is read from the graph (one gradient
    scope per convolution, the conftest fixture), not counted from a trace: how many nodes
    TensorFlow executes depends on the machine (oneDNN's and grappler's fusions)."""
    timed, session = sessions["forward-backward"]
    # Reference: the ops that run when the gradients themselves are fetched.
    reference = {name for name in executed_ops(session, timed.step.gradients)
                 if name.startswith("gradients/")}
    target = executed_ops(session, timed.target)
    assert reference <= target
    scopes = convolution_gradient_scopes(timed.graph)
    assert scopes
    for convolution, scope in scopes.items():
        assert any(name.startswith(scope) for name in target), f"no gradient of {convolution}"
    assert len(timed.step.gradients) == len(timed.step.variables) > 0


def test_grouping_the_gradients_would_run_none_of_them(small_blocks):
    """Why the target reads the gradients: the obvious tf.group(*grads) is pruned to nothing.
    (TensorFlow's pruning, whatever the network: a two-unit ResNet v2 shows it.)"""
    config = BenchmarkConfig(mode="forward-backward", **TINY)
    graph = tf.Graph()
    with graph.as_default():
        images, labels = step_inputs.synthetic_inputs(plan_step(config))
        with slim.arg_scope(resnet_arg_scope()):
            logits, _ = resnet_v2.resnet_v2(images, small_blocks, num_classes=config.num_classes,
                                            is_training=True)
        gradients = tf.gradients(targets.classification_loss(logits, labels),
                                 tf1.trainable_variables())
        grouped = tf.group(*gradients)
        initializer = [tf1.global_variables_initializer(), tf1.local_variables_initializer()]
    with tf1.Session(graph=graph) as session:
        session.run(initializer)
        # The gradient ops do run when fetched themselves ...
        assert any(name.startswith("gradients/") for name in executed_ops(session, gradients))
        # ... and none of them when grouped.
        assert not {name for name in executed_ops(session, grouped)
                    if name.startswith("gradients/")}


def _values(session, graph, names):
    with graph.as_default():
        variables = {v.op.name: v for v in tf1.global_variables()}
    return {name: session.run(variables[name]) for name in names}


WATCHED = ["resnet_v2_50/conv1/weights", "resnet_v2_50/logits/weights",
           "resnet_v2_50/postnorm/moving_mean", "resnet_v2_50/postnorm/gamma"]


def test_train_updates_weights_and_batch_norm_averages(sessions):
    timed, session = sessions["train"]
    before = _values(session, timed.graph, WATCHED)
    session.run(timed.target)
    after = _values(session, timed.graph, WATCHED)
    for name in WATCHED:
        assert not np.array_equal(before[name], after[name]), name


@pytest.mark.parametrize("mode", ["forward", "forward-backward"])
def test_forward_and_forward_backward_change_no_variable(sessions, mode):
    timed, session = sessions[mode]
    before = _values(session, timed.graph, WATCHED)
    session.run(timed.target)
    after = _values(session, timed.graph, WATCHED)
    for name in WATCHED:
        np.testing.assert_array_equal(before[name], after[name])


def test_inputs_live_on_the_device_as_local_variables(sessions):
    timed, session = sessions["forward"]
    graph = timed.graph
    assert not [op for op in graph.get_operations() if op.type == "Placeholder"]
    with graph.as_default():
        local_names = {v.op.name for v in tf1.local_variables()}
        trainable_names = {v.op.name for v in tf1.trainable_variables()}
    assert {"synthetic_inputs/images", "synthetic_inputs/labels"} <= local_names
    assert not any(name.startswith("synthetic_inputs") for name in trainable_names)
    images, labels = session.run([timed.images, timed.labels])
    assert images.shape == (2, 64, 64, 3) and images.dtype == np.float32
    assert labels.shape == (2,) and labels.min() >= 0 and labels.max() < 10
    # Created once: two reads give the same batch.
    np.testing.assert_array_equal(images, session.run(timed.images))
    # The forward fetch is a scalar: no large host copy.
    assert timed.target.shape == ()


def test_nchw_graph_builds_with_the_same_variables(small_network):
    built = {}
    for data_format in ("NHWC", "NCHW"):  # built only: the CPU has no NCHW kernels to run it
        config = BenchmarkConfig(mode="forward", data_format=data_format, **TINY)
        built[data_format] = graphs.build_timed_graph(plan_step(config), small_network(config))
    nhwc, nchw = built["NHWC"], built["NCHW"]
    assert nhwc.images.shape.as_list() == [2, 64, 64, 3]
    assert nchw.images.shape.as_list() == [2, 3, 64, 64]
    shapes = {}
    for data_format, timed in (("NHWC", nhwc), ("NCHW", nchw)):
        with timed.graph.as_default():
            shapes[data_format] = {v.op.name: v.shape.as_list()
                                   for v in tf1.trainable_variables()}
    assert shapes["NHWC"] == shapes["NCHW"]
    # FLOPs of the NCHW step are counted on its NHWC twin, those of the NHWC step on itself.
    assert nhwc.flop_twin is None and nhwc.flop_counted[2] == "the timed graph"
    assert nchw.flop_twin.images.shape.as_list() == [2, 64, 64, 3]
    assert nchw.flop_counted[:2] == (nchw.flop_twin.graph, nchw.flop_twin.target)


def test_parameter_count_matches_the_official_layout(manifest, sessions):
    manifest = manifest["resnet_v2_50"]
    official = {name: manifest["global_variables"][name] for name in manifest["trainable_variables"]}
    assert sum(int(np.prod(shape)) for shape in official.values()) == 25_570_409  # 1001 classes
    # The tiny graph's 10 classes: the official layout with 10 logits instead of 1001.
    expected = dict(official)
    expected["resnet_v2_50/logits/weights"] = [*official["resnet_v2_50/logits/weights"][:-1], 10]
    expected["resnet_v2_50/logits/biases"] = [10]
    timed, _ = sessions["forward"]
    with timed.graph.as_default():
        assert {v.op.name: v.shape.as_list() for v in tf1.trainable_variables()} == expected
    assert timed.param_count == sum(int(np.prod(shape)) for shape in expected.values())




def test_the_stand_in_network_replaces_resnet_v2_under_its_scope(monkeypatch, tiny):
    """BENCH_TEST_NETWORK=small: the plan holds it and the built step is the two-unit ResNet v2,
    its variables under resnet_v2_50's scope; unset, the plan builds resnet_v2_50."""
    from bench.core.config import BenchmarkConfig
    from bench.step import graphs, plan

    config = BenchmarkConfig(**dict(tiny, mode="forward"))
    monkeypatch.setenv("BENCH_TEST_NETWORK", "small")
    small = graphs.build_timed_graph(plan.plan_step(config))
    monkeypatch.delenv("BENCH_TEST_NETWORK")
    full_plan = plan.plan_step(config)
    assert full_plan.test_network is None
    assert graphs.plan_network(full_plan).__name__ == "resnet_v2_50"
    names = {op.name for op in small.graph.get_operations()}
    assert any(name.startswith("resnet_v2_50/block2/unit_1/") for name in names)
    assert not any(name.startswith("resnet_v2_50/block3/") for name in names)
    assert 0 < small.param_count < 100_000  # resnet_v2_50 at 10 classes has about 23.5 M


def test_the_flop_twin_of_a_worker_stays_out_of_the_cluster(small_network):
    # On a GPU every worker's default layout is NCHW, so every worker builds an NHWC twin: it must
    # not go through the cluster again (a second tf.distribute.Server on the worker's port).
    config = BenchmarkConfig(mode="train", data_format="NCHW", workers=2, **TINY)
    plan = plan_step(config)
    twin_plan = graphs.flop_twin_plan(plan)
    assert plan.config.workers == 2 and plan.replicated
    assert (twin_plan.config.workers, twin_plan.data_format, twin_plan.config.xla) == (1, "NHWC", False)
    assert twin_plan.device_names == plan.device_names and not twin_plan.replicated
    twin = graphs.build_timed_graph(twin_plan, small_network(config))  # no TF_CONFIG needed
    assert twin.session_target == "" and twin.replicated is None
