"""Tiny data for the input layer's tests: JPEGs of 32-48 px, shards of a few records (the folder of
class sub-folders, `class_folder`, is tests/bench/conftest.py's: the make-data verb's tests use it too)."""

import numpy as np
import pytest
import tensorflow as tf

from bench.inputs import example_format, make_data

tf1 = tf.compat.v1


def jpeg(height=40, width=48, value=None, seed=0):
    """JPEG bytes of a random (or uniform `value`) image."""
    rng = np.random.default_rng(seed)
    pixels = (np.full((height, width, 3), value, np.uint8) if value is not None
              else rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    return tf.io.encode_jpeg(pixels).numpy()


def write_records(path, examples):
    """Writes serialized examples to one TFRecord file; returns the path."""
    with tf.io.TFRecordWriter(str(path)) as writer:
        for example in examples:
            writer.write(example)
    return str(path)


def example(label=1, image=None, boxes=(), height=40, width=48):
    return example_format.make_example(jpeg(height, width) if image is None else image, label,
                                       height, width, boxes)


@pytest.fixture
def shards(tmp_path):
    """A folder of 2 shards of 8 random 48 px images (train-0000K-of-00002)."""
    folder = tmp_path / "shards"
    make_data.write_random_shards(str(folder), 8, 2, max_size=48, seed=0)
    return str(folder)


def run_batches(pipeline, steps=1):
    """Runs the pipeline's initializer then `steps` batches; returns the last (images, labels)."""
    with tf1.Session() as session:
        session.run(pipeline.initializer)
        for _ in range(steps):
            images, labels = session.run([pipeline.images, pipeline.labels])
        return images, labels, session.run(pipeline.skipped)


@pytest.fixture
def make_jpeg():
    """Factory: make_jpeg(height=40, width=48, value=None, seed=0) -> JPEG bytes."""
    return jpeg


@pytest.fixture
def make_record():
    """Factory: make_record(label=1, image=None, boxes=(), height=40, width=48) -> serialized Example."""
    return example


@pytest.fixture
def write_shard():
    """Factory: write_shard(path, examples) -> path of a TFRecord file holding them."""
    return write_records


@pytest.fixture
def batches():
    """Factory: batches(pipeline, steps=1) -> (images, labels, skipped) after `steps` batches."""
    return run_batches
