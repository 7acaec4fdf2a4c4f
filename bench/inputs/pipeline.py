"""The tf.compat.v1 input pipeline over a `DataSource`, built in the current graph.

Stages: the files (shards, or image paths with their labels) are split between workers, shuffled
(training), repeated for ever and read in parallel (an interleave of `TFRecordDataset`s, or parallel
`read_file`s); records are taken `GROUP_SIZE` at a time, parsed together and their labels checked in
one parallel map (an out-of-range label or a record without `image/encoded` stops the run with its
message); each group's images are decoded and preprocessed in a parallel map over the groups; cut
into batches of a fixed shape; prefetched, and copied to `device` ahead of the step when one is given
(`tf.data.experimental.prefetch_to_device`). Parallel stages use `tf.data.AUTOTUNE`, or `threads`
calls on a private pool of that many threads.

An image that fails to decode or preprocess is skipped and counted: each group is decoded, in a
parallel map over the groups, by a dataset of its own whose errors are ignored and which batches what
decoded, so only decoding errors are ignored and errors of reading, parsing and checking the records
(upstream, outside it) still stop the run. A sequential map adds each group's failures to a variable
on the host, and `rebatch` cuts the groups into batches. The guard's cost is per group, not per image
(within 5% of a bare tf.data loop: benchmarks/input_pipeline.py). Run `InputPipeline.skipped` after
the steps: it counts every failure the pipeline met, prefetched batches and each epoch included. When
as many images as the source holds (or `DEFAULT_SKIP_LIMIT` when not counted) fail with no image
decoding in a group between, the run stops with an error instead of waiting for ever.

The stages live in `record_groups` (reading, parsing and checking) and `decoding_guard` (decoding
and counting what does not decode); this module puts them together. Training uses
`training_preprocessing`; forward (training=False) uses the evaluation path of
extraction, `slim_resnet.preprocessing.preprocess`, and reads the files in order.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from bench.inputs import decoding_guard, record_groups, sources, training_preprocessing
from slim_resnet import preprocessing

tf1 = tf.compat.v1

DEFAULT_SHUFFLE_BUFFER = 1024  # records; ImageNet's average JPEG is about 110 kB
DEFAULT_SKIP_LIMIT = 10_000
GROUP_SIZE = 32  # images parsed, checked and decoded together (the decoding guard's cost is per group)


@dataclasses.dataclass(frozen=True)
class InputPipeline:
    """The pipeline's tensors and ops.

    Attributes:
      images: [batch, size, size, 3] in the requested dtype (on `device` when one was given).
      labels: int32 [batch], the model's classes (see `sources.label_range`).
      initializer: the op to run once before the first step: it zeroes the counters and (re)starts
        the iterator.
      iterator: the initializable tf.compat.v1 iterator.
      skipped: int64 scalar, the distinct images skipped so far because they did not decode (an
        image read again in a later pass over the data is not counted again).
      dataset: the batched dataset the iterator reads.
    """

    images: tf.Tensor
    labels: tf.Tensor
    initializer: tf.Operation
    iterator: object
    skipped: tf.Tensor
    dataset: tf.data.Dataset


def _check_arguments(source, batch_size, image_size, preprocessing_name, training, dtype, threads,
                     num_workers, worker_index):
    if source.format not in sources.FORMATS:
        raise ValueError(f"source format {source.format!r}: expected one of {', '.join(sources.FORMATS)}")
    for name, value in (("batch_size", batch_size), ("image_size", image_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} {value!r}: expected a positive int")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads {threads!r}: expected a positive int or None (AUTOTUNE)")
    names = training_preprocessing.TRAINING_PREPROCESSING if training else tuple(preprocessing.PREPROCESSING)
    if preprocessing_name not in names:
        raise ValueError(f"preprocessing {preprocessing_name!r}: expected one of {', '.join(names)}")
    if not tf.as_dtype(dtype).is_floating:
        raise ValueError(f"dtype {tf.as_dtype(dtype).name}: expected a floating type")
    if not 0 <= worker_index < num_workers:
        raise ValueError(f"worker_index {worker_index}: expected 0..{num_workers - 1}")
    if num_workers > source.num_files:
        raise sources.DataError(f"{source.path}: {source.num_files} files cannot be split between "
                                f"{num_workers} workers; give at least one file per worker")


def build_pipeline(source: sources.DataSource, batch_size: int, image_size: int, training: bool,
                   preprocessing_name: str = preprocessing.DEFAULT_PREPROCESSING, num_classes: int = 1001,
                   background: bool = True, dtype=tf.float32, threads: int | None = None,
                   device: str | None = None, shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER,
                   seed: int | None = None, num_workers: int = 1, worker_index: int = 0,
                   skip_limit: int | None = None, name: str = "inputs") -> InputPipeline:
    """Builds the input pipeline in the current (tf.compat.v1) graph.

    Args:
      source: from `sources.inspect_source`.
      batch_size: images per batch (every batch is full: the remainder is dropped).
      image_size: the output height and width.
      training: training preprocessing and shuffling if True, else the evaluation path, in order.
      preprocessing_name: 'inception', 'vgg' or 'none'.
      num_classes: the model's classes.
      background: whether class 0 is the background (labels as stored) or not (stored label - 1).
      dtype: the images' floating dtype (cast on the host, before the copy).
      threads: None for AUTOTUNE, or the size of a private thread pool and of every parallel stage.
      device: where to copy the batches ahead of the step ('/gpu:0'), or None to leave them on the host.
      shuffle_buffer: records shuffled across shards when training (0 or 1: none).
      seed: the shuffling and augmentation seed, or None.
      num_workers: workers splitting the files between them.
      worker_index: this worker's index.
      skip_limit: undecodable images in a row that stop the run; None: the source's image count.
      name: the name scope of the pipeline's ops and counters.

    Returns:
      An `InputPipeline`.

    Raises:
      ValueError: for a bad argument, naming it and what is allowed.
      sources.DataError: for fewer files than workers.
    """
    _check_arguments(source, batch_size, image_size, preprocessing_name, training, dtype, threads,
                     num_workers, worker_index)
    dtype = tf.as_dtype(dtype)
    parallel = tf.data.AUTOTUNE if threads is None else threads
    limit = skip_limit or source.num_images or DEFAULT_SKIP_LIMIT
    with tf1.name_scope(name), tf.device("/cpu:0"):
        skipped = tf.lookup.experimental.MutableHashTable(tf.int64, tf.int64, 0, name="skipped_images")
        in_a_row = tf1.Variable(0, dtype=tf.int64, trainable=False, name="skipped_in_a_row",
                                collections=[tf1.GraphKeys.LOCAL_VARIABLES], use_resource=True)
        groups = record_groups.groups(source, training, parallel, seed, shuffle_buffer, num_workers,
                                      worker_index, GROUP_SIZE,
                                      record_groups.label_checker(source, num_classes, background))
        make = decoding_guard.image_maker(source, image_size, preprocessing_name, training, dtype, seed)
        decoded = groups.map(decoding_guard.guarded(make, image_size, dtype), num_parallel_calls=parallel,
                             deterministic=not training)  # ([n, size, size, 3], [n], failed)
        # In order, on one thread:
        counted = decoded.map(decoding_guard.skip_counter(skipped, in_a_row, limit, source.path))
        dataset = counted.rebatch(batch_size, drop_remainder=True)
        options = tf.data.Options()
        if threads is not None:
            options.threading.private_threadpool_size = threads
            options.threading.max_intra_op_parallelism = 1
        dataset = dataset.with_options(options)
        if device:
            dataset = dataset.apply(tf.data.experimental.prefetch_to_device(device, buffer_size=2))
        else:
            dataset = dataset.prefetch(tf.data.AUTOTUNE)
        iterator = tf1.data.make_initializable_iterator(dataset)
        forget = skipped.remove(skipped.export()[0])
        initializer = tf.group(forget, in_a_row.initializer, iterator.initializer, name="initializer")
        skipped_value = skipped.size()
    with tf.device(device):
        batch_images, batch_labels = iterator.get_next(name=f"{name}_batch")
    return InputPipeline(batch_images, batch_labels, initializer, iterator, skipped_value, dataset)
