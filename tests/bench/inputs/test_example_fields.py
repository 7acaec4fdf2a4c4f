"""Reading a serialized tf.train.Example without TensorFlow (bench/inputs/example_fields.py),
TensorFlow's own parser as the oracle."""

import subprocess
import sys

import pytest
import tensorflow as tf

from bench.inputs import example_fields, example_format
from bench.inputs.example_fields import NotAnExample


def _oracle(serialized):
    """{name: values} as TensorFlow's protobuf parser reads them."""
    features = tf.train.Example.FromString(serialized).features.feature
    found = {}
    for name, feature in features.items():
        kind = feature.WhichOneof("kind")
        found[name] = list(getattr(feature, kind).value) if kind else []
    return found


@pytest.mark.parametrize("boxes", [(), [(0.1, 0.2, 0.5, 0.9)],
                                   [(0.0, 0.0, 1.0, 1.0), (0.25, 0.5, 0.75, 0.625)]])
def test_imagenet_records_read_as_tensorflow_reads_them(make_jpeg, boxes):
    serialized = example_format.make_example(make_jpeg(), 417, 40, 48, boxes, filename="a.JPEG",
                                             synset="n01440764", class_text="tench")
    found = example_fields.read_features(serialized)
    assert found == _oracle(serialized)  # floats too: both read the same float32 bits
    assert found[example_fields.LABEL] == [417] and len(found[example_fields.BOX_KEYS[0]]) == len(boxes)


def test_unpacked_lists_negative_ints_and_unknown_fields(make_jpeg):
    feature_int = tf.train.Feature(int64_list=tf.train.Int64List(value=[-3, 2**40]))
    feature_float = tf.train.Feature(float_list=tf.train.FloatList(value=[0.5]))
    example = tf.train.Example(features=tf.train.Features(feature={"i": feature_int, "f": feature_float}))
    packed = example.SerializeToString()
    # The same Example with its int64 list unpacked (one varint field per value), a lone float
    # written as a fixed32 field, and an unknown field (number 9) in front: still the same values.
    def varint(value):
        value &= (1 << 64) - 1
        out = bytearray()
        while True:
            out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
            value >>= 7
            if not value:
                return bytes(out)

    def delimited(number, payload):
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    ints = delimited(3, b"".join(varint(1 << 3) + varint(v) for v in (-3, 2**40)))
    floats = delimited(2, varint(1 << 3 | 5) + tf.constant(0.5).numpy().tobytes())
    entries = (delimited(1, delimited(1, b"i") + delimited(2, ints))
               + delimited(1, delimited(1, b"f") + delimited(2, floats)))
    unpacked = varint(9 << 3) + varint(7) + delimited(1, entries)
    assert _oracle(unpacked) == _oracle(packed) == {"i": [-3, 2**40], "f": [0.5]}
    assert example_fields.read_features(unpacked) == example_fields.read_features(packed) == {
        "i": [-3, 2**40], "f": [0.5]}


@pytest.mark.parametrize("data", [b"\xff\xfe not a protobuf", b"\x0a\x05ab", b"\x0b", b"\x08\x80"])
def test_bytes_that_are_not_an_example_are_refused(data):
    with pytest.raises(NotAnExample):
        example_fields.read_features(data)
    with pytest.raises(Exception):  # noqa: B017 - protobuf's DecodeError is not part of TF's API
        tf.train.Example.FromString(data)


def test_a_truncated_record_is_refused(make_jpeg):
    serialized = example_format.make_example(make_jpeg(), 1, 40, 48)
    with pytest.raises(NotAnExample):
        example_fields.read_features(serialized[:-3])


def test_the_data_check_needs_no_tensorflow(real_data):
    code = ("import sys; from bench.inputs import sources; "
            f"print(sources.inspect_source({real_data!r}, 1001).num_images, 'tensorflow' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               timeout=60)
    assert completed.stdout.split() == ["8", "False"]
