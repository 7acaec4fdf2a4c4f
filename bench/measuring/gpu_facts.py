"""What a GPU user needs to compare two runs, read without creating a GPU allocator: whether
fp32 ran in TF32 (and `NVIDIA_TF32_OVERRIDE`), the driver version, the compute capability, the
cuDNN library actually loaded (TensorFlow's build info names the one it was built against), and
whether the GPU is a MIG slice.

Nothing here starts TensorFlow's devices: the TF32 switch and the device details are read from
the module (`tf.config`), the driver from `nvidia-smi`, cuDNN from the shared library itself
(`cudnnGetVersion`, through ctypes), so `--gpu-memory-limit` can still apply afterwards
(`bench.step.gpu_memory`). On the CPU every field is None. No TensorFlow import: the caller
passes the module.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import subprocess

TF32_OVERRIDE_VAR = "NVIDIA_TF32_OVERRIDE"
_SMI_TIMEOUT_S = 10
# A MIG slice: CUDA names its device '<GPU> MIG 3g.40gb', and CUDA_VISIBLE_DEVICES may name it 'MIG-<uuid>'.
_MIG_NAME = re.compile(r"\bMIG\b")

FIELDS = ("tf32_enabled", "tf32_override", "driver_version", "compute_capability", "cudnn_runtime_version",
          "mig")


def cudnn_version_text(number: int) -> str:
    """cudnnGetVersion's number as a version: 90100 -> '9.1.0' (cuDNN 9), 8907 -> '8.9.7'."""
    if number >= 90000:
        major, rest = divmod(number, 10000)
        minor, patch = divmod(rest, 100)
    else:
        major, rest = divmod(number, 1000)
        minor, patch = divmod(rest, 100)
    return f"{major}.{minor}.{patch}"


def is_mig(device_name: str | None, visible: str | None) -> bool:
    """Whether the GPU is a MIG slice of a larger one (a fraction of its datasheet peak)."""
    return bool(_MIG_NAME.search(device_name or "")) or "MIG-" in (visible or "")


def _cudnn_library() -> ctypes.CDLL | None:
    """The cuDNN shared library this process loads (pip's nvidia-cudnn wheel, or the system's)."""
    candidates = []
    with contextlib.suppress(ImportError):
        import nvidia.cudnn  # the wheel TensorFlow's `and-cuda` extra installs

        folder = os.path.join(list(nvidia.cudnn.__path__)[0], "lib")
        candidates += [os.path.join(folder, name) for name in ("libcudnn.so.9", "libcudnn.so.8")]
    candidates += ["libcudnn.so.9", "libcudnn.so.8", ctypes.util.find_library("cudnn")]
    for candidate in candidates:
        if candidate:
            with contextlib.suppress(OSError):
                return ctypes.CDLL(candidate)
    return None


def cudnn_runtime_version() -> str | None:
    """The version of the cuDNN library loaded at run time, or None without one."""
    library = _cudnn_library()
    if library is None:
        return None
    library.cudnnGetVersion.restype = ctypes.c_size_t
    return cudnn_version_text(int(library.cudnnGetVersion()))


def driver_version() -> str | None:
    """The NVIDIA driver's version (`nvidia-smi`), e.g. '550.54.15', or None."""
    command = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=_SMI_TIMEOUT_S, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = output.stdout.strip().splitlines()
    return lines[0].strip() if lines else None


def describe_gpu(tf, device: str, device_name: str | None) -> dict:
    """The GPU facts of the environment record (every one None on the CPU).

    Args:
      tf: the tensorflow module.
      device: the resolved device, 'gpu' or 'cpu'.
      device_name: the first GPU's name as TensorFlow reports it.

    Returns:
      {tf32_enabled, tf32_override, driver_version, compute_capability ('9.0'),
      cudnn_runtime_version, mig}.
    """
    if device != "gpu":
        return dict.fromkeys(FIELDS)
    capability = None
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        if details.get("compute_capability"):
            capability = ".".join(str(part) for part in details["compute_capability"])
    return {
        "tf32_enabled": bool(tf.config.experimental.tensor_float_32_execution_enabled()),
        "tf32_override": os.environ.get(TF32_OVERRIDE_VAR),
        "driver_version": driver_version(),
        "compute_capability": capability,
        "cudnn_runtime_version": cudnn_runtime_version(),
        "mig": is_mig(device_name, os.environ.get("CUDA_VISIBLE_DEVICES")),
    }
