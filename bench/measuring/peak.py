"""What the device can do: a measured matrix-product peak, and datasheet peaks of known GPUs.

Efficiency = achieved TFLOP/s of the benchmark / attainable TFLOP/s of the probe. The probe runs in
the same process just before the configuration, on the same device, in the same precision and with
the same session settings (threads), so it sees the same clocks, libraries (oneDNN, cuBLAS) and
TF32 setting. It times a chain of large square matrix products (x <- x @ w, repeated, in one
`session.run`), warmed up, and keeps the best of several runs: the rate dense matrix multiplication
reaches here, the most convolution-heavy work can hope for.

The datasheet figure is shown alongside for GPUs this module knows (dense, i.e. without 2:4
sparsity; for fp32 on Ampere and later TensorFlow runs convolutions and products in TF32 by
default, so the TF32 tensor-core figure applies then).
"""

from __future__ import annotations

import dataclasses
import time

import tensorflow as tf

from bench.core.config import PRECISIONS
from bench.results.extras import DatasheetPeak, PeakProbe
from bench.step.plan import StepPlan

# Square matrix size and chain length per device: large enough to reach the device's matmul rate,
# short enough to take about a second per precision (CPU: 2 x 2048^3 x 2 = 34 GFLOP per run).
DEFAULT_MATRIX_SIZE = {"gpu": 8192, "cpu": 2048}
DEFAULT_CHAIN_LENGTH = {"gpu": 8, "cpu": 2}
DEFAULT_REPEATS = 5
DEFAULT_WARMUP = 2


def build_probe_graph(
    dtype: tf.DType, device_name: str, matrix_size: int, chain_length: int, seed: int = 0
) -> tuple:
    """A graph computing sum(x @ w @ w ... @ w) with `chain_length` products in the compute dtype.

    x ~ N(0, 1) and w ~ N(0, 1/n) are variables (so nothing is constant-folded), which keeps the
    chained products near unit scale in every precision.

    Args:
      dtype: the compute dtype.
      device_name: TensorFlow's device name, e.g. '/device:GPU:0'.
      matrix_size, chain_length: n, and the products per run.
      seed: the graph-level seed.

    Returns:
      (graph, initializer op, scalar float32 fetch, [x, w] variables).
    """
    graph = tf.Graph()
    with graph.as_default(), tf.device(device_name):
        tf.compat.v1.set_random_seed(seed)
        shape = [matrix_size, matrix_size]
        x = tf.compat.v1.Variable(tf.cast(tf.random.normal(shape), dtype), name="x")
        w = tf.compat.v1.Variable(tf.cast(tf.random.normal(shape, stddev=matrix_size**-0.5), dtype), name="w")
        product = x.read_value()
        for _ in range(chain_length):
            product = tf.matmul(product, w)
        fetch = tf.reduce_sum(tf.cast(product, tf.float32))
        initializer = tf.compat.v1.global_variables_initializer()
    graph.finalize()
    return graph, initializer, fetch, [x, w]


def probe_peak_tflops(
    plan: StepPlan,
    matrix_size=None,
    chain_length=None,
    repeats=DEFAULT_REPEATS,
    warmup=DEFAULT_WARMUP,
    session_config=None,
):
    """Measures the attainable matrix-product rate of the plan's device in its compute dtype.

    Args:
      plan: the configuration's step (`bench.step.plan`): its precision, compute dtype, device
        and the first replica's device name.
      matrix_size: n (default per device, DEFAULT_MATRIX_SIZE).
      chain_length: products per run (default per device, DEFAULT_CHAIN_LENGTH).
      repeats: timed runs; the best is kept.
      warmup: untimed runs first (kernel selection, thread-pool start, caches).
      session_config: the benchmark's tf.compat.v1.ConfigProto, so threads match.

    Returns:
      A PeakProbe.

    Raises:
      ValueError: for non-positive sizes.
    """
    matrix_size = matrix_size or DEFAULT_MATRIX_SIZE[plan.config.device]
    chain_length = chain_length or DEFAULT_CHAIN_LENGTH[plan.config.device]
    if matrix_size < 1 or chain_length < 1 or repeats < 1 or warmup < 0:
        raise ValueError("matrix size, chain length and repeats must be positive, warmup >= 0")
    graph, initializer, fetch, _ = build_probe_graph(
        plan.compute_dtype, plan.device_names[0], matrix_size, chain_length
    )
    run_times_s = []
    with tf.compat.v1.Session(graph=graph, config=session_config) as session:
        session.run(initializer)
        for _ in range(warmup):
            session.run(fetch)
        for _ in range(repeats):
            start = time.perf_counter()
            session.run(fetch)
            run_times_s.append(time.perf_counter() - start)
    return PeakProbe(plan.config.precision, plan.config.device, matrix_size, chain_length, run_times_s)


# ---------------------------------------------------------------------------------------------
# Datasheet peaks, dense TFLOP/s (NVIDIA's figures "with sparsity" halved).
# fp32: CUDA cores; tf32 / fp16 / bf16: tensor cores. None: no such hardware path.


@dataclasses.dataclass(frozen=True)
class GpuPeaks:
    """One GPU model's datasheet peaks.

    Attributes:
      model: the marketing name, e.g. 'H100 SXM5'.
      fp32, tf32, fp16, bf16: dense TFLOP/s (None where the GPU has no such path).
      source: the document the figures come from.
    """

    model: str
    fp32: float
    tf32: float | None
    fp16: float
    bf16: float | None
    source: str


_H100_SOURCE = "NVIDIA H100 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h100)"
_H200_SOURCE = "NVIDIA H200 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h200)"
_A100_SOURCE = "NVIDIA A100 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/a100)"
_V100_SOURCE = "NVIDIA Tesla V100 GPU datasheet (nvidia.com/en-us/data-center/v100)"

# (substrings that must all appear in the lower-cased device name, peaks); first match wins, so
# the more specific variants come first.
_KNOWN_GPUS = (
    (("h200", "nvl"), GpuPeaks("H200 NVL", 60.0, 417.5, 835.5, 835.5, _H200_SOURCE)),
    (("h200",), GpuPeaks("H200 SXM", 67.0, 494.7, 989.4, 989.4, _H200_SOURCE)),
    (("h100", "nvl"), GpuPeaks("H100 NVL", 60.0, 417.5, 835.5, 835.5, _H100_SOURCE)),
    (("h100", "pcie"), GpuPeaks("H100 PCIe", 51.0, 378.0, 756.5, 756.5, _H100_SOURCE)),
    (("h100",), GpuPeaks("H100 SXM5", 67.0, 494.7, 989.4, 989.4, _H100_SOURCE)),
    (("a100",), GpuPeaks("A100 (SXM4 / PCIe)", 19.5, 156.0, 312.0, 312.0, _A100_SOURCE)),
    (("v100s",), GpuPeaks("V100S PCIe", 16.4, None, 130.0, None, _V100_SOURCE)),
    (("v100", "pcie"), GpuPeaks("V100 PCIe", 14.0, None, 112.0, None, _V100_SOURCE)),
    (("v100", "sxm2"), GpuPeaks("V100 SXM2", 15.7, None, 125.0, None, _V100_SOURCE)),
)


# Names that contain a known GPU's without being it: the GH200 superchip's GPU (its own memory,
# power and clocks; no datasheet figure here) is not an H200.
_NOT_IN_THE_TABLE = ("gh200", "gh100")


def known_gpu(device_name: str | None) -> GpuPeaks | None:
    """The GpuPeaks of a device name TensorFlow reports (e.g. 'NVIDIA H100 80GB HBM3',
    'Tesla V100-SXM2-16GB'), or None for a GPU (or CPU) not in the table (a GH200 among them)."""
    name = (device_name or "").lower()
    if any(other in name for other in _NOT_IN_THE_TABLE):
        return None
    for needles, peaks in _KNOWN_GPUS:
        if all(needle in name for needle in needles):
            return peaks
    return None


def datasheet_peak(
    device_name: str | None, precision: str, tf32_enabled: bool = True, mig: bool = False
) -> DatasheetPeak | None:
    """The datasheet peak for `precision` on a known GPU, or None (unknown GPU, CPU, a MIG slice,
    which has a fraction of the whole GPU's units, or no hardware path for that precision, e.g.
    bf16 on a V100).

    Args:
      device_name: the name TensorFlow reports for the device.
      precision: 'fp32', 'fp16' or 'bf16'.
      tf32_enabled: whether TensorFlow may run fp32 products in TF32
        (`tf.config.experimental.tensor_float_32_execution_enabled()`, True by default).
      mig: the device is a MIG slice (the environment's `mig`).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    peaks = known_gpu(device_name)
    if peaks is None or mig:
        return None
    if precision == "fp32":
        if tf32_enabled and peaks.tf32 is not None:
            value, basis = peaks.tf32, "TF32 tensor core, dense"
        else:
            value, basis = peaks.fp32, "FP32"
    else:
        value = getattr(peaks, precision)
        basis = f"{precision.upper()} tensor core, dense"
    if value is None:
        return None
    return DatasheetPeak(peaks.model, value, basis, peaks.source)
