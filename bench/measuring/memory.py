"""Peak memory of the measured steps, labelled with what was measured.

- GPU: TensorFlow's allocator statistics for the device (`tf.config.experimental.reset_memory_stats`
  before the measured loop, `get_memory_info(...)['peak']` after it): the most bytes the BFC allocator
  had handed out at once, which is what decides whether a batch fits. Sessions and the eager
  context share the process's GPU allocator, so this covers the graph-mode session too.
- CPU: TensorFlow keeps no allocator statistics there by default, so the process's peak resident set
  size is used: the kernel's high-water mark VmHWM from /proc/self/status, reset before the measured
  loop by writing '5' to /proc/self/clear_refs (Linux >= 4.0). Where that reset is not possible the
  figure is the peak since the process started (`resource.getrusage(...).ru_maxrss`), and the label
  says so. The RSS includes everything the process holds (Python, TensorFlow's code, the graph,
  and memory TensorFlow's CPU allocator pools: with --in-process, blocks pooled by earlier
  configurations are reused and already counted), not only the step's tensors.

Use: `tracker = memory_tracker(device)`; `tracker.reset()` just before the measured steps;
`tracker.peak_bytes()` just after them; record `tracker.kind` and `tracker.label` with the value.
"""

from __future__ import annotations

import resource

_CLEAR_REFS = "/proc/self/clear_refs"
_STATUS = "/proc/self/status"
_RESET_PEAK_RSS = "5"  # clear_refs command: reset the peak resident set size to the current one.


def _read_status_kib(field):
    """A 'kB' field of /proc/self/status (e.g. 'VmHWM') in KiB, or None if unavailable."""
    try:
        with open(_STATUS, encoding="ascii") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name == field:
                    return int(value.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return None


class ProcessPeakRss:
    """Peak resident set size of this process (the CPU measure).

    Attributes:
      kind: 'process_peak_rss' when the peak could be reset, else 'process_peak_rss_since_start'.
      label: human-readable description of the figure.
    """

    def __init__(self):
        self.kind = "process_peak_rss"
        self.label = "process peak RSS (VmHWM, reset before the measured steps)"

    def reset(self):
        """Resets the high-water mark to the current RSS; falls back to since-start if impossible."""
        try:
            with open(_CLEAR_REFS, "w", encoding="ascii") as clear_refs:
                clear_refs.write(_RESET_PEAK_RSS)
        except OSError:
            self.kind = "process_peak_rss_since_start"
            self.label = "process peak RSS since the process started (peak reset not possible here)"

    def peak_bytes(self):
        """The peak RSS in bytes."""
        peak_kib = _read_status_kib("VmHWM")
        if peak_kib is None:  # No /proc: getrusage's maximum (KiB on Linux).
            peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak_kib * 1024


class GpuAllocatorPeak:
    """Peak bytes in use in TensorFlow's allocator for one GPU (the GPU measure).

    If the allocator statistics cannot be reset or read, the measure says so instead of failing the
    benchmark: kind becomes 'unavailable', the label carries the error, and peak_bytes() is None.

    Attributes:
      kind: 'gpu_allocator_peak' (or 'unavailable').
      label: human-readable description of the figure.
    """

    def __init__(self, tf, device="GPU:0"):
        """Args: tf: the tensorflow module; device: the GPU, as TensorFlow names it."""
        self._tf = tf
        self.device = device
        self.kind = "gpu_allocator_peak"
        self.label = f"TensorFlow allocator peak on {device} (reset before the measured steps)"

    def _unavailable(self, error):
        self.kind = "unavailable"
        first_line = (str(error).splitlines() or [""])[0]
        self.label = f"GPU allocator statistics unavailable ({type(error).__name__}: {first_line})"

    def reset(self):
        """Resets the allocator's peak to the bytes currently in use."""
        try:
            self._tf.config.experimental.reset_memory_stats(self.device)
        except Exception as error:  # noqa: BLE001 - a missing statistic must not lose the timing
            self._unavailable(error)

    def peak_bytes(self):
        """The most bytes in use at once since the last reset, or None if unavailable."""
        if self.kind == "unavailable":
            return None
        try:
            return int(self._tf.config.experimental.get_memory_info(self.device)["peak"])
        except Exception as error:  # noqa: BLE001
            self._unavailable(error)
            return None


def memory_tracker(device: str, tf=None) -> GpuAllocatorPeak | ProcessPeakRss:
    """The peak-memory measure for a resolved device.

    Args:
      device: 'gpu' or 'cpu'.
      tf: the tensorflow module (needed for 'gpu').

    Returns:
      A GpuAllocatorPeak or a ProcessPeakRss.

    Raises:
      ValueError: for another device.
    """
    if device == "gpu":
        if tf is None:
            import tensorflow as tf
        return GpuAllocatorPeak(tf)
    if device == "cpu":
        return ProcessPeakRss()
    raise ValueError(f"device must be 'gpu' or 'cpu', got {device!r}")
