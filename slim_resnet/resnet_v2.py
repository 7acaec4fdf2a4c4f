"""ResNet v2: pre-activation residual networks (He et al., "Identity Mappings in Deep Residual
Networks", 2016), with TF-Slim's variable names so official `resnet_v2_*` checkpoints restore.

Each unit normalizes and rectifies its input first (BN-ReLU, the "pre-activation"), feeds that to
both the residual branch and, when the depth changes, a projection shortcut; the unit's output is
the plain sum, with no activation after it. The network therefore ends with one more BN-ReLU
(`postnorm`) before pooling.

Typical use, classification:

    with slim.arg_scope(resnet_arg_scope()):
      logits, end_points = resnet_v2_50(images, num_classes=1001, is_training=False)

Dense features at 1/16 resolution for a 224x224 input:

    with slim.arg_scope(resnet_arg_scope()):
      net, end_points = resnet_v2_50(images, global_pool=False, output_stride=16,
                                     is_training=False)
    end_points['resnet_v2_50/block4']  # [N, 14, 14, 2048]

Differences from the nets in tf-slim 1.1.0 and tensorflow/models: batch norm is this package's own
(see batch_norm.py); `spatial_squeeze` (as in tensorflow/models) squeezes logits to [N, classes];
`frozen_stages` freezes the root and the first blocks for fine-tuning; inputs are validated.
"""

import tensorflow as tf
import tf_slim as slim

from slim_resnet import resnet_utils
from slim_resnet.batch_norm import batch_norm, channel_axis
from slim_resnet.family import MIN_IMAGE_SIZE, UNITS_PER_BLOCK, VALID_DEPTHS  # noqa: F401
from slim_resnet.support import quiet

_BASE_DEPTHS = (64, 128, 256, 512)
_BLOCK_STRIDES = (2, 2, 2, 1)
_INPUT_DTYPES = (tf.float16, tf.bfloat16, tf.float32)


def _residual_branch(preact, depth, depth_bottleneck, stride, rate):
  """1x1 reduce (BN-ReLU) -> 3x3 with the unit's stride and rate (BN-ReLU) -> 1x1 expand (linear)."""
  reduced = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope='conv1')
  spatial = resnet_utils.conv2d_same(reduced, depth_bottleneck, 3, stride, rate=rate,
                                     scope='conv2')
  return slim.conv2d(spatial, depth, [1, 1], stride=1, normalizer_fn=None, activation_fn=None,
                     scope='conv3')


def _shortcut_branch(inputs, preact, depth, stride, data_format):
  """The identity (strided by `subsample`) when the depth is kept, else a linear 1x1 projection.

  The identity takes the raw `inputs`, so the residual stream is never normalized; the projection
  takes the pre-activation, as in the paper's full pre-activation unit.
  """
  if resnet_utils.num_channels(inputs, data_format) == depth:
    return resnet_utils.subsample(inputs, stride, 'shortcut')
  return slim.conv2d(preact, depth, [1, 1], stride=stride, normalizer_fn=None, activation_fn=None,
                     scope='shortcut')


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1, outputs_collections=None,
               scope=None):
  """The pre-activation bottleneck unit.

  preact = ReLU(BN(inputs))
  shortcut = inputs subsampled by `stride`            if depth == input depth
           = 1x1 conv of preact, stride `stride`      otherwise (no BN, no activation, biases)
  residual = 1x1 conv (BN-ReLU) -> 3x3 conv_same with stride and rate (BN-ReLU) -> 1x1 conv to `depth`
             (no BN, no activation, biases)
  output = shortcut + residual

  Args:
    inputs: [N, H, W, C_in] (or [N, C_in, H, W] under an NCHW arg scope).
    depth: output channels.
    depth_bottleneck: channels of the two inner convolutions.
    stride: the unit's stride, applied by the 3x3 convolution and the shortcut.
    rate: atrous rate of the 3x3 convolution.
    outputs_collections: collections the unit's output is added to.
    scope: variable scope; 'bottleneck_v2' by default.

  Returns:
    [N, ceil(H / stride), ceil(W / stride), depth] (or the NCHW equivalent).
  """
  data_format = resnet_utils.current_data_format()
  with tf.compat.v1.variable_scope(scope, 'bottleneck_v2', [inputs]) as unit_scope:
    preact = batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
    unit_output = tf.add(_shortcut_branch(inputs, preact, depth, stride, data_format),
                         _residual_branch(preact, depth, depth_bottleneck, stride, rate),
                         name='sum')
  return slim.utils.collect_named_outputs(outputs_collections, unit_scope.name, unit_output)


def resnet_v2_block(scope, base_depth, num_units, stride):
  """A block of `num_units` bottlenecks of output depth 4 * base_depth, strided in its last unit.

  Args:
    scope: the block's scope, e.g. 'block1'.
    base_depth: the bottleneck depth; the block outputs 4 * base_depth channels.
    num_units: number of units.
    stride: stride of the last unit (the others have stride 1).

  Returns:
    A `resnet_utils.Block`.
  """
  unit = {'depth': base_depth * 4, 'depth_bottleneck': base_depth}
  args = [dict(unit, stride=1) for _ in range(num_units - 1)] + [dict(unit, stride=stride)]
  return resnet_utils.Block(scope, bottleneck, args)


def _check_frozen_stages(frozen_stages, num_blocks):
  if frozen_stages is None:
    return 0
  if isinstance(frozen_stages, bool) or not isinstance(frozen_stages, int) or not (
      0 <= frozen_stages <= num_blocks):
    raise ValueError(
        f'frozen_stages must be None or an integer from 0 to {num_blocks}, got {frozen_stages!r}')
  return frozen_stages


def _frozen(unit_fn):
  """Wraps a unit builder so its variables are not trainable, carry no weight decay (a constant
  term would only inflate the reported loss) and its batch norms run in inference mode."""

  def frozen_unit(*args, **kwargs):
    with slim.arg_scope([slim.conv2d, batch_norm], trainable=False):
      with slim.arg_scope([slim.conv2d], weights_regularizer=None):
        with slim.arg_scope([batch_norm], is_training=False):
          return unit_fn(*args, **kwargs)

  return frozen_unit


def _check_inputs(inputs, data_format):
  """Raises ValueError unless `inputs` is a float image batch of at least MIN_IMAGE_SIZE pixels."""
  if inputs.shape.rank != 4:
    layout = '[N, H, W, C]' if data_format == 'NHWC' else '[N, C, H, W]'
    raise ValueError(f'resnet_v2 expects a rank-4 {data_format} image batch {layout}, got shape '
                     f'{inputs.shape}')
  if inputs.dtype.base_dtype not in _INPUT_DTYPES:
    raise ValueError(f'resnet_v2 expects float32, float16 or bfloat16 images, got '
                     f'{inputs.dtype.name}')
  for axis in resnet_utils.spatial_axes(data_format):
    size = inputs.shape[axis]
    if size is not None and size < MIN_IMAGE_SIZE:
      raise ValueError(f'image height and width must be at least {MIN_IMAGE_SIZE} pixels, got '
                       f'shape {inputs.shape} ({data_format})')


def _root_block(net, output_stride):
  """7x7/2 convolution (no BN, no activation: the first unit's preact follows) and 3x3/2 max-pool.

  Returns:
    (net at 1/4 resolution, the output stride left for the blocks).
  """
  if output_stride is not None:
    if output_stride % 4 != 0:
      raise ValueError(f'output_stride must be a multiple of 4 when the root block is included, '
                       f'got {output_stride}')
    output_stride //= 4
  with slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None):
    net = resnet_utils.conv2d_same(net, 64, 7, stride=2, scope='conv1')
  net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
  return net, output_stride


def _classifier(net, end_points, num_classes, global_pool, spatial_squeeze, data_format,
                scope_name):
  """Global pooling, the 1x1 `logits` convolution, the optional squeeze and `predictions`."""
  height_axis, width_axis = resnet_utils.spatial_axes(data_format)
  if global_pool:
    net = tf.reduce_mean(net, [height_axis, width_axis], name='pool5', keepdims=True)
    end_points['global_pool'] = net
  if not num_classes:
    return net
  net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                    scope='logits')
  class_axis = channel_axis(data_format)
  if spatial_squeeze:
    spatial = (net.shape[height_axis], net.shape[width_axis])
    if any(size is not None and size != 1 for size in spatial):
      raise ValueError(f'spatial_squeeze needs 1x1 logits, got {spatial[0]}x{spatial[1]}; pass '
                       f'global_pool=True or spatial_squeeze=False')
    net = tf.squeeze(net, [height_axis, width_axis], name='SpatialSqueeze')
    end_points[scope_name + '/spatial_squeeze'] = net
    class_axis = -1
  end_points[scope_name + '/logits'] = net
  end_points['predictions'] = tf.nn.softmax(net, axis=class_axis, name='predictions')
  return net


def resnet_v2(inputs, blocks, num_classes=None, is_training=True, global_pool=True,
              output_stride=None, include_root_block=True, spatial_squeeze=True, reuse=None,
              scope=None, frozen_stages=None):
  """Builds a ResNet v2 from a list of blocks.

  Args:
    inputs: float images, [N, H, W, C] (or [N, C, H, W] under an NCHW arg scope), H, W >= 32.
    blocks: a list of `resnet_utils.Block`s, e.g. from `resnet_v2_block`.
    num_classes: classes of the 1x1 logits convolution; None or 0 to stop at the pooled features.
    is_training: batch norm in training mode (batch statistics, moving-average updates).
    global_pool: average over height and width before the logits.
    output_stride: None, or 4, 8, 16, 32...: the input / output resolution ratio; strides beyond it
      become atrous rates.
    include_root_block: begin with the 7x7/2 convolution and the 3x3/2 max-pool.
    spatial_squeeze: squeeze [N, 1, 1, classes] logits to [N, classes].
    reuse: reuse the network's variables.
    scope: variable scope.
    frozen_stages: None or K in 0..len(blocks): the root block and the first K blocks are built
      with non-trainable variables and inference-mode batch norm.

  Returns:
    (net, end_points): net is the logits ([N, classes] when squeezed) if num_classes, else the last
    feature map ([N, 1, 1, C] with global_pool); end_points maps TF-Slim's end-point names to
    tensors: every unit, every block, '<scope>/conv1', '<scope>/logits', 'global_pool',
    '<scope>/spatial_squeeze' and 'predictions' where built.

  Raises:
    ValueError: for a wrong input rank or dtype, an image smaller than MIN_IMAGE_SIZE, an
      unreachable output_stride, frozen_stages out of range, or spatial_squeeze on non-1x1 logits.
  """
  data_format = resnet_utils.current_data_format()
  inputs = tf.convert_to_tensor(inputs)
  _check_inputs(inputs, data_format)
  num_frozen = _check_frozen_stages(frozen_stages, len(blocks))
  blocks = [resnet_utils.Block(block.scope, _frozen(block.unit_fn), block.args)
            if index < num_frozen else block for index, block in enumerate(blocks)]

  with quiet.layer_apply_hidden(), tf.compat.v1.variable_scope(
      scope, 'resnet_v2', [inputs], reuse=reuse) as net_scope:
    end_points_collection = net_scope.original_name_scope + '_end_points'
    with slim.arg_scope([slim.conv2d, bottleneck, resnet_utils.stack_blocks_dense],
                        outputs_collections=end_points_collection):
      with slim.arg_scope([batch_norm], is_training=is_training):
        net = inputs
        if include_root_block:
          root = _frozen(_root_block) if num_frozen > 0 else _root_block
          net, output_stride = root(net, output_stride)
        net = resnet_utils.stack_blocks_dense(net, blocks, output_stride)
        # The last unit's output is a plain sum: normalize and rectify it once more.
        net = batch_norm(net, activation_fn=tf.nn.relu, scope='postnorm')
        end_points = slim.utils.convert_collection_to_dict(end_points_collection)
        net = _classifier(net, end_points, num_classes, global_pool, spatial_squeeze,
                          data_format, net_scope.name)
        return net, end_points


resnet_v2.default_image_size = 224


def _network_of_depth(depth):
  """The builder `resnet_v2_<depth>`: `resnet_v2` on the family's blocks for `depth`.

  The four builders differ only in their units per block (`family.UNITS_PER_BLOCK`) and their
  default scope, so they are made here rather than written out four times.
  """
  units = UNITS_PER_BLOCK[depth]

  def network(inputs, num_classes=None, is_training=True, global_pool=True, output_stride=None,
              spatial_squeeze=True, reuse=None, scope=f'resnet_v2_{depth}', frozen_stages=None):
    blocks = [resnet_v2_block(f'block{index + 1}', base_depth, num_units, stride)
              for index, (base_depth, num_units, stride)
              in enumerate(zip(_BASE_DEPTHS, units, _BLOCK_STRIDES, strict=True))]
    return resnet_v2(inputs, blocks, num_classes, is_training=is_training, global_pool=global_pool,
                     output_stride=output_stride, include_root_block=True,
                     spatial_squeeze=spatial_squeeze, reuse=reuse, scope=scope,
                     frozen_stages=frozen_stages)

  network.__name__ = network.__qualname__ = f'resnet_v2_{depth}'
  network.__doc__ = (f'ResNet-{depth} v2: blocks of {", ".join(map(str, units[:-1]))} and '
                     f'{units[-1]} units. Arguments and returns as `resnet_v2`.')
  network.default_image_size = resnet_v2.default_image_size
  return network


resnet_v2_50 = _network_of_depth(50)
resnet_v2_101 = _network_of_depth(101)
resnet_v2_152 = _network_of_depth(152)
resnet_v2_200 = _network_of_depth(200)
NETWORKS = {50: resnet_v2_50, 101: resnet_v2_101, 152: resnet_v2_152, 200: resnet_v2_200}


def get_network(depth):
  """The builder `resnet_v2_<depth>` for depth 50, 101, 152 or 200.

  Raises:
    ValueError: for any other depth, listing the valid ones.
  """
  if isinstance(depth, bool) or depth not in NETWORKS:
    valid = ', '.join(str(valid_depth) for valid_depth in VALID_DEPTHS)
    raise ValueError(f'depth must be one of {valid}, got {depth!r}')
  return NETWORKS[depth]
