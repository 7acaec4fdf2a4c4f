"""The pipeline's first stage: the files split, shuffled and read, and their records (or images)
parsed and their labels checked, a group at a time (`bench.inputs.pipeline` builds the rest).

An out-of-range label or a record without `image/encoded` stops the run with its message; which
record held the label is found afterwards (`bench.inputs.bad_records`), so this stage pays nothing
for it.
"""

from __future__ import annotations

import tensorflow as tf

from bench.inputs import example_format, sources

tf1 = tf.compat.v1

MAX_CYCLE_LENGTH = 10  # shards read at once


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


def groups(source, training, parallel, seed, shuffle_buffer, num_workers, worker_index, group_size, check):
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


def label_checker(source, num_classes, background):
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
