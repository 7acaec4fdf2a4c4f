"""ImageNet's Example format: what `make_example` writes `parse_example` reads back."""

import pytest
import tensorflow as tf

from bench.inputs import example_format

tf1 = tf.compat.v1


def _parse(serialized):
    graph = tf.Graph()
    with graph.as_default():
        image_bytes, label, boxes = example_format.parse_example(tf.constant(serialized))
        shape = tf.shape(tf.io.decode_jpeg(image_bytes, channels=3))
        with tf1.Session() as session:
            return session.run([image_bytes, label, boxes, shape])


def test_round_trip_keeps_the_image_the_label_and_the_boxes_in_ymin_xmin_ymax_xmax_order(make_jpeg):
    image = make_jpeg(40, 48)
    boxes = [(0.1, 0.2, 0.5, 0.6), (0.0, 0.0, 1.0, 1.0)]
    image_bytes, label, parsed_boxes, shape = _parse(
        example_format.make_example(image, 417, 40, 48, boxes, filename="x.JPEG"))
    assert image_bytes == image
    assert label == 417
    assert parsed_boxes.shape == (2, 4)
    assert parsed_boxes.ravel().tolist() == pytest.approx([v for box in boxes for v in box])
    assert shape.tolist() == [40, 48, 3]


def test_no_boxes_parse_as_an_empty_n_by_4(make_jpeg):
    _, _, boxes, _ = _parse(example_format.make_example(make_jpeg(), 1, 40, 48))
    assert boxes.shape == (0, 4)


def test_the_usual_extra_fields_are_written(make_jpeg):
    serialized = example_format.make_example(make_jpeg(), 3, 40, 48, [(0, 0, 1, 1)], filename="f.JPEG",
                                             synset="n01440764", class_text="tench")
    features = tf.train.Example.FromString(serialized).features.feature
    assert features["image/height"].int64_list.value == [40]
    assert features["image/width"].int64_list.value == [48]
    assert features["image/format"].bytes_list.value == [b"JPEG"]
    assert features["image/filename"].bytes_list.value == [b"f.JPEG"]
    assert features["image/class/text"].bytes_list.value == [b"tench"]
    assert features["image/object/bbox/label"].int64_list.value == [3]


def test_a_record_without_image_or_label_parses_as_empty_bytes_and_the_missing_label():
    empty = tf.train.Example(features=tf.train.Features()).SerializeToString()
    graph = tf.Graph()
    with graph.as_default():
        image_bytes, label, boxes = example_format.parse_example(tf.constant(empty))
        with tf1.Session() as session:
            assert session.run([image_bytes, label]) == [b"", example_format.MISSING_LABEL]


@pytest.mark.parametrize("box", [(0.5, 0.1, 0.4, 0.9), (0, 0, 1, 1.5), (0, 0, 1)])
def test_a_bad_box_is_refused(box, make_jpeg):
    with pytest.raises(ValueError, match="box"):
        example_format.make_example(make_jpeg(), 1, 40, 48, [box])
