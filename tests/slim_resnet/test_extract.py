"""`python -m slim_resnet.extract` end to end, against the Python API; bad input, failures, signals."""

import os
import pathlib
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim
from PIL import Image

from slim_resnet import checkpoint, extract, preprocessing, resnet_arg_scope, resnet_v2_50
from slim_resnet.support import quiet

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
NUM_CLASSES = 7
IMAGE_SIZE = 48


@pytest.fixture(scope='module')
def saved_checkpoint(tmp_path_factory, load_values):
  """A resnet_v2_50 checkpoint with 7 classes and random batch-norm values, and its graph.

  Returns:
    {'path': the checkpoint prefix, 'session': a session of the graph it was saved from, 'images':
    its [None, 48, 48, 3] placeholder, 'end_points': the network's end points}.
  """
  rng = np.random.default_rng(2)
  graph = tf.Graph()
  with graph.as_default():
    images = tf.compat.v1.placeholder(tf.float32, [None, IMAGE_SIZE, IMAGE_SIZE, 3])
    with slim.arg_scope(resnet_arg_scope()):
      _, end_points = resnet_v2_50(images, num_classes=NUM_CLASSES, is_training=False)
    variables = tf.compat.v1.model_variables()
    saver = tf.compat.v1.train.Saver(variables)
    initialize = tf.compat.v1.global_variables_initializer()
  # Random batch-norm values, so that restoring them is visible in the output.
  values = []
  for variable in variables:
    name, shape = checkpoint.variable_name(variable), variable.shape.as_list()
    if name.endswith(('moving_variance', 'gamma')):
      values.append((variable, rng.uniform(0.5, 1.5, shape).astype(np.float32)))
    elif name.endswith(('moving_mean', 'beta', 'biases')):
      values.append((variable, (rng.standard_normal(shape) * 0.1).astype(np.float32)))
  with tf.compat.v1.Session(graph=graph) as session:
    session.run(initialize)
    load_values(session, values)
    path = saver.save(session, str(tmp_path_factory.mktemp('ckpt') / 'model.ckpt'))
    session.run(initialize)  # Values of the checkpoint only come back by restoring it.
    yield {'path': path, 'session': session, 'images': images, 'end_points': end_points}


def _python_api_features(saved, paths, end_point_names):
  """The same features through the Python API: decoding, `preprocess`, restore_checkpoint.

  PNGs are decoded by PIL; JPEGs by TensorFlow, since JPEG decoders may differ in the last bit.

  Returns:
    {end-point name: array [len(paths), ...]}.
  """
  session = saved['session']
  with session.graph.as_default():
    jpeg_path = tf.compat.v1.placeholder(tf.string, [])
    jpeg = tf.io.decode_jpeg(tf.io.read_file(jpeg_path), channels=3)
    image = tf.compat.v1.placeholder(tf.uint8, [None, None, 3])
    preprocessed = preprocessing.preprocess(image, IMAGE_SIZE, 'inception')
  checkpoint.restore_checkpoint(session, saved['path'])
  decoded = [session.run(jpeg, {jpeg_path: str(path)}) if path.suffix in ('.jpg', '.jpeg')
             else np.asarray(Image.open(path).convert('RGB')) for path in paths]
  inputs = [session.run(preprocessed, {image: pixels}) for pixels in decoded]
  return session.run({name: saved['end_points'][name] for name in end_point_names},
                     {saved['images']: np.stack(inputs)})


def test_command_end_to_end_matches_python_api(class_folder, class_folder_images, saved_checkpoint,
                                               tmp_path):
  output = tmp_path / 'features.npz'
  command = [sys.executable, '-m', 'slim_resnet.extract', '--depth', '50',
             '--checkpoint', saved_checkpoint['path'], '--images', str(class_folder),
             '--end-point', 'block4', 'global_pool', '--end-point', 'logits',
             '--image-size', str(IMAGE_SIZE), '--batch', '2', '--output', str(output)]
  environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONPATH=str(REPO_ROOT))
  result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)
  assert result.returncode == 0, result.stderr
  assert 'skipped unreadable file dogs/broken.jpg' in result.stderr
  # TensorFlow's start-up log lines (printed before TF_CPP_MIN_LOG_LEVEL applies) are kept out.
  assert 'absl::InitializeLog' not in result.stderr
  assert not [line for line in result.stderr.splitlines() if quiet.is_native_log_line(line)]
  # The last progress line and the closing line count the same rows.
  assert 'extract: 6/6 files (100%): 5 images, 1 skipped; ' in result.stderr
  assert 'extract: wrote 5 rows of ' in result.stderr and '(1 skipped)' in result.stderr
  assert not list(tmp_path.glob('.*.tmp'))

  arrays = np.load(output)
  assert arrays['files'].tolist() == class_folder_images
  assert arrays['labels'].tolist() == [0, 0, 0, 1, 1]
  assert arrays['class_names'].tolist() == ['cats', 'dogs']
  assert arrays['skipped_files'].tolist() == ['dogs/broken.jpg']
  names = ['resnet_v2_50/block4', 'global_pool', 'resnet_v2_50/logits']
  assert arrays['end_points'].tolist() == names
  assert arrays['resnet_v2_50/block4'].shape == (5, 2, 2, 2048)  # 48 px / 32, rounded up.
  assert arrays['global_pool'].shape == (5, 1, 1, 2048)
  assert arrays['resnet_v2_50/logits'].shape == (5, NUM_CLASSES)  # Class count from checkpoint.

  expected = _python_api_features(
      saved_checkpoint, [class_folder / name for name in class_folder_images], names)
  for name in names:
    scale = np.abs(expected[name]).max()
    np.testing.assert_allclose(arrays[name], expected[name], rtol=1e-4, atol=1e-5 * scale,
                               err_msg=name)


def test_random_weights_on_a_flat_folder_warn_loudly_and_no_keras_warning(class_folder, tmp_path,
                                                                          capsys):
  flat = tmp_path / 'flat'
  flat.mkdir()
  for name in ('a.png', 'c.png'):
    (flat / name).write_bytes((class_folder / 'cats' / name).read_bytes())
  output = tmp_path / 'out.npz'
  # main() quiets nothing (only `python -m` does, before TensorFlow loads): with every Python warning
  # recorded, building and running the model must not issue Keras' `layer.apply` deprecation.
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    code = extract.main(['--images', str(flat), '--image-size', '32', '--end-point', 'block2',
                         '--preprocessing', 'vgg', '--output', str(output)])
  assert not [str(w.message) for w in caught if 'layer.apply' in str(w.message)]
  assert code == 0
  assert 'RANDOM weights' in capsys.readouterr().err
  arrays = np.load(output)
  assert arrays['files'].tolist() == ['a.png', 'c.png']
  assert 'labels' not in arrays and 'class_names' not in arrays
  assert arrays['skipped_files'].tolist() == []
  assert arrays['resnet_v2_50/block2'].shape == (2, 2, 2, 512)
  assert str(arrays['preprocessing']) == 'vgg'


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
    'checkpoint of another class count': (
        ['--images', '{images}', '--checkpoint', '{saved}', '--num-classes', '5', '--image-size', '32',
         '--end-point', 'logits'],
        'the logits differ: leave out --num-classes to use the checkpoint\'s class count'),
    'depth': (['--images', '{images}', '--depth', '51'], 'invalid choice: 51'),
    'batch': (['--images', '{images}', '--batch', 'x'], "--batch: must be a positive integer"),
    'max pixels': (['--images', '{images}', '--max-pixels', '0'],
                   '--max-pixels: must be a positive integer, got 0'),
}


@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_code_2(case, class_folder, save_checkpoint, request, tmp_path,
                                               capsys):
  (tmp_path / 'empty').mkdir()
  places = {'missing': str(tmp_path / 'missing'), 'empty': str(tmp_path / 'empty'),
            'images': str(class_folder), 'tiny': '', 'saved': ''}
  if 'another class count' in case:
    places['saved'] = request.getfixturevalue('saved_checkpoint')['path']
  if 'checkpoint variables' in case:  # A checkpoint holding a single unrelated variable.
    places['tiny'] = save_checkpoint(str(tmp_path), {'something/else': np.zeros([3], np.float32)})
  argv, expected = BAD_INPUTS[case]
  output = tmp_path / 'out.npz'
  argv = [part.format(**places) for part in argv] + ['--output', str(output)]
  assert _exit_code(argv) == 2
  error_lines = capsys.readouterr().err.strip().splitlines()
  assert len(error_lines) == 1, error_lines
  assert expected in error_lines[0]
  # The Python API's hints name arguments that have no flag here.
  assert 'scope_map' not in error_lines[0] and 'pass exclude' not in error_lines[0]
  assert not output.exists()


def test_checkpoint_of_another_depth_says_which_depth_to_pass(class_folder, save_checkpoint, tmp_path,
                                                              capsys):
  prefix = save_checkpoint(str(tmp_path), {
      'resnet_v2_101/conv1/weights': np.zeros([7, 7, 3, 64], np.float32),
      'resnet_v2_101/logits/biases': np.zeros([1001], np.float32),
      'global_step': np.array(10, np.int64)})
  output = tmp_path / 'out.npz'
  assert _exit_code(['--images', str(class_folder), '--checkpoint', prefix, '--end-point', 'logits',
                     '--output', str(output)]) == 2
  assert capsys.readouterr().err.splitlines() == [
      f'python -m slim_resnet.extract: error: --checkpoint {prefix}: its variables are under '
      'resnet_v2_101/, none under resnet_v2_50/: the checkpoint looks like resnet_v2_101: pass '
      '--depth 101']
  assert not output.exists()


def test_a_scope_nothing_matches_is_explained_in_terms_of_flags(class_folder, save_checkpoint,
                                                                tmp_path, capsys):
  prefix = save_checkpoint(str(tmp_path), {'tower_0/resnet_v2_50/conv1/biases': np.zeros([64], np.float32)})
  assert _exit_code(['--images', str(class_folder), '--checkpoint', prefix, '--image-size', '32',
                     '--end-point', 'block1', '--output', str(tmp_path / 'out.npz')]) == 2
  [line] = capsys.readouterr().err.splitlines()
  assert line.endswith("nothing matched: the checkpoint's top-level scopes are tower_0, not "
                       'resnet_v2_50; give a checkpoint saved from resnet_v2 under its own scope, '
                       'and its depth with --depth')


def test_images_over_max_pixels_are_skipped_with_their_size(class_folder, tmp_path, capsys):
  output = tmp_path / 'out.npz'
  # cats/a.png 52x40, cats/b.jpg 44x56 and cats/c.png 36x36 pixels are at most 2464 pixels;
  # dogs/d.png 48x64 and dogs/e.jpeg 70x50 are more.
  assert extract.main(['--images', str(class_folder), '--image-size', '32', '--end-point', 'block1',
                       '--max-pixels', '2500', '--output', str(output)]) == 0
  warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith('warning:')]
  assert warnings[1:] == [
      'warning: skipped large image dogs/d.png: 48x64 = 3072 pixels, more than --max-pixels 2500',
      'warning: skipped large image dogs/e.jpeg: 70x50 = 3500 pixels, more than --max-pixels 2500']
  assert warnings[0].startswith('warning: skipped unreadable file dogs/broken.jpg: ')
  arrays = np.load(output)
  assert arrays['files'].tolist() == ['cats/a.png', 'cats/b.jpg', 'cats/c.png']
  assert arrays['skipped_files'].tolist() == ['dogs/broken.jpg', 'dogs/d.png', 'dogs/e.jpeg']
  assert arrays['resnet_v2_50/block1'].shape[0] == 3


@pytest.mark.parametrize('where, reason', [
    ('a folder', 'is a directory; give a file name, e.g. features.npz'),
    ('in a missing folder', 'directory {tmp}/missing does not exist'),
])
def test_unwritable_output_is_refused_before_any_work(where, reason, class_folder, tmp_path, capsys):
  output = str(tmp_path) if where == 'a folder' else str(tmp_path / 'missing' / 'out.npz')
  assert _exit_code(['--images', str(class_folder), '--output', output]) == 2
  assert capsys.readouterr().err.splitlines() == [
      f'python -m slim_resnet.extract: error: --output {output}: {reason.format(tmp=tmp_path)}']


# Each case runs a whole extraction; one stays in the fast set (the same handling in main() and
# _write for every breakage; test_files checks output_path_problem's reason for each).
@pytest.mark.parametrize('breakage', [
    pytest.param('the target became a folder', marks=pytest.mark.slow), 'the folder was removed',
    pytest.param('the folder became read-only', marks=pytest.mark.slow)])
def test_an_output_that_cannot_be_written_at_the_end_is_one_line_and_exit_1(
    breakage, class_folder, tmp_path, monkeypatch, capsys):
  folder = tmp_path / 'out'
  folder.mkdir()
  output = folder / 'features.npz'
  if breakage == 'the folder became read-only':
    folder.chmod(0o500)
    writable = os.access(folder, os.W_OK)
    folder.chmod(0o700)
    if writable:
      pytest.skip('running with permissions that ignore file modes (root)')
  reasons = {'the target became a folder': 'is a directory; give a file name, e.g. features.npz',
             'the folder was removed': f'directory {folder} does not exist',
             'the folder became read-only': f'cannot create a file in {folder} (not writable)'}
  real_run = extract.run_extraction

  def run_then_break(*args, **kwargs):  # The output's folder was fine when the run started.
    extraction = real_run(*args, **kwargs)
    if breakage == 'the target became a folder':
      output.mkdir()
    elif breakage == 'the folder was removed':
      folder.rmdir()
    else:
      folder.chmod(0o500)
    return extraction

  monkeypatch.setattr(extract, 'run_extraction', run_then_break)
  try:
    code = extract.main(['--images', str(class_folder), '--image-size', '32', '--end-point', 'block1',
                         '--output', str(output)])
  finally:
    if folder.exists():
      folder.chmod(0o700)
  err = capsys.readouterr().err
  assert code == 1, err
  assert 'Traceback' not in err
  assert err.splitlines()[-1] == (f'python -m slim_resnet.extract: error: --output {output}: cannot '
                                  f'write the features: {reasons[breakage]}; nothing was written')
  assert not list(tmp_path.glob('**/.*.tmp'))


def _exit_code(argv):
  """main()'s return code, or the code argparse exits with."""
  try:
    return extract.main(argv)
  except SystemExit as exit_:
    return exit_.code


@pytest.fixture(scope='module')
def many_images(tmp_path_factory):
  """600 PNG images of 64x64 pixels: minutes of work at batch 1, to be interrupted."""
  folder = tmp_path_factory.mktemp('many')
  pixels = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
  for index in range(600):
    Image.fromarray(pixels).save(folder / f'{index:03d}.png')
  return folder


def _start(argv):
  """Starts `python -m slim_resnet.extract` with `argv`; stderr is a text pipe."""
  environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
  return subprocess.Popen([sys.executable, '-m', 'slim_resnet.extract', *argv],
                          stderr=subprocess.PIPE, text=True, env=environment)


@pytest.mark.slow
@pytest.mark.parametrize('signum, code, how', [(signal.SIGINT, 130, 'interrupted'),
                                               (signal.SIGTERM, 143, 'interrupted by SIGTERM')])
def test_a_stop_signal_during_extraction_is_one_line_and_writes_nothing(signum, code, how, many_images,
                                                                        tmp_path):
  output = tmp_path / 'features.npz'
  process = _start(['--images', str(many_images), '--image-size', '64', '--batch', '1',
                    '--end-point', 'block4', '--output', str(output)])
  seen = []
  for line in process.stderr:  # Signal once extraction is under way.
    seen.append(line)
    if 'images in' in line:
      break
  process.send_signal(signum)
  rest = process.stderr.read()
  process.wait(timeout=120)
  assert process.returncode == code, ''.join(seen) + rest
  assert 'Traceback' not in rest
  assert rest.strip().splitlines()[-1] == (
      f'python -m slim_resnet.extract: {how}; {output} was not written')
  assert list(tmp_path.iterdir()) == []  # No output, no temporary file.


@pytest.mark.slow
def test_sigterm_during_the_npz_write_leaves_no_file(tmp_path):
  images = tmp_path / 'images'
  images.mkdir()
  pixels = np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8)
  for index in range(40):
    Image.fromarray(pixels).save(images / f'{index:02d}.png')
  folder = tmp_path / 'out'
  folder.mkdir()
  output = folder / 'features.npz'
  # conv1 at 448 pixels is 224 x 224 x 64 floats, 12.8 MB an image: the write takes a while.
  process = _start(['--images', str(images), '--image-size', '448', '--batch', '8',
                    '--end-point', 'conv1', '--output', str(output)])
  deadline = time.monotonic() + 240
  while not list(folder.glob('.features.npz.*.tmp')):  # The write has begun.
    assert process.poll() is None, process.stderr.read()
    assert time.monotonic() < deadline
    time.sleep(0.002)
  process.send_signal(signal.SIGTERM)
  err = process.communicate(timeout=120)[1]
  assert process.returncode == 143, err
  assert 'Traceback' not in err
  assert err.strip().splitlines()[-1] == (
      f'python -m slim_resnet.extract: interrupted by SIGTERM; {output} was not written')
  assert list(folder.iterdir()) == []  # No partial output, no temporary file.


def test_sigterm_while_starting_is_one_line_exit_143(class_folder, tmp_path):
  output = tmp_path / 'features.npz'
  process = _start(['--images', str(class_folder), '--output', str(output)])
  time.sleep(1.0)  # Importing TensorFlow takes seconds.
  process.send_signal(signal.SIGTERM)
  err = process.communicate(timeout=120)[1]
  assert process.returncode == 143, err
  lines = err.strip().splitlines()
  assert 'Traceback' not in err
  if lines[-1] != f'python -m slim_resnet.extract: interrupted by SIGTERM; {output} was not written':
    # The usual case: TensorFlow was still loading.
    assert lines == ['python -m slim_resnet.extract: interrupted while starting; nothing was written']
  assert list(tmp_path.iterdir()) == []
