"""ImageNet's TFRecord format: one `tf.train.Example` per image.

The fields are those tensorflow/models' `build_imagenet_data.py` writes and tf_cnn_benchmarks reads:

- `image/encoded`: the JPEG file's bytes (required);
- `image/class/label`: int64 in 1..1000 (0 is left for the background class of 1001-class models);
- `image/object/bbox/{xmin,ymin,xmax,ymax}`: float lists, one entry per box, in [0, 1] relative to
  the image's width and height (optional; often absent outside the training set);
- written but not read back here: `image/height`, `image/width`, `image/colorspace` ('RGB'),
  `image/channels` (3), `image/format` ('JPEG'), `image/filename`, `image/class/synset`,
  `image/class/text`, `image/object/bbox/label`.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

# The fields' names are example_fields' (read without TensorFlow there); callers read them here too.
from bench.inputs.example_fields import BOX_KEYS, ENCODED, LABEL, MISSING_LABEL  # noqa: F401


def _bytes(values: Sequence[bytes]) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _ints(values: Sequence[int]) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def _floats(values: Sequence[float]) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


def make_example(image_bytes: bytes, label: int, height: int, width: int,
                 boxes: Sequence[Sequence[float]] = (), filename: str = "", synset: str = "",
                 class_text: str = "", image_format: str = "JPEG") -> bytes:
    """One serialized `tf.train.Example` in ImageNet's format.

    Args:
      image_bytes: the encoded image (JPEG for the format proper).
      label: the class, 1..1000 for ImageNet.
      height: the image's height in pixels.
      width: the image's width in pixels.
      boxes: (ymin, xmin, ymax, xmax) per box, relative to the image's size, each in [0, 1].
      filename: the image's original file name.
      synset: the class's WordNet id, e.g. 'n01440764'.
      class_text: the class's human-readable name.
      image_format: the encoding's name.

    Returns:
      The serialized Example.

    Raises:
      ValueError: for a box that is not 4 numbers with 0 <= min < max <= 1, or a non-positive size.
    """
    if height < 1 or width < 1:
        raise ValueError(f"image size {height}x{width}: height and width must be positive")
    columns = [[], [], [], []]
    for box in boxes:
        if len(box) != 4:
            raise ValueError(f"box {tuple(box)}: expected (ymin, xmin, ymax, xmax)")
        ymin, xmin, ymax, xmax = (float(value) for value in box)
        if not (0.0 <= ymin < ymax <= 1.0 and 0.0 <= xmin < xmax <= 1.0):
            raise ValueError(f"box {tuple(box)}: expected 0 <= min < max <= 1 on both axes")
        for column, value in zip(columns, (ymin, xmin, ymax, xmax), strict=True):
            column.append(value)
    features = {
        "image/height": _ints([height]),
        "image/width": _ints([width]),
        "image/colorspace": _bytes([b"RGB"]),
        "image/channels": _ints([3]),
        LABEL: _ints([label]),
        "image/class/synset": _bytes([synset.encode()]),
        "image/class/text": _bytes([class_text.encode()]),
        "image/object/bbox/label": _ints([label] * len(boxes)),
        "image/format": _bytes([image_format.encode()]),
        "image/filename": _bytes([filename.encode()]),
        ENCODED: _bytes([image_bytes]),
    }
    for key, column in zip(BOX_KEYS, columns, strict=True):
        features[key] = _floats(column)
    example = tf.train.Example(features=tf.train.Features(feature=features))
    return example.SerializeToString()


def parse_example(serialized: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Parses one record in the current graph (or inside a tf.data map function).

    Args:
      serialized: a scalar string tensor, one serialized Example.

    Returns:
      (image_bytes, label, boxes): a scalar string (empty when the record has no `image/encoded`), a
      scalar int64 (`MISSING_LABEL` when the record has no label) and a float32 [N, 4] tensor of
      (ymin, xmin, ymax, xmax) rows, N >= 0.

    Raises:
      tf.errors.InvalidArgumentError: when run, for bytes that are not an Example or fields of the
        wrong type.
    """
    spec = {
        ENCODED: tf.io.FixedLenFeature([], tf.string, default_value=""),
        LABEL: tf.io.FixedLenFeature([], tf.int64, default_value=MISSING_LABEL),
    }
    for key in BOX_KEYS:
        spec[key] = tf.io.VarLenFeature(tf.float32)
    parsed = tf.io.parse_single_example(serialized, spec)
    columns = [tf.sparse.to_dense(parsed[key]) for key in BOX_KEYS]
    boxes = tf.stack(columns, axis=1)  # [N, 4]
    return parsed[ENCODED], parsed[LABEL], boxes
