"""`--repeat N`: each configuration measured in N child processes, interleaved across the sweep, and
summarised over its processes.

The runs go A1 B1 C1 A2 B2 C2 ... (`interleave`), so a slow drift of the machine (clocks, a
neighbour starting) spreads over every configuration instead of landing on one. Every process gives
its own record with "repeat": {"index", "count"}; a failed process is recorded like any failure and
the others still count. The summary per configuration is the mean over its measured processes with
a 95% t interval (`bench.results.significance.Sample`), the spread between processes, and a warning when
they disagree more than their own step noise explains (`bench.results.significance.agreement`: an F test,
p < 0.01). Configurations are the same when every sweep axis is (`bench.results.grouping`). No TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import tabulate

from bench.core import axes
from bench.core.config import BenchmarkConfig
from bench.output import table
from bench.results import significance
from bench.results.grouping import group
from bench.results.result import BenchmarkResult, Repeat


def count_problem(count: int, in_process: bool) -> str | None:
    """Why `--repeat count` cannot run (one line), or None."""
    if count < 1:
        return f"--repeat {count}: must be a positive integer"
    if count > 1 and in_process:
        return f"--repeat {count}: each repeat is its own child process; drop --in-process"
    return None


def interleave(configs: Sequence[BenchmarkConfig], count: int) -> list[tuple[BenchmarkConfig, Repeat | None]]:
    """The runs of a sweep: every configuration once, then every configuration again, `count` times.

    Args:
      configs: the configurations, in sweep order.
      count: processes per configuration (1: a plain sweep, no Repeat).

    Returns:
      (configuration, Repeat or None) per run, in the order they run.
    """
    if count == 1:
        return [(config, None) for config in configs]
    return [(config, Repeat(index, count)) for index in range(1, count + 1) for config in configs]


class Schedule:
    """The runs of a sweep and which repeat each is; tags each result as it arrives, in run order."""

    def __init__(self, configs: Sequence[BenchmarkConfig], count: int):
        self.count = count
        self.runs = interleave(configs, count)
        self.distinct_configs = list(configs)
        self._delivered = 0

    @property
    def configs(self) -> list[BenchmarkConfig]:
        """What the sweep runs, in order (each configuration `count` times)."""
        return [config for config, _ in self.runs]

    @property
    def repeated(self) -> bool:
        return self.count > 1

    def start_note(self, position: int) -> str:
        """' (repeat 2/3)' for the run at 1-based `position`, '' without repeats."""
        repeat = self.runs[position - 1][1]
        return f" (repeat {repeat.index}/{repeat.count})" if repeat else ""

    def tag(self, result: BenchmarkResult) -> None:
        """Gives the next result its Repeat (results arrive in run order); without repeats there
        is none to give (and a batch search delivers several results per run)."""
        if not self.repeated:
            return
        result.repeat = self.runs[self._delivered][1]
        self._delivered += 1

    def header_line(self) -> str:
        """The header line saying how the runs are ordered ('' without repeats)."""
        if not self.repeated:
            return ""
        return (
            f"Repeats: each configuration in {self.count} child processes, interleaved (every "
            f"configuration once, then again): {len(self.runs)} processes in all"
        )


def _run_cell(result: BenchmarkResult, baseline: float | None) -> str:
    return f"{result.repeat.index}/{result.repeat.count}" if result.repeat else ""


def process_table(results: Sequence[BenchmarkResult], table_format: str = "github") -> str:
    """The per-process table: one row per process, grouped by configuration, with a Run column
    (no Relative column: see the summary for figures over processes)."""
    ordered = [result for members in group(results) for result in members]
    figures = [column for column in table.FIGURE_COLUMNS if column.header != "Relative"]
    columns = table.axis_columns([r.config for r in ordered]) + [table.Column("Run", _run_cell)] + figures
    return table.table(ordered, table_format, columns)


def summary_lines(results: Sequence[BenchmarkResult], table_format: str = "github") -> list[str]:
    """The summary over processes: a table (one row per configuration), its footnote, warnings."""
    groups = group(results)
    configs = [members[0].config for members in groups]
    shown = axes.shown(configs)
    moving = axes.varying(configs)
    rows, warnings = [], []
    for members in groups:
        sample = significance.sample_of(members)
        found = significance.agreement(members)
        cells = [axis.cell(axis.of(members[0].config)) for axis in shown]
        rows.append(cells + _figures(members, sample, found))
        warnings += _warnings(members, found, axes.description(members[0].config, moving))
    headers = [axis.header for axis in shown] + [
        "Runs ok",
        "Images/sec (over runs)",
        "95% CI",
        "Between runs",
        "Step noise",
        "Runs agree",
    ]
    lines = [
        "",
        "Summary over repeated processes:",
        tabulate.tabulate(rows, headers=headers, tablefmt=table_format, disable_numparse=True),
        "Images/sec: batch / the mean over measured processes of their mean step time; 95% CI: t "
        "interval over processes (over batch means of the steps when one process measured); "
        "Between runs: sd of the process means / their mean; Step noise: what the steps' own noise "
        "predicts for it; Runs agree: F test of the two, 'no' when p < "
        f"{significance.DISAGREEMENT_ALPHA:g}.",
    ]
    return lines + [f"WARNING: {warning}" for warning in warnings]


def _figures(
    members: list[BenchmarkResult], sample: significance.Sample | None, found: significance.Agreement | None
) -> list[str]:
    """The summary row's figure cells."""
    runs = f"{sum(r.ok for r in members)} of {len(members)}"
    if sample is None:
        return [runs, "", "", "", "", ""]
    interval = sample.images_per_sec_interval
    ci = ""
    if interval:  # no upper bound when the interval of the mean step time reaches down to 0
        ci = (
            f"{interval[0]:.2f} or more"
            if math.isinf(interval[1])
            else f"{interval[0]:.2f} to {interval[1]:.2f}"
        )
    if found is None:
        return [runs, f"{sample.images_per_sec:.2f}", ci, "", "", ""]
    agree = f"no (p = {found.p_value:.2g})" if found.disagree else "yes"
    return [
        runs,
        f"{sample.images_per_sec:.2f}",
        ci,
        f"{100 * found.between_cv:.1f}%",
        f"{100 * found.expected_cv:.1f}%",
        agree,
    ]


def _warnings(members: list[BenchmarkResult], found: significance.Agreement | None, name: str) -> list[str]:
    """Warnings about one configuration's processes: failures, disagreement."""
    lines = []
    failed = [r for r in members if not r.ok]
    if failed:
        what = "; ".join(f"run {_run_cell(r, None) or '?'}: {r.failure.short}" for r in failed)
        lines.append(
            f"{name}: {len(failed)} of {len(members)} processes failed ({what}); the summary uses "
            f"the {len(members) - len(failed)} that measured"
        )
    if found is not None and found.disagree:
        lines.append(
            f"{name}: its processes disagree more than their step noise explains (sd of the process "
            f"means {100 * found.between_cv:.1f}% of the mean step time, step noise alone "
            f"{100 * found.expected_cv:.1f}%; F = {found.f:.1f} on {found.df_between} and "
            f"{found.df_within} df, p = {found.p_value:.2g}): something differed between processes "
            "(memory layout, clocks, neighbours); trust the interval over processes, not one process"
        )
    return lines
