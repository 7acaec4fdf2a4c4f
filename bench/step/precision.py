"""Mixed precision for the benchmark graphs: fp32 master variables and fp16/bf16 compute.

The recipe (the usual one for graph-mode mixed precision):

- every variable is created and stored in float32 (the "master" copy the optimizer updates);
- a custom getter hands layers that ask for a float16/bfloat16 variable a cast read of that float32
  variable, so convolutions compute in the low precision while gradients flow back to float32;
- our batch norm always asks for float32 variables and computes its statistics in float32, so its
  parameters and moving averages are untouched by the getter;
- the weight-decay (regularization) losses are computed from the float32 masters, not the cast reads,
  so they are float32 like the rest of the loss (`precision_scope` arranges it for layers and
  `get_variable` alike);
- the images are cast to the compute type before the network, the logits back to float32 before the
  loss, so the loss and its reduction are float32;
- for float16 training the loss is scaled before differentiation (`bench.step.scalers`).

TensorFlow's automatic mixed-precision graph rewrite inserts no casts on the CPU, and
`tf.compat.v1.mixed_precision.MixedPrecisionLossScaleOptimizer` is deprecated (it warns on use and
points to Keras' optimizer, which does not work with `tf.compat.v1` optimizers), so the casts are
written here and the loss scaling in `bench.step.scalers`.

Typical use:

    precision = 'fp16'
    with precision_scope(precision):
      logits, _ = resnet_v2_50(cast_to_compute(images, precision), num_classes=1000)
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, to_float32(logits))
    scaler = scalers.make_loss_scaler(effective_loss_scale('dynamic', precision))
    grads = scalers.scaled_gradients(loss, tf.compat.v1.trainable_variables(), scaler)
    train_op = scalers.apply_gradients(optimizer, list(zip(grads, variables)), scaler)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import tensorflow as tf
import tf_slim as slim

from bench.core.config import PRECISIONS

_COMPUTE_DTYPES = {"fp32": tf.float32, "fp16": tf.float16, "bf16": tf.bfloat16}


def check_precision(precision: str) -> None:
    """Raises ValueError unless `precision` is one of PRECISIONS."""
    if precision not in _COMPUTE_DTYPES:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")


def compute_dtype(precision: str) -> tf.DType:
    """The dtype activations and convolutions compute in: fp32 -> float32, fp16 -> float16, bf16 ->
    bfloat16.

    Raises:
      ValueError: for an unknown precision.
    """
    check_precision(precision)
    return _COMPUTE_DTYPES[precision]


def float32_master_getter(dtype):
    """A variable-scope custom getter: variables requested in `dtype` are created in float32 and read
    through a cast to `dtype`; requests for any other dtype (batch norm's float32) pass through.

    Weight decay stays float32. A `regularizer` passed to `get_variable` (slim.model_variable, a
    variable scope's default) is taken out before the master is created and applied to the float32
    master instead; the loss goes to REGULARIZATION_LOSSES once, when the variable is created (on reuse
    `get_variable` adds none, and neither does this getter). Layers (tf-slim's conv2d) do not pass
    their regularizer down: they apply it to the value the getter returns. For those,
    `float32_regularizers` wraps the arg scope's regularizers so that, given one of this getter's cast
    reads, they regularize its float32 master (see `precision_scope`, which does both).

    Args:
      dtype: the compute dtype (tf.float16 or tf.bfloat16; with tf.float32 the getter changes nothing).

    Returns:
      A function usable as `tf.compat.v1.variable_scope(..., custom_getter=...)`, whose `masters`
      attribute maps each cast read it returned (by `tensor.ref()`) to its float32 master.
    """
    dtype = tf.as_dtype(dtype)
    masters = {}

    # Variable stores call custom getters with keyword arguments only: the parameter must be `getter`.
    def master_getter(getter, name, *args, **kwargs):
        requested = kwargs.get("dtype")
        if dtype == tf.float32 or requested is None or tf.as_dtype(requested) != dtype:
            return getter(name, *args, **kwargs)
        kwargs["dtype"] = tf.float32
        regularizer = kwargs.pop("regularizer", None)
        existed = _has_operation(tf.compat.v1.get_default_graph(), name)
        master = getter(name, *args, **kwargs)
        if regularizer is not None and not existed:
            _add_float32_regularization(master, name, regularizer)
        read = tf.cast(master, dtype, name=f"{master.op.name}/read_{dtype.name}")
        masters[read.ref()] = master
        return read

    master_getter.masters = masters
    return master_getter


def _has_operation(graph, name):
    """True if `graph` already holds an operation called `name` (a variable created before)."""
    try:
        graph.get_operation_by_name(name)
    except KeyError:
        return False
    return True


def _add_float32_regularization(master, name, regularizer):
    """Adds `regularizer(master)` to REGULARIZATION_LOSSES (where `get_variable` would have put the
    loss of the variable it regularizes), unless the regularizer returns None."""
    with tf.compat.v1.colocate_with(master), tf.name_scope(f"{name}/Regularizer/"):
        loss = regularizer(master)
    if loss is not None:
        tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, loss)


def float32_regularizer(regularizer, masters):
    """`regularizer`, applied to the float32 master when it is given a cast read in `masters`.

    Args:
      regularizer: a (tensor -> scalar tensor or None) function, e.g. slim.l2_regularizer(1e-4).
      masters: {cast read ref: float32 master variable}, from `float32_master_getter(...).masters`.

    Returns:
      The wrapped function (any other tensor is passed to `regularizer` unchanged).
    """

    def regularize_master(weights):
        return regularizer(masters.get(weights.ref(), weights))

    return regularize_master


def float32_regularizers(current_scope, masters):
    """A copy of a tf-slim arg scope whose regularizer arguments (any '*_regularizer' keyword that is
    set) regularize float32 masters (see `float32_regularizer`).

    Args:
      current_scope: `slim.current_arg_scope()`, {op key: {argument: value}}.
      masters: the getter's {cast read ref: float32 master}.

    Returns:
      The new arg-scope dict, to enter with `slim.arg_scope(...)`.
    """
    scope = {}
    for key, arguments in current_scope.items():
        scope[key] = {
            argument: (
                float32_regularizer(value, masters)
                if argument.endswith("_regularizer") and value is not None
                else value
            )
            for argument, value in arguments.items()
        }
    return scope


@contextlib.contextmanager
def precision_scope(precision: str, scope: str | None = None) -> Iterator:
    """A variable scope in which low-precision variable requests get float32 masters (see
    `float32_master_getter`), and an arg scope whose weight regularizers act on those masters, so
    every weight-decay loss is float32. For fp32 nothing changes.

    Enter it inside the model's arg scope (the regularizers set there are the ones wrapped).

    Args:
      precision: one of PRECISIONS.
      scope: a name for a new variable scope, or None (the default) to re-enter the current scope, so
        variable and op names are unchanged.

    Yields:
      The `tf.compat.v1.VariableScope`.

    Raises:
      ValueError: for an unknown precision.
    """
    getter = float32_master_getter(compute_dtype(precision))
    if scope is None:
        entered = tf.compat.v1.variable_scope(
            tf.compat.v1.get_variable_scope(), custom_getter=getter, auxiliary_name_scope=False
        )
    else:
        entered = tf.compat.v1.variable_scope(scope, custom_getter=getter)
    arg_scope = slim.current_arg_scope()
    if precision != "fp32":
        arg_scope = float32_regularizers(arg_scope, getter.masters)
    with entered as variable_scope, slim.arg_scope(arg_scope):
        yield variable_scope


def cast_to_compute(images: tf.Tensor, precision: str) -> tf.Tensor:
    """Casts `images` (any float dtype, any shape) to the compute dtype of `precision`."""
    dtype = compute_dtype(precision)
    return images if images.dtype == dtype else tf.cast(images, dtype)


def to_float32(tensor):
    """`tensor` in float32 (a cast when it is not already), e.g. logits before the loss."""
    return tensor if tensor.dtype == tf.float32 else tf.cast(tensor, tf.float32)


def sum_in_float32(losses):
    """The sum of scalar `losses` in float32, 0.0 for an empty list.

    Use it for the weight-decay losses. Built under `precision_scope` they are float32 already; a loss
    in another dtype (a network built outside it) is cast first.
    """
    losses = [to_float32(loss) for loss in losses]
    return tf.add_n(losses) if losses else tf.constant(0.0, tf.float32)
