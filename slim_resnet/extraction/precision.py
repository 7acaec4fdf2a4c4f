"""`python -m slim_resnet.extract --precision bf16|fp16 [--agreement]`: features computed in a reduced
precision, and how far they are from fp32's.

With bf16 or fp16 the images are cast to that type before the network, so tf-slim's convolutions
create and compute with weights of that type (the checkpoint's float32 values are cast as they are
restored, `slim_resnet.checkpoint`) while the project's batch norm keeps float32 parameters and
statistics; the end points are cast back to float32 before they are written.

`--agreement` builds a float32 copy of the network under `REFERENCE_SCOPE`, restores the same
checkpoint into it (the scope is stripped by `scope_map`), runs it on the same batches and reports,
per written end point, the relative error and cosine similarity to fp32 (`slim_resnet.support.agreement`),
and for logits and predictions the top-1 agreement.
"""

import numpy as np
import tensorflow as tf
import tf_slim as slim

from slim_resnet.resnet_utils import resnet_arg_scope
from slim_resnet.support import agreement

REFERENCE_SCOPE = 'fp32_reference'
# The key prefix of the reference's end points in the fetches (never an end-point name).
REFERENCE_KEY = 'fp32 reference: '
_DTYPES = {'fp32': tf.float32, 'bf16': tf.bfloat16, 'fp16': tf.float16}
_CLASSIFIER = ('logits', 'predictions', 'spatial_squeeze')


def problem(args):
  """Why the precision flags cannot be used together, or None."""
  if args.agreement and args.precision == 'fp32':
    return '--agreement compares a reduced precision with fp32: give --precision bf16 or fp16'
  if args.agreement and not args.checkpoint:
    return ('--agreement needs --checkpoint (both networks must hold the same weights; random ones '
            'differ)')
  return None


def compute_images(images, precision):
  """`images` in the compute type of `precision`."""
  dtype = _DTYPES[precision]
  return images if images.dtype == dtype else tf.cast(images, dtype)


def as_float32(tensors):
  """{name: tensor} with every tensor in float32."""
  return {name: tensor if tensor.dtype == tf.float32 else tf.cast(tensor, tf.float32)
          for name, tensor in tensors.items()}


def reference_end_points(network, images, num_classes, scope, names):
  """Builds the float32 copy of the network under REFERENCE_SCOPE on float32 `images`.

  Args:
    network: the network function (resnet_v2_<depth>).
    images: the float32 batch the main network reads (before its cast).
    num_classes: as for the main network.
    scope: the model scope ('resnet_v2_50').
    names: the main network's resolved end-point names to compare.

  Returns:
    {REFERENCE_KEY + name: float32 tensor} for each of `names`.
  """
  with slim.arg_scope(resnet_arg_scope()), tf.compat.v1.variable_scope(REFERENCE_SCOPE):
    _, end_points = network(images, num_classes=num_classes, is_training=False, scope=scope)
  found = {}
  for name in names:
    key = f'{REFERENCE_SCOPE}/{name}' if name.startswith(scope + '/') else name
    found[REFERENCE_KEY + name] = end_points[key]
  return found


def scope_map(args):
  """The restore's scope map: the reference's variables read the checkpoint's names."""
  return {REFERENCE_SCOPE: ''} if args.agreement else None


def agreement_lines(features, names, precision):
  """One line per end point: its figures against fp32 over every row extracted.

  Args:
    features: the extraction's {fetch name: [batch arrays]} (the reference's under REFERENCE_KEY).
    names: the written end points.
    precision: 'bf16' or 'fp16'.
  """
  lines = []
  for name in names:
    values = np.concatenate(features[name])
    reference = np.concatenate(features[REFERENCE_KEY + name])
    found = agreement.summary(values, reference, top1=name.split('/')[-1] in _CLASSIFIER)
    words = [f'relative error max {_number(found["max_relative_error"])} mean '
             f'{_number(found["mean_relative_error"])}',
             f'cosine mean {_number(found["cosine_mean"], 7)} min {_number(found["cosine_min"], 7)}']
    if 'top1_agreement' in found:
      words.insert(0, f'top-1 agreement {100 * found["top1_agreement"]:.2f}%')
    if found['nonfinite_images']:
      words.append(f'{found["nonfinite_images"]} rows not finite')
    lines.append(f'extract: {precision} vs fp32, {name} over {found["images"]} images: ' + ', '.join(words))
  return lines


def _number(value, digits=3):
  return 'n/a' if value is None else f'{value:.{digits}g}'
