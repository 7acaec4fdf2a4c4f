"""Floating-point operations of a graph, counted by TensorFlow's profiler, and the rate achieved.

TensorFlow's profiler (`tf.compat.v1.profiler.profile` with the `float_operation` options) adds up,
for every op of a graph whose type has a registered "flops" statistic, a count computed from the op's
static shapes: Conv2D 2 x output elements x kernel height x width x input channels, MatMul 2 x M x N x
K, BiasAdd / Add / Mul one per element, MaxPool kernel area per output element, the backward
convolutions and pooling likewise; ReLU, FusedBatchNorm, casts and variable updates have none and
count zero.

Two counts are useful:

- the whole graph (`graph_flops`): what `tf.compat.v1.profiler` reports when pointed at a freshly built
  model, and the figure quoted for tf-slim's nets (resnet_v2_50 at 224x224, batch 1: 7.106 GFLOP). It
  includes work the timed step never runs: the variable initializers' random-number scaling and, for
  a model built with weight decay, the L2 losses, and the `predictions` softmax;
- the step (`step_flops`): the same profiler on the graph pruned to what the fetched tensors or ops
  depend on (inputs and control inputs), i.e. the work one `session.run` of them executes. This is
  the count the benchmark divides by the step time (resnet_v2_50 inference at 224, batch 1: 6.978
  GFLOP; the 0.127 GFLOP gap is 76.5 M for L2Loss, 51.0 M for the initializers, 5 k for the softmax).

Ops inside functions (e.g. the branches of a `tf.cond`) are not counted; the networks here have
none on their compute path.

The profiler's rules for pooling and backward convolutions only accept NHWC (it would silently skip
such ops in an NCHW graph): count an NHWC build of the same step instead, the arithmetic is the
same. Here an NCHW graph, or one with incomplete static shapes, is refused with a ValueError rather
than undercounted.
"""

from __future__ import annotations

import collections
import dataclasses

import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops

from bench.results import extras

_FLOPS_STATISTIC = "flops"


@dataclasses.dataclass(frozen=True)
class FlopCount:
    """Floating-point operations of one graph (or one step of it).

    Attributes:
      total: the profiler's total float operations.
      by_op_type: {op type: float operations} from the same registry, summing to `total`.
      num_ops: ops in the counted graph.
    """

    total: int
    by_op_type: dict
    num_ops: int


def _profiler_total(graph):
    """The total float operations TensorFlow's profiler reports for `graph`."""
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)


def _registry_breakdown(graph):
    """({op type: flops}, [(op name, error) for ops whose count could not be computed]) for `graph`.

    Uses the same per-op statistics as the profiler; an op whose statistic raises (a shape is unknown,
    or the layout is NCHW) is skipped by the profiler, so it is reported here instead.
    """
    by_type = collections.Counter()
    failures = []
    for op in graph.get_operations():
        try:
            statistic = tf_ops.get_stats_for_node_def(graph, op.node_def, _FLOPS_STATISTIC)
        except ValueError as error:
            failures.append((op.name, str(error)))
            continue
        if statistic.value:
            by_type[op.type] += int(statistic.value)
    return dict(by_type), failures


def _refuse_uncountable(failures):
    """Raises ValueError describing ops the profiler would silently leave out, if there are any."""
    if not failures:
        return
    nchw = [name for name, message in failures if "NHWC" in message]
    names = nchw or [name for name, _ in failures]
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    if nchw:
        raise ValueError(
            f"cannot count FLOPs: TensorFlow's profiler only counts pooling and backward "
            f"convolutions in NHWC, and {len(nchw)} ops are NCHW ({shown}); count an NHWC "
            f"build of the same step"
        )
    raise ValueError(
        f"cannot count FLOPs: {len(names)} ops have incomplete static shapes ({shown}); "
        f"build the graph with a fixed batch size and image size"
    )


def _as_ops(fetches):
    """The ops behind a tensor, an op, or a (nested) list/tuple/dict of them."""
    flat = tf.nest.flatten(fetches)
    return [item if isinstance(item, tf.Operation) else item.op for item in flat]


def _needed_op_names(fetch_ops):
    """Names of the ops `fetch_ops` depend on through data and control inputs, themselves included."""
    needed = set()
    pending = list(fetch_ops)
    while pending:
        op = pending.pop()
        if op.name in needed:
            continue
        needed.add(op.name)
        pending.extend(tensor.op for tensor in op.inputs)
        pending.extend(op.control_inputs)
    return needed


def prune_to_fetches(graph: tf.Graph, fetches) -> tf.Graph:
    """A new tf.Graph holding only the ops that `fetches` (tensors/ops of `graph`) depend on.

    Colocation hints are dropped (they may name ops that were pruned); names are unchanged.
    """
    needed = _needed_op_names(_as_ops(fetches))
    graph_def = graph.as_graph_def()
    pruned_def = tf.compat.v1.GraphDef()
    pruned_def.versions.CopyFrom(graph_def.versions)
    pruned_def.library.CopyFrom(graph_def.library)
    for node in graph_def.node:
        if node.name in needed:
            kept = pruned_def.node.add()
            kept.CopyFrom(node)
            kept.attr.pop("_class", None)
    pruned = tf.Graph()
    with pruned.as_default():
        tf.compat.v1.import_graph_def(pruned_def, name="")
    return pruned


def graph_flops(graph: tf.Graph) -> FlopCount:
    """Float operations of every op in `graph` (the profiler pointed at the whole graph).

    Raises:
      ValueError: if the profiler would silently leave some op's work out: incomplete static shapes,
        or NCHW pooling / backward convolutions.
    """
    by_type, failures = _registry_breakdown(graph)
    _refuse_uncountable(failures)
    return FlopCount(total=_profiler_total(graph), by_op_type=by_type, num_ops=len(graph.get_operations()))


def step_flops(graph: tf.Graph, fetches) -> FlopCount:
    """Float operations of one `session.run(fetches)`: the profiler on the graph pruned to `fetches`.

    Args:
      graph: the tf.Graph holding `fetches`.
      fetches: a tensor, an op, or a nested list/tuple/dict of them, as passed to `session.run`.

    Returns:
      A FlopCount.

    Raises:
      ValueError: as `graph_flops`.
    """
    return graph_flops(prune_to_fetches(graph, fetches))


def counted(graph: tf.Graph, fetches, counted_on: str) -> extras.FlopCount:
    """The FLOP count a record keeps for one step: `step_flops` of `fetches` in `graph`, or the
    reason it could not be counted (the configuration is still measured).

    Args:
      graph: the graph counted (the timed graph or its NHWC twin).
      fetches: the step's fetch in that graph.
      counted_on: which graph it is, in words.
    """
    try:
        count = step_flops(graph, fetches)
    except ValueError as error:
        return extras.FlopCount(per_step=None, counted_on=counted_on, error=str(error))
    return extras.FlopCount(per_step=count.total, by_op_type=count.by_op_type, counted_on=counted_on)
