"""Deciding and checking a data source: both formats, and one clear error per bad input."""

import json
import os

import pytest
import tensorflow as tf

from bench.inputs import sources
from bench.inputs.sources import DataError


def test_a_folder_of_shards_is_tfrecord_with_its_records_counted(shards):
    source = sources.inspect_source(shards)
    assert source.format == sources.FORMAT_TFRECORD
    assert [os.path.basename(name) for name in source.files] == ["train-00000-of-00002",
                                                                  "train-00001-of-00002"]
    assert source.num_files == 2
    assert source.num_images == 8
    assert source.to_record() == {"path": shards, "format": "tfrecord", "num_files": 2,
                                  "num_images": 8, "num_classes": None}


def test_unchanged_shards_are_checked_once_and_a_changed_shard_again(tmp_path, make_record, write_shard):
    path = write_shard(tmp_path / "train-00000-of-00001", [make_record(1), make_record(2)])
    first = sources.inspect_source(str(tmp_path))
    assert sources.inspect_source(str(tmp_path)) is first  # remembered, not read again
    assert sources.inspect_source(str(tmp_path), count=False) is not first  # another check
    write_shard(path, [make_record(1), make_record(2), make_record(3)])  # a new size
    assert sources.inspect_source(str(tmp_path)).num_images == 3
    with open(path, "r+b") as handle:  # the same size, corrupted later: its modification time moves
        handle.write(b"\0" * 12)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    assert "not a TFRecord file" in _error(tmp_path)


def test_a_source_survives_its_dictionary(shards, class_folder):
    for source in (sources.inspect_source(shards), sources.inspect_source(class_folder)):
        again = sources.DataSource.from_dict(json.loads(json.dumps(source.to_dict())))
        assert again == source and isinstance(again.files, tuple)


def test_the_prefix_form_and_a_single_file_are_tfrecord(shards):
    assert sources.inspect_source(os.path.join(shards, "train")).num_files == 2
    one = sources.inspect_source(os.path.join(shards, "train-00001-of-00002"))
    assert (one.format, one.num_files, one.num_images) == (sources.FORMAT_TFRECORD, 1, 4)


def test_not_counting_leaves_the_number_of_images_unknown(shards):
    assert sources.inspect_source(shards, count=False).num_images is None


def test_dot_tfrecord_files_are_shards_and_other_files_beside_them_are_ignored(tmp_path, make_record,
                                                                               write_shard):
    write_shard(tmp_path / "a.tfrecord", [make_record(1), make_record(2)])
    (tmp_path / "labels.txt").write_text("x\n")
    os.makedirs(tmp_path / "raw-data" / "n01")
    source = sources.inspect_source(str(tmp_path))
    assert (source.format, source.num_files, source.num_images) == ("tfrecord", 1, 2)


def test_a_folder_of_class_sub_folders_is_an_image_folder_labelled_from_1(class_folder):
    source = sources.inspect_source(class_folder, num_classes=4)
    assert source.format == sources.FORMAT_IMAGE_FOLDER
    assert source.classes == ("a", "b", "c")
    assert source.labels == (1, 1, 2, 2, 3, 3)
    assert source.num_files == source.num_images == 6
    assert all(os.path.isabs(name) and name.endswith(".jpg") for name in source.files)


def test_label_range_with_and_without_background():
    assert sources.label_range(1001) == (1, 1000)
    assert sources.label_range(1000, background=False) == (1, 1000)


def _error(path, **kwargs):
    with pytest.raises(DataError) as caught:
        sources.inspect_source(str(path), **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_missing_path(tmp_path):
    assert "no such file or folder" in _error(tmp_path / "nowhere")


def test_an_empty_folder(tmp_path):
    assert "empty folder" in _error(tmp_path)


def test_a_folder_with_no_shards_and_no_images(tmp_path):
    os.makedirs(tmp_path / "cls")
    (tmp_path / "notes.txt").write_text("nothing\n")
    assert "no TFRecord shards" in _error(tmp_path)


def test_a_flat_folder_of_images(tmp_path, make_jpeg):
    (tmp_path / "x.jpg").write_bytes(make_jpeg())
    assert "no class sub-folders" in _error(tmp_path)


def test_a_shard_that_is_not_tfrecord(tmp_path):
    (tmp_path / "train-00000-of-00001").write_bytes(b"this is a text file, not records\n" * 4)
    message = _error(tmp_path)
    assert "train-00000-of-00001: not a TFRecord file" in message


def test_a_truncated_shard(tmp_path, make_record, write_shard):
    path = write_shard(tmp_path / "train-00000-of-00001", [make_record(1), make_record(2)])
    data = open(path, "rb").read()
    with open(path, "wb") as handle:
        handle.write(data[:-10])
    assert "truncated TFRecord file" in _error(tmp_path)
    assert sources.inspect_source(str(tmp_path), count=False).num_files == 1  # the cheap check passes


def test_a_record_that_is_not_an_example(tmp_path, write_shard):
    write_shard(tmp_path / "x.tfrecord", [b"\xff\xfe not a protobuf"])
    assert "not a tf.train.Example" in _error(tmp_path)


def test_a_record_without_image_encoded(tmp_path, write_shard):
    features = tf.train.Features(feature={"image/class/label": tf.train.Feature(
        int64_list=tf.train.Int64List(value=[3]))})
    write_shard(tmp_path / "x.tfrecord", [tf.train.Example(features=features).SerializeToString()])
    assert "has no image/encoded" in _error(tmp_path)


def test_only_empty_shards(tmp_path, write_shard):
    write_shard(tmp_path / "x.tfrecord", [])
    assert "every shard is empty" in _error(tmp_path)


def test_several_sets_of_shards(tmp_path, make_record, write_shard):
    write_shard(tmp_path / "train-00000-of-00001", [make_record(1)])
    write_shard(tmp_path / "validation-00000-of-00001", [make_record(1)])
    message = _error(tmp_path)
    assert "several sets of shards (train-*-of-00001, validation-*-of-00001)" in message
    assert sources.inspect_source(str(tmp_path / "validation")).num_images == 1


def test_a_shard_label_outside_the_model_classes(tmp_path, make_record, write_shard):
    write_shard(tmp_path / "x.tfrecord", [make_record(10)])
    assert "label 10 is outside the model's 1..9" in _error(tmp_path, num_classes=10)
    assert sources.inspect_source(str(tmp_path), num_classes=10, background=False).num_images == 1


def test_more_class_folders_than_the_model_has_labels(class_folder):
    assert "3 class sub-folders give labels 1..3, outside the model's 1..2" in _error(
        class_folder, num_classes=3)
