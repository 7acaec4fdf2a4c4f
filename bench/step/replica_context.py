"""What one replica does among the others, inside `call_for_each_replica`: its all-reduces (the
gradients' mean, a sum), its optimizer (applying gradients already reduced), the batch norm's moving
averages made to be averaged across replicas, and the vote that stops several workers at one step.

`bench.step.replicas` builds the replicas with these; `bench.step.targets` builds each replica's
step given its `Replica`. See `bench.step.replicas` for why each is done this way.
"""

from __future__ import annotations

import collections
import dataclasses

import tensorflow as tf

tf1 = tf.compat.v1

MEAN = tf.distribute.ReduceOp.MEAN
SUM = tf.distribute.ReduceOp.SUM


@dataclasses.dataclass
class Replica:
    """One replica's place among the others, handed to `bench.step.targets.build_step`.

    Attributes:
      index: the replica's id across the cluster (replica_id_in_sync_group).
      local_index: its position among this worker's replicas.
      local_count: this worker's replicas.
      reduced: where the tensors a step all-reduces are counted (`all_reduce.AllReduce.reduced`).
    """

    index: int
    local_index: int
    local_count: int
    reduced: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    @property
    def weight_decay_scale(self) -> int:
        """How many times this replica's loss counts the regularisation losses it can see: the
        replica that created the variables holds them all and counts them for each local replica;
        the others hold none."""
        return self.local_count if self.local_index == 0 else 0

    def all_reduce_mean(self, gradients: list, variables: list) -> list:
        """The mean of `gradients` across every replica, this replica's copy of it.

        Args:
          gradients: this replica's gradients, one per variable.
          variables: the (mirrored) variables, the reduction's destinations.

        Returns:
          The reduced gradients on this replica's device, in the same order.
        """

        def reduce(strategy, per_replica):
            self.reduced["gradients"] += len(variables)  # once for all the replicas
            return strategy.extended.batch_reduce_to(MEAN, list(zip(per_replica, variables, strict=True)))

        return list(tf.distribute.get_replica_context().merge_call(reduce, args=(gradients,)))

    @staticmethod
    def optimizer(optimizer: tf1.train.Optimizer) -> _ReducedGradientsOptimizer:
        """`optimizer` applying gradients that are already all-reduced."""
        return _ReducedGradientsOptimizer(optimizer)


@dataclasses.dataclass(frozen=True)
class StopVote:
    """How several workers stop their measured steps at the same step: at each of the stopping
    rule's checkpoints every worker runs `total` (a collective all-reduce, untimed) feeding its
    vote to `vote`, the chief 1.0 to stop and every other worker 0.0; all stop when the total is
    above 0, so the chief's decision is everyone's (`bench.measuring.run_hooks`).

    Attributes:
      vote: the float64 scalar to feed (default 0.0).
      total: the sum of the votes of every replica of every worker.
      chief: whether this worker decides (task 0).
    """

    vote: tf.Tensor
    total: tf.Tensor
    chief: bool

    def shared(self, session, stop: bool) -> bool:
        """Runs the vote (untimed, at a stopping checkpoint): the chief feeds its decision `stop`,
        the others 0; True when the chief decided to stop."""
        return session.run(self.total, {self.vote: float(stop and self.chief)}) > 0.0


def sum_of(value: tf.Tensor) -> tf.Tensor:
    """In a replica's context: `value` summed across every replica (a collective all-reduce with
    several workers)."""

    def reduce(strategy, one):
        return strategy.extended.reduce_to(SUM, one, destinations=one)

    return tf.distribute.get_replica_context().merge_call(reduce, args=(value,))


class _ReducedGradientsOptimizer:
    """A v1 optimizer whose `apply_gradients` skips its own cross-replica aggregation."""

    def __init__(self, optimizer: tf1.train.Optimizer):
        self._optimizer = optimizer

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        return self._optimizer.apply_gradients(
            grads_and_vars, global_step=global_step, name=name, skip_gradients_aggregation=True
        )


def averaged_statistics(counted: collections.Counter | None, next_creator, **kwargs):
    """Variable creator: non-trainable float variables (batch norm's moving averages) get
    aggregation MEAN, so updates in replica context are averaged and applied to every copy; each
    moving average is counted in `counted` (one all-reduce per 'train' step), unless None."""
    aggregation = kwargs.get("aggregation")
    dtype = kwargs.get("dtype")
    floating = dtype is None or tf.as_dtype(dtype).is_floating
    if kwargs.get("trainable") is False and floating and aggregation in (None, tf.VariableAggregation.NONE):
        kwargs["aggregation"] = tf.VariableAggregation.MEAN
        if counted is not None and "moving_" in str(kwargs.get("name", "")):
            counted["moving_averages"] += 1
    return next_creator(**kwargs)
