"""The cap on each GPU's memory (`--gpu-memory-limit`), applied before anything can create the
allocator it bounds.

TensorFlow creates one allocator per GPU per process, with the memory limit of whoever creates it
first, and keeps it: a session asking later for a smaller one (`gpu_options.experimental.
virtual_devices`) is silently given the first. Plenty creates it early: the eager context starts
when anything lists logical devices, which TensorFlow 2.21's `MirroredStrategy` does in its
constructor (`MirroredExtended._make_collective_ops_with_fallbacks`), before any session; so does
a memory reading (`tf.config.experimental.get_memory_info`). Only the peak probe's session used to
come first, so `--no-peak-probe`, `--mode input` and every `--batch max` try ran on the whole card.

`apply_gpu_memory_cap` is therefore the first thing a measurement does
(`bench.measuring.measure.benchmark`): it gives the eager context one logical device per GPU with
the cap (`tf.config.set_logical_device_configuration`), which every allocator of the process is
then created with, and the session's own virtual devices (`bench.step.plan.session_config`) agree
with it. When the context has already started, the cap can no longer apply and the run refuses
in one line instead of measuring something else.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.eager import context as eager_context

# The caps this process has applied (in MiB): later configurations of an in-process sweep share
# the process, its context and the cap, which is the same for every configuration of a sweep.
_APPLIED: set[int] = set()


class GpuMemoryCapError(RuntimeError):
    """The cap cannot apply: TensorFlow's devices exist already. One line."""


def context_started() -> bool:
    """Whether this process's eager context, and with it every device's allocator, exists.

    TensorFlow has no public question for this; its own check (`Context._context_handle`, the
    one `set_logical_device_configuration` refuses on) is read here.
    """
    return eager_context.context()._context_handle is not None  # noqa: SLF001 - see the docstring


def apply_gpu_memory_cap(memory_limit_mb: int | None) -> None:
    """Caps every visible GPU at `memory_limit_mb` MiB for the rest of the process.

    Args:
      memory_limit_mb: the cap, or None (nothing to do).

    Raises:
      GpuMemoryCapError: when TensorFlow's devices were created before this call (on a GPU or
        not: the order is the rule, and the CPU shows it too).
    """
    if memory_limit_mb is None or memory_limit_mb in _APPLIED:
        return
    if context_started():
        raise GpuMemoryCapError(
            f"--gpu-memory-limit {memory_limit_mb}MiB cannot apply: TensorFlow's devices were created "
            "before it in this process, with the whole memory"
        )
    for gpu in tf.config.list_physical_devices("GPU"):
        limit = tf.config.LogicalDeviceConfiguration(memory_limit=memory_limit_mb)
        tf.config.set_logical_device_configuration(gpu, [limit])
    _APPLIED.add(memory_limit_mb)
