"""Where the benchmark runs: TensorFlow version, device, CPU model and cores, CUDA/cuDNN build.

`import_tensorflow` is the one place the harness imports TensorFlow, so the quieting settings are
applied before the import in every process.
"""

from __future__ import annotations

import os
import platform
import sys

from bench import quiet
from bench.config import ConfigError


def import_tensorflow(verbose: bool = False):
    """Imports TensorFlow with its log noise kept out of the way (unless verbose).

    Args:
      verbose: let TensorFlow's C++ and Python log lines through.

    Returns:
      The `tensorflow` module.
    """
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    quiet.silence_python_warnings(verbose)
    with quiet.captured_native_stderr(enabled=not verbose and "tensorflow" not in sys.modules):
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # the CUDA probe logs here; capture it too
    if not verbose:
        tf.get_logger().setLevel("ERROR")
    return tf


def visible_gpu_names(tf) -> list[str]:
    """Names of the GPUs TensorFlow can use, in device order.

    Args:
      tf: the tensorflow module.

    Returns:
      e.g. ['NVIDIA H100 80GB HBM3']; empty without a usable GPU.
    """
    names = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        names.append(details.get("device_name", device.name))
    return names


def resolve_device(requested: str, gpu_names: list[str]) -> str:
    """Turns --device auto|gpu|cpu into the device actually used.

    Args:
      requested: 'auto', 'gpu' or 'cpu'.
      gpu_names: the GPUs TensorFlow sees.

    Returns:
      'gpu' or 'cpu'.

    Raises:
      ConfigError: if a GPU is requested and none is visible.
    """
    if requested == "gpu" and not gpu_names:
        raise ConfigError("device", requested, "TensorFlow sees no GPU here; use cpu or auto")
    if requested == "auto":
        return "gpu" if gpu_names else "cpu"
    return requested


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, else what `platform` knows.

    Returns:
      e.g. 'AMD EPYC 7B13'; 'unknown CPU' if nothing is available.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), which can be fewer than the machine has.

    Returns:
      A positive count.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def describe_environment(tf, device: str) -> dict:
    """The environment part of every JSON record and of the header.

    Args:
      tf: the tensorflow module.
      device: the resolved device, 'gpu' or 'cpu'.

    Returns:
      A JSON-ready dict: tensorflow_version, python_version, platform, device ('gpu'/'cpu'),
      device_name, cpu_model, cpu_count, usable_cpu_count, gpu_names, cuda_build, cuda_version,
      cudnn_version.
    """
    gpu_names = visible_gpu_names(tf)
    build = dict(tf.sysconfig.get_build_info())
    cuda_build = bool(build.get("is_cuda_build", False))
    return {
        "tensorflow_version": tf.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
        "device_name": gpu_names[0] if device == "gpu" else cpu_model(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpu_count": usable_cpu_count(),
        "gpu_names": gpu_names,
        "cuda_build": cuda_build,
        "cuda_version": build.get("cuda_version") if cuda_build else None,
        "cudnn_version": build.get("cudnn_version") if cuda_build else None,
    }
