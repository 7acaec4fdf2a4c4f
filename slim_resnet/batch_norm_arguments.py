"""tf-slim's batch_norm arguments, for `slim_resnet.batch_norm`: the arg-scope key both share, the
arguments refused, and the checks on the rest.

`scoped_as_tf_slim_batch_norm` is the one place that relies on a tf-slim internal (the `_key_op`
attribute `slim.arg_scope_func_key` reads); test_batch_norm_scope.py pins it.
"""

import functools

import tensorflow as tf
import tf_slim as slim

# tf-slim's default renorm_decay: any other value asks for batch renormalization.
DEFAULT_RENORM_DECAY = 0.99


def tf_slim_batch_norm_key():
  """The key tf-slim files `slim.arg_scope([slim.batch_norm], ...)` defaults under.

  Returns:
    `slim.arg_scope_func_key(slim.layers.batch_norm)` (`slim.batch_norm` is the same function).
  """
  return slim.arg_scope_func_key(slim.layers.batch_norm)


def scoped_as_tf_slim_batch_norm(func):
  """Makes `func` take its defaults from the arg scopes of tf-slim's batch_norm, under its key.

  This is the one place that relies on tf-slim internals (checked by test_batch_norm_scope.py):
  `slim.arg_scope` keys each function's defaults by `slim.arg_scope_func_key(f)`, which is
  `f._key_op` when that attribute exists (tf-slim's `add_arg_scope` sets it), and accepts any
  function whose key it has registered. Giving `func` tf-slim's batch_norm key makes the two names
  one entry of every scope: `slim.arg_scope([slim.batch_norm], ...)` and
  `slim.arg_scope([batch_norm], ...)` set the same defaults, nested scopes resolve as for a single
  function (the innermost wins), and explicit call arguments win over the scope. tf-slim's own
  `slim.batch_norm` is not changed: called directly, it is still tf-slim's function (and sees the
  same scoped defaults, as it would under tf-slim's own `resnet_arg_scope`).

  Args:
    func: the undecorated batch norm.

  Returns:
    The arg-scoped function.
  """
  key = tf_slim_batch_norm_key()

  @functools.wraps(func)
  def scoped(*args, **kwargs):
    defaults = slim.current_arg_scope().get(key, {})
    return func(*args, **{**defaults, **kwargs})

  scoped._key_op = key  # What `slim.arg_scope_func_key` returns for this function.
  return scoped


def _refuse(name, value, allowed):
  """Raises the error for a tf-slim batch_norm argument this layer cannot honour.

  Raises:
    ValueError: always, naming the argument, its value and what is allowed.
  """
  raise ValueError(f'batch_norm does not support {name}={value!r} (tf-slim feature not '
                   f'implemented here); only {name}={allowed!r} is allowed')


def check_supported(batch_weights, zero_debias_moving_mean, renorm, renorm_clipping, renorm_decay,
                     adjustment):
  """Refuses every tf-slim batch_norm feature this layer does not implement.

  Raises:
    ValueError: naming the first argument set to anything but its tf-slim default.
  """
  if batch_weights is not None:
    _refuse('batch_weights', batch_weights, None)
  if zero_debias_moving_mean:
    _refuse('zero_debias_moving_mean', zero_debias_moving_mean, False)
  if renorm:
    _refuse('renorm', renorm, False)
  if renorm_clipping is not None:
    _refuse('renorm_clipping', renorm_clipping, None)
  if renorm_decay != DEFAULT_RENORM_DECAY:
    _refuse('renorm_decay', renorm_decay, DEFAULT_RENORM_DECAY)
  if adjustment is not None:
    _refuse('adjustment', adjustment, None)


def per_parameter(mapping, argument, allowed):
  """Returns the dict `mapping` ({} for None) after checking its keys are parameter names.

  Raises:
    ValueError: if `mapping` is not a dict or names a parameter outside `allowed`.
  """
  if mapping is None:
    return {}
  if not isinstance(mapping, dict):
    raise ValueError(f'{argument} must be None or a dict keyed by {", ".join(allowed)}, got '
                     f'{mapping!r}')
  unknown = sorted(set(mapping) - set(allowed))
  if unknown:
    raise ValueError(f'{argument} has unknown key(s) {", ".join(map(repr, unknown))}; allowed: '
                     f'{", ".join(allowed)}')
  return mapping


def use_fused(fused):
  """True for the fused kernel (fused None or True), False for separate moments and normalization.

  Raises:
    ValueError: if `fused` is not None, True or False.
  """
  if fused is not None and not isinstance(fused, bool):
    raise ValueError(f'fused must be None, True or False, got {fused!r}')
  return fused is not False


def static_bool(value):
  """True or False when `value` is a Python bool or a constant tensor, None when only known at run
  time. (tf-slim's `utils.constant_value` no longer works: it refers to the removed `ops.Tensor`.)"""
  if isinstance(value, bool):
    return value
  static = tf.get_static_value(value)
  return None if static is None else bool(static)
