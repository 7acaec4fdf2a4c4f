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
