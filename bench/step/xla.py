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
With several replicas it also leaves out what a merge call builds (the gradients' and batch-norm
statistics' all-reduce, in tf.distribute's cross-replica context): collectives and NCCL belong
outside XLA's clusters, each replica's compiled step on either side of them.

Whether the compiled code is what ran is read from a step's executed graphs and the nodes that ran
in it, by `bench.measuring.executed.xla_compiled`: a cluster runs as `_XlaCompile` / `_XlaRun`
with TensorFlow's own kernels as its fallback, and an op XLA cannot compile stays out of the
clusters.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import tensorflow as tf


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
    and initialisation, and the all-reduce (see the module docstring)."""
    if tf.distribute.in_cross_replica_context():  # a merge call: the replicas' all-reduce
        return False
    if node_def.op in _VARIABLE_SETUP_OPS or "/Initializer/" in node_def.name:
        return False
    return not (node_def.op in ("AssignVariableOp", "Assign") and node_def.name.endswith("/Assign"))
