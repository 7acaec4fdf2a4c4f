"""The verdict table that ends the output of a sweep with real data: per configuration that runs a
model on real data, images/sec with real data, with synthetic data, of the pipeline alone, and
whether the step is input-bound (the rule is `bench.results.verdict`'s). No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

import tabulate

from bench.core import axes
from bench.core.config import BenchmarkConfig
from bench.results import verdict as verdict_lib
from bench.results.result import BenchmarkResult

TITLE = "Does the input pipeline keep up?"


def _rate(figure: verdict_lib.Figure) -> str:
    return f"{figure.images_per_sec:.2f}" if figure.images_per_sec is not None else f"({figure.missing})"


def verdict_lines(
    results: Sequence[BenchmarkResult], not_run: Sequence[BenchmarkConfig] = (), table_format: str = "github"
) -> list[str]:
    """The title, the table and its footnote; [] when no configuration runs a model on real data."""
    found = verdict_lib.verdicts(results, not_run)
    if not found:
        return []
    configs = [item.config for item in found]
    shown = axes.shown(configs)
    headers = [axis.header for axis in shown] + [
        "Real data (img/s)", "Synthetic (img/s)", "Pipeline alone (img/s)", "Real / synthetic", "Verdict"]
    rows = []
    for item in found:
        ratio = "" if item.slowdown is None else f"{1 - item.slowdown:.2f}"
        rows.append([axis.cell(axis.of(item.config)) for axis in shown]
                    + [_rate(item.real), _rate(item.synthetic), _rate(item.pipeline), ratio, item.text])
    text = tabulate.tabulate(rows, headers=headers, tablefmt=table_format, disable_numparse=True)
    margin = f"{100 * verdict_lib.INPUT_BOUND_MARGIN:g}%"
    note = (f"Verdict: {verdict_lib.INPUT_BOUND} where real data is more than {margin} slower than "
            f"synthetic data, else {verdict_lib.KEEPS_UP}. Pipeline alone: --mode input, the training "
            "pipeline with the same data, batch, image size and preprocessing (no model).")
    return ["", TITLE, "", *text.splitlines(), "", note]
