"""What `python -m bench compare` prints: the table a person reads, or JSON / CSV for scripts.

The table has one row per configuration: its axes, images/sec in each file, and for each file after
the baseline the ratio to the baseline with its 95% interval and the verdict; below it the geometric
mean of the ratios, the environments and settings side by side where the files differ, and the
configurations not in every file. No TensorFlow.
"""

from __future__ import annotations

import csv
import io
import json
import math

import tabulate

from bench.core import axes
from bench.output import compare_quality
from bench.results import breakdown_changes, records, significance, stats
from bench.results.compare import Comparison, Row

METHOD = (
    "Welch's t-test at 5% on the log mean step time; observations: the process means where a file "
    f"has 2+ processes of a configuration, else {stats.BLOCKS} batch means of its steps"
)


BURST_MARK = " burst!"
BURST_NOTE = (
    "burst!: a process of the configuration in that file had a burst, a run of steps at a level of "
    "their own (a neighbour, throttling?); its figure includes them: see the record's bursts and "
    "warnings, or measure it again"
)


def render(
    result: Comparison,
    output_format: str,
    table_format: str = "github",
    percent: float | None = None,
    failing: list[tuple[Row, int]] | None = None,
) -> str:
    """The comparison as 'table', 'json' or 'csv' text (no trailing newline).

    Raises:
      ValueError: for another format.
    """
    if output_format == "table":
        return "\n".join(table_lines(result, table_format))
    if output_format == "json":
        return json.dumps(records.json_safe(as_dict(result, percent, failing or [])), indent=1)
    if output_format == "csv":
        buffer = io.StringIO()
        rows = [records.flatten_record(records.json_safe(item)) for item in comparisons(result)]
        writer = csv.DictWriter(
            buffer, fieldnames=list(dict.fromkeys(k for r in rows for k in r)), lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().rstrip("\n")
    raise ValueError(f"output format {output_format!r}: choose from table, json, csv")


def _images(sample: significance.Sample | None, present: bool) -> str:
    """'12.34', '12.34 (3 runs)', '12.34 (2 of 3 runs)', 'failed' or '' (not in the file);
    ' burst!' after the figure when a process of it had a burst."""
    if sample is None:
        return "failed" if present else ""
    runs = sample.processes + sample.failed
    mark = BURST_MARK if sample.bursts else ""
    if runs == 1:
        return f"{sample.images_per_sec:.2f}{mark}"
    counted = f"{sample.processes} of {runs}" if sample.failed else str(runs)
    return f"{sample.images_per_sec:.2f}{mark} ({counted} runs)"


def _ratio(comparison: significance.Comparison | None) -> str:
    if comparison is None:
        return ""
    if math.isnan(comparison.low):
        return f"{comparison.ratio:.3f}"
    return f"{comparison.ratio:.3f} ({comparison.low:.3f} to {comparison.high:.3f})"


def table_lines(result: Comparison, table_format: str = "github") -> list[str]:
    """The comparison for a person to read."""
    names = [file.name for file in result.files]
    configs = [row.config for row in result.rows]
    shown = axes.shown(configs)
    several = len(names) > 2
    headers = [axis.header for axis in shown] + [f"{name} (images/sec)" for name in names]
    for name in names[1:]:
        headers += (
            [f"{name}: ratio (95% CI)", f"{name}: verdict"] if several else ["Ratio (95% CI)", "Verdict"]
        )
    headers += compare_quality.headers(result)
    rows = []
    for row in result.rows:
        cells = [axis.cell(axis.of(row.config)) for axis in shown]
        cells += [_images(s, p) for s, p in zip(row.samples, row.present, strict=True)]
        for comparison in row.comparisons:
            cells += [_ratio(comparison), comparison.verdict if comparison else ""]
        rows.append(cells + compare_quality.cells(result, row))
    lines = [
        f"Baseline: {names[0]}; ratio = images/sec / the baseline's (above 1: faster), with its 95% CI.",
        *compare_quality.across_line(result),
        tabulate.tabulate(rows, headers=headers, tablefmt=table_format, disable_numparse=True),
        "",
    ]
    for index, name in enumerate(names[1:], start=1):
        mean = result.geometric_mean(index)
        if mean is not None:
            counts = ", ".join(f"{count} {verdict}" for verdict, count in result.verdicts(index).items())
            lines.append(
                f"Geometric mean of the ratios, {name} / {names[0]}: {mean:.3f} over "
                f"{sum(1 for row in result.rows if row.comparisons[index - 1])} configuration(s) ({counts})"
            )
    lines.append(f"Verdict: {METHOD}.")
    if any(sample and sample.bursts for row in result.rows for sample in row.samples):
        lines.append(f"{BURST_NOTE}.")
    for title, facts in (
        ("Environments that differ", result.environment),
        ("Settings that differ", result.settings),
    ):
        if facts:
            lines += ["", f"{title}:"]
            lines.append(
                tabulate.tabulate(
                    [[fact, *values] for fact, values in facts],
                    headers=["", *names],
                    tablefmt=table_format,
                    disable_numparse=True,
                )
            )
    if result.missing:
        moving = axes.varying([config for config, _ in result.missing] + configs)
        lines += ["", "Not in every file (not compared):"]
        lines += [
            f"  {axes.description(config, moving)}: only in {', '.join(held)}"
            for config, held in result.missing
        ]
    return lines


def _sample_dict(sample: significance.Sample | None, present: bool) -> dict:
    if sample is None:
        return {"present": present, "measured": False}
    interval = sample.images_per_sec_interval
    return {
        "present": True,
        "measured": True,
        "images_per_sec": sample.images_per_sec,
        "images_per_sec_ci": list(interval) if interval else None,
        "mean_step_s": sample.mean_s,
        "standard_error_s": sample.standard_error_s,
        "processes": sample.processes,
        "failed_processes": sample.failed,
        "processes_with_bursts": sample.bursts,
        "observations": sample.units,
        "observation": sample.unit,
    }


def comparisons(result: Comparison) -> list[dict]:
    """One dict per configuration and file after the baseline (the CSV rows, the JSON entries); with
    --breakdown records in both files, its "breakdown" against the baseline's (per part: CSV
    columns breakdown.parts.<part>.ratio, ...)."""
    by_row = {found.row: found for found in breakdown_changes.changes(result)}
    items = []
    for row_index, row in enumerate(result.rows):
        for index, comparison in enumerate(row.comparisons, start=1):
            parts = by_row.get(row_index)
            breakdown = parts.against_baseline(index) if parts is not None else None
            items.append(
                {
                    "label": row.config.label,
                    "config": {axis.field: axis.of(row.config) for axis in axes.AXES},
                    "baseline_file": result.files[0].path,
                    "file": result.files[index].path,
                    "baseline": _sample_dict(row.samples[0], row.present[0]),
                    "compared": _sample_dict(row.samples[index], row.present[index]),
                    "ratio": comparison.ratio if comparison else None,
                    "ratio_ci": [comparison.low, comparison.high] if comparison else None,
                    "p_value": comparison.p_value if comparison else None,
                    "verdict": comparison.verdict if comparison else None,
                    **compare_quality.quality_dicts(row, index),
                    **({"breakdown": breakdown} if breakdown is not None else {}),
                }
            )
    return items


def as_dict(result: Comparison, percent: float | None, failing: list[tuple[Row, int]]) -> dict:
    """The whole comparison as one JSON-ready dict."""
    names = [file.path for file in result.files]
    return {
        "baseline": names[0],
        "files": names,
        "method": METHOD,
        "confidence": 1 - significance.ALPHA,
        "comparisons": comparisons(result),
        "geometric_means": {names[i]: result.geometric_mean(i) for i in range(1, len(names))},
        "environment_differences": {
            fact: dict(zip(names, values, strict=True)) for fact, values in result.environment
        },
        "setting_differences": {
            flag: dict(zip(names, values, strict=True)) for flag, values in result.settings
        },
        "not_in_every_file": [
            {"label": config.label, "files": [f.path for f in result.files if f.name in held]}
            for config, held in result.missing
        ],
        "fail_if_slower_pct": percent,
        "slower_than_allowed": [{"label": row.config.label, "file": names[index]} for row, index in failing],
    }


def slower_line(result: Comparison, row: Row, index: int, percent: float) -> str:
    """'resnet_v2_50 batch 8 forward: 12.3% slower in new.jsonl than base.jsonl (95% CI 8.1% to
    16.0%), more than --fail-if-slower 5'."""
    comparison = row.comparisons[index - 1]
    moving = axes.varying([r.config for r in result.rows])
    return (
        f"{axes.description(row.config, moving)}: {100 * (1 - comparison.ratio):.1f}% slower in "
        f"{result.files[index].name} than {result.files[0].name} (95% CI {100 * (1 - comparison.high):.1f}% "
        f"to {100 * (1 - comparison.low):.1f}%), more than --fail-if-slower {percent:g}"
    )
