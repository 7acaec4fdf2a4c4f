"""Presenting results: header, progress and summary lines, the comparison table, JSON Lines, CSV.

Nothing here measures; everything is computed from `BenchmarkResult`s. The table's columns are a
list of `Column`s (`TABLE_COLUMNS`), so more columns can be appended without touching the code
that lays the table out.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from typing import IO

import tabulate

from bench.config import MODE_TITLES, BenchmarkConfig
from bench.timing import STATUS_INTERRUPTED, BenchmarkResult, timestamp

OUTPUT_FORMATS = ("table", "json", "csv")
# Lists left out of CSV rows (one row per configuration); the JSON record keeps them.
CSV_EXCLUDED = ("step_times_s", "burn_in_times_s", "failure.details")


# ---------------------------------------------------------------------------------------------
# Header and per-configuration lines.


def header_lines(environment: dict, configs: Sequence[BenchmarkConfig], isolate: bool) -> list[str]:
    """The lines printed once before a sweep.

    Args:
      environment: from bench.environment.describe_environment.
      configs: the prepared configurations (they share everything but depth, batch and mode).
      isolate: whether each configuration runs in its own child process.

    Returns:
      Lines: TensorFlow and Python versions, device, CUDA/cuDNN build, image size and data
      format, thread settings, what the sweep covers.
    """
    first = configs[0]
    lines = [
        f"TensorFlow {environment['tensorflow_version']}, Python {environment['python_version']}",
        "Device: " + device_description(environment),
    ]
    if environment.get("cuda_build"):
        lines.append(
            f"CUDA {environment['cuda_version']}, cuDNN {environment['cudnn_version']} "
            "(TensorFlow build)"
        )
    traces = [config.trace for config in configs if config.trace]
    trace_line = ([f"Trace: Chrome trace of each configuration's last burn-in step -> {traces[0]}"
                   + (f" and {len(traces) - 1} more" if len(traces) > 1 else "")]
                  if traces else [])
    lines += [
        f"Images: {first.image_size}x{first.image_size}x3 synthetic, on the device; "
        f"data format {first.data_format}; {first.num_classes} classes",
        f"Threads: intra-op {_threads(first.intra_op_threads)}, "
        f"inter-op {_threads(first.inter_op_threads)}",
        f"Precision: {first.precision} ({_precision_words(first.precision)}); loss scale "
        f"{_loss_scale_words(first)}; XLA {'on' if first.xla else 'off'}",
        "Cost: FLOPs per step counted by TensorFlow's profiler on the timed graph; "
        + ("efficiency = achieved TFLOP/s / a matrix-product probe run just before each "
           "configuration on the same device and precision" if first.peak_probe
           else "no peak probe (--no-peak-probe): no efficiency"),
        *trace_line,
        f"Sweep: {len(configs)} configuration(s): depth {_listing(c.depth for c in configs)} x "
        f"batch {_listing(c.batch_size for c in configs)} x mode "
        f"{_listing(c.mode for c in configs)}; {first.burn_in} burn-in + {first.num_batches} "
        f"measured steps; " + ("one child process each" if isolate else "all in this process"),
    ]
    return lines


def _loss_scale_words(config: BenchmarkConfig) -> str:
    """The loss-scale setting, with what 'auto' means for the precision."""
    if config.loss_scale != "auto":
        return config.loss_scale
    return "auto = " + ("dynamic" if config.precision == "fp16" else "none")


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


def _listing(values) -> str:
    """Distinct values joined by ', ' in first-seen order."""
    return ", ".join(str(value) for value in dict.fromkeys(values))


def start_line(config: BenchmarkConfig, index: int, total: int) -> str:
    """Line printed when a configuration starts, e.g. '== [1/4] resnet_v2_50 batch 8 forward'."""
    return f"== [{index}/{total}] {config.label}"


def summary_lines(result: BenchmarkResult) -> list[str]:
    """Lines printed after each configuration.

    For a measured one, the classic summary line first, so existing parsers keep working:
    '<timestamp>: Forward across N steps, M.MMM +/- S.SSS sec / batch', then images/sec and the
    other statistics, the setup phases, and any warnings.

    Args:
      result: the configuration's result.

    Returns:
      Lines of text.
    """
    now = timestamp()
    if not result.ok:
        what = "INTERRUPTED" if result.status == STATUS_INTERRUPTED else "FAILED"
        return [f"{now}: {result.config.label} {what}: {result.failure.message}"]
    stats = result.stats
    title = MODE_TITLES[result.config.mode]
    lines = [
        f"{now}: {title} across {stats.num_steps} steps, "
        f"{stats.mean_s:.3f} +/- {stats.sd_s:.3f} sec / batch",
        f"{now}: {stats.images_per_sec:.2f} images/sec (batch {result.config.batch_size}); "
        f"median {stats.median_s:.3f} s, p10 {stats.p10_s:.3f} s, p90 {stats.p90_s:.3f} s, "
        f"min {stats.min_s:.3f} s, max {stats.max_s:.3f} s, cold step {stats.cold_step_s:.3f} s; "
        f"{result.param_count:,} parameters",
    ]
    lines += cost_lines(result)
    setup = setup_line(result.phases_s)
    if setup:
        lines.append(setup)
    lines += [f"WARNING: {warning}" for warning in result.warnings]
    return lines


def cost_lines(result: BenchmarkResult) -> list[str]:
    """Work, rate, efficiency, memory (and XLA/trace facts) of a measured result, as lines."""
    cost = result.cost
    if not cost:
        return []
    lines = []
    if cost["gflop_per_image"] is not None:
        line = (f"  cost: {cost['gflop_per_image']:.3f} GFLOP/image, "
                f"{cost['achieved_tflops']:.3f} TFLOP/s achieved")
        probe = result.extra.get("peak_probe")
        if probe and cost["efficiency"] is not None:
            line += (f"; probe {probe['best_tflops']:.3f} TFLOP/s ({probe['precision']} matmul "
                     f"{probe['matrix_size']}x{probe['matrix_size']}): efficiency "
                     f"{100 * cost['efficiency']:.1f}%")
        lines.append(line)
    datasheet = result.extra.get("datasheet_peak")
    if datasheet and cost["efficiency_vs_datasheet"] is not None:
        lines.append(f"  datasheet: {datasheet['model']} {datasheet['tflops']:g} TFLOP/s "
                     f"({datasheet['basis']}): {100 * cost['efficiency_vs_datasheet']:.1f}% of it")
    memory = result.extra.get("peak_memory")
    if memory:
        lines.append(f"  peak memory: {format_bytes(memory['bytes']) or 'n/a'} ({memory['label']})")
    facts = []
    if result.config.xla:
        compiled = result.extra.get("xla_compiled")
        facts.append("XLA: " + {True: "compiled (_XlaRun executed)",
                                False: "NOT compiled (no _XlaRun executed)"}.get(compiled,
                                                                                  "unchecked"))
    if result.extra.get("loss_scale", "none") != "none":
        facts.append(f"loss scale {result.extra['loss_scale']}" + _scale_values(result.extra))
    if result.extra.get("trace_file"):
        facts.append(f"trace of the last burn-in step: {result.extra['trace_file']}")
    if facts:
        lines.append("  " + "; ".join(facts))
    return lines


def _scale_values(extra: dict) -> str:
    """' 2048' (a dynamic scale steady over the measured steps) or ' 4096 -> 2048', or ''."""
    if "loss_scale_before" not in extra:
        return ""
    before, after = extra["loss_scale_before"], extra["loss_scale_after"]
    return f" {before:g}" if before == after else f" {before:g} -> {after:g}"


def format_bytes(num_bytes: int | None) -> str:
    """'1.23 GiB', '456.7 MiB'; '' for None."""
    if num_bytes is None:
        return ""
    if num_bytes >= 1024 ** 3:
        return f"{num_bytes / 1024 ** 3:.2f} GiB"
    return f"{num_bytes / 1024 ** 2:.1f} MiB"


def setup_line(phases_s: dict) -> str:
    """One line with the time spent outside the measured steps, or '' if nothing is known."""
    names = [
        ("process_start", "process start"),
        ("tf_import", "TensorFlow import"),
        ("peak_probe", "peak probe"),
        ("graph_build", "graph build"),
        ("flop_count", "FLOP count"),
        ("session_init", "session + init"),
        ("burn_in", "burn-in"),
        ("teardown", "teardown"),
    ]
    parts = [f"{label} {phases_s[key]:.2f} s" for key, label in names if key in phases_s]
    if not parts:
        return ""
    line = "  setup: " + ", ".join(parts)
    if "child_overhead" in phases_s:
        line += f" (child-process overhead {phases_s['child_overhead']:.2f} s)"
    return line


def overhead_line(results: Sequence[BenchmarkResult]) -> str:
    """Mean child-process overhead per configuration, or '' if nothing ran in a child."""
    overheads = [r.phases_s["child_overhead"] for r in results if "child_overhead" in r.phases_s]
    if not overheads:
        return ""
    return (
        f"Child-process overhead per configuration (process start + TensorFlow import + exit): "
        f"mean {sum(overheads) / len(overheads):.2f} s over {len(overheads)}, not in any timing"
    )


# ---------------------------------------------------------------------------------------------
# The comparison table.


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of the final table.

    Attributes:
      header: column title.
      value: function (result, baselines) -> cell; baselines maps (batch, mode) to the
        images/sec of the shallowest measured depth.
    """

    header: str
    value: Callable[[BenchmarkResult, dict], object]


def _measured(cell: Callable[[BenchmarkResult, dict], object]):
    """Wraps a cell function so failed rows get an empty cell."""
    return lambda result, baselines: cell(result, baselines) if result.ok else ""


def _relative_throughput(result: BenchmarkResult, baselines: dict) -> str:
    """images/sec relative to the shallowest depth at the same batch and mode."""
    baseline = baselines.get((result.config.batch_size, result.config.mode))
    if not baseline:
        return ""
    return f"{result.stats.images_per_sec / baseline:.2f}"


def _cost_cell(key: str, scale: float, digits: int):
    """Cell function showing cost[key] * scale with `digits` decimals ('' when unknown)."""
    def cell(result: BenchmarkResult, baselines: dict) -> str:
        del baselines
        value = (result.cost or {}).get(key)
        return "" if value is None else f"{value * scale:.{digits}f}"
    return cell


def _peak_memory_cell(result: BenchmarkResult, baselines: dict) -> str:
    """Peak memory, '*' marking a whole-process RSS (CPU) rather than allocator bytes (GPU)."""
    del baselines
    cost = result.cost or {}
    text = format_bytes(cost.get("peak_memory_bytes"))
    if text and str(cost.get("peak_memory_kind", "")).startswith("process"):
        text += " *"
    return text


def _status(result: BenchmarkResult, baselines: dict) -> str:
    """'ok', or the failure in a few words; '(!)' marks unreliable figures."""
    del baselines
    if result.ok:
        return "ok (!)" if result.warnings else "ok"
    return _shorten(result.failure.short, 80)


def _shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


TABLE_COLUMNS: list[Column] = [
    Column("Depth", lambda r, b: r.config.depth),
    Column("Batch", lambda r, b: r.config.batch_size),
    Column("Mode", lambda r, b: r.config.mode),
    Column("Mean ± sd (ms)", _measured(
        lambda r, b: f"{r.stats.mean_s * 1e3:.1f} ± {r.stats.sd_s * 1e3:.1f}")),
    Column("Median (ms)", _measured(lambda r, b: f"{r.stats.median_s * 1e3:.1f}")),
    Column("Images/sec", _measured(lambda r, b: f"{r.stats.images_per_sec:.2f}")),
    Column("Relative", _measured(_relative_throughput)),
    Column("GFLOP/img", _measured(_cost_cell("gflop_per_image", 1.0, 2))),
    Column("TFLOP/s", _measured(_cost_cell("achieved_tflops", 1.0, 3))),
    Column("Eff. %", _measured(_cost_cell("efficiency", 100.0, 1))),
    Column("Peak mem", _measured(_peak_memory_cell)),
    Column("Status", _status),
]


def throughput_baselines(results: Sequence[BenchmarkResult]) -> dict:
    """(batch, mode) -> images/sec of the shallowest measured depth with that batch and mode."""
    shallowest: dict = {}
    for result in results:
        if not result.ok:
            continue
        key = (result.config.batch_size, result.config.mode)
        if key not in shallowest or result.config.depth < shallowest[key].config.depth:
            shallowest[key] = result
    return {key: result.stats.images_per_sec for key, result in shallowest.items()}


def table(
    results: Sequence[BenchmarkResult],
    table_format: str = "github",
    columns: Sequence[Column] | None = None,
) -> str:
    """The comparison table, one row per configuration.

    Args:
      results: results in sweep order.
      table_format: any tabulate format ('github', 'plain', 'grid', ...).
      columns: columns to show (default TABLE_COLUMNS).

    Returns:
      The table as text.
    """
    columns = TABLE_COLUMNS if columns is None else columns
    baselines = throughput_baselines(results)
    rows = [[column.value(result, baselines) for column in columns] for result in results]
    return tabulate.tabulate(
        rows, headers=[column.header for column in columns], tablefmt=table_format,
        disable_numparse=True,
    )


def table_footnotes(results: Sequence[BenchmarkResult], not_run: Sequence[BenchmarkConfig]) -> list:
    """Lines explaining the table: the relative column, '(!)' marks, configurations not run."""
    lines = ["Relative: images/sec divided by that of the shallowest depth with the same batch "
             "and mode.",
             "GFLOP/img: FLOPs of one step (TensorFlow's profiler) / batch; TFLOP/s: FLOPs per "
             "step / mean step time; Eff. %: TFLOP/s / the matrix-product probe's TFLOP/s."]
    if any(str((result.cost or {}).get("peak_memory_kind", "")).startswith("process")
           for result in results):
        lines.append("Peak mem *: peak resident set size of the process (CPU), which includes "
                     "TensorFlow and the graph; on a GPU it is the allocator's peak.")
    if any(result.ok and result.warnings for result in results):
        lines.append("(!): figures to treat with care; see the WARNING lines above.")
    if not_run:
        lines.append("Not run (sweep interrupted): " + "; ".join(c.label for c in not_run))
    return lines


# ---------------------------------------------------------------------------------------------
# Machine-readable output.


def json_safe(value):
    """`value` with non-finite floats replaced by None, so the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def json_line(result: BenchmarkResult) -> str:
    """One JSON Lines record (no trailing newline)."""
    return json.dumps(json_safe(result.to_record()), sort_keys=False)


def flatten_record(record: dict, prefix: str = "") -> dict:
    """Nested dicts to dotted keys ('stats.mean_s'); lists joined with ';'.

    Args:
      record: a JSON record.
      prefix: key prefix for recursion.

    Returns:
      A flat dict of scalars, CSV_EXCLUDED keys left out.
    """
    flat = {}
    for key, value in record.items():
        name = prefix + key
        if name in CSV_EXCLUDED:
            continue
        if isinstance(value, dict):
            flat.update(flatten_record(value, name + "."))
        elif isinstance(value, list):
            flat[name] = ";".join(str(item) for item in value)
        else:
            flat[name] = value
    return flat


def csv_text(results: Sequence[BenchmarkResult]) -> str:
    """CSV with a header row and one row per configuration (every column of every record).

    Args:
      results: results in sweep order.

    Returns:
      The CSV text.
    """
    rows = [flatten_record(json_safe(result.to_record())) for result in results]
    fieldnames = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def render(
    results: Sequence[BenchmarkResult], output_format: str, table_format: str = "github"
) -> str:
    """The final output in the chosen format.

    Args:
      results: results in sweep order.
      output_format: 'table', 'json' (JSON Lines) or 'csv'.
      table_format: tabulate format for 'table'.

    Returns:
      The text, ending without a newline.
    """
    if output_format == "table":
        return table(results, table_format)
    if output_format == "json":
        return "\n".join(json_line(result) for result in results)
    if output_format == "csv":
        return csv_text(results).rstrip("\n")
    raise ValueError(f"output format {output_format!r}: choose from {', '.join(OUTPUT_FORMATS)}")


class JsonLinesFile:
    """Appends records to a JSON Lines file, each flushed to disk as soon as it is written."""

    def __init__(self, path: str):
        """Opens `path` for appending (creating it).

        Raises:
          OSError: if it cannot be opened for writing.
        """
        self.path = path
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    def write(self, result: BenchmarkResult) -> None:
        """Appends one record and forces it to disk."""
        self._file.write(json_line(result) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Closes the file."""
        self._file.close()
