"""The graph of the untimed pass after the measured steps: the configuration's network and, for
the agreement, a plain fp32 twin, on the same images, given the timed graph's weights.

A graph of its own, so the timed graph and its steps are never touched. It holds:

- the images: a placeholder fed with the measured synthetic batch (as float32, NHWC), or, with real
  data, the evaluation pipeline over the whole source (forward's, in order, float32);
- the configuration's network as the timed step computes it (its layout, its compute dtype on
  float32 masters, its XLA scope) in inference mode, under the model's scope;
- with `agreement`, the same network in fp32, NHWC, without XLA, under `REFERENCE_SCOPE`;
- one op loading every variable of both from the values read out of the timed session
  (`weight_values`), so both compute with the measured weights (restored or not, trained or not).

Both fetch their logits and `end_points['global_pool']` as float32 [N, classes] and [N, channels].
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tf_slim as slim

from bench.inputs import pipeline as pipeline_lib
from bench.step import graphs, step_inputs
from bench.step import precision as precision_lib
from bench.step import xla as xla_lib
from bench.step.plan import StepPlan
from slim_resnet import resnet_arg_scope

tf1 = tf.compat.v1

REFERENCE_SCOPE = "fp32_reference"


@dataclasses.dataclass
class QualityGraph:
    """The untimed pass's graph and what to run in it.

    Attributes:
      graph: the tf.Graph (finalized).
      initializer: initialises the local variables and (real data) starts the pipeline.
      load: assigns every network variable (every global variable) from `weight_feeds`.
      weight_feeds: {timed graph's variable name: placeholder} (each placeholder once).
      images: the images placeholder [None, size, size, 3] float32 (synthetic), or None.
      fetches: {'logits', 'pooled'} and, with the agreement, {'reference_logits',
        'reference_pooled'}, and with real data {'labels'}.
    """

    graph: tf.Graph
    initializer: tf.Operation
    load: tf.Operation
    weight_feeds: dict
    images: tf.Tensor | None
    fetches: dict


def weight_values(session: tf1.Session, graph: tf.Graph, model_name: str, strategy=None) -> dict:
    """{variable name: value} of the model's variables in a session of the timed graph (the first
    copy of each with replicas)."""
    with graph.as_default():
        variables = tf1.global_variables(scope=model_name)
    if strategy is not None:
        variables = [strategy.experimental_local_results(variable)[0] for variable in variables]
    values = session.run(variables)
    return {variable.op.name: value for variable, value in zip(variables, values, strict=True)}


def _flat_float32(tensor: tf.Tensor) -> tf.Tensor:
    """[N, ...] -> [N, rest] in float32 (global_pool is [N, 1, 1, C] or [N, C, 1, 1])."""
    return tf.reshape(precision_lib.to_float32(tensor), [tf.shape(tensor)[0], -1])


def _network_outputs(plan: StepPlan, images: tf.Tensor, network) -> tuple[tf.Tensor, tf.Tensor]:
    """The plan's network in inference mode on NHWC float32 `images`, in its layout, compute dtype
    and XLA scope; returns (logits, pooled), flat float32."""
    if plan.data_format == "NCHW":
        images = tf.transpose(images, [0, 3, 1, 2])
    images = precision_lib.cast_to_compute(images, plan.config.precision)
    with xla_lib.jit_scope(plan.config.xla):
        with slim.arg_scope(resnet_arg_scope(data_format=plan.data_format)):
            with precision_lib.precision_scope(plan.config.precision):
                logits, end_points = network(images, num_classes=plan.config.num_classes, is_training=False)
        return _flat_float32(logits), _flat_float32(end_points["global_pool"])


def reference_plan(plan: StepPlan) -> StepPlan:
    """The plan of the fp32 reference: float32, NHWC, no XLA."""
    return dataclasses.replace(plan.changed(precision="fp32", xla=False), compute_dtype=tf.float32,
                               data_format="NHWC")


def _real_images(plan: StepPlan) -> tuple[tf.Tensor, tf.Tensor, pipeline_lib.InputPipeline]:
    """The evaluation pipeline over the whole source, float32 NHWC, on the host."""
    built = step_inputs.plan_pipeline(plan, training=False, dtype=tf.float32, name="quality_inputs")
    return built.images, built.labels, built


def _loader(variables: list) -> tuple[dict, tf.Operation]:
    """One placeholder per timed-graph variable name and one op assigning all of `variables`."""
    feeds: dict = {}
    assigns = []
    for variable in variables:
        name = variable.op.name
        if name.startswith(REFERENCE_SCOPE + "/"):
            name = name[len(REFERENCE_SCOPE) + 1:]
        if name not in feeds:
            feeds[name] = tf1.placeholder(variable.dtype.base_dtype, variable.shape, name="weight")
        assigns.append(tf1.assign(variable, feeds[name]))
    return feeds, tf.group(*assigns, name="load_weights")


def build_quality_graph(plan: StepPlan, agreement: bool, network=None) -> QualityGraph:
    """Builds the untimed pass's graph (see the module docstring).

    Args:
      plan: the measured configuration's plan.
      agreement: also build the fp32 reference.
      network: the network (None: `graphs.plan_network(plan)`).

    Returns:
      A QualityGraph.
    """
    network = network or graphs.plan_network(plan)
    graph = tf.Graph()
    with graph.as_default(), tf.device(plan.device_names[0]):
        tf1.set_random_seed(plan.config.seed)
        placeholder, pipeline = None, None
        if plan.data_source is None:
            shape = [None, plan.config.image_size, plan.config.image_size, 3]
            placeholder = tf1.placeholder(tf.float32, shape, name="images")
            images, labels = placeholder, None
        else:
            images, labels, pipeline = _real_images(plan)
        logits, pooled = _network_outputs(plan, images, network)
        fetches = {"logits": logits, "pooled": pooled}
        if agreement:
            with tf1.variable_scope(REFERENCE_SCOPE):
                fetches["reference_logits"], fetches["reference_pooled"] = _network_outputs(
                    reference_plan(plan), images, network)
        if labels is not None:
            fetches["labels"] = labels
        feeds, load = _loader(tf1.global_variables())
        # `load` assigns every global variable: no random initial values to compute first.
        initializer = tf.group(tf1.local_variables_initializer())
        if pipeline is not None:
            with tf.control_dependencies([initializer]):
                initializer = tf.group(pipeline.initializer)
    graph.finalize()
    return QualityGraph(graph, initializer, load, feeds, placeholder, fetches)


def load_feed(quality: QualityGraph, values: dict) -> dict:
    """The feed dict of `quality.load` from the timed graph's `weight_values`.

    Raises:
      ValueError: naming a variable of the quality graph the timed graph did not have.
    """
    missing = [name for name in quality.weight_feeds if name not in values]
    if missing:
        raise ValueError(f"the timed graph has no variable {missing[0]} to copy into the quality pass")
    return {placeholder: np.asarray(values[name]) for name, placeholder in quality.weight_feeds.items()}
