"""JSON Lines and CSV, and records written by the harness before its restructuring: they load,
re-serialise to the same records and render the same table and CSV as they did then."""

import csv
import io
import json
import re

import pytest

from bench.output import report, table
from bench.results import records


def test_json_line_is_standard_json(sweep_results):
    result = sweep_results[0]
    result.measurement.step_times_s[0] = 0.0  # a zero step would give inf images/sec elsewhere
    line = records.json_line(result)
    assert "\n" not in line and json.loads(line)["label"] == "resnet_v2_50 batch 8 forward"
    assert records.json_safe({"a": [float("inf"), 1.0], "b": float("nan")}) == {
        "a": [None, 1.0], "b": None}


def test_csv_has_header_and_one_row_per_configuration(sweep_results):
    rows = list(csv.DictReader(io.StringIO(records.csv_text(sweep_results))))
    assert len(rows) == len(sweep_results)
    assert rows[0]["config.depth"] == "50" and rows[0]["status"] == "ok"
    assert float(rows[1]["stats.mean_s"]) == sweep_results[1].stats.mean_s
    assert rows[3]["failure.message"].startswith("ResourceExhaustedError")
    assert rows[3]["stats.mean_s"] == ""
    assert "step_times_s" not in rows[0] and "failure.details" not in rows[3]


def test_json_lines_file_appends_and_reads_back(tmp_path, sweep_results):
    path = tmp_path / "results.jsonl"
    path.write_text("")
    sink = records.JsonLinesFile(str(path))
    for result in sweep_results[:2]:
        sink.write(result)
    # Readable before close: it was flushed.
    assert [r.config.depth for r in records.read_records(str(path))] == [50, 101]
    sink.close()
    sink = records.JsonLinesFile(str(path))
    sink.write(sweep_results[3])
    sink.close()
    loaded = records.read_records(str(path))
    assert [r.status for r in loaded] == ["ok", "ok", "failed"]
    assert loaded[1].stats == sweep_results[1].stats


def test_a_character_device_takes_records_without_fsync(sweep_results):
    sink = records.JsonLinesFile("/dev/null")
    sink.write(sweep_results[0])  # fsync would raise EINVAL here
    sink.close()


def test_a_line_that_is_not_a_record_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"config": {}, "status": "ok"}\n\nnot json\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:3: not a benchmark record"):
        records.read_records(str(path))


def test_records_read_back_with_their_json(tmp_path, sweep_results):
    path = tmp_path / "results.jsonl"
    path.write_text(records.json_lines(sweep_results[:2]) + "\n")
    pairs = records.read_records_with_json(str(path))
    assert [record["label"] for record, _ in pairs] == [r.config.label for r in sweep_results[:2]]
    assert [result.stats for _, result in pairs] == [r.stats for r in sweep_results[:2]]
    path.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match=r"results.jsonl:1: not a benchmark record"):
        records.read_records(str(path))
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    with pytest.raises(ValueError, match=r"results.jsonl: not a text file"):
        records.read_records(str(path))


@pytest.fixture(scope="module")
def schema1():
    """Records written by the harness before its restructuring (main of 2026-12-01, three
    --in-process sweeps on the CPU, tiny settings), with the tables, CSV and summary lines that
    version rendered from them."""
    import os

    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")

    def read(name):
        with open(os.path.join(folder, name), encoding="utf-8") as stream:
            return stream.read()

    return {"path": os.path.join(folder, "schema1_records.jsonl"),
            "table": read("schema1_table.txt"), "csv": read("schema1.csv"),
            "summaries": read("schema1_summaries.txt")}


def test_schema1_records_render_the_same_table_and_csv(schema1):
    results = records.read_records(schema1["path"])
    assert [r.status for r in results] == ["ok"] * 5 + ["failed"]
    # The file holds three sweeps (fp32 depths 50 and 101; fp16 train; an XLA train that failed).
    sweeps = [results[0:4], results[4:5], results[5:6]]
    assert "\n\n".join(table.table(sweep) for sweep in sweeps) + "\n" == schema1["table"]
    assert records.csv_text(results) == schema1["csv"]
    stamp = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+: ")  # the time the lines are printed
    summaries = [stamp.sub("", line) for result in results for line in report.summary_lines(result)]
    assert "\n".join(summaries) + "\n" == schema1["summaries"]


def test_schema1_records_serialise_to_the_same_records(schema1):
    with open(schema1["path"], encoding="utf-8") as stream:
        originals = [json.loads(line) for line in stream]
    results = records.read_records(schema1["path"])
    assert [json.loads(records.json_line(r)) for r in results] == originals
