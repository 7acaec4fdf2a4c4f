"""Image preprocessing for feeding ResNet v2 with decoded images, as a switchable choice.

Every method takes one decoded image (uint8 or float in [0, 255], shape [H, W, 3]) and returns a float32
image of shape [size, size, 3]. The choice must match what the weights were trained with:

- 'inception' (default): central crop keeping 87.5% of each side, bilinear resize to size x size, then
  scale to [-1, 1] (x / 127.5 - 1). The official TF-Slim `resnet_v2_*_2017_04_14` checkpoints were
  trained with Inception preprocessing and evaluated this way.
- 'vgg': resize (bilinear, aspect ratio kept) so the shorter side is size * 256 / 224 (256 for 224),
  central crop size x size, subtract the ImageNet RGB means (123.68, 116.78, 103.94). This is what
  TF-Slim's ResNet v1 checkpoints used; use it for weights trained that way.
- 'none': bilinear resize to size x size only, values left in [0, 255]; for weights trained on raw pixels
  or when the caller normalises afterwards.
"""

import tensorflow as tf

INCEPTION_CENTRAL_FRACTION = 0.875
VGG_RGB_MEANS = (123.68, 116.78, 103.94)
VGG_RESIZE_RATIO = 256 / 224


def _check_image(image):
  """Returns `image` as a float32 tensor of shape [H, W, 3].

  Raises:
    ValueError: if the image is not rank 3 with 3 channels (when the shape is known).
  """
  image = tf.convert_to_tensor(image)
  if image.shape.rank is not None and image.shape.rank != 3:
    raise ValueError(f'expected one image of shape [height, width, 3], got shape {image.shape}')
  if image.shape.rank == 3 and image.shape[-1] not in (None, 3):
    raise ValueError(f'expected 3 (RGB) channels, got shape {image.shape}')
  return tf.cast(image, tf.float32)


def _resize(image, height, width):
  """Bilinear resize of a float32 [H, W, 3] image to [height, width, 3]."""
  return tf.image.resize(image, tf.stack([height, width]), method='bilinear', antialias=False)


def central_crop(image, fraction):
  """Keeps the central `fraction` of each side of a [H, W, C] image (at least one pixel)."""
  shape = tf.shape(image)  # [H, W, C]
  height, width = shape[0], shape[1]
  crop_height = tf.maximum(1, tf.cast(tf.cast(height, tf.float32) * fraction, tf.int32))
  crop_width = tf.maximum(1, tf.cast(tf.cast(width, tf.float32) * fraction, tf.int32))
  top = (height - crop_height) // 2
  left = (width - crop_width) // 2
  return image[top:top + crop_height, left:left + crop_width, :]


def inception_preprocess(image, size):
  """Central crop (87.5%), bilinear resize to [size, size, 3], scale [0, 255] to [-1, 1]."""
  image = _check_image(image)
  image = _resize(central_crop(image, INCEPTION_CENTRAL_FRACTION), size, size)
  return image / 127.5 - 1.0


def vgg_preprocess(image, size):
  """Shorter side to size * 256 / 224, central crop [size, size, 3], ImageNet RGB means subtracted."""
  image = _check_image(image)
  shape = tf.shape(image)
  height = tf.cast(shape[0], tf.float32)
  width = tf.cast(shape[1], tf.float32)
  shorter_side_target = tf.math.ceil(size * VGG_RESIZE_RATIO)
  scale = shorter_side_target / tf.minimum(height, width)
  new_height = tf.maximum(size, tf.cast(tf.math.round(height * scale), tf.int32))
  new_width = tf.maximum(size, tf.cast(tf.math.round(width * scale), tf.int32))
  image = _resize(image, new_height, new_width)
  top = (new_height - size) // 2
  left = (new_width - size) // 2
  image = image[top:top + size, left:left + size, :]
  return image - tf.constant(VGG_RGB_MEANS, tf.float32)


def no_preprocess(image, size):
  """Bilinear resize to [size, size, 3]; values stay in [0, 255]."""
  return _resize(_check_image(image), size, size)


PREPROCESSING = {
    'inception': inception_preprocess,
    'vgg': vgg_preprocess,
    'none': no_preprocess,
}
DEFAULT_PREPROCESSING = 'inception'


def get_preprocessing(name):
  """Returns the preprocessing function called `name`: fn(image [H, W, 3], size) -> [size, size, 3].

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if name not in PREPROCESSING:
    raise ValueError(
        f'unknown preprocessing {name!r}; choose one of {", ".join(sorted(PREPROCESSING))}')
  return PREPROCESSING[name]


def preprocess(image, size, name=DEFAULT_PREPROCESSING):
  """Preprocesses one decoded image for the network.

  Args:
    image: uint8 or float tensor of shape [H, W, 3] with values in [0, 255].
    size: output height and width in pixels (a Python int).
    name: 'inception', 'vgg' or 'none' (see the module docstring).

  Returns:
    A float32 tensor of shape [size, size, 3].

  Raises:
    ValueError: for an unknown `name`, a non-positive `size` or an image that is not [H, W, 3].
  """
  function = get_preprocessing(name)
  if not isinstance(size, int) or isinstance(size, bool) or size < 1:
    raise ValueError(f'size must be a positive int, got {size!r}')
  output = function(image, size)
  return tf.ensure_shape(output, [size, size, 3])
