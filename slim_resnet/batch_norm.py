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
"""

import tensorflow as tf
import tf_slim as slim

_DATA_FORMATS = ('NHWC', 'NCHW')
_INPUT_DTYPES = (tf.float16, tf.bfloat16, tf.float32)


def channel_axis(data_format):
  """Returns the channel axis of a rank-4 tensor in `data_format` ('NHWC' -> 3, 'NCHW' -> 1).

  Raises:
    ValueError: for any layout other than 'NHWC' or 'NCHW'.
  """
  if data_format not in _DATA_FORMATS:
    raise ValueError(
        f'data_format must be one of {", ".join(_DATA_FORMATS)}, got {data_format!r}')
  return 3 if data_format == 'NHWC' else 1


def _parameter(name, num_channels, initializer, trainable, variables_collections):
  """Creates (or reuses) one float32 model variable of shape [num_channels]."""
  return slim.model_variable(
      name,
      shape=[num_channels],
      dtype=tf.float32,
      initializer=initializer,
      trainable=trainable,
      collections=slim.utils.get_variable_collections(variables_collections, name))


def _as_float32(value):
  # A custom getter may hand back a cast read of a variable; the fused op wants float32 parameters.
  return value if value.dtype == tf.float32 else tf.cast(value, tf.float32)


def _static_bool(value):
  """True or False when `value` is a Python bool or a constant tensor, None when only known at run
  time. (tf-slim's `utils.constant_value` no longer works: it refers to the removed `ops.Tensor`.)"""
  if isinstance(value, bool):
    return value
  static = tf.get_static_value(value)
  return None if static is None else bool(static)


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


@slim.add_arg_scope
def batch_norm(inputs,
               decay=0.999,
               center=True,
               scale=False,
               epsilon=0.001,
               activation_fn=None,
               is_training=True,
               updates_collections=tf.compat.v1.GraphKeys.UPDATE_OPS,
               reuse=None,
               variables_collections=None,
               outputs_collections=None,
               trainable=True,
               data_format='NHWC',
               fused=None,
               scope=None):
  """Batch normalization of a rank-4 tensor, a drop-in for `slim.batch_norm`.

  In training mode the batch's own mean and variance normalize the inputs and two update ops move the
  moving statistics towards them; in inference mode the moving statistics are used and nothing is
  updated.

  Args:
    inputs: a float16, bfloat16 or float32 tensor of shape [N, H, W, C] ('NHWC') or [N, C, H, W]
      ('NCHW'), with a known channel dimension.
    decay: the moving averages' decay; moving_x <- decay * moving_x + (1 - decay) * batch_x.
    center: add a learned offset `beta`.
    scale: multiply by a learned `gamma` (leave False when a linear layer or ReLU follows).
    epsilon: added to the variance; the fused kernel raises anything below 1.001e-5 to that value.
    activation_fn: applied to the normalized output, or None.
    is_training: a Python bool or a scalar bool tensor: batch statistics and updates when true.
    updates_collections: collection the update ops are added to (run them with the train op), or
      None to run them in place, before the output is returned.
    reuse: reuse the layer's variables.
    variables_collections: extra collections for the variables (a list, or a dict by variable name).
    outputs_collections: collections the output is added to, under the layer scope's name.
    trainable: whether `beta` and `gamma` are trainable (the moving statistics never are).
    data_format: 'NHWC' or 'NCHW'.
    fused: accepted for compatibility with `slim.batch_norm`; this layer is always fused.
    scope: variable scope; 'BatchNorm' by default.

  Returns:
    A tensor of the inputs' shape and dtype.

  Raises:
    ValueError: if `inputs` is not rank 4, has an unknown channel dimension, has an unsupported
      dtype, or `data_format` is unknown.
  """
  del fused  # Always fused.
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

    if center:
      beta = _parameter('beta', num_channels, tf.compat.v1.zeros_initializer(), trainable,
                        variables_collections)
    else:
      beta = tf.zeros([num_channels], tf.float32)
    if scale:
      gamma = _parameter('gamma', num_channels, tf.compat.v1.ones_initializer(), trainable,
                         variables_collections)
    else:
      gamma = tf.ones([num_channels], tf.float32)
    moving_mean = _parameter('moving_mean', num_channels, tf.compat.v1.zeros_initializer(), False,
                             variables_collections)
    moving_variance = _parameter('moving_variance', num_channels,
                                 tf.compat.v1.ones_initializer(), False, variables_collections)
    beta, gamma = _as_float32(beta), _as_float32(gamma)

    def normalize_with_batch_statistics():
      outputs, batch_mean, batch_variance = tf.compat.v1.nn.fused_batch_norm(
          inputs, gamma, beta, epsilon=epsilon, data_format=data_format, is_training=True)
      return outputs, batch_mean, batch_variance

    def normalize_with_moving_statistics():
      outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
          inputs, gamma, beta, mean=_as_float32(moving_mean),
          variance=_as_float32(moving_variance), epsilon=epsilon, data_format=data_format,
          is_training=False)
      # The statistics "observed" in inference are the moving ones, so updating is a no-op.
      return outputs, _as_float32(moving_mean), _as_float32(moving_variance)

    training_value = _static_bool(is_training)
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
