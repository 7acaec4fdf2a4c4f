"""The step's inputs: synthetic batches that live on the device, or an input pipeline over real data.

Synthetic images and integer labels are local, non-trainable variables initialised once, so no
step copies data from the host; each replica's shard draws its own values. Real data
(`plan.data_source`) comes through `bench.inputs.pipeline`, built from the plan's settings by
`plan_pipeline` for both of its users: the timed step (one pipeline per replica, in the compute
dtype, on the replica's device; `pipeline_inputs`) and the untimed quality pass (the whole
source, float32, on the host; `bench.step.quality_graph`).
"""

from __future__ import annotations

import tensorflow as tf

from bench.core.config import LABELS_WITH_BACKGROUND
from bench.inputs import pipeline as pipeline_lib
from bench.step.plan import StepPlan

tf1 = tf.compat.v1


def synthetic_inputs(plan: StepPlan, shard: int = 0, local_index: int = 0) -> tuple[tf.Tensor, tf.Tensor]:
    """Creates images and labels as local, non-trainable variables on the current device.

    Args:
      plan: the batch's shape (batch size, image size, layout), dtype and number of classes.
      shard: the replica's index across the cluster; shards other than 0 draw their values with
        that op-level seed, so every replica (on every worker) gets a different batch.
      local_index: the replica's index on this worker (names its variables).

    Returns:
      (images, labels): images [N, H, W, 3] (or [N, 3, H, W]) in the compute dtype, uniform in
      [-1, 1);
      labels [N] int32 in [0, num_classes).
    """
    local = [tf1.GraphKeys.LOCAL_VARIABLES]
    seed = shard or None
    with tf1.variable_scope("synthetic_inputs" + (f"_{local_index}" if local_index else "")):
        images = tf1.get_variable(
            "images",
            list(plan.input_shape),
            dtype=plan.compute_dtype,
            trainable=False,
            collections=local,
            initializer=tf1.random_uniform_initializer(-1.0, 1.0, seed=seed),
        )
        labels = tf1.get_variable(
            "labels",
            [plan.config.batch_size],
            dtype=tf.int32,
            trainable=False,
            collections=local,
            initializer=tf1.random_uniform_initializer(0, plan.config.num_classes, seed=seed, dtype=tf.int32),
        )
    return images.read_value(), labels.read_value()


def plan_pipeline(
    plan: StepPlan,
    training: bool,
    dtype: tf.DType,
    name: str,
    device: str | None = None,
    num_workers: int = 1,
    worker_index: int = 0,
) -> pipeline_lib.InputPipeline:
    """An input pipeline over `plan.data_source` with the configuration's batch, image size,
    preprocessing, classes, threads and seed (`bench.inputs.pipeline.build_pipeline`).

    Args:
      plan: the plan with its checked data source.
      training: the training preprocessing and shuffling (else the evaluation path, in order).
      dtype: the images' dtype.
      name: the name scope of its ops.
      device: where its batches are prefetched to (a GPU replica's device), or None.
      num_workers, worker_index: read the worker_index-th of num_workers parts of the files.

    Returns:
      The InputPipeline: images [N, H, W, 3] in `dtype`, labels [N] int32 (the stored labels,
      class 0 the background).
    """
    config = plan.config
    return pipeline_lib.build_pipeline(
        plan.data_source, config.batch_size, config.image_size, training=training,
        preprocessing_name=config.preprocessing, num_classes=config.num_classes,
        background=LABELS_WITH_BACKGROUND, dtype=dtype, threads=plan.data_threads, device=device,
        seed=config.seed, num_workers=num_workers, worker_index=worker_index, name=name)


def pipeline_inputs(
    plan: StepPlan, shard: int = 0, local_index: int = 0
) -> tuple[tf.Tensor, tf.Tensor, pipeline_lib.InputPipeline]:
    """Builds one replica's input pipeline over `plan.data_source` in the current graph.

    Args:
      plan: the source, preprocessing, threads, batch, image size, classes, dtype, layout, mode.
      shard: the replica's index across the cluster: it reads that part of the files.
      local_index: the replica's index on this worker (names its ops).

    Returns:
      (images, labels, pipeline): images [N, H, W, 3] (transposed to [N, 3, H, W] in NCHW, except
      in 'input', which times the pipeline's own batch) in the compute dtype, on the current device;
      labels [N] int32, the stored labels (class 0 the background).
    """
    device = plan.device_names[local_index] if plan.config.device == "gpu" else None
    built = plan_pipeline(plan, plan.training_pipeline, plan.compute_dtype,
                          name="inputs" + (f"_{local_index}" if local_index else ""), device=device,
                          num_workers=plan.num_replicas, worker_index=shard)
    images = built.images
    if plan.data_format == "NCHW" and plan.has_model:
        images = tf.transpose(images, [0, 3, 1, 2], name="to_nchw")
    return images, built.labels, built
