"""slim_resnet.extraction: a dataset run through a (here: trivial) model, skipped files and why."""

import numpy as np
import tensorflow as tf

from slim_resnet import extraction, image_folder


def test_features_in_file_order_and_skipped_files_with_the_decoders_reason(class_folder):
  folder = image_folder.list_images(str(class_folder))
  broken = folder.files.index('dogs/broken.jpg')
  lines = []
  with tf.Graph().as_default():
    dataset = image_folder.build_dataset(folder, 32, 'none', batch_size=2)
    iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
    indices, images = iterator.get_next()
    fetches = {'index': indices, 'mean': tf.reduce_mean(images, axis=[1, 2, 3])}
    path = tf.compat.v1.placeholder(tf.string, [])
    probe = image_folder.decode_image(path)
    with tf.compat.v1.Session() as session:
      session.run(iterator.initializer)
      result = extraction.run_extraction(session, fetches, folder, probe, path, report=lines.append)
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
