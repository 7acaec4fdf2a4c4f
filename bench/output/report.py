"""What a person reads: the per-configuration lines and the final output (the header before a
sweep is `bench.output.header`).

Nothing here measures; everything is computed from `BenchmarkResult`s. The comparison table is
`bench.output.table`, the machine-readable formats are `bench.results.records`; `render` picks one.
No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.core import axes, batch_search
from bench.core.batch_search import ROLE_TRY
from bench.core.clock import timestamp
from bench.core.config import MODE_TITLES, BenchmarkConfig
from bench.output import breakdown_table, table
from bench.output.quality_lines import quality_lines
from bench.output.table import format_bytes
from bench.results import records
from bench.results import stats as stats_lib
from bench.results.result import STATUS_INTERRUPTED, BenchmarkResult

OUTPUT_FORMATS = ("table", "json", "csv")

# Phases shown on the setup line, in order, with their words.
SETUP_PHASES = (
    ("process_start", "process start"),
    ("tf_import", "TensorFlow import"),
    ("peak_probe", "peak probe"),
    ("graph_build", "graph build"),
    ("flop_count", "FLOP count"),
    ("session_init", "session + init"),
    ("restore", "checkpoint restore"),
    ("burn_in", "burn-in"),
    ("breakdown", "breakdown"),
    ("quality_pass", "untimed quality pass"),
    ("teardown", "teardown"),
)


def start_line(config: BenchmarkConfig, index: int, total: int, varying: Sequence[axes.Axis] = ()) -> str:
    """Line printed when a configuration starts, e.g. '== [1/4] resnet_v2_50 batch 8 forward';
    the layout and image size are added when the sweep varies them (the label names the rest)."""
    extras = [
        f"{axis.header.lower()} {axis.cell(axis.of(config))}"
        for axis in varying
        if axis.field in ("data_format", "image_size")
    ]
    return f"== [{index}/{total}] {config.label}" + (f" ({', '.join(extras)})" if extras else "")


def summary_lines(result: BenchmarkResult) -> list[str]:
    """Lines printed after each configuration.

    For a measured one, the classic summary line first, so existing parsers keep working:
    '<timestamp>: Forward across N steps, M.MMM +/- S.SSS sec / batch', then images/sec and the
    other statistics, the cost lines, the setup phases, and any warnings. A batch search's try
    gets one line; its result a line naming the largest batch and the tries, before the lines of
    the largest batch's own run when it was measured.

    Args:
      result: the configuration's result.

    Returns:
      Lines of text.
    """
    search = result.batch_search
    if search is None:
        return _run_lines(result)
    line = _batch_search_line(result)
    return [line] if search.role == ROLE_TRY or not result.ok else [line, *_run_lines(result)]


def _batch_search_line(result: BenchmarkResult) -> str:
    """The line a try or a search's result gets (before the usual lines of a measured result)."""
    facts = result.batch_search
    if facts.role == ROLE_TRY:
        attempt = facts.tries[0]
        if attempt.outcome == batch_search.FIT:
            return (
                f"  try batch {attempt.batch_size}: fits ({result.stats.num_steps} steps, "
                f"{result.stats.images_per_sec:.2f} images/sec)"
            )
        if attempt.outcome == batch_search.NO_FIT:
            return f"  try batch {attempt.batch_size}: does not fit: {result.failure.message}"
        return f"  try batch {attempt.batch_size}: failed, the search stops: {attempt.why}"
    head = f"{timestamp()}: {facts.search}: "
    tried = f"tries: {batch_search.tries_text(facts.tries)}" if facts.tries else "no try finished"
    if facts.largest is None:
        if facts.ended == batch_search.ENDED_NONE_FITS:
            return head + f"no batch fits ({tried})"
        if facts.ended == batch_search.ENDED_FAILED:
            return head + f"the search stopped at a failure ({tried})"
        return head + f"interrupted ({tried})"
    cap = {
        batch_search.ENDED_CAP: " (the cap: larger batches were not tried)",
        batch_search.ENDED_FAILED: " so far (a try failed and the search stopped)",
    }.get(facts.ended, "")
    if result.ok:
        return (
            head
            + f"largest batch {facts.largest}{cap}, {result.stats.images_per_sec:.2f} images/sec ({tried})"
        )
    what = "interrupted" if result.status == STATUS_INTERRUPTED else f"failed: {result.failure.short}"
    return head + f"largest batch {facts.largest}{cap}, but its full run {what} ({tried})"


def _run_lines(result: BenchmarkResult) -> list[str]:
    """`summary_lines` of one run."""
    now = timestamp()
    if not result.ok:
        what = "INTERRUPTED" if result.status == STATUS_INTERRUPTED else "FAILED"
        return [f"{now}: {result.config.label} {what}: {result.failure.message}"]
    stats = result.stats
    title = MODE_TITLES[result.config.mode]
    lines = [
        f"{now}: {title} across {stats.num_steps} steps, {stats.mean_s:.3f} +/- {stats.sd_s:.3f} sec / batch",
        f"{now}: {stats.images_per_sec:.2f} images/sec ({_batch_words(result)}); "
        f"median {stats.median_s:.3f} s, p10 {stats.p10_s:.3f} s, p90 {stats.p90_s:.3f} s, "
        f"min {stats.min_s:.3f} s, max {stats.max_s:.3f} s, cold step {stats.cold_step_s:.3f} s; "
        + (
            f"{result.param_count:,} parameters"
            if result.config.has_model
            else "the input pipeline alone, no model"
        ),
    ]
    if result.extra.stop is not None:
        lines.append(f"  {result.extra.stop.describe()}")
    lines += data_lines(result)
    lines += quality_lines(result)
    lines += cost_lines(result)
    lines += breakdown_table.summary_lines(result)
    setup = setup_line(result.phases_s)
    if setup:
        lines.append(setup)
    lines += [f"WARNING: {warning}" for warning in result.warnings]
    return lines


def data_lines(result: BenchmarkResult) -> list[str]:
    """With real data: '  data: PATH (tfrecord, 2 files, 8 images), inception training preprocessing,
    AUTOTUNE; 0 images skipped (did not decode)'; nothing for synthetic inputs."""
    facts = result.extra.data
    if facts is None:
        return []
    source = facts.source
    images = "" if source.get("num_images") is None else f", {source['num_images']} images"
    threads = "AUTOTUNE" if not facts.threads else f"{facts.threads} threads"
    skipped = ""
    if facts.skipped_images is not None:
        skipped = f"; {facts.skipped_images} images skipped (did not decode)"
    return [
        f"  data: {source.get('path')} ({source.get('format')}, {source.get('num_files')} files{images}), "
        f"{facts.preprocessing} {facts.pipeline} preprocessing, {threads}{skipped}"
    ]


def closing_lines(result: BenchmarkResult) -> list[str]:
    """The lines that end a measured configuration: latency percentiles, jitter and the mean's 95%
    interval, then tf_cnn_benchmarks' closing line ('total images/sec: N' between two rules of
    dashes; N = images of the measured steps / their loop's wall time), so its log parsers read ours.
    Nothing for a failed configuration."""
    if not result.ok:
        return []
    spread = stats_lib.step_distribution(result.measurement.step_times_s)
    line = (
        f"  latency: p50 {spread.p50_s:.4f} s, p90 {spread.p90_s:.4f} s, p99 {spread.p99_s:.4f} s, "
        f"jitter {spread.jitter_s:.4f} s (1.4826 x MAD)"
    )
    if spread.mean is not None:
        mean = spread.mean
        line += (
            f"; mean {mean.mean:.4f} s, standard error {mean.standard_error:.4f} s, 95% CI "
            f"{mean.low:.4f} to {mean.high:.4f} s (t, {mean.df + 1} batch means)"
        )
    rule = "-" * 64
    return [line, rule, f"total images/sec: {result.stats.total_images_per_sec:.2f}", rule]


def _batch_words(result: BenchmarkResult) -> str:
    """'batch 8', or with several replicas 'global batch 16 = 2 replicas x 8; 25.10 per replica'
    and the scaling efficiency when known."""
    config = result.config
    if not config.data_parallel:
        return f"batch {config.batch_size}"
    words = (
        f"global batch {config.global_batch_size} = {config.replicas} replicas x {config.batch_size}; "
        f"{result.stats.images_per_sec / config.replicas:.2f} per replica"
    )
    if result.scaling_efficiency is not None:
        words += f"; scaling efficiency {100 * result.scaling_efficiency:.1f}%"
    return words


def cost_lines(result: BenchmarkResult) -> list[str]:
    """Work, rate, efficiency, memory (and XLA/trace facts) of a measured result, as lines."""
    cost = result.cost
    if cost is None:
        return []
    extra = result.extra
    lines = []
    if cost.gflop_per_image is not None:
        line = f"  cost: {cost.gflop_per_image:.3f} GFLOP/image, {cost.achieved_tflops:.3f} TFLOP/s achieved"
        probe = extra.peak_probe
        if probe and cost.efficiency is not None:
            line += (
                f"; probe {probe.best_tflops:.3f} TFLOP/s ({probe.precision} matmul "
                f"{probe.matrix_size}x{probe.matrix_size}): efficiency "
                f"{100 * cost.efficiency:.1f}%"
            )
        lines.append(line)
    datasheet = extra.datasheet_peak
    if datasheet and cost.efficiency_vs_datasheet is not None:
        lines.append(
            f"  datasheet: {datasheet.model} {datasheet.tflops:g} TFLOP/s "
            f"({datasheet.basis}): {100 * cost.efficiency_vs_datasheet:.1f}% of it"
        )
    if extra.peak_memory:
        lines.append(
            f"  peak memory: {format_bytes(extra.peak_memory.bytes) or 'n/a'} ({extra.peak_memory.label})"
        )
    facts = []
    if result.config.xla:
        words = {True: "compiled (its code ran all of the step it marked)",
                 False: "NOT compiled (" + _uncompiled(extra.xla_uncompiled) + ")"}
        facts.append("XLA: " + words.get(extra.xla_compiled, "unchecked"))
    executed = extra.executed_layout
    if executed and executed != result.config.data_format:  # never expected: the record says so
        facts.append(f"layout: {result.config.data_format} asked, {executed} RAN")
    if (extra.loss_scale or "none") != "none":
        facts.append(f"loss scale {extra.loss_scale}" + _scale_values(extra.numerics))
    if extra.trace_file:
        facts.append(f"trace of the last burn-in step: {extra.trace_file}")
    if facts:
        lines.append("  " + "; ".join(facts))
    return lines


def _uncompiled(ops: dict | None) -> str:
    """'ran as TensorFlow kernels: Unique x1' or 'no compiled code ran'."""
    if not ops:
        return "no compiled code ran"
    return "ran as TensorFlow kernels: " + ", ".join(f"{op} x{count}" for op, count in sorted(ops.items()))


def _scale_values(numerics) -> str:
    """' 2048' (a dynamic scale steady over the measured steps) or ' 4096 -> 2048', or ''."""
    before, after = numerics.loss_scale_before, numerics.loss_scale_after
    if before is None:
        return ""
    return f" {before:g}" if before == after else f" {before:g} -> {after:g}"


def setup_line(phases_s: dict) -> str:
    """One line with the time spent outside the measured steps, or '' if nothing is known."""
    parts = [f"{label} {phases_s[key]:.2f} s" for key, label in SETUP_PHASES if key in phases_s]
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


def render(results: Sequence[BenchmarkResult], output_format: str, table_format: str = "github") -> str:
    """The final output in the chosen format.

    Args:
      results: results in sweep order.
      output_format: 'table', 'json' (JSON Lines) or 'csv'.
      table_format: tabulate format for 'table'.

    Returns:
      The text, ending without a newline.

    Raises:
      ValueError: for another format.
    """
    if output_format == "table":
        return table.table(results, table_format)
    if output_format == "json":
        return records.json_lines(results)
    if output_format == "csv":
        return records.csv_text(results).rstrip("\n")
    raise ValueError(f"output format {output_format!r}: choose from {', '.join(OUTPUT_FORMATS)}")
