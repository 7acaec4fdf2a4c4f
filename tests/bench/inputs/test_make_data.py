"""Writing shards without ImageNet: random images and a converted folder, read back by the readers."""

import os

import numpy as np
import pytest
import tensorflow as tf

from bench.inputs import make_data, sources, tfrecord_files
from bench.inputs.sources import DataError


def _examples(path):
    return [tf.train.Example.FromString(record.numpy()) for record in tf.data.TFRecordDataset(path)]


def _feature(example, key):
    feature = example.features.feature[key]
    return list(feature.int64_list.value or feature.float_list.value or feature.bytes_list.value)


def test_random_shards_are_named_split_evenly_and_hold_decodable_jpegs_within_the_size(tmp_path):
    written = make_data.write_random_shards(str(tmp_path), 7, 3, max_size=40, seed=5)
    assert [os.path.basename(path) for path in written.paths] == [
        "train-00000-of-00003", "train-00001-of-00003", "train-00002-of-00003"]
    counts = [tfrecord_files.count_records(path) for path in written.paths]
    assert sum(counts) == written.num_images == 7 and max(counts) - min(counts) <= 1
    # No temporary file is left behind.
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(path) for path in written.paths]
    for example in _examples(written.paths[0]):
        image = tf.io.decode_jpeg(_feature(example, "image/encoded")[0]).numpy()
        assert image.shape == (_feature(example, "image/height")[0], _feature(example, "image/width")[0], 3)
        assert 24 <= image.shape[0] <= 40 and 24 <= image.shape[1] <= 40
        assert 1 <= _feature(example, "image/class/label")[0] <= 1000
        ymin, xmin = _feature(example, "image/object/bbox/ymin"), _feature(example, "image/object/bbox/xmin")
        ymax, xmax = _feature(example, "image/object/bbox/ymax"), _feature(example, "image/object/bbox/xmax")
        assert len(ymin) == len(xmin) == len(ymax) == len(xmax)
        assert all(0 <= a < b <= 1 for a, b in zip(ymin + xmin, ymax + xmax, strict=True))


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    def contents(folder, seed):
        written = make_data.write_random_shards(str(tmp_path / folder), 3, 1, max_size=32, seed=seed)
        return open(written.paths[0], "rb").read()

    assert contents("a", 1) == contents("b", 1)
    assert contents("a", 1) != contents("c", 2)


def test_a_class_folder_converts_with_labels_from_1_and_pngs_reencoded(class_folder, tmp_path):
    png = tf.io.encode_png(np.zeros((20, 30, 3), np.uint8)).numpy()
    open(os.path.join(class_folder, "c", "extra.png"), "wb").write(png)
    open(os.path.join(class_folder, "b", "broken.jpg"), "wb").write(b"\xff\xd8\xff nothing")
    written = make_data.convert_folder(class_folder, str(tmp_path / "out"), 2, seed=0)
    assert written.num_images == 7
    assert written.skipped == (os.path.join("b", "broken.jpg"),)
    examples = [example for path in written.paths for example in _examples(path)]
    by_file = {(_feature(e, "image/class/text")[0], _feature(e, "image/filename")[0]): e for e in examples}
    assert _feature(by_file[(b"a", b"0.jpg")], "image/class/label") == [1]
    assert _feature(by_file[(b"c", b"1.jpg")], "image/class/label") == [3]
    extra = by_file[(b"c", b"extra.png")]
    assert _feature(extra, "image/encoded")[0].startswith(b"\xff\xd8\xff")
    assert (_feature(extra, "image/height")[0], _feature(extra, "image/width")[0]) == (20, 30)
    source = sources.inspect_source(str(tmp_path / "out"), num_classes=4)
    assert (source.format, source.num_images) == (sources.FORMAT_TFRECORD, 7)


def test_bad_counts_and_outputs_are_refused(tmp_path):
    with pytest.raises(DataError, match="5 shards for 2 images: expected 1 to 2"):
        make_data.write_random_shards(str(tmp_path / "a"), 2, 5)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="is a file"):
        make_data.write_random_shards(str(tmp_path / "file"), 2, 1)
    make_data.write_random_shards(str(tmp_path / "b"), 2, 2, max_size=16)
    with pytest.raises(DataError, match="already holds train-00000-of-00002, a shard of another set"):
        make_data.write_random_shards(str(tmp_path / "b"), 2, 1, max_size=16)


def test_a_folder_whose_images_do_not_decode_is_refused(tmp_path):
    os.makedirs(tmp_path / "in" / "cls")
    (tmp_path / "in" / "cls" / "x.jpg").write_bytes(b"junk")
    with pytest.raises(DataError, match="none of its 1 images decodes"):
        make_data.convert_folder(str(tmp_path / "in"), str(tmp_path / "out"))
    assert os.listdir(tmp_path / "out") == []
