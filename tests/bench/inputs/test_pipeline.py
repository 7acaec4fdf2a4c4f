"""The input pipeline: batch shape and dtype, labels, undecodable JPEGs skipped and counted, bad
labels and records stopping the run with their message."""

import numpy as np
import pytest
import tensorflow as tf

from bench.inputs import pipeline, sources
from slim_resnet.support import quiet

tf1 = tf.compat.v1


def _stored_labels(path):
    """The labels of a shard's records, in order (read eagerly)."""
    examples = [tf.train.Example.FromString(record.numpy()) for record in tf.data.TFRecordDataset(path)]
    return [example.features.feature["image/class/label"].int64_list.value[0] for example in examples]


def _build(source, **kwargs):
    settings = dict(batch_size=4, image_size=32, training=True, preprocessing_name="inception", seed=1)
    settings.update(kwargs)
    return pipeline.build_pipeline(source, **settings)


@pytest.mark.parametrize("preprocessing_name,low,high", [("inception", -1.0, 1.0),
                                                         ("vgg", -123.68, 255 - 103.94)])
def test_training_batches_have_a_fixed_shape_dtype_and_range(shards, batches, preprocessing_name, low, high):
    source = sources.inspect_source(shards)
    with tf.Graph().as_default():
        built = _build(source, preprocessing_name=preprocessing_name, dtype=tf.float16)
        assert built.images.shape.as_list() == [4, 32, 32, 3]
        assert built.labels.shape.as_list() == [4]
        images, labels, skipped = batches(built, steps=5)  # more batches than one epoch: repeated
    assert images.shape == (4, 32, 32, 3) and images.dtype == np.float16
    assert low - 0.5 <= images.min() and images.max() <= high + 0.5
    assert labels.dtype == np.int32 and ((1 <= labels) & (labels <= 1000)).all()
    assert skipped == 0


def test_forward_uses_the_evaluation_path_in_order_with_private_threads_and_a_device_copy(shards, batches):
    source = sources.inspect_source(shards)
    with tf.Graph().as_default():
        built = _build(source, training=False, threads=1, device="/cpu:0")
        images, labels, _ = batches(built)
    # The shards' records in order, as stored, the two shards read in turn.
    first, second = (_stored_labels(path) for path in source.files)
    assert labels.tolist() == [first[0], second[0], first[1], second[1]]
    assert images.dtype == np.float32 and -1.0 <= images.min() and images.max() <= 1.0


def test_without_background_the_label_is_the_stored_one_minus_one(tmp_path, make_record, write_shard,
                                                                  batches):
    write_shard(tmp_path / "a.tfrecord", [make_record(label) for label in (1, 2, 3, 1000)])
    source = sources.inspect_source(str(tmp_path))
    with tf.Graph().as_default():
        _, labels, _ = batches(_build(source, training=False, num_classes=1000, background=False))
    assert labels.tolist() == [0, 1, 2, 999]


def test_an_image_folder_gives_labels_from_its_class_folders(class_folder, batches):
    source = sources.inspect_source(class_folder)
    with tf.Graph().as_default():
        images, labels, _ = batches(_build(source, batch_size=6, training=False, preprocessing_name="vgg"))
    assert images.shape == (6, 32, 32, 3)
    assert labels.tolist() == [1, 1, 2, 2, 3, 3]


def test_an_empty_image_file_of_a_folder_is_skipped_and_counted(class_folder, batches):
    with open(f"{class_folder}/b/empty.jpg", "wb"):
        pass
    source = sources.inspect_source(class_folder)
    assert source.num_images == 7
    with tf.Graph().as_default():
        _, labels, skipped = batches(_build(source, batch_size=6, training=False, preprocessing_name="vgg"))
    assert labels.tolist() == [1, 1, 2, 2, 3, 3]
    assert skipped == 1
    with tf.Graph().as_default():  # read again and again (36 of 7 images): still one image skipped
        built = _build(source, batch_size=6, training=False, preprocessing_name="vgg")
        _, _, skipped = batches(built, steps=6)
    assert skipped == 1


@pytest.mark.parametrize("training", [True, False])
def test_jpegs_that_do_not_decode_are_skipped_and_counted(tmp_path, make_jpeg, make_record, write_shard,
                                                          batches, training):
    cut = make_jpeg()[:200]  # a JPEG header, then nothing
    records = [make_record(1), make_record(2, image=b"not a jpeg"), make_record(3),
               make_record(4, image=cut), make_record(5)]
    write_shard(tmp_path / "a.tfrecord", records)
    source = sources.inspect_source(str(tmp_path))
    with tf.Graph().as_default():
        built = _build(source, batch_size=3, training=training)
        with tf1.Session() as session:
            session.run(built.initializer)
            labels = session.run(built.labels)
            assert not {2, 4} & set(labels.tolist())
            if not training:
                assert labels.tolist() == [1, 3, 5]
            for _ in range(4):  # several passes over the five records
                session.run(built.labels)
            assert session.run(built.skipped) == 2  # each image once, not once per pass


def test_nothing_decoding_stops_the_run_instead_of_waiting(tmp_path, make_record, write_shard):
    write_shard(tmp_path / "a.tfrecord", [make_record(1, image=b"junk"), make_record(2, image=b"junk")])
    source = sources.inspect_source(str(tmp_path))
    with tf.Graph().as_default():
        built = _build(source, batch_size=1)
        with tf1.Session() as session:
            session.run(built.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError, match="2 images in a row failed to decode"):
                session.run(built.images)


@pytest.mark.parametrize("label,num_classes,words", [
    (1001, 1001, "above the model labels 1..1000"),
    (0, 1001, "below the model labels 1..1000 (-1: the record has none)"),
    (10, 10, "above the model labels 1..9")])
def test_labels_outside_the_model_classes_stop_the_run(tmp_path, make_record, write_shard, label,
                                                       num_classes, words):
    write_shard(tmp_path / "a.tfrecord", [make_record(1), make_record(label)])
    source = sources.inspect_source(str(tmp_path))  # the first record's label is fine
    with tf.Graph().as_default():
        built = _build(source, batch_size=2, training=False, num_classes=num_classes)
        with tf1.Session() as session:
            session.run(built.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError) as raised:
                session.run(built.labels)
    # One line that names the data, the bad label and the labels allowed.
    assert quiet.error_summary(raised.value) == (
        f"InvalidArgumentError: {tmp_path}: image/class/label {label} {words}")


def test_a_record_without_an_image_stops_the_run(tmp_path, make_record, write_shard):
    no_image = tf.train.Example(features=tf.train.Features(feature={"image/class/label": tf.train.Feature(
        int64_list=tf.train.Int64List(value=[1]))})).SerializeToString()
    write_shard(tmp_path / "a.tfrecord", [make_record(1), no_image])
    source = sources.inspect_source(str(tmp_path))
    with tf.Graph().as_default():
        built = _build(source, batch_size=2, training=False)
        with tf1.Session() as session:
            session.run(built.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError, match="a record without image/encoded"):
                session.run(built.images)


def test_bad_arguments_are_refused_by_name(shards):
    source = sources.inspect_source(shards)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="preprocessing 'fancy': expected one of inception, vgg, none"):
            _build(source, preprocessing_name="fancy")
        with pytest.raises(ValueError, match="dtype int32: expected a floating type"):
            _build(source, dtype=tf.int32)
        with pytest.raises(ValueError, match="batch_size 0"):
            _build(source, batch_size=0)
        with pytest.raises(sources.DataError, match="2 files cannot be split between 3 workers"):
            _build(source, num_workers=3, worker_index=0)


def test_workers_read_their_own_shards(shards, batches):
    source = sources.inspect_source(shards)
    seen = []
    for index in (0, 1):
        with tf.Graph().as_default():
            _, labels, _ = batches(_build(source, training=False, num_workers=2, worker_index=index))
            seen.append(labels.tolist())
    assert seen == [_stored_labels(source.files[0])[:4], _stored_labels(source.files[1])[:4]]


def test_images_that_fail_at_the_end_of_a_group_are_counted_and_the_order_is_kept(
        tmp_path, make_record, write_shard, monkeypatch):
    # Groups of 3: [1, junk, junk] then [1, junk, junk] again: the group's last images never
    # come before another decoded image of the same group.
    monkeypatch.setattr(pipeline, "GROUP_SIZE", 3)
    write_shard(tmp_path / "a.tfrecord", [make_record(1), make_record(2, image=b"junk"),
                                          make_record(3, image=b"junk"), make_record(4), make_record(5)])
    source = sources.inspect_source(str(tmp_path))
    with tf.Graph().as_default():
        built = _build(source, batch_size=1, training=False)
        with tf1.Session() as session:
            session.run(built.initializer)
            labels = [int(session.run(built.labels)[0]) for _ in range(3)]
            assert labels == [1, 4, 5]
            assert session.run(built.skipped) >= 2


@pytest.mark.parametrize("damage", ["corrupt record", "not an Example"])
def test_errors_reading_the_shards_stop_the_run_and_are_not_skipped(tmp_path, make_record, write_shard,
                                                                    damage):
    path = tmp_path / "a.tfrecord"
    second = make_record(2) if damage == "corrupt record" else b"not an Example at all"
    write_shard(path, [make_record(1), second, make_record(3)])
    source = sources.inspect_source(str(tmp_path))  # checks the headers and the first record only
    if damage == "corrupt record":
        data = bytearray(path.read_bytes())
        first_end = 12 + len(make_record(1)) + 4
        data[first_end + 12 + 40] ^= 0xFF  # a byte of the second record's data: its checksum fails
        path.write_bytes(bytes(data))
    with tf.Graph().as_default():
        built = _build(source, batch_size=2, training=False)
        with tf1.Session() as session:
            session.run(built.initializer)
            with pytest.raises((tf.errors.DataLossError, tf.errors.InvalidArgumentError)):
                session.run(built.images)
            assert session.run(built.skipped) == 0
