"""An fp32 file against a bf16 file: matched across the precision, each row with its speed-up and
the agreement with fp32 the bf16 run measured."""

import dataclasses
import math

import numpy as np
import pytest

from bench.output import compare_output
from bench.results import compare, cross_match, records
from bench.results.extras import Extras
from bench.results.quality import Accuracy, Agreement, QualityFacts


def steps(mean_s, seed):
    return list(np.random.default_rng(seed).lognormal(math.log(mean_s), 0.03, size=40))


def write(tmp_path, name, results):
    path = tmp_path / name
    path.write_text("".join(records.json_line(result) + "\n" for result in results))
    return str(path)


def with_quality(result, quality):
    result.extra = dataclasses.replace(result.extra or Extras(), quality=quality)
    return result


@pytest.fixture
def files(tmp_path, make_measured):
    fp32 = [with_quality(make_measured(depth, 8, "forward", steps(0.2 * depth / 50, depth)),
                         QualityFacts(1000, 9.0, "checkpoint m", Accuracy(1000, 756, 928)))
            for depth in (50, 101)]
    bf16 = [with_quality(make_measured(depth, 8, "forward", steps(0.1 * depth / 50, depth + 1),
                                       precision="bf16"),
                         QualityFacts(1000, 12.0, "checkpoint m", Accuracy(1000, 755, 928),
                                      Agreement(1000, 996, 0.08, 0.004, 0.9999, 0.998)))
            for depth in (50, 101)]
    return write(tmp_path, "fp32.jsonl", fp32), write(tmp_path, "bf16.jsonl", bf16)


def test_files_of_one_precision_each_are_matched_across_it(files):
    result = compare.compare_files(compare.load(list(files)))
    assert result.across == ["precision"]
    assert [row.config.depth for row in result.rows] == [50, 101]
    assert all(row.comparisons[0].ratio == pytest.approx(2.0, rel=0.05) for row in result.rows)
    assert all(row.quality[1].agreement.same_top1 == 996 for row in result.rows)


def test_one_line_says_speed_up_and_agreement(files):
    result = compare.compare_files(compare.load(list(files)))
    lines = "\n".join(compare_output.table_lines(result)).splitlines()
    assert lines[1].startswith("Matched across --precision: fp32.jsonl fp32, bf16.jsonl bf16")
    header = lines[2]
    assert "fp32.jsonl: top-1 % (95% CI)" in header and "bf16.jsonl: agreement with fp32" in header
    row = next(line for line in lines if line.startswith("| 50 "))
    assert "faster" in row and "75.60 (72.84-78.16)" in row
    assert "top-1 99.60% of 1,000, logits error 0.004" in row


def test_json_entries_carry_both_files_quality(files):
    entries = compare_output.comparisons(compare.compare_files(compare.load(list(files))))
    assert entries[0]["compared_quality"]["agreement"]["top1_agreement"] == 0.996
    assert entries[0]["baseline_quality"]["accuracy"]["top1"] == 0.756


def test_files_that_share_configurations_are_matched_as_before(tmp_path, make_measured):
    base = write(tmp_path, "a.jsonl", [make_measured(50, 8, "forward", steps(0.1, 1)),
                                       make_measured(50, 8, "forward", steps(0.05, 2), precision="bf16")])
    new = write(tmp_path, "b.jsonl", [make_measured(50, 8, "forward", steps(0.1, 3), precision="bf16")])
    result = compare.compare_files(compare.load([base, new]))
    assert result.across == [] and [row.config.precision for row in result.rows] == ["bf16"]
    assert compare_output.table_lines(result)[1].startswith("|")  # no 'Matched across' line


def test_only_precision_and_xla_are_matched_across(make_measured):
    fifty, hundred = [make_measured(50, 8, "forward", [0.1])], [make_measured(101, 8, "forward", [0.1])]
    assert cross_match.across_fields([fifty, hundred]) == []
    xla = [make_measured(50, 8, "forward", [0.1], precision="bf16", xla=True)]
    assert cross_match.across_fields([fifty, xla]) == ["precision", "xla"]
