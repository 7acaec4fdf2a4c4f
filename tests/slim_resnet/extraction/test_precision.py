"""`python -m slim_resnet.extract --precision bf16 --agreement`: features computed in bfloat16,
written as float32, and their distance to fp32's reported per end point."""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim
from PIL import Image

from slim_resnet import extract, resnet_arg_scope, resnet_v2_50

SIZE = 32


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
  """A folder of 4 images in 2 classes and a resnet_v2_50 checkpoint with 3 classes."""
  root = tmp_path_factory.mktemp('precision')
  rng = np.random.default_rng(5)
  for name in ('a', 'b'):
    (root / 'images' / name).mkdir(parents=True)
    for index in range(2):
      Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(
          root / 'images' / name / f'{index}.png')
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(5)  # the same weights every run
    images = tf.compat.v1.placeholder(tf.float32, [None, SIZE, SIZE, 3])
    with slim.arg_scope(resnet_arg_scope()):
      resnet_v2_50(images, num_classes=3, is_training=False)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      saver = tf.compat.v1.train.Saver(tf.compat.v1.model_variables())
      prefix = saver.save(session, str(root / 'model.ckpt'), write_meta_graph=False)
  return {'images': str(root / 'images'), 'checkpoint': prefix, 'root': root}


def run(setup, capsys, *flags, output='features.npz'):
  path = setup['root'] / output
  code = extract.main(['--images', setup['images'], '--image-size', str(SIZE), '--checkpoint',
                       setup['checkpoint'], '--output', str(path), *flags])
  return code, capsys.readouterr().err, path


def test_bf16_features_and_their_agreement_with_fp32(setup, capsys):
  code, err, path = run(setup, capsys, '--precision', 'bf16', '--agreement', '--end-point', 'global_pool',
                        'logits')
  assert code == 0, err
  lines = [line for line in err.splitlines() if ' vs fp32, ' in line]
  assert [line.split(' over ')[0] for line in lines] == [
      'extract: bf16 vs fp32, global_pool', 'extract: bf16 vs fp32, resnet_v2_50/logits']
  assert 'top-1 agreement' in lines[1] and 'top-1 agreement' not in lines[0]
  arrays = np.load(path)
  assert str(arrays['precision']) == 'bf16' and arrays['global_pool'].dtype == np.float32
  figures = [float(line.split('relative error max ')[1].split(' ')[0]) for line in lines]
  # bfloat16 keeps 8 bits of mantissa: never equal; how close depends on the weights and the
  # machine's kernels (random weights' 3 logits gave up to 0.064 here), the cosine below is the test.
  assert all(0 < error < 0.25 for error in figures)
  cosine_min = float(lines[0].split(' min ')[-1])
  assert 0.99 < cosine_min < 1.0

def test_bad_precision_flags_are_one_line_exit_2(setup, capsys):
  code, err, _ = run(setup, capsys, '--agreement')
  assert code == 2 and err.count('\n') == 1
  assert '--agreement compares a reduced precision with fp32: give --precision bf16 or fp16' in err
  with pytest.raises(SystemExit) as stopped:
    run(setup, capsys, '--precision', 'fp8')
  assert stopped.value.code == 2
  assert "argument --precision: invalid choice: 'fp8'" in capsys.readouterr().err


def test_agreement_needs_a_checkpoint(setup, capsys, tmp_path):
  code = extract.main(['--images', setup['images'], '--image-size', str(SIZE), '--precision', 'fp16',
                       '--agreement', '--output', str(tmp_path / 'f.npz')])
  err = capsys.readouterr().err
  assert code == 2 and '--agreement needs --checkpoint' in err
