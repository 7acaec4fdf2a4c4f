"""The per-part tables `python -m bench compare` prints after its comparison when the files hold
`--breakdown` records: per configuration, each part's op time per step in every file, its share,
and the ratio of each file's to the baseline's (`bench.results.breakdown_changes`). No TensorFlow.
"""

from __future__ import annotations

import tabulate

from bench.results.breakdown_changes import changes
from bench.results.compare import Comparison

TITLE = "Where the time changed (--breakdown: op time per step by part)"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _share(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def breakdown_lines(result: Comparison, table_format: str = "github") -> list[str]:
    """The title and one table per configuration with breakdowns to compare ([] without any)."""
    found = changes(result)
    if not found:
        return []
    names = [file.name for file in result.files]
    lines = ["", TITLE]
    for config in found:
        headers = ["Part"]
        for index, name in enumerate(names):
            headers += [f"{name} ms", "%"] + (["vs base"] if index else [])
        rows = []
        for part in config.parts:
            row = [part.name]
            for index in range(len(names)):
                row += [_ms(part.ms[index]), _share(part.shares[index])]
                if index:
                    row.append(_ratio(part.ratio(index)))
            rows.append(row)
        totals = ["op time"]
        for index, item in enumerate(config.breakdowns):
            totals += [_ms(item.op_ms) if item else "", ""]
            if index:
                base = config.breakdowns[0].op_ms
                totals.append(_ratio(item.op_ms / base) if item and base else "")
        lines += ["", config.label]
        lines += tabulate.tabulate(rows + [totals], headers=headers, tablefmt=table_format,
                                   disable_numparse=True).splitlines()
    lines.append("vs base: the part's op time in that file / in the baseline (below 1: it got faster).")
    return lines
