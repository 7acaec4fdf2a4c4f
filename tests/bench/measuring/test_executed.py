"""What ran, read from a step's RunMetadata (bench/measuring/executed.py): the convolutions' layout,
and XLA's compiled code proven from the nodes that ran, not from the graph that was asked for."""

import numpy as np
import pytest
import tensorflow as tf

from bench.core.config import BenchmarkConfig
from bench.measuring import executed
from bench.step import graphs, xla
from bench.step.plan import plan_step

tf1 = tf.compat.v1
TINY = dict(depth=50, batch_size=2, image_size=32, num_classes=10, device="cpu")


def _run(build, xla_on=True):
    """Builds `build(matrix)` (a fetch) inside the JIT scope on a 4x4 variable (nothing for grappler
    to fold away), runs it twice and returns the second run's values and RunMetadata (a cluster's
    cold run may be its fallback)."""
    graph = tf.Graph()
    with graph.as_default():
        matrix = tf1.get_variable("matrix", initializer=np.arange(16, dtype="float32").reshape(4, 4))
        with xla.jit_scope(xla_on):
            fetch = build(matrix.read_value())
        initializer = tf1.global_variables_initializer()
    with tf1.Session(graph=graph) as session:
        session.run(initializer)
        session.run(fetch)
        return executed.run_executed_step(session, fetch)


def test_a_compiled_step_is_compiled_and_nothing_ran_outside_xla():
    values, run_metadata = _run(lambda m: tf.reduce_sum(tf.nn.relu(tf.matmul(m, m))))
    assert executed.xla_compiled(run_metadata) and executed.uncompiled_ops(run_metadata) == {}
    assert np.isfinite(values)


def test_an_op_xla_cannot_compile_inside_the_scope_makes_the_step_not_compiled():
    # Unique has no XLA kernel (its output shape depends on the values): the clusters around it
    # compile and run, and it runs as a TensorFlow kernel between them.
    def build(m):
        unique, _ = tf.unique(tf.reshape(tf.matmul(m, m), [-1]))
        return tf.reduce_sum(unique * 2.0)

    _, run_metadata = _run(build)
    assert executed.XLA_RUN_OP in {node.op for graph in run_metadata.partition_graphs for node in graph.node}
    assert not executed.xla_compiled(run_metadata)
    assert executed.uncompiled_ops(run_metadata) == {"Unique": 1}


def test_a_cluster_whose_fallback_ran_is_not_compiled():
    # What lazy compilation (a cluster's first runs) or a failed compilation does: the cluster's
    # _XlaMerge takes its TensorFlow call instead of _XlaRun. The executed graph is the real one;
    # the nodes that ran are those of such a step.
    _, run_metadata = _run(lambda m: tf.reduce_sum(tf.matmul(m, m)))
    nodes = [node for graph in run_metadata.partition_graphs for node in graph.node]
    (merge,) = [node for node in nodes if node.op == executed.XLA_MERGE_OP]
    xla_run = next(node.name for node in nodes if node.op == executed.XLA_RUN_OP)
    fallback = next(name for name in merge.input if name.split(":")[0] != xla_run).split(":")[0]
    for device in run_metadata.step_stats.dev_stats:
        kept = [stats for stats in device.node_stats if stats.node_name != xla_run]
        del device.node_stats[:]
        device.node_stats.extend(kept)
    run_metadata.step_stats.dev_stats[0].node_stats.add(node_name=fallback)
    assert not executed.xla_compiled(run_metadata)
    assert executed.uncompiled_ops(run_metadata) == {f"fallback {fallback}": 1}


def test_without_xla_nothing_is_compiled():
    _, run_metadata = _run(lambda m: tf.reduce_sum(tf.matmul(m, m)), xla_on=False)
    assert not executed.xla_compiled(run_metadata)


@pytest.fixture(scope="module")
def built(small_network):
    """The tiny forward step in both layouts (built only: the CPU cannot run NCHW)."""
    plans = {fmt: plan_step(BenchmarkConfig(mode="forward", data_format=fmt, **TINY))
             for fmt in ("NHWC", "NCHW")}
    network = small_network(BenchmarkConfig(**TINY))
    return {fmt: graphs.build_timed_graph(plan, network) for fmt, plan in plans.items()}


def test_the_executed_layout_is_read_from_the_graphs_that_ran(built):
    timed = built["NHWC"]
    with tf1.Session(graph=timed.graph, config=timed.session_config) as session:
        session.run(timed.initializer)
        _, run_metadata = executed.run_executed_step(session, timed.target)
    assert executed.convolution_layout(run_metadata) == "NHWC"


def test_an_nchw_graph_reads_as_nchw_and_a_graph_without_convolutions_as_none(built):
    # The CPU cannot run NCHW: the built graph stands for the executed one (no rewrite: the
    # session turns grappler's layout optimizer off).
    run_metadata = tf1.RunMetadata()
    run_metadata.partition_graphs.add().CopyFrom(built["NCHW"].graph.as_graph_def())
    assert executed.convolution_layout(run_metadata) == "NCHW"
    run_metadata.partition_graphs.add().CopyFrom(built["NHWC"].graph.as_graph_def())
    assert executed.convolution_layout(run_metadata) == "mixed"
    assert executed.convolution_layout(tf1.RunMetadata()) is None
