"""Matching configurations across result files, and what a comparison holds (synthetic records)."""

import math

import pytest

from bench.results import compare, records, significance
from bench.results.result import Failure, Repeat


def steps(rng, mean_s, size=40, spread=0.03):
    return list(rng.lognormal(math.log(mean_s), spread, size=size))


@pytest.fixture
def write(tmp_path):
    """write(name, results) -> the path of a JSON Lines file holding their records."""

    def write_file(name, results):
        path = tmp_path / name
        path.write_text("".join(records.json_line(result) + "\n" for result in results))
        return str(path)

    return write_file


def test_configurations_are_matched_by_settings_and_compared_with_the_baseline(rng, make_measured, write):
    base = write("base.jsonl", [make_measured(50, 8, "forward", steps(rng, 0.10)),
                                make_measured(101, 8, "forward", steps(rng, 0.20)),
                                make_measured(50, 8, "forward", steps(rng, 0.10), precision="bf16")])
    new = write("new.jsonl", [make_measured(101, 8, "forward", steps(rng, 0.22)),  # order differs
                              make_measured(50, 8, "forward", steps(rng, 0.09)),
                              make_measured(50, 16, "forward", steps(rng, 0.19))])
    result = compare.compare_files(compare.load([base, new]))
    assert [(row.config.depth, row.config.precision) for row in result.rows] == [(50, "fp32"), (101, "fp32")]
    assert [row.comparisons[0].verdict for row in result.rows] == [significance.FASTER, significance.SLOWER]
    ratios = [row.comparisons[0].ratio for row in result.rows]
    assert result.geometric_mean(1) == pytest.approx(math.sqrt(ratios[0] * ratios[1]))
    assert result.verdicts(1) == {significance.FASTER: 1, significance.SLOWER: 1, significance.SAME: 0}
    assert [(config.batch_size, config.precision, held) for config, held in result.missing] == [
        (8, "bf16", ["base.jsonl"]), (16, "fp32", ["new.jsonl"])]
    assert result.environment == [] and result.settings == []


def test_every_record_of_a_configuration_is_a_process(rng, make_measured, make_failed, write):
    runs = [make_measured(50, 8, "forward", steps(rng, 0.1 * offset)) for offset in (0.98, 1.0, 1.02)]
    for index, run in enumerate(runs, start=1):
        run.repeat = Repeat(index, 4)
    lost = make_failed(50, 8, "forward", Failure("oom", "OOM"))
    lost.repeat = Repeat(4, 4)
    base = write("base.jsonl", [*runs, lost])
    single = write("single.jsonl", [make_measured(50, 8, "forward", steps(rng, 0.1))])
    result = compare.compare_files(compare.load([base, single]))
    (row,) = result.rows
    assert (row.samples[0].processes, row.samples[0].failed, row.samples[0].unit) == (
        3, 1, significance.UNIT_PROCESS)
    assert row.samples[1].unit == significance.UNIT_BLOCK and row.samples[1].units == 10
    assert row.comparisons[0].verdict == significance.SAME


def test_environments_and_settings_that_differ_are_listed(rng, make_measured, write):
    base = make_measured(50, 8, "forward", steps(rng, 0.1))
    new = make_measured(50, 8, "forward", steps(rng, 0.1), intra_op_threads=2, peak_probe=False,
                        momentum=0.5)
    new.environment["tensorflow_version"] = "2.22.0"
    result = compare.compare_files(compare.load([write("a.jsonl", [base]), write("b.jsonl", [new])]))
    assert result.environment == [("TensorFlow", ["2.21.0", "2.22.0"])]
    # One vocabulary: each setting as the user types it, the flag and its value.
    assert result.settings == [("--intra-op-threads", ["default", "2"]), ("momentum", ["0.9", "0.5"]),
                               ("--no-peak-probe", ["not given", "given"])]


def test_the_gate_counts_only_significant_slowdowns_beyond_the_limit(rng, make_measured, write):
    base = write("base.jsonl", [make_measured(50, 8, "forward", steps(rng, 0.100)),
                                make_measured(101, 8, "forward", steps(rng, 0.200))])
    new = write("new.jsonl", [make_measured(50, 8, "forward", steps(rng, 0.112)),  # ~11% slower
                              make_measured(101, 8, "forward", steps(rng, 0.204))])
    result = compare.compare_files(compare.load([base, new]))
    assert [(row.config.depth, index) for row, index in result.slower_than(5)] == [(50, 1)]
    assert result.slower_than(20) == []


def test_a_configuration_failed_in_one_file_is_shown_but_not_compared(rng, make_measured, make_failed, write):
    base = write("base.jsonl", [make_measured(50, 8, "forward", steps(rng, 0.1))])
    new = write("new.jsonl", [make_failed(50, 8, "forward", Failure("oom", "OOM"))])
    (row,) = compare.compare_files(compare.load([base, new])).rows
    assert row.samples[1] is None and row.present == [True, True] and row.comparisons == [None]


@pytest.mark.parametrize("content, message", [
    (None, "missing.jsonl: no such file"),
    ("", "empty.jsonl: no benchmark records in it"),
    ("not json\n", "bad.jsonl:1: not a benchmark record"),
    (b"\xff\xfe\x00binary", "binary.jsonl: not a text file (invalid start byte at byte 0)"),
])
def test_unreadable_files_are_named_in_one_line(tmp_path, content, message):
    name = message.split(":")[0]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(compare.CompareError) as error:
        compare.load([str(path)])
    assert message in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(compare.CompareError, match="a folder"):
        compare.load([str(tmp_path)])


def test_files_without_a_configuration_in_common_are_refused(rng, make_measured, write):
    base = write("base.jsonl", [make_measured(50, 8, "forward", steps(rng, 0.1))])
    other = write("other.jsonl", [make_measured(101, 8, "train", steps(rng, 0.3))])
    with pytest.raises(compare.CompareError, match=r"no configuration in common between .*base.jsonl "
                       r"\(resnet_v2_50 batch 8 forward\) and .*other.jsonl \(resnet_v2_101 batch 8 train\)"):
        compare.compare_files(compare.load([base, other]))


def test_files_of_the_same_name_in_different_folders_are_named_by_path(rng, make_measured, tmp_path):
    paths = []
    for folder in ("old", "new"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "results.jsonl"
        path.write_text(records.json_line(make_measured(50, 8, "forward", steps(rng, 0.1))) + "\n")
        paths.append(str(path))
    assert [file.name for file in compare.load(paths)] == paths


def test_old_single_process_records_compare(data_path):
    path = data_path("schema1_records.jsonl")
    result = compare.compare_files(compare.load([path, path]))
    assert len(result.rows) == 6 and result.missing == []
    measured = [row for row in result.rows if row.comparisons[0]]
    assert len(measured) == 5  # the XLA train row failed in both
    assert all(row.comparisons[0].verdict == significance.SAME and row.comparisons[0].ratio == 1
               for row in measured)
