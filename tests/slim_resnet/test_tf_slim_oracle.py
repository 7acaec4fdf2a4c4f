"""tf-slim's own resnet_v2 as an oracle: the same weights must give the same outputs.

tf-slim 1.1.0's `nets.resnet_v2` cannot build on TensorFlow >= 2.16 because of its batch norm; with
that one layer replaced by ours (inside this test only), it is an independent implementation of
everything else: padding, strides, atrous rates, shortcuts, end points, update ops.
"""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim
from tf_slim.layers import layers as tf_slim_layers
from tf_slim.nets import resnet_utils as tf_slim_resnet_utils
from tf_slim.nets import resnet_v2 as tf_slim_resnet_v2

from slim_resnet import resnet_utils, resnet_v2
from slim_resnet.batch_norm import batch_norm


def evaluate(builder, arg_scope, images, randomize, values=None, **kwargs):
  """Builds `builder` on `images`, loads `values` (or random ones), returns what it computed."""
  with tf.Graph().as_default():
    with slim.arg_scope(arg_scope()):
      net, end_points = builder(tf.constant(images), **kwargs)
    variables = tf.compat.v1.global_variables()
    blocks = sorted(name for name in end_points if name.count('/') == 1 and '/block' in name)
    with tf.compat.v1.Session() as session:
      values = randomize(session, values)
      outputs = session.run({'net': net, **{name: end_points[name] for name in blocks}})
    return {
        'values': values,
        'outputs': outputs,
        'variables': {v.op.name: v.shape.as_list() for v in variables},
        'end_points': set(end_points),
        'update_ops': len(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)),
    }


def assert_same(ours, reference):
  assert ours['variables'] == reference['variables']
  assert ours['end_points'] >= reference['end_points']
  assert ours['update_ops'] == reference['update_ops']
  assert set(ours['outputs']) == set(reference['outputs'])
  for name, expected in reference['outputs'].items():
    # tf-slim 1.1.0 never squeezes its logits; ours are squeezed by default.
    np.testing.assert_allclose(ours['outputs'][name].reshape(expected.shape), expected, rtol=1e-5,
                               atol=1e-5, err_msg=name)


def short_blocks(make_block):
  """Four blocks with the named networks' strides and tiny depths, five units: projection shortcuts
  (with and without a stride) and identity ones (plain and subsampled) all occur, and output strides
  8 and 16 both turn strides into rates. `make_block` is either library's `resnet_v2_block`."""
  return [make_block('block1', base_depth=2, num_units=1, stride=2),
          make_block('block2', base_depth=2, num_units=2, stride=2),
          make_block('block3', base_depth=4, num_units=1, stride=2),
          make_block('block4', base_depth=4, num_units=1, stride=1)]


def tf_slim_short(inputs, **kwargs):
  return tf_slim_resnet_v2.resnet_v2(inputs, short_blocks(tf_slim_resnet_v2.resnet_v2_block),
                                     scope='short', **kwargs)


def ours_short(inputs, **kwargs):
  return resnet_v2.resnet_v2(inputs, short_blocks(resnet_v2.resnet_v2_block), scope='short',
                             **kwargs)


# The heads, atrous rates and modes are the same code at every depth: each variant runs on the
# short block list; resnet_v2_50 itself is compared once, below.
@pytest.mark.parametrize('kwargs', [
    {'num_classes': 10, 'is_training': False},
    {'num_classes': 10, 'is_training': True},
    {'global_pool': False, 'output_stride': 8, 'is_training': True},
    {'global_pool': False, 'output_stride': 16, 'is_training': False},
])
def test_same_weights_give_the_same_outputs_as_tf_slim(monkeypatch, rng, randomize, kwargs):
  monkeypatch.setattr(tf_slim_layers, 'batch_norm', batch_norm)
  images = rng.standard_normal((2, 65, 65, 3)).astype(np.float32)
  reference = evaluate(tf_slim_short, tf_slim_resnet_utils.resnet_arg_scope, images, randomize,
                       **kwargs)
  ours = evaluate(ours_short, resnet_utils.resnet_arg_scope, images, randomize, reference['values'],
                  **kwargs)
  assert_same(ours, reference)


def test_resnet_v2_50_gives_the_same_outputs_as_tf_slim(monkeypatch, rng, randomize):
  # Inference mode: every variable, moving statistics included, shapes the outputs.
  monkeypatch.setattr(tf_slim_layers, 'batch_norm', batch_norm)
  images = rng.standard_normal((2, 65, 65, 3)).astype(np.float32)
  kwargs = {'num_classes': 10, 'is_training': False}
  reference = evaluate(tf_slim_resnet_v2.resnet_v2_50, tf_slim_resnet_utils.resnet_arg_scope,
                       images, randomize, **kwargs)
  ours = evaluate(resnet_v2.resnet_v2_50, resnet_utils.resnet_arg_scope, images, randomize,
                  reference['values'], **kwargs)
  assert_same(ours, reference)
