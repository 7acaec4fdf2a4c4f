"""Building the graph that is timed, one fresh `tf.Graph` per configuration.

The inputs come from `bench.step.step_inputs`: synthetic batches that live on the device, or
(`plan.data_source`) one input pipeline per replica: the training preprocessing and shuffling in
every mode but forward (which reads with the evaluation path), images cast to the compute dtype
on the host and copied to a GPU replica's device ahead of the step (`prefetch_to_device`); replica
k of R reads the k-th of R parts of the files. The pipelines' iterators start in the graph's
initializer, after the variables (their skip counters among them). In 'input' there is no
network: the step runs the pipeline's batch as a target (`bench.step.targets`).

What each step fetches, per mode, is built by `bench.step.targets`. With more than one replica
(`--num-devices`, `--workers`) the graph holds one copy of the step per local device, built by
`bench.step.replicas` on tf.distribute; each replica gets its own synthetic shard on its device.

Precision (bench/step/precision.py): the network is built under a custom getter that keeps every
variable in float32 and hands the layers cast reads in the compute type; the synthetic images are
stored in the compute type.

XLA (bench/step/xla.py): with `xla`, the network and the mode's target (loss, gradients, update) are
built inside `tf.xla.experimental.jit_scope()`; the synthetic inputs and initializers are not.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import tensorflow as tf
import tf_slim as slim

from bench.core import stand_ins
from bench.step import precision as precision_lib
from bench.step import replicas, step_inputs, targets
from bench.step import restore as restore_lib
from bench.step import xla as xla_lib
from bench.step.plan import StepPlan
from slim_resnet import get_network, resnet_arg_scope
from slim_resnet import resnet_v2 as resnet_v2_lib

tf1 = tf.compat.v1


@dataclasses.dataclass
class TimedGraph:
    """A built graph and what to run in it.

    Attributes:
      graph: the tf.Graph (finalized).
      initializer: op initialising every variable, synthetic inputs included.
      param_count: number of trainable parameters of the network.
      images, labels: the synthetic inputs (reads of their variables); the first replica's.
      logits: the network's logits, in the compute dtype; the first replica's.
      step: the mode's fetch and the tensors around it (bench.step.targets.Step).
      session_target: where the session connects ('' in this process; a worker's server).
      session_config: the ConfigProto every session on this graph uses (the plan's, or the
        strategy's extension of it).
      replicated: the replicas' parts (bench.step.replicas.ReplicatedStep), or None for one device.
      pipelines: with real data, each local replica's input pipeline (`bench.inputs.pipeline`).
      skipped_images: with real data, an int64 scalar: the images every local pipeline skipped
        so far because they did not decode (read once after the measured steps); else None.
      network: the network built (`plan_network`'s, or the one given), for the untimed quality
        pass to build again (`bench.step.quality_graph`).
      restore: with a checkpoint, the op restoring the network's weights (every replica's copy),
        run after `initializer` (`bench.step.restore`); else None.
      flop_twin: for an NCHW graph, its NHWC twin without XLA, whose FLOPs are counted instead
        (TensorFlow's profiler only counts pooling and backward convolutions in NHWC, and the
        layout does not change the arithmetic); None otherwise.
    """

    graph: tf.Graph
    initializer: tf.Operation
    param_count: int
    images: tf.Tensor
    labels: tf.Tensor
    logits: tf.Tensor | None
    step: targets.Step
    session_target: str = ""
    session_config: tf1.ConfigProto | None = None
    replicated: replicas.ReplicatedStep | None = None
    flop_twin: TimedGraph | None = None
    pipelines: list = dataclasses.field(default_factory=list)
    skipped_images: tf.Tensor | None = None
    restore: tf.Operation | None = None
    network: Network | None = None

    @property
    def target(self):
        """The fetch timed by every step."""
        return self.step.target

    @property
    def flop_counted(self) -> tuple[tf.Graph, object, str]:
        """(graph, fetch, which in words) whose FLOPs stand for one step's."""
        if self.flop_twin is None:
            return self.graph, self.target, "the timed graph"
        return self.flop_twin.graph, self.flop_twin.target, "the NHWC twin of the timed graph"


# A network as slim_resnet's resnet_v2_<depth>: (images, num_classes=, is_training=) -> (logits, end_points).
Network = Callable[..., tuple]


def small_blocks() -> list:
    """The blocks of a two-unit ResNet v2 (base depths 4 and 8, the first unit subsampling): the
    stand-in network's, and the tests' for behaviour that does not depend on the depth."""
    return [resnet_v2_lib.resnet_v2_block("block1", base_depth=4, num_units=1, stride=2),
            resnet_v2_lib.resnet_v2_block("block2", base_depth=8, num_units=1, stride=1)]


def small_network(scope: str) -> Network:
    """The two-unit ResNet v2 (`small_blocks`) with its variables under `scope`."""
    return functools.partial(resnet_v2_lib.resnet_v2, blocks=small_blocks(), scope=scope)


def plan_network(plan: StepPlan) -> Network:
    """The network the plan builds: resnet_v2_<depth>, or `small_network` under the same scope
    when the plan holds the test-only stand-in (`bench.core.stand_ins`)."""
    if plan.test_network == stand_ins.SMALL:
        return small_network(plan.config.model_name)
    return get_network(plan.config.depth)


def replica_step(
    images: tf.Tensor, labels: tf.Tensor, plan: StepPlan, network: Network | None = None, replica=None
) -> tuple[tf.Tensor, targets.Step]:
    """Builds one replica's network on `images` and the mode's target on its logits: resnet_v2_<depth>
    under the project's arg scope in the plan's precision (float32 variables, compute in the
    compute dtype), inside an XLA JIT scope with `plan.config.xla`.

    Args:
      images: the input batch in the plan's layout.
      labels: [N] int32.
      plan: depth, number of classes, layout, precision, mode (batch norm's training mode), XLA.
      network: another network in its place (None: `plan_network`); tests give a smaller
        ResNet v2 for behaviour that does not depend on the depth.
      replica: as for `bench.step.targets.build_step` (None on one device).

    Returns:
      (logits [N, num_classes] in the compute dtype, the mode's Step); in 'input' (no network)
      (None, the Step running the batch).
    """
    logits = None
    with xla_lib.jit_scope(plan.config.xla and plan.has_model):
        if plan.has_model:
            network = network or plan_network(plan)
            if images.dtype != plan.compute_dtype:
                images = tf.cast(images, plan.compute_dtype)
            with slim.arg_scope(resnet_arg_scope(data_format=plan.data_format)):
                with precision_lib.precision_scope(plan.config.precision):
                    logits, _ = network(images, num_classes=plan.config.num_classes,
                                        is_training=plan.is_training)
        # 'input' has no network: its target runs the batch itself.
        return logits, targets.build_step(images if logits is None else logits, labels, plan, replica)


def flop_twin_plan(plan: StepPlan) -> StepPlan:
    """The plan of an NCHW step's FLOP-counting twin: the same step in NHWC, without XLA, and on
    this worker alone (`workers=1`): the twin is counted, never run, and its FLOPs are this worker's
    local replicas' (`bench.results.result` multiplies by the workers). A twin kept in the cluster
    would go through `bench.step.replicas.make_strategy` again and start a second
    `tf.distribute.Server` on the worker's port ("Could not start gRPC server")."""
    return dataclasses.replace(plan.changed(xla=False, workers=1), data_format="NHWC")


def build_timed_graph(plan: StepPlan, network: Network | None = None) -> TimedGraph:
    """Builds the synthetic inputs, the network and the mode's target in a fresh graph, on one
    device or as replicas (`bench.step.replicas.build_on_devices`).

    Args:
      plan: the step (`bench.step.plan.plan_step`).
      network: see `replica_step` (its variables under `plan.config.model_name`, which
        param_count counts).

    Returns:
      A TimedGraph whose graph is finalized.
    """
    twin = None
    if plan.data_format == "NCHW" and plan.has_model:
        twin = build_timed_graph(flop_twin_plan(plan), network)
    pipelines: list = []  # each local replica's InputPipeline (`bench.inputs.pipeline`)

    def make_inputs(shard: int, local_index: int) -> tuple[tf.Tensor, tf.Tensor]:
        if plan.data_source is None:
            return step_inputs.synthetic_inputs(plan, shard, local_index)
        images, labels, built = step_inputs.pipeline_inputs(plan, shard, local_index)
        pipelines.append(built)
        return images, labels

    def build_replica(images: tf.Tensor, labels: tf.Tensor, replica) -> tuple:
        return replica_step(images, labels, plan, network, replica)

    graph = tf.Graph()
    with graph.as_default():
        tf1.set_random_seed(plan.config.seed)
        placed = replicas.build_on_devices(plan, make_inputs, build_replica)
        network_variables = tf1.trainable_variables(scope=plan.config.model_name)
        param_count = sum(variable.shape.num_elements() for variable in network_variables)
        variables = [tf1.global_variables_initializer(), tf1.local_variables_initializer()]
        skipped = None
        if pipelines:
            with tf.control_dependencies(variables):  # the counters the pipelines update first
                initializer = tf.group(*[built.initializer for built in pipelines], name="init")
            skipped = tf.add_n([built.skipped for built in pipelines], name="skipped_images")
        else:
            initializer = tf.group(*variables, name="init")
        restore = None
        if plan.checkpoint is not None:
            restore = restore_lib.restore_op(plan.checkpoint, plan.config.model_name, placed.strategy)
    graph.finalize()
    return TimedGraph(
        graph,
        initializer,
        param_count,
        placed.images[0],
        placed.labels[0],
        placed.logits[0],
        placed.step,
        session_target=placed.session_target,
        session_config=placed.session_config,
        replicated=placed if plan.replicated else None,
        flop_twin=twin,
        pipelines=pipelines,
        skipped_images=skipped,
        restore=restore,
        network=network or (plan_network(plan) if plan.has_model else None),
    )
