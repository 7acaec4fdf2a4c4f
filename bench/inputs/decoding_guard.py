"""The pipeline's second stage: a group's images decoded and preprocessed, those that do not decode
skipped and counted (each image once), and the run stopped when nothing decodes any more.

Each group is decoded by a dataset of its own whose errors are ignored, and only its errors: the
group was read, parsed and checked upstream (`bench.inputs.record_groups`), so errors there still
stop the run. The guard's cost is per group, not per image.
"""

from __future__ import annotations

import tensorflow as tf

from bench.inputs import sources, training_preprocessing
from slim_resnet import preprocessing


def image_maker(source, image_size, preprocessing_name, training, dtype, seed):
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


def guarded(make, image_size, dtype):
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


def skip_counter(skipped, in_a_row, limit, path):
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
