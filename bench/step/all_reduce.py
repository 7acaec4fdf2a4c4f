"""Which all-reduce the replicas use, and what one step reduces: chosen here, never left to
tf.distribute's defaults.

TensorFlow 2.21 in a v1 graph (read in its `tensorflow/python/distribute`):

- one worker, GPUs: `MirroredStrategy` would default to its collective all-reduce with NCCL as a
  hint, but in a graph NCCL launches cannot be ordered, so every reduce of a single tensor
  (`CollectiveAllReduce._all_reduce`, `_limited_nccl`) runs as a ring: each batch norm's moving
  averages, 302 per resnet_v2_152 train step. `NcclAllReduce` is given instead: the gradients in
  one packed NCCL all-reduce, and every single tensor through NCCL too.
- one worker, CPU devices: `ReductionToOneDevice` (a sum on one device, copied back), what
  tf.distribute falls back to there anyway, given explicitly.
- several workers: `MultiWorkerMirroredStrategy` with `communication=NCCL` between GPUs (which
  also sets `experimental.collective_nccl` in the session config) and `RING` between CPUs; its
  default, AUTO, leaves the choice to the runtime. The same graph-mode rule applies to its
  single-tensor reduces: the batched gradients go through NCCL, the moving averages through the
  ring.

What is reduced: the gradients, as in every data-parallel step (their mean, once per step), and,
in 'train', batch norm's moving averages (their update averaged across replicas, each one
separately, so every copy of every variable stays identical: a checkpoint from any replica is the
same, and every worker's fingerprint agrees). tf_cnn_benchmarks' replicated mode keeps the first
tower's statistics instead and reduces the gradients only; that costs one all-reduce fewer per
moving average and step, and would leave the copies different. The record says which all-reduce
ran and how many tensors a step reduces (`AllReduce`), and the runtime's own all-reduce ops that
ran in a step (`bench.measuring.executed.all_reduce_ops`).
"""

from __future__ import annotations

import collections
import dataclasses

import tensorflow as tf

from bench.step.plan import StepPlan

NCCL = "nccl"
RING = "collective ring"
COLLECTIVE_NCCL = "collective nccl (single tensors: ring)"
ONE_DEVICE = "reduction to one device"


@dataclasses.dataclass
class AllReduce:
    """The all-reduce of a replicated step.

    Attributes:
      implementation: NCCL, RING, COLLECTIVE_NCCL or ONE_DEVICE.
      reduced: {'gradients': tensors, 'moving_averages': tensors} one step all-reduces, counted
        as the graph is built (filled by `bench.step.replicas`).
    """

    implementation: str
    reduced: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def to_dict(self, ops_run: int | None = None) -> dict:
        """The record's `extra.all_reduce`, with the all-reduce ops a step ran (None: not read)."""
        return {"implementation": self.implementation, "tensors_per_step": dict(self.reduced),
                "ops_run": ops_run}


def implementation(plan: StepPlan) -> str:
    """The all-reduce a replicated plan uses (see the module docstring)."""
    if plan.config.workers > 1:
        return COLLECTIVE_NCCL if plan.config.device == "gpu" else RING
    return NCCL if plan.config.device == "gpu" else ONE_DEVICE


def cross_device_ops(plan: StepPlan):
    """The `cross_device_ops` of one worker's MirroredStrategy."""
    if implementation(plan) == NCCL:
        return tf.distribute.NcclAllReduce()
    return tf.distribute.ReductionToOneDevice()


def communication(plan: StepPlan):
    """The collective communication of several workers' MultiWorkerMirroredStrategy."""
    kinds = tf.distribute.experimental.CommunicationImplementation
    return kinds.NCCL if plan.config.device == "gpu" else kinds.RING
