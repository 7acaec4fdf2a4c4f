"""Building blocks shared by the ResNet v2 family: the block spec, strided helpers, the arg scope.

Every layer takes its data layout from the arg scope: `resnet_arg_scope(data_format='NCHW')` sets it
on `slim.conv2d`, `slim.max_pool2d` and `batch_norm`, and the helpers here read it from the scope of
`slim.conv2d`, so the same model code builds either layout with identical variables.
"""

import collections
import contextlib
import re

import tensorflow as tf
import tf_slim as slim

from slim_resnet.batch_norm import batch_norm, channel_axis


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
  """A ResNet block: `unit_fn` applied once per dict of keyword arguments in `args`.

  Fields:
    scope: the block's variable scope, e.g. 'block1'.
    unit_fn: the unit builder, e.g. `resnet_v2.bottleneck`; called as
      `unit_fn(net, rate=..., **args[i])` inside scope 'unit_<i+1>'.
    args: a list of dicts, one per unit, e.g. [{'depth': 256, 'depth_bottleneck': 64, 'stride': 1}].
  """


def current_data_format():
  """The data layout set on `slim.conv2d` by the enclosing arg scope ('NHWC' when none is set)."""
  conv_defaults = slim.current_arg_scope().get(slim.arg_scope_func_key(slim.conv2d), {})
  data_format = conv_defaults.get('data_format') or 'NHWC'
  channel_axis(data_format)  # Validates.
  return data_format


def spatial_axes(data_format):
  """The (height, width) axes of a rank-4 tensor in `data_format`."""
  return (1, 2) if channel_axis(data_format) == 3 else (2, 3)


def num_channels(inputs, data_format):
  """The static channel count of a rank-4 tensor in `data_format`."""
  return inputs.shape[channel_axis(data_format)]


class DataFormatError(ValueError):
  """A layer was placed on a device whose kernels do not support the requested data layout."""


# How TensorFlow words a missing layout kernel, e.g. "Default MaxPoolingOp only supports NHWC on device
# type CPU" or "The Conv2D op currently only supports the NHWC tensor format on CPU".
_LAYOUT_ERROR = re.compile(r'only supports (the )?NHWC|NHWC tensor format|supports NHWC only')
_NODE_NAME = re.compile(r"node '?\{?\{?(?:node )?([\w/.-]+)")


@contextlib.contextmanager
def data_format_errors():
  """Turns TensorFlow's "no NCHW kernel on this device" run-time errors into one clear line.

  Without oneDNN (TF_ENABLE_ONEDNN_OPTS=0, or a CPU build without it), TensorFlow's CPU kernels for
  MaxPool and Conv2D only accept NHWC, and say so at `session.run` time with a long trace. Wrap the
  run in this context:

      with data_format_errors():
        session.run(logits)

  Raises:
    DataFormatError: naming the node and the fix, instead of the InvalidArgumentError or
      UnimplementedError; other errors pass through unchanged.
  """
  try:
    yield
  except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as error:
    message = error.message or ''
    if not _LAYOUT_ERROR.search(message):
      raise
    node = _NODE_NAME.search(message)
    where = f' (node {node.group(1)})' if node else ''
    raise DataFormatError(
        f"data_format 'NCHW' is not supported on this device: TensorFlow has no NCHW kernel for "
        f"{error.op.type if error.op is not None else 'an op'}{where}; use data_format='NHWC' on CPU "
        f"(NCHW is the fast layout on GPUs)") from None


def subsample(inputs, factor, scope=None):
  """Keeps every `factor`-th row and column: identity for factor 1, else a 1x1 max-pool.

  Args:
    inputs: a rank-4 tensor in the arg scope's layout.
    factor: the subsampling stride.
    scope: name scope of the pooling op.

  Returns:
    `inputs` itself when factor == 1, else a tensor of spatial size ceil(size / factor).
  """
  if factor == 1:
    return inputs
  return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope,
                         data_format=current_data_format())


def _explicit_padding(data_format, kernel_size, rate):
  """Paddings for a VALID conv that sees the same window positions regardless of input parity."""
  effective_kernel = kernel_size + (kernel_size - 1) * (rate - 1)
  total = effective_kernel - 1
  before = total // 2
  after = total - before  # The extra pixel, when `total` is odd, goes at the end.
  paddings = [[0, 0], [0, 0], [0, 0], [0, 0]]
  for axis in spatial_axes(data_format):
    paddings[axis] = [before, after]
  return paddings


def conv2d_same(inputs, num_outputs, kernel_size, stride, rate=1, scope=None):
  """A 2-D convolution whose output is aligned the same way for even and odd input sizes.

  With stride 1 this is `slim.conv2d(..., padding='SAME')`. With a larger stride, SAME padding would
  pad differently for even and odd inputs; instead the input is zero-padded explicitly by
  `effective_kernel - 1` pixels in height and width (half before, the rest after) and then convolved
  with padding VALID. For an input of spatial size S the output has size ceil(S / stride) either way.

  Args:
    inputs: a rank-4 tensor in the arg scope's layout.
    num_outputs: number of output channels.
    kernel_size: an int, the square kernel's size.
    stride: an int, the output stride.
    rate: an int, the atrous (dilation) rate.
    scope: the convolution's variable scope.

  Returns:
    The convolution's output, [N, ceil(H / stride), ceil(W / stride), num_outputs] in NHWC.
  """
  if stride == 1:
    return slim.conv2d(inputs, num_outputs, kernel_size, stride=1, rate=rate, padding='SAME',
                       scope=scope)
  paddings = _explicit_padding(current_data_format(), kernel_size, rate)
  padded = tf.pad(inputs, paddings)
  return slim.conv2d(padded, num_outputs, kernel_size, stride=stride, rate=rate, padding='VALID',
                     scope=scope)


BlockPlan = collections.namedtuple('BlockPlan', ['unit_settings', 'stride_after'])
BlockPlan.__doc__ = """How one block is built: a (stride, rate) pair per unit, and the stride that
`subsample` applies after the block (1 for none)."""


def _check_not_past(reached, output_stride):
  if output_stride is not None and reached > output_stride:
    raise ValueError(f'output_stride {output_stride} cannot be reached exactly: the blocks reach '
                     f'stride {reached} first')


def plan_block_strides(blocks, output_stride=None, store_non_strided_activations=False):
  """Decides the stride and atrous rate of every unit, before anything is built.

  Strides accumulate unit by unit until their product equals `output_stride`. From then on a unit
  that would stride runs with stride 1 instead, and the rate of every later unit grows by that
  factor, so the feature maps stay at the target resolution while each 3x3 convolution keeps the
  receptive field it has in the dense network.

  Args:
    blocks: a list of `Block`s; each unit's stride is `args[i].get('stride', 1)`.
    output_stride: None (dense), or the wanted total stride of the blocks.
    store_non_strided_activations: the last unit of each block runs unstrided and its stride is
      applied after the block (by subsampling, or as a rate once `output_stride` is reached).

  Returns:
    A list of `BlockPlan`, one per block.

  Raises:
    ValueError: if the accumulated stride overshoots `output_stride` or never reaches it.
  """
  reached = 1  # Product of the strides applied so far.
  dilation = 1  # Rate for units built after `output_stride` was reached.
  plans = []
  for block in blocks:
    unit_strides = [unit.get('stride', 1) for unit in block.args]
    deferred = 1
    if store_non_strided_activations and unit_strides:
      deferred, unit_strides[-1] = unit_strides[-1], 1
    settings = []
    for stride in unit_strides:
      if reached == output_stride:
        settings.append((1, dilation))
        dilation *= stride
      else:
        settings.append((stride, 1))
        reached *= stride
        _check_not_past(reached, output_stride)
    if reached == output_stride:
      dilation *= deferred
      deferred = 1
    else:
      reached *= deferred
      _check_not_past(reached, output_stride)
    plans.append(BlockPlan(settings, deferred))
  if output_stride is not None and reached != output_stride:
    raise ValueError(f'output_stride {output_stride} cannot be reached: the blocks only reach '
                     f'stride {reached}')
  return plans


@slim.add_arg_scope
def stack_blocks_dense(net, blocks, output_stride=None, store_non_strided_activations=False,
                       outputs_collections=None):
  """Applies the blocks in order, switching to atrous convolution at the target output stride.

  Without `output_stride` every unit uses its own stride and the output has the network's nominal
  stride. With it, strides are applied only until the accumulated stride equals `output_stride`;
  later strides become dilation rates (see `plan_block_strides`).

  Args:
    net: a rank-4 tensor in the arg scope's layout.
    blocks: a list of `Block`s.
    output_stride: None, or the wanted ratio of input to output spatial resolution, counted from
      `net` (the caller divides out any stride applied before the blocks).
    store_non_strided_activations: if True, the last unit of each block runs with stride 1 and the
      block's end point is that full-resolution activation; the block's stride is then applied by
      `subsample` (or turned into a rate once `output_stride` is reached).
    outputs_collections: collections each unit's and each block's output is added to.

  Returns:
    The output of the last block.

  Raises:
    ValueError: if `output_stride` is not reached exactly, or is exceeded.
  """
  plans = plan_block_strides(blocks, output_stride, store_non_strided_activations)
  for block, plan in zip(blocks, plans, strict=True):
    with tf.compat.v1.variable_scope(block.scope, 'block', [net]) as block_scope:
      for number, (unit, (stride, rate)) in enumerate(
          zip(block.args, plan.unit_settings, strict=True), start=1):
        with tf.compat.v1.variable_scope(f'unit_{number}', values=[net]):
          net = block.unit_fn(net, **dict(unit, stride=stride, rate=rate))
      net = slim.utils.collect_named_outputs(outputs_collections, block_scope.name, net)
      net = subsample(net, plan.stride_after)
  return net


def resnet_arg_scope(weight_decay=0.0001,
                     batch_norm_decay=0.997,
                     batch_norm_epsilon=1e-5,
                     batch_norm_scale=True,
                     activation_fn=tf.nn.relu,
                     use_batch_norm=True,
                     batch_norm_updates_collections=tf.compat.v1.GraphKeys.UPDATE_OPS,
                     data_format='NHWC'):
  """The defaults every ResNet layer is built with.

  Convolutions: L2 weight decay, He (variance-scaling, fan-in) initialization, `activation_fn`, and
  batch norm as their normalizer. Max-pooling: SAME padding. All layers: `data_format`.

  Args:
    weight_decay: the L2 regularizer's scale on convolution weights.
    batch_norm_decay: decay of the batch-norm moving averages.
    batch_norm_epsilon: added to the batch-norm variance.
    batch_norm_scale: learn a batch-norm `gamma`.
    activation_fn: the convolutions' activation.
    use_batch_norm: normalize convolution outputs with batch norm.
    batch_norm_updates_collections: where the moving-average update ops go.
    data_format: 'NHWC' or 'NCHW'.

  Returns:
    An arg-scope dict to enter with `slim.arg_scope(...)`.

  Raises:
    ValueError: for an unknown `data_format`.
  """
  channel_axis(data_format)  # Validates.
  batch_norm_params = {
      'decay': batch_norm_decay,
      'epsilon': batch_norm_epsilon,
      'scale': batch_norm_scale,
      'updates_collections': batch_norm_updates_collections,
  }
  with slim.arg_scope(
      [slim.conv2d],
      weights_regularizer=slim.l2_regularizer(weight_decay),
      weights_initializer=slim.variance_scaling_initializer(),
      activation_fn=activation_fn,
      normalizer_fn=batch_norm if use_batch_norm else None,
      normalizer_params=batch_norm_params,
      data_format=data_format):
    with slim.arg_scope([batch_norm], data_format=data_format, **batch_norm_params):
      with slim.arg_scope([slim.max_pool2d], padding='SAME', data_format=data_format) as scope:
        return scope
