"""TF-Slim's training preprocessing (random augmentation) for one image, built in the current graph.

- 'inception': a random crop by `tf.image.sample_distorted_bounding_box` covering at least 10% of one
  of the image's boxes (the whole image when it has none), 5% to 100% of the image's area, aspect
  ratio 3/4 to 4/3, up to 100 attempts; bilinear resize to size x size, random left-right flip, then
  scale [0, 255] to [-1, 1]. (Slim's optional colour distortion is not applied.) For JPEG bytes
  `inception_train_from_jpeg` decodes only the crop window (`tf.image.decode_and_crop_jpeg`).
- 'vgg': resize (bilinear, aspect ratio kept) so the shorter side is a random whole number in
  [size * 256 / 224, size * 512 / 224] (256..512 for 224, slim's range), a random size x size crop, a
  random left-right flip, then the ImageNet RGB means subtracted.
- 'none': the evaluation path's plain resize (`slim_resnet.preprocessing`), no augmentation.

Every function returns float32 [size, size, 3].
"""

from __future__ import annotations

import tensorflow as tf

from slim_resnet import preprocessing

MIN_OBJECT_COVERED = 0.1
AREA_RANGE = (0.05, 1.0)
ASPECT_RATIO_RANGE = (3 / 4, 4 / 3)
MAX_ATTEMPTS = 100
VGG_SIDE_RANGE = (256 / 224, 512 / 224)  # times the output size
TRAINING_PREPROCESSING = ("inception", "vgg", "none")


def _check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")


def inception_crop_window(image_shape: tf.Tensor, boxes: tf.Tensor, seed: int | None = None) -> tf.Tensor:
    """A random crop window for the Inception training crop.

    Args:
      image_shape: int [3] tensor (height, width, channels), as tf.shape or extract_jpeg_shape give.
      boxes: float32 [N, 4] (ymin, xmin, ymax, xmax) relative boxes, N >= 0.
      seed: an op-level seed, or None.

    Returns:
      int32 [4]: (offset_y, offset_x, height, width).
    """
    begin, size, _ = tf.image.sample_distorted_bounding_box(
        tf.cast(image_shape, tf.int32),
        bounding_boxes=tf.reshape(tf.cast(boxes, tf.float32), [1, -1, 4]),
        seed=seed, min_object_covered=MIN_OBJECT_COVERED, aspect_ratio_range=ASPECT_RATIO_RANGE,
        area_range=AREA_RANGE, max_attempts=MAX_ATTEMPTS, use_image_if_no_bounding_boxes=True)
    return tf.stack([begin[0], begin[1], size[0], size[1]])


def _flip(image: tf.Tensor, seed: int | None) -> tf.Tensor:
    return tf.image.random_flip_left_right(image, seed=seed)


def _inception_finish(cropped: tf.Tensor, size: int, seed: int | None) -> tf.Tensor:
    image = tf.image.resize(tf.cast(cropped, tf.float32), [size, size], method="bilinear")
    image = _flip(image, seed)
    return tf.ensure_shape(image / 127.5 - 1.0, [size, size, 3])


def inception_train(image: tf.Tensor, boxes: tf.Tensor, size: int, seed: int | None = None) -> tf.Tensor:
    """Inception training preprocessing of a decoded image (see the module docstring).

    Args:
      image: uint8 or float [H, W, 3] with values in [0, 255].
      boxes: float32 [N, 4] relative boxes, N >= 0.
      size: the output height and width.
      seed: an op-level seed, or None.

    Returns:
      float32 [size, size, 3] in [-1, 1].

    Raises:
      ValueError: for a non-positive `size`.
    """
    _check_size(size)
    window = inception_crop_window(tf.shape(image), boxes, seed)
    cropped = tf.slice(image, [window[0], window[1], 0], [window[2], window[3], 3])
    return _inception_finish(cropped, size, seed)


def inception_train_from_jpeg(jpeg: tf.Tensor, boxes: tf.Tensor, size: int,
                              seed: int | None = None) -> tf.Tensor:
    """`inception_train` of JPEG bytes, decoding only the crop window.

    Args:
      jpeg: a scalar string, the JPEG's bytes.
      boxes: float32 [N, 4] relative boxes, N >= 0.
      size: the output height and width.
      seed: an op-level seed, or None.

    Returns:
      float32 [size, size, 3] in [-1, 1]. Running it fails for bytes that are not a decodable JPEG.

    Raises:
      ValueError: for a non-positive `size`.
    """
    _check_size(size)
    window = inception_crop_window(tf.io.extract_jpeg_shape(jpeg), boxes, seed)
    cropped = tf.image.decode_and_crop_jpeg(jpeg, window, channels=3)
    return _inception_finish(cropped, size, seed)


def vgg_train(image: tf.Tensor, size: int, seed: int | None = None) -> tf.Tensor:
    """VGG training preprocessing of a decoded image (see the module docstring).

    Args:
      image: uint8 or float [H, W, 3] with values in [0, 255].
      size: the output height and width.
      seed: an op-level seed, or None.

    Returns:
      float32 [size, size, 3], the RGB means subtracted.

    Raises:
      ValueError: for a non-positive `size`.
    """
    _check_size(size)
    low, high = (round(size * ratio) for ratio in VGG_SIDE_RANGE)
    side = tf.random.uniform([], low, high + 1, dtype=tf.int32, seed=seed)
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.cast(side, tf.float32) / tf.reduce_min(shape)
    new_size = tf.maximum(size, tf.cast(tf.math.round(shape * scale), tf.int32))
    resized = tf.image.resize(tf.cast(image, tf.float32), new_size, method="bilinear")
    cropped = tf.image.random_crop(resized, [size, size, 3], seed=seed)
    flipped = _flip(cropped, seed)
    return tf.ensure_shape(flipped - tf.constant(preprocessing.VGG_RGB_MEANS, tf.float32), [size, size, 3])


def preprocess_for_training(image: tf.Tensor, size: int, name: str, boxes: tf.Tensor | None = None,
                            seed: int | None = None) -> tf.Tensor:
    """Training preprocessing `name` of one decoded image.

    Args:
      image: uint8 or float [H, W, 3] with values in [0, 255].
      size: the output height and width.
      name: 'inception', 'vgg' or 'none'.
      boxes: float32 [N, 4] relative boxes for 'inception', or None for none.
      seed: an op-level seed, or None.

    Returns:
      float32 [size, size, 3].

    Raises:
      ValueError: for an unknown `name` (listing the known ones) or a non-positive `size`.
    """
    if name not in TRAINING_PREPROCESSING:
        raise ValueError(f"unknown preprocessing {name!r}; choose one of {', '.join(TRAINING_PREPROCESSING)}")
    if name == "inception":
        if boxes is None:
            boxes = tf.zeros([0, 4], tf.float32)
        return inception_train(image, boxes, size, seed)
    if name == "vgg":
        return vgg_train(image, size, seed)
    return preprocessing.preprocess(image, size, "none")
