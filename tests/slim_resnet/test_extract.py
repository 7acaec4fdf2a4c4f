"""`python -m slim_resnet.extract` end to end, against the Python API, and its bad-input handling."""

import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim
from PIL import Image

from slim_resnet import checkpoint, extract, preprocessing, quiet, resnet_arg_scope, resnet_v2_50

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
NUM_CLASSES = 7
IMAGE_SIZE = 48
# Sorted by class folder, then name; the corrupt file and the text file are not features.
EXPECTED_FILES = ['cats/a.png', 'cats/b.jpg', 'cats/c.png', 'dogs/d.png', 'dogs/e.jpeg']


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory):
  """cats/ (2 PNG, 1 JPEG) and dogs/ (1 PNG, 1 JPEG, 1 corrupt .jpg, 1 .txt), various sizes."""
  root = tmp_path_factory.mktemp('images')
  rng = np.random.default_rng(1)
  (root / 'cats').mkdir()
  (root / 'dogs').mkdir()
  sizes = {'cats/a.png': (40, 52), 'cats/b.jpg': (56, 44), 'cats/c.png': (36, 36),
           'dogs/d.png': (64, 48), 'dogs/e.jpeg': (50, 70)}
  for name, (height, width) in sizes.items():
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(root / name)
  (root / 'dogs' / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 this is not really a JPEG')
  (root / 'dogs' / 'notes.txt').write_text('not an image')
  return root


def _random_batch_norm_values(session, rng):
  """Gives every batch-norm variable a random value, so restoring them is visible in the output."""
  for variable in tf.compat.v1.model_variables():
    name = checkpoint.variable_name(variable)
    shape = variable.shape.as_list()
    if name.endswith(('moving_variance', 'gamma')):
      variable.load(rng.uniform(0.5, 1.5, shape).astype(np.float32), session)
    elif name.endswith(('moving_mean', 'beta', 'biases')):
      variable.load((rng.standard_normal(shape) * 0.1).astype(np.float32), session)


@pytest.fixture(scope='module')
def saved_checkpoint(tmp_path_factory):
  """A resnet_v2_50 checkpoint with 7 classes and random values; returns its prefix."""
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [1, IMAGE_SIZE, IMAGE_SIZE, 3])
    with slim.arg_scope(resnet_arg_scope()):
      resnet_v2_50(images, num_classes=NUM_CLASSES, is_training=False)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      _random_batch_norm_values(session, np.random.default_rng(2))
      saver = tf.compat.v1.train.Saver(tf.compat.v1.model_variables())
      return saver.save(session, str(tmp_path_factory.mktemp('ckpt') / 'model.ckpt'))


def _python_api_features(checkpoint_path, paths, end_point_names):
  """The same features through the Python API: decoding, `preprocess`, resnet_v2_50.

  PNGs are decoded by PIL; JPEGs by TensorFlow, since JPEG decoders may differ in the last bit.

  Returns:
    {end-point name: array [len(paths), ...]}.
  """
  with tf.Graph().as_default():
    jpeg_path = tf.compat.v1.placeholder(tf.string, [])
    jpeg = tf.io.decode_jpeg(tf.io.read_file(jpeg_path), channels=3)
    image = tf.compat.v1.placeholder(tf.uint8, [None, None, 3])
    preprocessed = preprocessing.preprocess(image, IMAGE_SIZE, 'inception')
    batch = tf.compat.v1.placeholder(tf.float32, [None, IMAGE_SIZE, IMAGE_SIZE, 3])
    with slim.arg_scope(resnet_arg_scope()):
      _, end_points = resnet_v2_50(batch, num_classes=NUM_CLASSES, is_training=False)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      checkpoint.restore_checkpoint(session, checkpoint_path)
      decoded = [session.run(jpeg, {jpeg_path: str(path)}) if path.suffix in ('.jpg', '.jpeg')
                 else np.asarray(Image.open(path).convert('RGB')) for path in paths]
      inputs = [session.run(preprocessed, {image: pixels}) for pixels in decoded]
      return session.run({name: end_points[name] for name in end_point_names},
                         {batch: np.stack(inputs)})


def test_command_end_to_end_matches_python_api(image_folder, saved_checkpoint, tmp_path):
  output = tmp_path / 'features.npz'
  command = [sys.executable, '-m', 'slim_resnet.extract', '--depth', '50',
             '--checkpoint', saved_checkpoint, '--images', str(image_folder),
             '--end-point', 'block4', 'global_pool', '--end-point', 'logits',
             '--image-size', str(IMAGE_SIZE), '--batch', '2', '--output', str(output)]
  environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONPATH=str(REPO_ROOT))
  result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)
  assert result.returncode == 0, result.stderr
  assert 'skipped unreadable file dogs/broken.jpg' in result.stderr
  # TensorFlow's start-up log lines (printed before TF_CPP_MIN_LOG_LEVEL applies) are kept out.
  assert 'absl::InitializeLog' not in result.stderr
  assert not [line for line in result.stderr.splitlines() if quiet.is_native_log_line(line)]
  assert '6/6 images (100%)' in result.stderr and 'images/sec' in result.stderr
  assert not list(tmp_path.glob('.*.tmp'))

  arrays = np.load(output)
  assert arrays['files'].tolist() == EXPECTED_FILES
  assert arrays['labels'].tolist() == [0, 0, 0, 1, 1]
  assert arrays['class_names'].tolist() == ['cats', 'dogs']
  assert arrays['skipped_files'].tolist() == ['dogs/broken.jpg']
  names = ['resnet_v2_50/block4', 'global_pool', 'resnet_v2_50/logits']
  assert arrays['end_points'].tolist() == names
  assert arrays['resnet_v2_50/block4'].shape == (5, 2, 2, 2048)  # 48 px / 32, rounded up.
  assert arrays['global_pool'].shape == (5, 1, 1, 2048)
  assert arrays['resnet_v2_50/logits'].shape == (5, NUM_CLASSES)  # Class count from checkpoint.

  expected = _python_api_features(
      saved_checkpoint, [image_folder / name for name in EXPECTED_FILES], names)
  for name in names:
    scale = np.abs(expected[name]).max()
    np.testing.assert_allclose(arrays[name], expected[name], rtol=1e-4, atol=1e-5 * scale,
                               err_msg=name)


def test_random_weights_on_a_flat_folder_warn_loudly(image_folder, tmp_path, capsys):
  flat = tmp_path / 'flat'
  flat.mkdir()
  for name in ('a.png', 'c.png'):
    (flat / name).write_bytes((image_folder / 'cats' / name).read_bytes())
  output = tmp_path / 'out.npz'
  code = extract.main(['--images', str(flat), '--image-size', '32', '--end-point', 'block2',
                       '--preprocessing', 'vgg', '--output', str(output)])
  assert code == 0
  assert 'RANDOM weights' in capsys.readouterr().err
  arrays = np.load(output)
  assert arrays['files'].tolist() == ['a.png', 'c.png']
  assert 'labels' not in arrays and 'class_names' not in arrays
  assert arrays['skipped_files'].tolist() == []
  assert arrays['resnet_v2_50/block2'].shape == (2, 2, 2, 512)
  assert str(arrays['preprocessing']) == 'vgg'


def _tiny_checkpoint(directory):
  """A checkpoint holding a single unrelated variable; returns its prefix."""
  with tf.Graph().as_default():
    variable = tf.compat.v1.get_variable('something/else', initializer=tf.zeros([3]))
    with tf.compat.v1.Session() as session:
      session.run(variable.initializer)
      return tf.compat.v1.train.Saver([variable]).save(session, os.path.join(directory, 'tiny'))


BAD_INPUTS = {
    'no such folder': (['--images', '{missing}'], 'no such folder'),
    'no images': (['--images', '{empty}'], 'no images'),
    'unknown end point': (['--images', '{images}', '--end-point', 'block9'],
                          '--end-point block9: unknown end point; choose from conv1, block1'),
    'image too small': (['--images', '{images}', '--image-size', '16', '--end-point', 'block4'],
                        '--image-size 16: too small for end point(s) block4'),
    'logits without classes': (['--images', '{images}', '--end-point', 'logits'],
                               'need --num-classes'),
    'missing checkpoint': (['--images', '{images}', '--checkpoint', '{missing}'],
                           'no checkpoint at'),
    'checkpoint variables missing': (
        ['--images', '{images}', '--checkpoint', '{tiny}', '--image-size', '32'],
        'variables missing from it (resnet_v2_50/'),
    'depth': (['--images', '{images}', '--depth', '51'], 'invalid choice: 51'),
    'batch': (['--images', '{images}', '--batch', 'x'], "--batch: must be a positive integer"),
}


@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_code_2(case, image_folder, tmp_path, capsys):
  (tmp_path / 'empty').mkdir()
  places = {'missing': str(tmp_path / 'missing'), 'empty': str(tmp_path / 'empty'),
            'images': str(image_folder), 'tiny': '' if 'checkpoint variables' not in case
            else _tiny_checkpoint(str(tmp_path))}
  argv, expected = BAD_INPUTS[case]
  output = tmp_path / 'out.npz'
  argv = [part.format(**places) for part in argv] + ['--output', str(output)]
  assert _exit_code(argv) == 2
  error_lines = capsys.readouterr().err.strip().splitlines()
  assert len(error_lines) == 1, error_lines
  assert expected in error_lines[0]
  assert not output.exists()


def _exit_code(argv):
  """main()'s return code, or the code argparse exits with."""
  try:
    return extract.main(argv)
  except SystemExit as exit_:
    return exit_.code


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
  output = tmp_path / 'features.npz'
  extract.write_npz_atomically(str(output), {'old': np.arange(3)})

  class Unwritable:
    def __array__(self, dtype=None, copy=None):
      raise RuntimeError('disk full, say')

  with pytest.raises(RuntimeError, match='disk full'):
    extract.write_npz_atomically(str(output), {'new': np.zeros(2), 'bad': Unwritable()})
  assert np.load(output)['old'].tolist() == [0, 1, 2]
  assert sorted(path.name for path in tmp_path.iterdir()) == ['features.npz']


def test_short_end_point_forms():
  end_points = {'resnet_v2_50/block4': 1, 'global_pool': 2, 'resnet_v2_50/block1/unit_1': 3}
  assert extract.resolve_end_points(
      ['block4', 'resnet_v2_50/block4', 'global_pool', 'block1/unit_1'], end_points,
      'resnet_v2_50') == ['resnet_v2_50/block4', 'global_pool', 'resnet_v2_50/block1/unit_1']


@pytest.mark.slow
def test_ctrl_c_is_one_line_exit_130_and_writes_nothing(tmp_path):
  folder = tmp_path / 'many'
  folder.mkdir()
  pixels = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
  for index in range(600):
    Image.fromarray(pixels).save(folder / f'{index:03d}.png')
  output = tmp_path / 'features.npz'
  environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
  process = subprocess.Popen(
      [sys.executable, '-m', 'slim_resnet.extract', '--images', str(folder), '--image-size', '64',
       '--batch', '1', '--end-point', 'block4', '--output', str(output)],
      stderr=subprocess.PIPE, text=True, env=environment)
  seen = []
  for line in process.stderr:  # Signal once extraction is under way.
    seen.append(line)
    if 'images in' in line:
      break
  process.send_signal(signal.SIGINT)
  rest = process.stderr.read()
  process.wait(timeout=120)
  assert process.returncode == 130, ''.join(seen) + rest
  assert 'Traceback' not in rest
  assert rest.strip().splitlines()[-1] == (
      f'python -m slim_resnet.extract: interrupted; {output} was not written')
  assert sorted(path.name for path in tmp_path.iterdir()) == ['many']  # No output, no temporary file.
