"""bench.inputs.tfrecord_files: TFRecord files read without TensorFlow, against TensorFlow's writer."""

import pytest

from bench.core.errors import DataError
from bench.inputs import tfrecord_files


def test_records_read_back_as_tensorflow_wrote_them(tmp_path, write_shard):
    records = [b"", b"a", b"bc" * 1000]
    path = write_shard(tmp_path / "a.tfrecord", records)
    assert list(tfrecord_files.read_records(path)) == records
    assert tfrecord_files.count_records(path) == 3


def test_a_truncated_record_is_named(tmp_path, write_shard):
    path = write_shard(tmp_path / "a.tfrecord", [b"first", b"second record"])
    with open(path, "r+b") as handle:
        handle.truncate(handle.seek(0, 2) - 8)
    reader = tfrecord_files.read_records(path)
    assert next(reader) == b"first"
    with pytest.raises(DataError, match=r"a.tfrecord: truncated TFRecord file \(record 1 is cut off\)"):
        next(reader)


def test_a_file_that_is_not_tfrecord_is_refused(tmp_path):
    path = tmp_path / "notes.tfrecord"
    path.write_bytes(b"hello, this is text and no record")
    with pytest.raises(DataError, match="not a TFRecord file"):
        list(tfrecord_files.read_records(str(path)))
