"""The lines printed once before a sweep: versions, device, images, threads, precision, cost,
traces, and what the sweep covers. No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.core import axes, steps
from bench.core.config import BREAKDOWN_TRACED_STEPS, BenchmarkConfig
from bench.core.loss_scale import effective_loss_scale
from bench.output import quality_lines


def header_lines(
    environment: dict, configs: Sequence[BenchmarkConfig], isolate: bool, recorded: int = 0
) -> list[str]:
    """The lines printed once before a sweep.

    Args:
      environment: from bench.measuring.environment.describe_environment.
      configs: the prepared configurations that will run (the Sweep line counts them).
      isolate: whether each configuration runs in its own child process.
      recorded: configurations of the sweep that will not run, --resume having found them
        recorded (the Sweep line says how many; `configs` may then be empty).

    Returns:
      Lines: TensorFlow and Python versions, device, CUDA/cuDNN build, image size and data
      format, thread settings, precision, cost, trace files, what the sweep covers.
    """
    if not configs:
        return [f"Sweep: nothing to run, all {recorded} configuration(s) already recorded"]
    first = configs[0]

    def listing(field: str, word=str) -> str:
        return ", ".join(dict.fromkeys(word(getattr(config, field)) for config in configs))

    lines = [
        f"TensorFlow {environment['tensorflow_version']}, Python {environment['python_version']}",
        "Device: " + device_description(environment),
    ]
    if environment.get("cuda_build") and environment["device"] == "gpu":
        lines.append(
            f"CUDA {environment['cuda_version']}, cuDNN {environment['cudnn_version']} (TensorFlow build)"
        )
    sizes = listing("image_size", lambda size: f"{size}x{size}x3")
    real = [config for config in configs if config.real_data]
    if not real:
        where = "synthetic, on the device"
    else:
        paths = ", ".join(dict.fromkeys(config.data for config in real))
        threads = "AUTOTUNE" if not real[0].data_threads else f"{real[0].data_threads} threads"
        where = (("synthetic and " if len(real) < len(configs) else "")
                 + f"real data from {paths} ({real[0].preprocessing} preprocessing, {threads})")
    lines += [
        f"Images: {sizes} {where}; data format {listing('data_format')}; "
        f"{first.num_classes} classes",
        f"Threads: intra-op {_threads(first.intra_op_threads)}, inter-op {_threads(first.inter_op_threads)}",
        "Precision: "
        + "; ".join(
            dict.fromkeys(f"{config.precision} ({_precision_words(config.precision)})" for config in configs)
        )
        + "; loss scale "
        + "; ".join(dict.fromkeys(_loss_scale_words(c) for c in configs))
        + f"; XLA {listing('xla', axes.AXIS_OF_FIELD['xla'].cell)}",
        "Cost: FLOPs per step counted by TensorFlow's profiler on the timed graph; "
        + (
            "efficiency = achieved TFLOP/s / a matrix-product probe run just before each "
            "configuration on the same device and precision"
            if first.peak_probe
            else "no peak probe (--no-peak-probe): no efficiency"
        ),
    ]
    lines += quality_lines.header_lines(configs)
    traces = [config.trace for config in configs if config.trace]
    if traces:
        lines.append(
            f"Trace: Chrome trace of each configuration's last burn-in step -> {traces[0]}"
            + (f" and {len(traces) - 1} more" if len(traces) > 1 else "")
        )
    if first.breakdown:
        lines.append(
            f"Breakdown: {first.breakdown}: after each configuration's measured steps, "
            f"{BREAKDOWN_TRACED_STEPS} more fully traced steps (not measured) attribute the op times "
            "and FLOPs to the network's parts"
        )
    more = f" ({recorded} more already recorded)" if recorded else ""
    lines.append(
        f"Sweep: {len(configs)} configuration(s){more}: {_sweep_axes(configs)}; "
        f"{first.burn_in} burn-in + {measured_steps(first)}; {_processes(first, isolate)}"
    )
    return lines


def measured_steps(config: BenchmarkConfig) -> str:
    """'100 measured steps', '100 measured steps (at most 30 s)', or with auto 'measured steps until
    the 95% CI of the mean step is within 1% (at least 10 steps; at most 60 s unless those take
    longer)'."""
    budget = steps.time_budget_s(config.num_batches, config.max_time)
    if not steps.is_auto(config.num_batches):
        return f"{config.num_batches} measured steps" + (f" (at most {budget:g} s)" if budget else "")
    return (
        f"measured steps until the 95% CI of the mean step is within {config.target_ci:g}% (at least "
        f"{steps.MIN_AUTO_STEPS} steps; at most {budget:g} s unless those take longer)"
    )
def _processes(config: BenchmarkConfig, isolate: bool) -> str:
    """How each configuration runs: 'one child process each', '2 worker processes each', ..."""
    if config.workers > 1:
        return f"{config.workers} worker processes each"
    return "one child process each" if isolate else "all in this process"


def _sweep_axes(configs: Sequence[BenchmarkConfig]) -> str:
    """'depth 50, 101 x batch 8 x mode forward' plus every other axis that varies; axes whose
    values are not all combined (a real-data verdict's extra runs, --mode input only with real
    data) are listed by their combinations instead, so the product reads as the count:
    'depth 50 x batch 8 x mode, data: train shards, train synthetic, input shards'."""
    shown = axes.shown(configs)
    cells = [tuple(axis.cell(axis.of(config)) for axis in shown) for config in configs]
    combined = [i for i in range(len(shown)) if not _independent(cells, i)]
    parts = []
    for index, axis in enumerate(shown):
        if index not in combined:
            values = dict.fromkeys(cell[index] for cell in cells)
            parts.append(f"{axis.header.lower()} {', '.join(values)}")
    if combined:
        names = ", ".join(shown[i].header.lower() for i in combined)
        together = dict.fromkeys(" ".join(cell[i] for i in combined) for cell in cells)
        parts.append(f"{names}: {', '.join(together)}")
    return " x ".join(parts)


def _independent(cells: Sequence[tuple[str, ...]], index: int) -> bool:
    """Whether every value at `index` occurs with every combination of the other values."""
    values = {cell[index] for cell in cells}
    others = {cell[:index] + cell[index + 1 :] for cell in cells}
    return len(set(cells)) == len(values) * len(others)


def _loss_scale_words(config: BenchmarkConfig) -> str:
    """The loss-scale setting, with what 'auto' means for the precision."""
    if config.loss_scale != "auto":
        return config.loss_scale
    return "auto = " + effective_loss_scale("auto", config.precision).describe()


def _precision_words(precision: str) -> str:
    """How a precision computes, in a few words."""
    if precision == "fp32":
        return "float32 throughout"
    return f"{precision} compute, float32 variables, batch-norm statistics and loss"


def device_description(environment: dict) -> str:
    """'GPU: <name>' or 'CPU: <model> (<n> cores, <m> usable)'."""
    if environment["device"] == "gpu":
        return f"GPU: {environment['device_name']}"
    return (
        f"CPU: {environment['cpu_model']} ({environment['cpu_count']} cores, "
        f"{environment['usable_cpu_count']} usable)"
    )


def _threads(count: int) -> str:
    """Thread-pool setting in words."""
    return "TensorFlow default" if count == 0 else str(count)
