"""Where a configuration runs: the device, the activation layout, and TensorFlow's device names.

Both 'auto' choices are resolved here, once, when a sweep is prepared:

- device: 'auto' is the first GPU TensorFlow sees, else the CPU; 'gpu' without a GPU is refused.
- data format: 'auto' is NCHW on a GPU and NHWC on the CPU. cuDNN's convolution and pooling
  kernels take channels-first tensors natively, and NCHW is what tf_cnn_benchmarks and NVIDIA's
  published TensorFlow ResNet-50 figures use, so numbers compare. TensorFlow 2.21's own CPU kernels
  have no NCHW Conv2D / MaxPool, so an explicit NCHW on the CPU is refused before anything is
  built. (With oneDNN, TensorFlow's default on x86, NCHW would run on some builds and CPUs; refusing
  keeps results and command lines portable.) The layout changes no variable.

No TensorFlow is imported here; `visible_gpu_names` takes the module from the caller.
"""

from __future__ import annotations

import dataclasses
import os

from bench.core import cluster
from bench.core.config import BenchmarkConfig
from bench.core.errors import ConfigError

RESOLVED_DEVICES = ("gpu", "cpu")
VISIBLE_GPUS_VAR = "CUDA_VISIBLE_DEVICES"
NO_GPU = "-1"  # CUDA stops at the first invalid index: the process sees no GPU
_AUTO_DATA_FORMAT = {"gpu": "NCHW", "cpu": "NHWC"}


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


def resolve_data_format(requested: str, device: str) -> str:
    """The layout to build with on a resolved device.

    Args:
      requested: 'NHWC', 'NCHW' or 'auto'.
      device: 'gpu' or 'cpu'.

    Returns:
      'NHWC' or 'NCHW'.

    Raises:
      ConfigError: for NCHW on the CPU.
    """
    _require_resolved(device)
    if requested == "auto":
        return _AUTO_DATA_FORMAT[device]
    if requested == "NCHW" and device == "cpu":
        raise ConfigError(
            "data_format",
            requested,
            "not available on the CPU (TensorFlow's own CPU convolution and "
            "max-pooling kernels are NHWC only); use NHWC or auto",
        )
    return requested


def resolve(config: BenchmarkConfig, gpu_names: list[str]) -> BenchmarkConfig:
    """The configuration with its device and data format resolved ('auto' replaced).

    Raises:
      ConfigError: for a GPU that is not there, or NCHW on the CPU.
    """
    device = resolve_device(config.device, gpu_names)
    local_workers = config.workers if cluster.environment_text() is None else 1
    check_device_count(config.num_devices, config.workers, device, len(gpu_names), local_workers)
    return dataclasses.replace(
        config, device=device, data_format=resolve_data_format(config.data_format, device)
    )


def usable_cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), which can be fewer than the machine has.

    Returns:
      A positive count.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_device_count(num_devices: int, workers: int, device: str, gpu_count: int,
                       local_workers: int = 1) -> None:
    """Refuses more replicas per worker than the machine has devices for.

    On a GPU machine a replica needs a GPU of its own, and so does every local worker's replica
    (`local_gpus`); on the CPU the replicas are logical CPU devices sharing the cores, at most one
    per usable core. With several workers on the CPU, tf.distribute's MultiWorkerMirroredStrategy
    places one replica on each worker's CPU.

    Args:
      num_devices, workers: replicas per worker, and workers in the cluster.
      device: the resolved device.
      gpu_count: the GPUs TensorFlow sees here.
      local_workers: the workers started on this machine (`--workers` without a TF_CONFIG), which
        share its GPUs.

    Raises:
      ConfigError: naming --num-devices and what is allowed.
    """
    if device == "gpu" and num_devices > gpu_count:
        raise ConfigError(
            "num_devices", num_devices, f"more than the {gpu_count} GPU(s) TensorFlow sees here"
        )
    if device == "gpu" and num_devices * local_workers > gpu_count:
        raise ConfigError(
            "workers",
            local_workers,
            f"{local_workers} local workers x {num_devices} GPU(s) each is more than the "
            f"{gpu_count} GPU(s) TensorFlow sees here (each worker owns its GPUs)",
        )
    if device == "cpu" and workers > 1 and num_devices > 1:
        raise ConfigError(
            "num_devices",
            num_devices,
            "with --workers on the CPU each worker runs one replica (MultiWorkerMirroredStrategy "
            "uses one CPU device per worker); use --num-devices 1",
        )
    cores = usable_cpu_count()
    if device == "cpu" and num_devices > cores:
        raise ConfigError(
            "num_devices", num_devices, f"more logical CPU devices than the {cores} usable core(s) here"
        )


def local_gpus(device: str, visible: str | None, gpu_count: int, num_devices: int, index: int) -> str:
    """The CUDA_VISIBLE_DEVICES of local worker `index`: the GPUs it owns, and no other.

    Every process TensorFlow starts on a GPU creates an allocator on every GPU it sees (taking
    most of its memory), so local workers that all saw every GPU would fight over the first ones.
    Worker k of a `--workers` run gets the k-th group of `num_devices` GPUs this process sees, in
    TensorFlow's order (the same as CUDA's, which the worker inherits with CUDA_DEVICE_ORDER), and
    sees them as its GPU:0, GPU:1, ...; a worker measuring the CPU sees no GPU.

    Args:
      device: the resolved device, 'gpu' or 'cpu'.
      visible: this process's CUDA_VISIBLE_DEVICES, or None when unset (then the GPUs are 0..n-1).
      gpu_count: the GPUs TensorFlow sees here.
      num_devices: replicas per worker.
      index: the worker's index.

    Returns:
      e.g. '2,3' (worker 1 of two on four GPUs with 2 devices each); NO_GPU for the CPU.

    Raises:
      ValueError: when the workers' GPUs are more than `gpu_count` (`check_device_count` refuses
        that first).
    """
    _require_resolved(device)
    if device == "cpu":
        return NO_GPU
    ids = [entry.strip() for entry in visible.split(",")] if visible else [str(n) for n in range(gpu_count)]
    ids = ids[:gpu_count]
    first = index * num_devices
    if first + num_devices > len(ids):
        raise ValueError(f"worker {index} needs GPUs {first}..{first + num_devices - 1}; {len(ids)} seen")
    return ",".join(ids[first:first + num_devices])


def device_string(device: str, index: int = 0) -> str:
    """TensorFlow's name for a resolved device, e.g. '/device:GPU:0'.

    Raises:
      ValueError: for anything but 'gpu' or 'cpu' (resolve 'auto' first).
    """
    _require_resolved(device)
    return f"/device:{device.upper()}:{index}"


def placement(device: str, num_devices: int, data_format: str) -> tuple[tuple[str, ...], str]:
    """Where a step runs: TensorFlow's name for each local replica's device, and the layout.

    Args:
      device: the resolved device, 'gpu' or 'cpu'.
      num_devices: replicas on this worker, one per device.
      data_format: 'auto' (resolved for the device by `resolve_data_format`), or 'NHWC' / 'NCHW'
        kept as they are (a sweep refuses NCHW on the CPU before building; a graph can still be
        built that way, e.g. to inspect it).

    Returns:
      (('/device:GPU:0', ...), 'NCHW' or 'NHWC').

    Raises:
      ValueError: for a device that is not resolved.
    """
    names = tuple(device_string(device, index) for index in range(num_devices))
    return names, resolve_data_format("auto", device) if data_format == "auto" else data_format


def _require_resolved(device: str) -> None:
    if device not in RESOLVED_DEVICES:
        raise ValueError(f"device must be resolved to 'gpu' or 'cpu' first, got {device!r}")
