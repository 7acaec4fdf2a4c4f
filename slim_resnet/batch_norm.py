"""An arg-scopable batch norm that creates TF-Slim's variables, built on the fused op.

tf-slim 1.1.0's `slim.batch_norm` cannot be used on TensorFlow >= 2.16: for the common case
(`updates_collections=tf.GraphKeys.UPDATE_OPS`) it builds a `tf.compat.v1.layers` BatchNormalization,
and `tensorflow/python/layers/normalization.py` lazy-loads `tf_keras.legacy_tf_layers.normalization`,
which Keras 3 installations do not have. This module replaces that one layer. Everything else from
tf-slim (`arg_scope`, `conv2d`, `max_pool2d`, regularizers, initializers, utils) still works and is kept.

The variables match what `slim.batch_norm` creates, so official checkpoints restore by name:

    <scope>/beta             [C]  trainable when center=True (else absent)
    <scope>/gamma            [C]  trainable when scale=True (else absent)
    <scope>/moving_mean      [C]  never trainable
    <scope>/moving_variance  [C]  never trainable

All four live in GLOBAL_VARIABLES and MODEL_VARIABLES and are always float32, whatever the input dtype:
the fused kernel takes float16/bfloat16 activations with float32 parameters and computes its
statistics in float32, which is what mixed-precision training wants.

`batch_norm` takes tf-slim's arguments, in tf-slim's order, and shares tf-slim's arg-scope key, so
scripts written for TF-Slim keep working unchanged:

    with slim.arg_scope(resnet_arg_scope()):
      with slim.arg_scope([slim.batch_norm], is_training=False):  # reaches this batch norm
        net = stack_blocks_dense(images, blocks, output_stride=8)

`slim.arg_scope([slim.batch_norm], ...)` (or `slim.layers.batch_norm`, the same function) and
`slim.arg_scope([batch_norm], ...)` set the same defaults; the innermost scope wins, and explicit
arguments win over both. `fused=False` builds separate moments and normalization ops, as in tf-slim.
What is not implemented here is refused with a ValueError naming it: `batch_weights`,
`zero_debias_moving_mean=True`, `renorm=True`, `renorm_clipping`, a non-default `renorm_decay`,
`adjustment`; an argument tf-slim does not have either (`virtual_batch_size`) is a TypeError.
"""

import tensorflow as tf
import tf_slim as slim

from slim_resnet import batch_norm_arguments as arguments

_DATA_FORMATS = ('NHWC', 'NCHW')
_INPUT_DTYPES = (tf.float16, tf.bfloat16, tf.float32)
_INITIALIZED_PARAMETERS = ('beta', 'gamma', 'moving_mean', 'moving_variance')
_REGULARIZED_PARAMETERS = ('beta', 'gamma')


def channel_axis(data_format):
  """Returns the channel axis of a rank-4 tensor in `data_format` ('NHWC' -> 3, 'NCHW' -> 1).

  Raises:
    ValueError: for any layout other than 'NHWC' or 'NCHW'.
  """
  if data_format not in _DATA_FORMATS:
    raise ValueError(
        f'data_format must be one of {", ".join(_DATA_FORMATS)}, got {data_format!r}')
  return 3 if data_format == 'NHWC' else 1


def _parameter(name, num_channels, initializer, trainable, variables_collections,
               regularizer=None):
  """Creates (or reuses) one float32 model variable of shape [num_channels]."""
  return slim.model_variable(
      name,
      shape=[num_channels],
      dtype=tf.float32,
      initializer=initializer,
      regularizer=regularizer,
      trainable=trainable,
      collections=slim.utils.get_variable_collections(variables_collections, name))


def _as_float32(value):
  # A custom getter may hand back a cast read of a variable; the kernels want float32 parameters.
  return value if value.dtype == tf.float32 else tf.cast(value, tf.float32)


def _parameters(num_channels, center, scale, initializers, regularizers, trainable,
                variables_collections):
  """Creates the layer's variables in the current variable scope.

  Args:
    num_channels: the channel count.
    center: create `beta` (else a constant 0).
    scale: create `gamma` (else a constant 1).
    initializers: initializers by parameter name; zeros for beta and moving_mean, ones otherwise.
    regularizers: regularizers for 'beta' and 'gamma'.
    trainable: whether `beta` and `gamma` are trainable.
    variables_collections: extra collections for the variables.

  Returns:
    (beta, gamma, moving_mean, moving_variance), beta and gamma read as float32.
  """
  zeros, ones = tf.compat.v1.zeros_initializer(), tf.compat.v1.ones_initializer()

  def learned(name, default, wanted):
    if not wanted:
      constant = tf.zeros if default is zeros else tf.ones
      return constant([num_channels], tf.float32)
    variable = _parameter(name, num_channels, initializers.get(name, default), trainable,
                          variables_collections, regularizers.get(name))
    return _as_float32(variable)

  def moving(name, default):
    return _parameter(name, num_channels, initializers.get(name, default), False,
                      variables_collections)

  return (learned('beta', zeros, center), learned('gamma', ones, scale),
          moving('moving_mean', zeros), moving('moving_variance', ones))


def _fused_normalize(inputs, gamma, beta, epsilon, data_format, mean=None, variance=None):
  """Normalizes with the fused kernel: by the batch's statistics when `mean` is None, else by the
  given ones.

  Returns:
    (outputs, mean, variance): the statistics used, the variance unbiased (n - 1) when computed from
    the batch, as tf-slim's fused batch norm hands its moving average.
  """
  if mean is None:
    return tf.compat.v1.nn.fused_batch_norm(inputs, gamma, beta, epsilon=epsilon,
                                            data_format=data_format, is_training=True)
  outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
      inputs, gamma, beta, mean=mean, variance=variance, epsilon=epsilon, data_format=data_format,
      is_training=False)
  return outputs, mean, variance


def _unfused_normalize(inputs, gamma, beta, epsilon, data_format, mean=None, variance=None):
  """Normalizes with separate ops (tf-slim's fused=False) in float32: by the batch's moments when
  `mean` is None, else by the given statistics.

  Returns:
    (outputs in the inputs' dtype, mean, variance): the statistics used, the variance biased (n)
    when computed from the batch, as tf-slim's unfused batch norm hands its moving average.
  """
  axis = channel_axis(data_format)
  values = tf.cast(inputs, tf.float32)
  if mean is None:
    mean, variance = tf.nn.moments(values, [dim for dim in range(4) if dim != axis])
  shape = [1, 1, 1, 1]
  shape[axis] = -1
  outputs = tf.nn.batch_normalization(
      values, tf.reshape(mean, shape), tf.reshape(variance, shape), tf.reshape(beta, shape),
      tf.reshape(gamma, shape), epsilon)
  return tf.cast(outputs, inputs.dtype), mean, variance


def _moving_average_updates(moving_mean, moving_variance, batch_mean, batch_variance, decay):
  """Returns the two ops moving_x <- decay * moving_x + (1 - decay) * batch_x."""
  one_minus_decay = 1.0 - decay
  with tf.compat.v1.name_scope('AssignMovingAvg'):
    update_mean = tf.compat.v1.assign_sub(
        moving_mean, (moving_mean - batch_mean) * one_minus_decay)
  with tf.compat.v1.name_scope('AssignMovingAvg_1'):
    update_variance = tf.compat.v1.assign_sub(
        moving_variance, (moving_variance - batch_variance) * one_minus_decay)
  return update_mean, update_variance


@arguments.scoped_as_tf_slim_batch_norm
def batch_norm(inputs,
               decay=0.999,
               center=True,
               scale=False,
               epsilon=0.001,
               activation_fn=None,
               param_initializers=None,
               param_regularizers=None,
               updates_collections=tf.compat.v1.GraphKeys.UPDATE_OPS,
               is_training=True,
               reuse=None,
               variables_collections=None,
               outputs_collections=None,
               trainable=True,
               batch_weights=None,
               fused=None,
               data_format='NHWC',
               zero_debias_moving_mean=False,
               scope=None,
               renorm=False,
               renorm_clipping=None,
               renorm_decay=arguments.DEFAULT_RENORM_DECAY,
               adjustment=None):
  """Batch normalization of a rank-4 tensor, a drop-in for `slim.batch_norm`.

  In training mode the batch's own mean and variance normalize the inputs and two update ops move the
  moving statistics towards them; in inference mode the moving statistics are used and nothing is
  updated. The arguments are tf-slim's, in tf-slim's order, and defaults set by
  `slim.arg_scope([slim.batch_norm], ...)` apply here as they would to tf-slim's (the two functions
  share one arg-scope key).

  Args:
    inputs: a float16, bfloat16 or float32 tensor of shape [N, H, W, C] ('NHWC') or [N, C, H, W]
      ('NCHW'), with a known channel dimension.
    decay: the moving averages' decay; moving_x <- decay * moving_x + (1 - decay) * batch_x.
    center: add a learned offset `beta`.
    scale: multiply by a learned `gamma` (leave False when a linear layer or ReLU follows).
    epsilon: added to the variance; the fused kernel raises anything below 1.001e-5 to that value.
    activation_fn: applied to the normalized output, or None.
    param_initializers: None, or a dict of initializers by parameter name ('beta', 'gamma',
      'moving_mean', 'moving_variance'); the others keep zeros (beta, moving_mean) or ones.
    param_regularizers: None, or a dict of regularizers for 'beta' and/or 'gamma'.
    updates_collections: collection the update ops are added to (run them with the train op), or
      None to run them in place, before the output is returned.
    is_training: a Python bool or a scalar bool tensor: batch statistics and updates when true.
    reuse: reuse the layer's variables.
    variables_collections: extra collections for the variables (a list, or a dict by variable name).
    outputs_collections: collections the output is added to, under the layer scope's name.
    trainable: whether `beta` and `gamma` are trainable (the moving statistics never are).
    batch_weights: only None (per-example weights are not supported).
    fused: None or True for the fused kernel (computing in float32 for half-precision inputs, its
      moving variance updated with the unbiased batch variance), False for separate moments and
      normalization ops in float32 (moving variance updated with the biased batch variance, epsilon
      used as given), as in tf-slim.
    data_format: 'NHWC' or 'NCHW'.
    zero_debias_moving_mean: only False.
    scope: variable scope; 'BatchNorm' by default.
    renorm: only False (batch renormalization is not supported).
    renorm_clipping: only None.
    renorm_decay: only 0.99, its default (it only means something with renorm).
    adjustment: only None.

  Returns:
    A tensor of the inputs' shape and dtype.

  Raises:
    ValueError: if `inputs` is not rank 4, has an unknown channel dimension, has an unsupported
      dtype, `data_format` or `fused` is unknown, a dict names an unknown parameter, or an
      unsupported feature (batch_weights, zero_debias_moving_mean, renorm, renorm_clipping,
      renorm_decay, adjustment) is asked for.
  """
  arguments.check_supported(batch_weights, zero_debias_moving_mean, renorm, renorm_clipping, renorm_decay,
                   adjustment)
  initializers = arguments.per_parameter(param_initializers, 'param_initializers', _INITIALIZED_PARAMETERS)
  regularizers = arguments.per_parameter(param_regularizers, 'param_regularizers', _REGULARIZED_PARAMETERS)
  normalize = _fused_normalize if arguments.use_fused(fused) else _unfused_normalize
  axis = channel_axis(data_format)
  with tf.compat.v1.variable_scope(scope, 'BatchNorm', [inputs], reuse=reuse) as layer_scope:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 4:
      raise ValueError(
          f'batch_norm expects a rank-4 input, got shape {inputs.shape} (rank {inputs.shape.rank})')
    if inputs.dtype.base_dtype not in _INPUT_DTYPES:
      raise ValueError(
          f'batch_norm expects a float16, bfloat16 or float32 input, got {inputs.dtype.name}')
    num_channels = inputs.shape[axis]
    if num_channels is None:
      raise ValueError(f'batch_norm needs a known channel dimension, got shape {inputs.shape}')

    beta, gamma, moving_mean, moving_variance = _parameters(
        num_channels, center, scale, initializers, regularizers, trainable, variables_collections)

    def normalize_with_batch_statistics():
      return normalize(inputs, gamma, beta, epsilon, data_format)

    def normalize_with_moving_statistics():
      # The statistics "observed" in inference are the moving ones, so updating is a no-op.
      return normalize(inputs, gamma, beta, epsilon, data_format, _as_float32(moving_mean),
                       _as_float32(moving_variance))

    training_value = arguments.static_bool(is_training)
    if training_value is False:
      outputs, _, _ = normalize_with_moving_statistics()
    else:
      if training_value is True:
        outputs, batch_mean, batch_variance = normalize_with_batch_statistics()
      else:
        outputs, batch_mean, batch_variance = tf.cond(
            is_training, normalize_with_batch_statistics, normalize_with_moving_statistics)
      updates = _moving_average_updates(moving_mean, moving_variance, batch_mean, batch_variance,
                                        decay)
      if updates_collections is None:
        with tf.control_dependencies(updates):
          outputs = tf.identity(outputs)
      else:
        for update in updates:
          tf.compat.v1.add_to_collections(updates_collections, update)

    if activation_fn is not None:
      outputs = activation_fn(outputs)
    return slim.utils.collect_named_outputs(outputs_collections, layer_scope.name, outputs)
