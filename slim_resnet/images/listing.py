"""Finding the images of a folder and their classes, without TensorFlow.

A folder is either flat (images directly in it) or holds one sub-folder per class, like Keras'
`image_dataset_from_directory`: class k is the k-th sub-folder in sorted order, its images found
recursively inside it. Hidden files and folders are ignored, and so are files without an image
extension. `slim_resnet.images.folder` turns the listing into a tf.data pipeline; the benchmark's
data check (`bench.inputs.sources`) reads it before TensorFlow is imported.
"""

import dataclasses
import os

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
