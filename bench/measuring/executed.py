"""What the runtime executed in one step, read from its RunMetadata: not what the graph asked for.

Grappler rewrites the graph before it runs (on a GPU its layout optimizer may turn NCHW into NHWC
or back; `bench.step.plan.session_config` turns it off) and XLA may run a cluster's TensorFlow
fallback instead of its compiled code. One step run with `executed_step_options()` hands back the
graphs the runtime executes (`partition_graphs`, after every rewrite) and the nodes that ran in
it (`step_stats`: a software trace, no device tracer, in this process; a full trace through a
worker's server, whose master collects the nodes that ran only then); the readers here answer
from those (None when the runtime handed back no node that ran):

- `convolution_layout`: the `data_format` of the convolutions in the executed graphs ('NHWC',
  'NCHW', 'mixed'), None when none runs outside XLA (XLA picks its own layouts inside a cluster,
  and 'input' has no network).
- `xla_compiled`: True only when compiled code ran and nothing the JIT scope marked ran as
  TensorFlow kernels: every cluster's `_XlaRun` ran and none of its fallback calls (the other
  input of its `_XlaMerge`, taken when XLA did not compile: lazy compilation's first runs, a
  failed compilation), and no marked op was left out of the clusters (an op XLA has no kernel for
  runs outside them, uncompiled). `uncompiled_ops` names those ops.
- `all_reduce_ops`: the all-reduce ops of their own that ran (NCCL's, the collectives'; the
  reduction to one device is a plain sum and has none).
"""

from __future__ import annotations

import collections

import tensorflow as tf

XLA_RUN_OP = "_XlaRun"
XLA_MERGE_OP = "_XlaMerge"
XLA_SCOPE_ATTR = "_XlaCompile"  # set by tf.xla.experimental.jit_scope on the ops it marks
SOFTWARE_TRACE = 1  # RunOptions.SOFTWARE_TRACE: the nodes that ran, without a device tracer
# Ops that compute nothing: a marked one left outside a cluster (a variable read feeding it) is
# not uncompiled work.
_NO_ARITHMETIC = frozenset({"ReadVariableOp", "Identity", "NoOp", "Const", "VarHandleOp"})
ALL_REDUCE_OPS = frozenset({"NcclAllReduce", "CollectiveReduce", "CollectiveReduceV2"})


def executed_step_options(run_options, distributed: bool = False):
    """`run_options` (a RunOptions) asking for the executed graphs and the nodes that ran.

    Args:
      run_options: a tf.compat.v1.RunOptions, changed in place (a --trace keeps its FULL_TRACE).
      distributed: the session runs on a worker's server (several workers).

    Returns:
      The same RunOptions.
    """
    run_options.output_partition_graphs = True
    level = run_options.FULL_TRACE if distributed else SOFTWARE_TRACE
    run_options.trace_level = max(run_options.trace_level, level)
    return run_options


def run_executed_step(session, fetches) -> tuple:
    """Runs `fetches` once with `executed_step_options`.

    Args:
      session: a tf.compat.v1.Session, initialised.
      fetches: what the step fetches (in this process's session; a worker's server needs
        `executed_step_options(..., distributed=True)`).

    Returns:
      (the fetched values, the step's tf.compat.v1.RunMetadata).
    """
    run_metadata = tf.compat.v1.RunMetadata()
    options = executed_step_options(tf.compat.v1.RunOptions())
    values = session.run(fetches, options=options, run_metadata=run_metadata)
    return values, run_metadata


def _executed_nodes(run_metadata) -> list:
    """The NodeDefs of the executed graphs."""
    return [node for graph_def in run_metadata.partition_graphs for node in graph_def.node]


def _ran(run_metadata) -> set[str]:
    """Names of the nodes that ran in the step."""
    return {stats.node_name for device in run_metadata.step_stats.dev_stats for stats in device.node_stats}


def convolution_layout(run_metadata) -> str | None:
    """The layout the step's convolutions ran in.

    Args:
      run_metadata: a RunMetadata filled by a step run with `executed_step_options`.

    Returns:
      'NHWC' or 'NCHW' when every convolution in the executed graphs has that `data_format`,
      'mixed' when they differ, None when none is there.
    """
    formats = {
        node.attr["data_format"].s.decode()
        for node in _executed_nodes(run_metadata)
        if "Conv2D" in node.op and "data_format" in node.attr
    }
    if not formats:
        return None
    return formats.pop() if len(formats) == 1 else "mixed"


def uncompiled_ops(run_metadata) -> dict[str, int]:
    """{op type: count} of what the step ran as TensorFlow kernels though XLA was asked to compile
    it: the fallback calls of clusters that ran, and marked ops left out of every cluster."""
    ran = _ran(run_metadata)
    nodes = _executed_nodes(run_metadata)
    xla_runs = {node.name for node in nodes if node.op == XLA_RUN_OP}
    found: collections.Counter = collections.Counter()
    for node in nodes:
        if node.name not in ran:
            continue
        if node.op == XLA_MERGE_OP:
            fallbacks = [name.split(":")[0] for name in node.input if name.split(":")[0] not in xla_runs]
            found.update(f"fallback {name}" for name in fallbacks if name in ran)
        elif node.attr[XLA_SCOPE_ATTR].b and node.op not in _NO_ARITHMETIC:
            found[node.op] += 1
    return dict(found)


def xla_compiled(run_metadata) -> bool | None:
    """Whether the step ran XLA's compiled code for everything the JIT scope marked (see the module
    docstring); None when the runtime handed back no node that ran."""
    ran = _ran(run_metadata)
    if not ran:
        return None
    compiled = any(node.op == XLA_RUN_OP and node.name in ran for node in _executed_nodes(run_metadata))
    return compiled and not uncompiled_ops(run_metadata)


def all_reduce_ops(run_metadata) -> int | None:
    """How many all-reduce ops (ALL_REDUCE_OPS) the step ran on this worker, one per device and
    reduced tensor or pack; None when the runtime handed back no node that ran."""
    ran = _ran(run_metadata)
    if not ran:
        return None
    return sum(1 for node in _executed_nodes(run_metadata) if node.op in ALL_REDUCE_OPS and node.name in ran)
