"""The quality side of `python -m bench compare`: each file's accuracy and each compared file's
agreement with fp32 beside its speed-up, and the line saying which axes were matched across
(`bench.results.cross_match`). No TensorFlow.
"""

from __future__ import annotations

from bench.core.flag_names import FLAG_OF_FIELD
from bench.results.compare import Comparison, Row


def _has(result: Comparison, index: int, what: str) -> bool:
    return any(row.quality and getattr(row.quality[index], what, None) is not None for row in result.rows)


def _columns(result: Comparison) -> list[tuple[int, str]]:
    """(file index, 'accuracy' or 'agreement') of every quality column the table shows."""
    count = len(result.files)
    columns = [(index, "accuracy") for index in range(count) if _has(result, index, "accuracy")]
    return columns + [(index, "agreement") for index in range(1, count) if _has(result, index, "agreement")]


def headers(result: Comparison) -> list[str]:
    """The quality columns' headers (none when no record ran an untimed pass)."""
    names = [file.name for file in result.files]
    words = {"accuracy": "top-1 % (95% CI)", "agreement": "agreement with fp32"}
    return [f"{names[index]}: {words[what]}" for index, what in _columns(result)]


def cells(result: Comparison, row: Row) -> list[str]:
    """The row's quality cells: '75.60 (75.22-75.98)'; 'top-1 99.80%, logits error 0.0041'."""
    found = []
    for index, what in _columns(result):
        facts = row.quality[index] if row.quality else None
        value = getattr(facts, what, None)
        if value is None:
            found.append("")
        elif what == "accuracy":
            low, high = value.top1_interval
            found.append(f"{100 * value.top1:.2f} ({100 * low:.2f}-{100 * high:.2f})")
        else:
            error = "n/a" if value.mean_relative_error is None else f"{value.mean_relative_error:.3g}"
            found.append(f"top-1 {100 * value.top1_agreement:.2f}% of {value.images:,}, logits error {error}")
    return found


def across_line(result: Comparison) -> list[str]:
    """'Matched across --precision: base.jsonl fp32, new.jsonl bf16 (...)', or nothing."""
    if not result.across:
        return []
    parts = []
    for field in result.across:
        values = [f"{file.name} {_word(getattr(file.results[0].config, field))}" for file in result.files]
        parts.append(f"{FLAG_OF_FIELD.get(field, field)}: {', '.join(values)}")
    return [f"Matched across {'; '.join(parts)} (the files share no configuration otherwise); agreement: "
            "the compared file's answers against an fp32 graph's on the same weights and images."]


def _word(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def quality_dicts(row: Row, index: int) -> dict:
    """The baseline's and file `index`'s quality facts for the JSON and CSV entries (empty without)."""
    found = {}
    for key, position in (("baseline_quality", 0), ("compared_quality", index)):
        facts = row.quality[position] if row.quality else None
        if facts is not None:
            found[key] = facts.to_dict()
    return found
