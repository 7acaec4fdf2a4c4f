"""A folder of images as a tf.data pipeline: finding the files and classes, decoding, preprocessing.

A folder is either flat (images directly in it) or holds one sub-folder per class, like Keras'
`image_dataset_from_directory`: class k is the k-th sub-folder in sorted order, its images found
recursively inside it. Hidden files and folders are ignored, and so are files without an image
extension. JPEG, PNG, GIF (first frame) and BMP are decoded by TensorFlow; a file that fails to read,
decode or preprocess is dropped from the dataset, whose batches carry each image's file index so the
caller can tell which ones (`slim_resnet.image_decoding.ImageProbe` tells why). With `max_pixels`,
an image of more pixels is dropped too, without being decoded where its header gives its size
(`slim_resnet.image_decoding.read_image`).
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from slim_resnet import preprocessing
from slim_resnet.image_decoding import read_image

IMAGE_EXTENSIONS = ('.bmp', '.gif', '.jpeg', '.jpg', '.png')


class ImageFolderError(ValueError):
  """The folder cannot be used: missing, holding no images, or mixing images and class folders."""


@dataclasses.dataclass
class ImageFolder:
  """The images found under a folder.

  Attributes:
    root: the folder.
    files: image paths relative to `root`, sorted (by class, then path).
    labels: class index per file, or None for a flat folder.
    class_names: sub-folder names in label order, or None for a flat folder.
  """
  root: str
  files: list
  labels: list = None
  class_names: list = None


def _is_image(name):
  return name.lower().endswith(IMAGE_EXTENSIONS)


def _visible(entries):
  return sorted((entry for entry in entries if not entry.name.startswith('.')),
                key=lambda entry: entry.name)


def _images_below(root, directory):
  """Image paths (relative to `root`) anywhere under `directory`, sorted."""
  found = []
  for current, subdirectories, names in os.walk(directory):
    subdirectories[:] = sorted(name for name in subdirectories if not name.startswith('.'))
    found.extend(os.path.relpath(os.path.join(current, name), root)
                 for name in sorted(names) if _is_image(name) and not name.startswith('.'))
  return found


def list_images(root):
  """Finds the images under `root`, flat or one sub-folder per class.

  Args:
    root: the folder.

  Returns:
    An `ImageFolder`.

  Raises:
    ImageFolderError: if `root` is not a folder, mixes top-level images with sub-folders, or holds
      no images. The message does not repeat `root`.
  """
  if not os.path.isdir(root):
    raise ImageFolderError('no such folder')
  with os.scandir(root) as scanned:
    entries = _visible(scanned)
  subdirectories = [entry for entry in entries if entry.is_dir()]
  top_images = [entry.name for entry in entries if entry.is_file() and _is_image(entry.name)]
  if subdirectories and top_images:
    raise ImageFolderError(
        f'holds both images ({top_images[0]}, ...) and sub-folders ({subdirectories[0].name}, ...); '
        'use a flat folder or one sub-folder per class')
  if subdirectories:
    files, labels = [], []
    for label, subdirectory in enumerate(subdirectories):
      found = _images_below(root, subdirectory.path)
      files.extend(found)
      labels.extend([label] * len(found))
    folder = ImageFolder(root, files, labels, [entry.name for entry in subdirectories])
  else:
    folder = ImageFolder(root, top_images)
  if not folder.files:
    raise ImageFolderError(f'no images ({", ".join(IMAGE_EXTENSIONS)}) found')
  return folder


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
