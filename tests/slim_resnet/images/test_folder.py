"""slim_resnet.images.folder: finding images flat or by class folder, and the tf.data pipeline."""

import numpy as np
import pytest
from PIL import Image

from slim_resnet.images import folder as image_folder


def test_class_folders_give_labels_in_sorted_order(class_folder, class_folder_images):
  folder = image_folder.list_images(str(class_folder))
  assert folder.root == str(class_folder)
  # The corrupt .jpg is listed (only decoding finds it out); the .txt is not an image.
  assert folder.files == sorted(class_folder_images + ['dogs/broken.jpg'])
  assert folder.class_names == ['cats', 'dogs']
  assert folder.labels == [0 if name.startswith('cats/') else 1 for name in folder.files]


def _image(path, size=(8, 8)):
  Image.fromarray(np.zeros(size + (3,), np.uint8)).save(path)


def test_flat_folder_hidden_entries_and_other_files(tmp_path):
  for name in ('b.PNG', 'a.jpg', '.hidden.png', 'c.gif'):
    _image(tmp_path / name)
  (tmp_path / 'readme.txt').write_text('not an image')
  folder = image_folder.list_images(str(tmp_path))
  assert folder.files == ['a.jpg', 'b.PNG', 'c.gif']
  assert folder.labels is None and folder.class_names is None


def test_class_folders_are_searched_recursively_hidden_ones_skipped(tmp_path):
  (tmp_path / 'b' / 'deep' / 'er').mkdir(parents=True)
  (tmp_path / 'a').mkdir()
  (tmp_path / '.cache').mkdir()
  _image(tmp_path / 'b' / 'deep' / 'er' / 'x.png')
  _image(tmp_path / 'b' / 'y.png')
  _image(tmp_path / 'a' / 'z.bmp')
  _image(tmp_path / '.cache' / 'w.png')
  folder = image_folder.list_images(str(tmp_path))
  assert folder.files == ['a/z.bmp', 'b/y.png', 'b/deep/er/x.png']
  assert folder.labels == [0, 1, 1]
  assert folder.class_names == ['a', 'b']


@pytest.mark.parametrize('layout, message', [
    ('missing', 'no such folder'),
    ('empty', r'no images \(.bmp, .gif, .jpeg, .jpg, .png\) found'),
    ('mixed', r'holds both images \(top.png, ...\) and sub-folders \(sub, ...\)'),
    ('empty classes', 'no images'),
])
def test_unusable_folders_are_refused(tmp_path, layout, message):
  root = tmp_path / 'images'
  if layout != 'missing':
    root.mkdir()
  if layout == 'mixed':
    _image(root / 'top.png')
    (root / 'sub').mkdir()
  if layout == 'empty classes':
    (root / 'cats').mkdir()
    (root / 'cats' / 'notes.txt').write_text('no image here')
  with pytest.raises(image_folder.ImageFolderError, match=message):
    image_folder.list_images(str(root))


def test_dataset_drops_unreadable_files_and_keeps_the_order(class_folder):
  folder = image_folder.list_images(str(class_folder))
  broken = folder.files.index('dogs/broken.jpg')
  dataset = image_folder.build_dataset(folder, 32, 'none', batch_size=4)
  batches = list(dataset.as_numpy_iterator())
  indices = np.concatenate([index for index, _ in batches]).tolist()
  assert indices == [i for i in range(len(folder.files)) if i != broken]
  assert [images.shape for _, images in batches] == [(4, 32, 32, 3), (1, 32, 32, 3)]
  assert all(images.dtype == np.float32 for _, images in batches)


def test_dataset_drops_images_over_max_pixels(class_folder):
  folder = image_folder.list_images(str(class_folder))
  # dogs/d.png is 48x64 = 3072 pixels and dogs/e.jpeg 70x50 = 3500; the others are at most 2464.
  dataset = image_folder.build_dataset(folder, 32, 'none', batch_size=8, max_pixels=3072)
  [(indices, _)] = list(dataset.as_numpy_iterator())
  assert [folder.files[i] for i in indices] == ['cats/a.png', 'cats/b.jpg', 'cats/c.png', 'dogs/d.png']
