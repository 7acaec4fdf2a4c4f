"""Fixtures for the slim_resnet tests: small hand-made checkpoints, a folder of class images."""

import os

import numpy as np
import pytest


@pytest.fixture(scope='session')
def save_checkpoint(load_values):
  """A function `save_checkpoint(directory, {name: value}, step=None)` returning the saved prefix.

  The variables are created in a fresh graph with the values' shapes and dtypes and saved as
  'small.ckpt' (with '-<step>' when a step is given), with a 'checkpoint' state file.
  """
  import tensorflow as tf

  def save(directory, values, step=None):
    with tf.Graph().as_default():
      created = [(tf.compat.v1.get_variable(name, initializer=tf.constant(value)), value)
                 for name, value in values.items()]
      with tf.compat.v1.Session() as session:
        load_values(session, created)
        saver = tf.compat.v1.train.Saver([variable for variable, _ in created])
        return saver.save(session, os.path.join(directory, 'small.ckpt'), global_step=step)

  return save


# Images of `class_folder`, sorted by class folder then name; not the corrupt file or the text file.
CLASS_FOLDER_IMAGES = ['cats/a.png', 'cats/b.jpg', 'cats/c.png', 'dogs/d.png', 'dogs/e.jpeg']


@pytest.fixture(scope='session')
def class_folder(tmp_path_factory):
  """An image folder with cats/ (2 PNG, 1 JPEG) and dogs/ (1 PNG, 1 JPEG, a corrupt .jpg, a .txt).

  The images have various small sizes (36 to 70 pixels a side); `list_images` finds them in the order
  of CLASS_FOLDER_IMAGES (which tests cannot import: see `class_folder_images`). Do not modify it.
  """
  from PIL import Image

  root = tmp_path_factory.mktemp('images')
  rng = np.random.default_rng(1)
  (root / 'cats').mkdir()
  (root / 'dogs').mkdir()
  sizes = {'cats/a.png': (40, 52), 'cats/b.jpg': (56, 44), 'cats/c.png': (36, 36),
           'dogs/d.png': (64, 48), 'dogs/e.jpeg': (50, 70)}
  assert sorted(sizes) == CLASS_FOLDER_IMAGES
  for name, (height, width) in sizes.items():
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(root / name)
  (root / 'dogs' / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 this is not really a JPEG')
  (root / 'dogs' / 'notes.txt').write_text('not an image')
  return root


@pytest.fixture(scope='session')
def class_folder_images():
  """The images of `class_folder`, relative to it, in `list_images` order."""
  return list(CLASS_FOLDER_IMAGES)
