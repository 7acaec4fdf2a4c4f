"""A folder of images as a tf.data pipeline: decoding and preprocessing the images that
`slim_resnet.images.listing.list_images` finds (flat, or one sub-folder per class). JPEG, PNG, GIF
(first frame) and BMP are decoded by TensorFlow; a file that fails to read, decode or preprocess is
dropped from the dataset, whose batches carry each image's file index so the caller can tell which
ones (`slim_resnet.images.decoding.ImageProbe` tells why). With `max_pixels`, an image of more pixels
is dropped too, without being decoded where its header gives its size
(`slim_resnet.images.decoding.read_image`).
"""

import os

import numpy as np
import tensorflow as tf

from slim_resnet import preprocessing
from slim_resnet.images.decoding import read_image
from slim_resnet.images.listing import (  # noqa: F401 - callers read the listing's names here too
    IMAGE_EXTENSIONS,
    ImageFolder,
    ImageFolderError,
    list_images,
)


def build_dataset(folder, image_size, preprocessing_name, batch_size, max_pixels=None):
  """A dataset of (file index [B], images [B, size, size, 3]) batches over `folder.files`.

  Files are decoded in parallel and kept in order. Files that fail to read, decode or preprocess, and
  images of more than `max_pixels` pixels, are dropped; the indices show which ones survived.

  Args:
    folder: an `ImageFolder`.
    image_size: the square output size.
    preprocessing_name: a key of `slim_resnet.preprocessing.PREPROCESSING`.
    batch_size: images per batch (the last batch may be smaller).
    max_pixels: the largest height x width accepted, or None for no limit.

  Returns:
    A `tf.data.Dataset`.
  """
  paths = [os.path.join(folder.root, name) for name in folder.files]
  dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(paths), dtype=np.int64), paths))

  def load(index, path):
    image = preprocessing.preprocess(read_image(path, max_pixels), image_size, preprocessing_name)
    return index, image

  dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  dataset = dataset.ignore_errors()
  return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
