"""XLA compilation of the measured step, and proof that it happened.

`--xla` builds the whole step (network, loss, gradients, optimizer update) inside
`tf.xla.experimental.jit_scope()`: every op created there is marked for compilation, and gradients
of compiled ops are compiled too. Setting `OptimizerOptions.global_jit_level` alone compiles
nothing on the CPU unless the process also has `TF_XLA_FLAGS=--tf_xla_cpu_global_jit`; the scope
works on both CPU and GPU without flags.

Variables created in the scope (the network's, the optimizer's slots) would have their
initialisation compiled too: hundreds of tiny clusters, compiled in the first `session.run` of the
initializer (9 s of resnet_v2_50's 32 px forward set-up on a 2-core CPU, against 1 s without
XLA), none of it part of a step. `compiles` leaves them out; the step's own ops stay compiled.

A compiled cluster runs as a `_XlaCompile` / `_XlaRun` pair in the graph the runtime executes, which
`RunOptions(output_partition_graphs=True)` hands back in the step's RunMetadata; `ran_with_xla`
checks for `_XlaRun` there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import tensorflow as tf

XLA_RUN_OP = "_XlaRun"


@contextlib.contextmanager
def jit_scope(enabled: bool) -> Iterator[None]:
    """Marks the ops built inside for XLA compilation when `enabled`, else does nothing.

    Args:
      enabled: whether to compile.

    Yields:
      None.
    """
    if not enabled:
        yield
        return
    with tf.xla.experimental.jit_scope(compile_ops=compiles, separate_compiled_gradients=False):
        yield


# Ops that only create, check or initialise a variable: TensorFlow names a variable's initial
# value ops '<variable>/Initializer/...' and its initial assignment '<variable>/Assign'.
_VARIABLE_SETUP_OPS = ("VarHandleOp", "VarIsInitializedOp", "VariableV2")


def compiles(node_def) -> bool:
    """Whether an op created in the scope is marked for compilation: all but a variable's creation
    and initialisation (see the module docstring)."""
    if node_def.op in _VARIABLE_SETUP_OPS or "/Initializer/" in node_def.name:
        return False
    return not (node_def.op in ("AssignVariableOp", "Assign") and node_def.name.endswith("/Assign"))


def partition_graph_options() -> tf.compat.v1.RunOptions:
    """RunOptions asking the runtime for the graphs it actually executes."""
    return tf.compat.v1.RunOptions(output_partition_graphs=True)


def executed_op_types(run_metadata) -> set[str]:
    """The op types in the partition graphs of a step run with `partition_graph_options()`.

    Args:
      run_metadata: the tf.compat.v1.RunMetadata filled by that run.

    Returns:
      A set of op type names.
    """
    return {node.op for graph_def in run_metadata.partition_graphs for node in graph_def.node}


def ran_with_xla(session, fetches) -> tuple[bool, object]:
    """Runs `fetches` once and tells whether an XLA-compiled cluster executed.

    Args:
      session: a tf.compat.v1.Session with variables initialized.
      fetches: what the step fetches.

    Returns:
      (True if the executed graphs contain `_XlaRun`, the fetched values).
    """
    run_metadata = tf.compat.v1.RunMetadata()
    values = session.run(fetches, options=partition_graph_options(), run_metadata=run_metadata)
    return XLA_RUN_OP in executed_op_types(run_metadata), values
