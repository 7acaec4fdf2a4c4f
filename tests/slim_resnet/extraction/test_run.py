"""slim_resnet.extraction.run: a dataset run through a (here: trivial) model, skipped files and why."""

import numpy as np
import tensorflow as tf

from slim_resnet.extraction import run as extraction
from slim_resnet.images import decoding as image_decoding
from slim_resnet.images import folder as image_folder


def test_features_in_file_order_and_skipped_files_with_the_decoders_reason(class_folder):
  folder = image_folder.list_images(str(class_folder))
  broken = folder.files.index('dogs/broken.jpg')
  lines = []
  with tf.Graph().as_default():
    dataset = image_folder.build_dataset(folder, 32, 'none', batch_size=2)
    iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
    indices, images = iterator.get_next()
    fetches = {'index': indices, 'mean': tf.reduce_mean(images, axis=[1, 2, 3])}
    probe = image_decoding.ImageProbe()
    with tf.compat.v1.Session() as session:
      session.run(iterator.initializer)
      result = extraction.run_extraction(session, fetches, folder, probe, report=lines.append)
  kept = [i for i in range(len(folder.files)) if i != broken]
  assert result.kept_indices == kept
  assert result.skipped_indices == [broken]
  means = np.concatenate(result.features['mean'])
  assert means.shape == (len(kept),) and np.all((means > 0) & (means < 255))
  assert len(lines) == 1, lines
  prefix = 'warning: skipped unreadable file dogs/broken.jpg: '
  assert lines[0].startswith(prefix)
  reason = lines[0][len(prefix):]  # The decoder's own words, not the trace around them.
  assert reason and 'Graph execution error' not in reason and reason != 'decoded, but preprocessing failed'
  assert result.progress.files_done == len(folder.files)


def test_images_over_the_limit_are_reported_with_their_size(class_folder):
  folder = image_folder.list_images(str(class_folder))
  lines = []
  with tf.Graph().as_default():
    dataset = image_folder.build_dataset(folder, 32, 'none', batch_size=2, max_pixels=3000)
    iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
    indices, _ = iterator.get_next()
    with tf.compat.v1.Session() as session:
      session.run(iterator.initializer)
      result = extraction.run_extraction(session, {'index': indices}, folder,
                                         image_decoding.ImageProbe(3000), report=lines.append)
  skipped = [folder.files[i] for i in result.skipped_indices]
  assert skipped == ['dogs/broken.jpg', 'dogs/d.png', 'dogs/e.jpeg']
  assert lines[1:] == [
      'warning: skipped large image dogs/d.png: 48x64 = 3072 pixels, more than --max-pixels 3000',
      'warning: skipped large image dogs/e.jpeg: 70x50 = 3500 pixels, more than --max-pixels 3000']
