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

Training uses `training_preprocessing`; forward (training=False) uses the evaluation path of
extraction, `slim_resnet.preprocessing.preprocess`, and reads the files in order.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from bench.inputs import example_format, sources, training_preprocessing
from slim_resnet import preprocessing

tf1 = tf.compat.v1

DEFAULT_SHUFFLE_BUFFER = 1024  # records; ImageNet's average JPEG is about 110 kB
DEFAULT_SKIP_LIMIT = 10_000
MAX_CYCLE_LENGTH = 10  # shards read at once
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


def _files(source, training, seed, num_workers, worker_index):
    """This worker's files (TFRecord paths, or (image path, label) pairs), shuffled when training, for
    ever; and how many there are."""
    if source.format == sources.FORMAT_TFRECORD:
        files = tf.data.Dataset.from_tensor_slices(list(source.files))
    else:
        files = tf.data.Dataset.from_tensor_slices((list(source.files), list(source.labels)))
    files = files.shard(num_workers, worker_index)
    per_worker = len(range(worker_index, source.num_files, num_workers))
    if training:
        files = files.shuffle(per_worker, seed=seed, reshuffle_each_iteration=True)
    return files.repeat(), per_worker


def _parse_group(serialized):
    """`example_format.parse_example` of a [K] batch of records at once: (image bytes [K], label [K],
    boxes [K, N, 4] padded with zeros, boxes per image [K])."""
    spec = {
        example_format.ENCODED: tf.io.FixedLenFeature([], tf.string, default_value=""),
        example_format.LABEL: tf.io.FixedLenFeature([], tf.int64, default_value=example_format.MISSING_LABEL),
    }
    for key in example_format.BOX_KEYS:
        spec[key] = tf.io.VarLenFeature(tf.float32)
    parsed = tf.io.parse_example(serialized, spec)
    coordinates = [parsed[key] for key in example_format.BOX_KEYS]
    counts = [tf.RaggedTensor.from_sparse(column).row_lengths() for column in coordinates]
    same = tf.debugging.assert_equal(
        tf.reduce_all(tf.stack([tf.equal(counts[0], count) for count in counts[1:]])), True,
        message=f"{', '.join(example_format.BOX_KEYS)}: expected as many values in each")
    with tf.control_dependencies([same]):
        boxes = tf.stack([tf.sparse.to_dense(column) for column in coordinates], axis=2)
    return parsed[example_format.ENCODED], parsed[example_format.LABEL], boxes, tf.cast(counts[0], tf.int32)


def _groups(source, training, parallel, seed, shuffle_buffer, num_workers, worker_index, group_size, check):
    """(image bytes, label, boxes, boxes per image, image key) of `group_size` images at a time, for
    ever: parsed and checked (`check`) in one parallel map. The key names an image across passes
    over the data (a hash of its file's path, or of a record's bytes)."""
    files, per_worker = _files(source, training, seed, num_workers, worker_index)
    if source.format == sources.FORMAT_TFRECORD:
        def read(path):
            return tf.data.TFRecordDataset(path, buffer_size=8 << 20)

        records = files.interleave(read, cycle_length=min(per_worker, MAX_CYCLE_LENGTH), block_length=1,
                                   num_parallel_calls=parallel, deterministic=not training)
        if training and shuffle_buffer > 1:
            records = records.shuffle(shuffle_buffer, seed=seed)
        def parse_and_check(serialized):
            return (*check(*_parse_group(serialized)), _key(serialized))

        return records.batch(group_size).map(parse_and_check, num_parallel_calls=parallel)

    def load(path, label):
        return tf.io.read_file(path), tf.cast(label, tf.int64), _key(path)

    def no_boxes_and_check(image_bytes, labels, keys):
        count = tf.shape(labels)[0]
        checked = check(image_bytes, labels, tf.zeros([count, 0, 4], tf.float32), tf.zeros([count], tf.int32))
        return (*checked, keys)

    images = files.map(load, num_parallel_calls=parallel)
    return images.batch(group_size).map(no_boxes_and_check, num_parallel_calls=parallel)


def _key(text):
    """int64 keys of strings (paths or records): a 62-bit hash, as good as unique here."""
    return tf.strings.to_hash_bucket_fast(text, 1 << 62)


def _label_checker(source, num_classes, background):
    """fn(group) -> the group, its labels checked and made the model's (int32); stops the run with a
    message for a record without an image (TFRecords) or a label outside the model's classes."""
    lowest, highest = sources.label_range(num_classes, background)
    offset = 0 if background else 1
    where = f"{source.path}: "
    records = source.format == sources.FORMAT_TFRECORD

    def check(image_bytes, labels, boxes, counts):
        # An empty image file of a folder is an image that does not decode (skipped and counted).
        has_image = tf.debugging.assert_greater(
            tf.strings.length(image_bytes), 0,
            message=f"{where}a record without {example_format.ENCODED}") if records else tf.no_op()
        # The messages name the lowest (highest) label of the group: the bad value.
        low = tf1.debugging.assert_greater_equal(
            labels, tf.constant(lowest, tf.int64), message=f"{where}{example_format.LABEL}",
            data=[tf.reduce_min(labels),
                  f"below the model labels {lowest}..{highest} (-1: the record has none)"])
        high = tf1.debugging.assert_less_equal(
            labels, tf.constant(highest, tf.int64), message=f"{where}{example_format.LABEL}",
            data=[tf.reduce_max(labels), f"above the model labels {lowest}..{highest}"])
        with tf.control_dependencies([has_image, low, high]):
            return (tf.identity(image_bytes), tf.cast(labels - offset, tf.int32), tf.identity(boxes),
                    tf.identity(counts))

    return check


def _image_maker(source, image_size, preprocessing_name, training, dtype, seed):
    """fn(image bytes, boxes) -> image [size, size, 3] in `dtype`; fails for undecodable bytes."""
    is_jpeg_records = source.format == sources.FORMAT_TFRECORD

    def decode(image_bytes):
        if is_jpeg_records:
            return tf.io.decode_jpeg(image_bytes, channels=3)
        return tf.io.decode_image(image_bytes, channels=3, expand_animations=False)

    def make(image_bytes, boxes):
        if training and preprocessing_name == "inception" and is_jpeg_records:
            image = training_preprocessing.inception_train_from_jpeg(image_bytes, boxes, image_size, seed)
        elif training:
            image = training_preprocessing.preprocess_for_training(
                decode(image_bytes), image_size, preprocessing_name, boxes, seed)
        else:
            image = preprocessing.preprocess(decode(image_bytes), image_size, preprocessing_name)
        return tf.cast(image, dtype)

    return make


def _guarded(make, image_size, dtype):
    """fn(group) -> (images [n, size, size, 3], labels [n], failed keys [f]): the group's images that
    decoded, in order, and the keys of those that did not (n + f is the group's size); never fails
    for a decoding error.

    The group's images are decoded one after another in a dataset of their own whose errors are
    ignored, and only them: the group was read, parsed and checked outside it. A group where nothing
    decodes gives no images.
    """
    nothing = (tf.zeros([0, image_size, image_size, 3], dtype), tf.zeros([0], tf.int32),
               tf.zeros([0], tf.int64))

    def attempt(image_bytes, label, boxes, count, key):
        return make(image_bytes, boxes[:count]), label, key

    def guarded(image_bytes, labels, boxes, counts, keys):
        size = tf.shape(labels)[0]
        tried = tf.data.Dataset.from_tensor_slices((image_bytes, labels, boxes, counts, keys)).map(attempt)
        decoded = tried.ignore_errors().batch(tf.cast(size, tf.int64))  # one element, or none
        ending = decoded.concatenate(tf.data.Dataset.from_tensors(nothing)).take(1)
        images, kept, kept_keys = ending.get_single_element()
        failed = tf.logical_not(tf.reduce_any(tf.equal(keys[:, None], kept_keys[None, :]), axis=1))
        return images, kept, tf.boolean_mask(keys, failed)

    return guarded


def _skip_counter(skipped, in_a_row, limit, path):
    """fn(images, labels, failed keys) -> (images, labels), adding a group's failed images to the
    `skipped` table (each image once, however often it is read); stops the run when `limit` images
    have failed since the last group with an image that decoded."""
    def count(images, labels, failed_keys):
        failed = tf.size(failed_keys, out_type=tf.int64)
        total = skipped.insert(failed_keys, tf.ones_like(failed_keys))
        any_decoded = tf.shape(labels)[0] > 0
        run = tf.where(any_decoded, tf.constant(0, tf.int64), in_a_row.read_value() + failed)
        not_stuck = tf.debugging.assert_less(
            run, tf.constant(limit, tf.int64),
            message=f"{path}: {limit} images in a row failed to decode; expected JPEG images")
        with tf.control_dependencies([not_stuck]):
            update = in_a_row.assign(run)
        with tf.control_dependencies([total, update]):
            return tf.identity(images), tf.identity(labels)

    return count


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
        groups = _groups(source, training, parallel, seed, shuffle_buffer, num_workers, worker_index,
                         GROUP_SIZE, _label_checker(source, num_classes, background))
        make = _image_maker(source, image_size, preprocessing_name, training, dtype, seed)
        decoded = groups.map(_guarded(make, image_size, dtype), num_parallel_calls=parallel,
                             deterministic=not training)  # ([n, size, size, 3], [n], failed)
        counted = decoded.map(_skip_counter(skipped, in_a_row, limit, source.path))  # in order, one thread
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
