"""Which command-line flag sets each BenchmarkConfig field, for messages, labels and comparisons.

The sweep axes' flags come from `bench.core.axes`; the other fields are listed here. The command
line (`bench.verbs.flags`) spells the flags; results, plots and errors name a field by its flag.
"""

from __future__ import annotations

from bench.core import axes

# BenchmarkConfig fields that are not sweep axes -> the flag that sets them, for error messages.
_OTHER_FLAGS = {
    "num_batches": "--num-batches",
    "target_ci": "--target-ci",
    "max_time": "--max-time",
    "burn_in": "--burn-in",
    "num_classes": "--num-classes",
    "seed": "--seed",
    "device": "--device",
    "intra_op_threads": "--intra-op-threads",
    "inter_op_threads": "--inter-op-threads",
    "display_every": "--display-every",
    "loss_scale": "--loss-scale",
    "peak_probe_size": "--peak-probe-size",
    "memory_limit": "--memory-limit",
    "gpu_memory_limit": "--gpu-memory-limit",
    "timeout": "--timeout",
    "peer_timeout": "--peer-timeout",
    "workers": "--workers",
    "data_threads": "--data-threads",
    "preprocessing": "--preprocessing",
}
FLAG_OF_FIELD = {**{axis.field: axis.flag for axis in axes.AXES}, **_OTHER_FLAGS}
