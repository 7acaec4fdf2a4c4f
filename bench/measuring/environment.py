"""Where the benchmark runs: TensorFlow version, device, CPU model and cores, CUDA/cuDNN build.

Every record carries this description. No TensorFlow import here: the caller passes the module.
"""

from __future__ import annotations

import os
import platform

from bench.core import stand_ins
from bench.measuring import gpu_facts
from bench.step.device import usable_cpu_count, visible_gpu_names


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


def describe_environment(tf, device: str, gpu_names: list[str] | None = None) -> dict:
    """The environment part of every JSON record and of the header.

    Args:
      tf: the tensorflow module.
      device: the resolved device, 'gpu' or 'cpu'.
      gpu_names: the GPUs TensorFlow sees (default: asked for here).

    Returns:
      A JSON-ready dict: tensorflow_version, python_version, platform, device ('gpu'/'cpu'),
      device_name, cpu_model, cpu_count, usable_cpu_count, gpu_names, cuda_build, cuda_version,
      cudnn_version (TensorFlow's build); on a GPU (None on the CPU) tf32_enabled, tf32_override,
      driver_version, compute_capability, cudnn_runtime_version, mig (`bench.measuring.gpu_facts`);
      and test_network when a test-only stand-in network
      (`bench.core.stand_ins`) replaces resnet_v2_<depth>.
    """
    if gpu_names is None:
        gpu_names = visible_gpu_names(tf)
    build = dict(tf.sysconfig.get_build_info())
    cuda_build = bool(build.get("is_cuda_build", False))
    described = {
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
    described.update(gpu_facts.describe_gpu(tf, device, described["device_name"]))
    stand_in = stand_ins.test_network()
    if stand_in:
        described["test_network"] = stand_in
    return described
