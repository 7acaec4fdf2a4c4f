"""Per-part changes between result files with --breakdown, and compare's tables of them."""

import pytest

from bench.output import breakdown_compare
from bench.results import compare
from bench.results.breakdown import Breakdown, Part
from bench.results.breakdown_changes import changes
from bench.results.extras import Extras


def found(block3_ms):
    return Breakdown(parts=[Part("root", 1.0, 1.0), Part("block3", block3_ms, 2 * block3_ms),
                            Part("other", 1.0)], traced_steps=3)


@pytest.fixture
def files(tmp_path, make_measured, records_file):
    def write(name, block3_ms):
        results = []
        for depth in (50, 101):
            result = make_measured(depth, 8, "forward", [0.01] * 3, breakdown="blocks")
            result.extra = Extras(breakdown=found(block3_ms * depth / 50) if block3_ms else None)
            results.append(result)
        return records_file(name, results)
    return [write("base.jsonl", 10.0), write("new.jsonl", 5.0), write("none.jsonl", 0)]


def test_each_part_is_compared_with_the_baselines(files):
    comparison = compare.compare_files(compare.load(files[:2]))
    found_changes = changes(comparison)
    assert [item.label for item in found_changes] == ["resnet_v2_50 batch 8 forward",
                                                      "resnet_v2_101 batch 8 forward"]
    block3 = found_changes[0].parts[1]
    assert block3.name == "block3" and block3.ms == [30.0, 15.0] and block3.ratio(1) == 0.5
    assert block3.shares == [pytest.approx(30 / 33), pytest.approx(15 / 18)]
    assert found_changes[0].parts[0].ratio(1) == 1.0


def test_compare_prints_a_table_per_configuration(files, table_rows):
    lines = breakdown_compare.breakdown_lines(compare.compare_files(compare.load(files[:2])))
    assert lines[1] == breakdown_compare.TITLE
    first = lines.index("resnet_v2_50 batch 8 forward")
    rows = table_rows("\n".join(lines[first + 1:first + 7]))
    assert [row["Part"] for row in rows] == ["root", "block3", "other", "op time"]
    assert rows[1]["base.jsonl ms"] == "30.00" and rows[1]["new.jsonl ms"] == "15.00"
    assert rows[1]["vs base"] == "0.50x" and rows[3]["vs base"] == f"{18 / 33:.2f}x"


def test_files_without_breakdowns_add_no_table(files):
    assert breakdown_compare.breakdown_lines(compare.compare_files(compare.load([files[0], files[2]]))) == []
    assert changes(compare.compare_files(compare.load([files[2], files[0]]))) == []


def test_json_and_csv_carry_each_parts_change(files):
    """compare --format json / csv: each comparison entry whose files both have a breakdown carries
    it against the baseline's; the CSV has a column per part and figure."""
    import csv
    import io
    import json

    from bench.output import compare_output

    comparison = compare.compare_files(compare.load(files[:2]))
    entries = json.loads(compare_output.render(comparison, "json"))["comparisons"]
    first = entries[0]["breakdown"]
    assert (first["baseline_op_ms"], first["op_ms"]) == (33.0, 18.0)
    assert first["op_ratio"] == pytest.approx(18 / 33)
    assert list(first["parts"]) == ["root", "block3", "other"]
    assert first["parts"]["block3"] == {
        "baseline_ms": 30.0, "ms": 15.0, "baseline_share": pytest.approx(30 / 33),
        "share": pytest.approx(15 / 18), "ratio": 0.5}
    deeper = entries[1]["breakdown"]["parts"]["block3"]  # resnet_v2_101's own parts
    assert deeper["baseline_ms"] == pytest.approx(3 * 10.0 * 101 / 50)
    (row, _) = list(csv.DictReader(io.StringIO(compare_output.render(comparison, "csv"))))
    assert float(row["breakdown.parts.block3.ratio"]) == 0.5 and float(row["breakdown.op_ms"]) == 18.0
    # Without breakdowns in the other file, no key and no column.
    plain = compare.compare_files(compare.load([files[0], files[2]]))
    assert "breakdown" not in json.loads(compare_output.render(plain, "json"))["comparisons"][0]
    assert "breakdown.op_ms" not in compare_output.render(plain, "csv").splitlines()[0]
