"""Data parallelism on tf.distribute: the timed step as N replicas in one graph, one per device.

The strategy is tf.distribute's, in a `tf.compat.v1` graph and session (TensorFlow 2.21):

- one worker: `tf.compat.v1.distribute.MirroredStrategy` over the first N GPUs or N logical CPU
  devices (the session's `ConfigProto(device_count={'CPU': N})`; the TF2 logical-device call does
  not reach a v1 session);
- several workers (TF_CONFIG): `tf.compat.v1.distribute.experimental.MultiWorkerMirroredStrategy`,
  collective all-reduce over gRPC.

Which all-reduce each uses (NCCL between GPUs) is chosen by `bench.step.all_reduce`, never left
to tf.distribute's defaults; it also says what a step reduces and why. The strategy is built inside
  the graph (built outside it, in eager mode, it would start its own server on the worker's port),
  and a `tf.distribute.Server` is started with `strategy.update_config_proto(...)` as its default
  session config: that carries the collective group leader to the server's collective executor.
  A server started without it, with the config given to the session only, hangs in the first
  `session.run` (the variables' initial-value broadcast) after "Initializing CoordinationService".

Per replica (`strategy.extended.call_for_each_replica`): its own synthetic shard (local variables
on its device, created outside the strategy, so no copy per step), the network in training or
inference mode, the loss and the gradients (`bench.step.targets`). The gradients are all-reduced to
their mean across every replica (`Replica.all_reduce_mean`: a merge call to
`strategy.extended.batch_reduce_to(MEAN, ...)`), and in 'train' each replica applies the mean with
the v1 optimizer's `apply_gradients(..., skip_gradients_aggregation=True)` (the documented switch
for gradients aggregated outside the optimizer) to its own copy of the variables, so every copy
gets the same update. Batch-norm statistics are per replica (each normalises its own shard); their
moving averages are created with `aggregation=MEAN` by a variable creator around the network, so
each update is averaged across replicas (a merge call) and every copy stays identical. (Left at
the default aggregation NONE, tf.distribute would update each copy from its own shard only, and the
copies would drift apart.) Weight decay: tf-slim's layers add their regularisation losses only in
the replica that creates the variables (the others reuse them), so that replica counts it once per
local replica; the mean of the gradients then carries it exactly once. The model code in
`slim_resnet` knows nothing of this.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import tensorflow as tf

from bench.core import cluster
from bench.step import all_reduce, replica_context, targets
from bench.step.plan import StepPlan

tf1 = tf.compat.v1
@dataclasses.dataclass
class ReplicatedStep:
    """The built step's parts, per local replica (one replica on a single device).

    Attributes:
      step: the combined Step the harness times (targets of every replica).
      replica_steps: each local replica's own Step.
      images, labels, logits: each local replica's shard and logits.
      session_target: '' (in-process) or the worker's server target.
      session_config: the ConfigProto every session on this graph must use.
      strategy: the tf.distribute strategy (None on a single device).
      fingerprint: a float64 scalar every worker must agree on, fetched once after the measured
        steps: in forward-backward the step's fetch (read from the reduced gradients), otherwise
        the sum of |w| over the first local copy of every trainable variable (None on a single
        device).
      all_reduce: which all-reduce the replicas use and what a step reduces (None on a single
        device).
      stop_vote: with several workers, how they stop at the same step (None otherwise).
    """

    step: targets.Step
    replica_steps: list[targets.Step]
    images: list
    labels: list
    logits: list
    session_target: str
    session_config: tf1.ConfigProto
    strategy: object
    fingerprint: tf.Tensor
    all_reduce: all_reduce.AllReduce | None = None
    stop_vote: replica_context.StopVote | None = None


def make_strategy(plan: StepPlan):
    """The strategy, the session target and config for a replicated configuration.

    Call inside the graph the strategy is for. With several workers this starts the worker's
    tf.distribute.Server (see the module docstring for why its config matters).

    Returns:
      (strategy, session target, session ConfigProto, this worker's index).
    """
    if plan.config.workers == 1:
        strategy = tf1.distribute.MirroredStrategy(
            list(plan.device_names), cross_device_ops=all_reduce.cross_device_ops(plan))
        return strategy, "", plan.session_config, 0
    tf_config = cluster.task()
    task = tf_config["task"]
    spec = tf.train.ClusterSpec(tf_config["cluster"])
    accelerators = {"GPU": len(plan.device_names)} if plan.config.device == "gpu" else {}
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        spec,
        task_type=task["type"],
        task_id=int(task["index"]),
        num_accelerators=accelerators,
        rpc_layer="grpc",
    )
    strategy = tf1.distribute.experimental.MultiWorkerMirroredStrategy(
        communication=all_reduce.communication(plan), cluster_resolver=resolver)
    proto = strategy.update_config_proto(plan.session_config)  # a copy, extended
    server = tf.distribute.Server(spec, job_name=task["type"], task_index=int(task["index"]), config=proto)
    shape = cluster.parse(cluster.environment_text())
    cluster.wait_for_peers(shape["addresses"], shape["index"])
    return strategy, server.target, proto, int(task["index"])


def build_on_devices(
    plan: StepPlan,
    make_inputs: Callable[[int, int], tuple],
    build_replica: Callable[[tf.Tensor, tf.Tensor, replica_context.Replica | None], tuple],
) -> ReplicatedStep:
    """Builds the step in the current graph: on the plan's one device, or once per local replica
    through a tf.distribute strategy.

    Args:
      plan: the step; its devices, workers and session settings say which.
      make_inputs: (shard, local index) -> (images, labels), called under the replica's device,
        outside any strategy (plain local variables).
      build_replica: (images, labels, replica) -> (logits, Step), called in the replica's context
        (replica None on one device).

    Returns:
      A ReplicatedStep (on one device: one replica's parts, strategy and fingerprint None).
    """
    if not plan.replicated:
        with tf.device(plan.device_names[0]):
            images, labels = make_inputs(0, 0)
            logits, step = build_replica(images, labels, None)
        return ReplicatedStep(step, [step], [images], [labels], [logits], "", plan.session_config, None, None)
    strategy, target, proto, task_index = make_strategy(plan)
    devices = list(strategy.extended.worker_devices)
    inputs = []
    for local_index, replica_device in enumerate(devices):
        with tf.device(replica_device):
            inputs.append(make_inputs(task_index * len(devices) + local_index, local_index))
    built: dict[int, tuple] = {}
    counted: dict[int, tf.Tensor] = {}
    reduction = all_reduce.AllReduce(all_reduce.implementation(plan))
    moving_averages = reduction.reduced if plan.config.mode == "train" else None
    statistics = functools.partial(replica_context.averaged_statistics, moving_averages)

    @tf.autograph.experimental.do_not_convert
    def replica_step():
        index = int(tf.get_static_value(tf.distribute.get_replica_context().replica_id_in_sync_group))
        local_index = index % len(devices)
        images, labels = inputs[local_index]
        with tf1.variable_creator_scope(statistics):
            replica = replica_context.Replica(index, local_index, len(devices), reduction.reduced)
            built[local_index] = build_replica(images, labels, replica)
        if not plan.has_model:
            counted[local_index] = replica_context.sum_of(tf.constant(1.0, tf.float64))
        if plan.config.workers > 1:
            votes[local_index] = replica_context.sum_of(tf.identity(vote))

    vote = tf1.placeholder_with_default(tf.constant(0.0, tf.float64), [], name="stop_vote")
    votes: dict[int, tf.Tensor] = {}
    with strategy.scope():
        strategy.extended.call_for_each_replica(replica_step)
    logits = [built[i][0] for i in range(len(devices))]
    steps = [built[i][1] for i in range(len(devices))]
    combined = combine_steps(steps, plan.config.mode)
    if plan.config.mode == "forward-backward":
        fingerprint = tf.cast(combined.target, tf.float64)
    elif not plan.has_model:
        # No variables to agree on, and no step that waits for the other workers: the all-reduced
        # count of replicas, fetched after the measured steps, is the barrier that keeps a worker
        # from leaving (taking its server with it) before every other has run its own steps.
        fingerprint = counted[0]
    else:
        copies = [strategy.experimental_local_results(v)[0] for v in tf1.trainable_variables()]
        fingerprint = tf.add_n([tf.reduce_sum(tf.abs(tf.cast(copy, tf.float64))) for copy in copies])
    return ReplicatedStep(
        combined,
        steps,
        [images for images, _ in inputs],
        [labels for _, labels in inputs],
        logits,
        target,
        proto,
        strategy,
        fingerprint,
        reduction,
        replica_context.StopVote(vote, votes[0], task_index == 0) if votes else None,
    )


def combine_steps(steps: list[targets.Step], mode: str) -> targets.Step:
    """One Step running every replica's: the sum of their scalars (forward, forward-backward), the
    group of their updates and of every batch-norm update (train), or of their batches (input)."""
    first = steps[0]
    if mode == "input":
        target = tf.group(*[step.target for step in steps], name="replicated_input")
    elif mode == "train":
        updates = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
        target = tf.group(*[step.target for step in steps], *updates, name="replicated_train_step")
    else:
        target = tf.add_n([step.target for step in steps], name="replicated_" + mode.replace("-", "_"))
    if first.gradients_finite is None:
        return targets.Step(target)
    burn_in = [step.burn_in_target for step in steps] if first.burn_in_target is not None else None
    return targets.Step(
        target,
        loss=tf.add_n([step.loss for step in steps]) / len(steps),
        gradients=first.gradients,
        variables=first.variables,
        loss_scale=first.loss_scale,
        burn_in_target=burn_in,
        gradients_finite=tf.reduce_all(tf.stack([step.gradients_finite for step in steps])),
        loss_scale_state=first.loss_scale_state,
    )
