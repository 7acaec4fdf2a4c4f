"""Header, summary lines, the table, JSON records and CSV, from fixed step times."""

import csv
import io
import json
import re

import pytest

from bench import report
from bench.config import BenchmarkConfig
from bench.timing import RECORD_SCHEMA, BenchmarkResult

CLASSIC_SUMMARY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (Forward|Forward-backward|Train) across (\d+) steps, "
    r"(\d+\.\d{3}) \+/- (\d+\.\d{3}) sec / batch$"
)


def test_classic_summary_line_is_first_and_parsable(make_measured):
    result = make_measured(50, 8, "forward-backward", [0.25, 0.35] * 6)
    lines = report.summary_lines(result)
    match = CLASSIC_SUMMARY.match(lines[0])
    assert match, lines[0]
    assert match.groups() == ("Forward-backward", "12", "0.300", "0.050")
    assert "26.67 images/sec (batch 8)" in lines[1]
    assert "25,568,360 parameters" in lines[1]


def test_summary_warns_about_few_steps_and_failure_is_one_line(make_measured):
    lines = report.summary_lines(make_measured(50, 1, "forward", [0.1, 0.1]))
    assert any(line.startswith("WARNING: only 2 measured steps") for line in lines)
    failure_lines = report.summary_lines(
        BenchmarkResult.from_record(_failed_record()))
    assert len(failure_lines) == 1 and failure_lines[0].endswith("FAILED: killed by signal 9")


def _failed_record():
    return {
        "config": BenchmarkConfig(depth=50).to_dict(), "status": "failed", "stats": None,
        "failure": {"kind": "signal", "message": "killed by signal 9", "signal": 9},
    }


def test_header_names_versions_device_cuda_images_and_threads(environment_info):
    configs = [BenchmarkConfig(depth=d, batch_size=8, image_size=64, intra_op_threads=2,
                               data_format="NHWC") for d in (50, 101)]
    text = "\n".join(report.header_lines(environment_info, configs, isolate=True))
    assert "TensorFlow 2.21.0" in text
    assert "CPU: Test CPU (2 cores, 2 usable)" in text
    assert "CUDA 12.5.1, cuDNN 9" in text
    assert "64x64x3" in text and "data format NHWC" in text
    assert "intra-op 2, inter-op TensorFlow default" in text
    assert "depth 50, 101" in text and "one child process each" in text


def _rows(table_text):
    """Parses a github-format table into a list of dicts."""
    lines = [line for line in table_text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, [cell.strip() for cell in line.strip("|").split("|")], strict=True))
            for line in lines[2:]]


def test_table_has_one_row_per_configuration_and_relative_throughput(sweep_results):
    rows = _rows(report.table(sweep_results))
    assert [(r["Depth"], r["Mode"]) for r in rows] == [
        ("50", "forward"), ("101", "forward"), ("50", "train"), ("101", "train"),
        ("152", "forward")]
    first, second, train, oom, killed = rows
    assert first["Mean ± sd (ms)"] == "100.0 ± 0.0"
    assert first["Images/sec"] == "80.00" and first["Relative"] == "1.00"
    assert second["Median (ms)"] == "200.0"
    assert second["Relative"] == "0.50"  # 40 images/sec against depth 50's 80
    assert train["Relative"] == "1.00"  # its own baseline: no other train row was measured
    assert (oom["Status"], oom["Images/sec"], oom["Relative"]) == ("OOM", "", "")
    assert killed["Status"] == "killed by signal 9 (SIGKILL)"


def test_table_columns_can_grow(make_measured):
    extra = report.Column("Params", lambda result, baselines: result.param_count)
    text = report.table([make_measured(50, 1, "forward", [0.1])], "github",
                        report.TABLE_COLUMNS + [extra])
    assert _rows(text)[0]["Params"] == "25568360"


def test_json_record_schema_and_round_trip(sweep_results, environment_info):
    result = sweep_results[1]
    record = json.loads(report.json_line(result))
    assert record["schema"] == RECORD_SCHEMA
    assert set(record) == {
        "schema", "label", "status", "started_at", "config", "environment", "model", "stats",
        "warnings", "step_times_s", "burn_in_times_s", "phases_s", "failure", "extra", "cost"}
    assert record["config"]["depth"] == 101 and record["config"]["batch_size"] == 8
    assert record["environment"] == environment_info
    assert record["model"] == {"name": "resnet_v2_101", "param_count": 25_568_360}
    assert record["step_times_s"] == result.measurement.step_times_s
    assert record["stats"]["cold_step_s"] == 1.0  # the first burn-in step
    # Every statistic can be recomputed from the raw times in the record.
    assert BenchmarkResult.from_record(record).stats.to_dict() == record["stats"]
    failed = json.loads(report.json_line(sweep_results[3]))
    assert failed["status"] == "failed" and failed["stats"] is None
    assert failed["failure"]["kind"] == "oom"


def _with_cost(result, flops_per_step, probe_tflops, peak_bytes):
    result.extra.update(
        flops={"per_step": flops_per_step, "by_op_type": {}, "counted_on": "the timed graph"},
        peak_probe={"precision": "fp32", "device": "cpu", "matrix_size": 2048,
                    "chain_length": 2, "run_times_s": [0.1], "best_tflops": probe_tflops},
        peak_memory={"bytes": peak_bytes, "kind": "process_peak_rss", "label": "process peak RSS"})
    return result


def test_cost_is_derived_from_flops_probe_and_step_times(make_measured):
    # 8 images x 5 GFLOP in a mean step of 0.1 s: 0.4 TFLOP/s; probe 0.8: efficiency 50%.
    result = _with_cost(make_measured(50, 8, "forward", [0.1, 0.1]), 40e9, 0.8, 3 * 1024 ** 3)
    cost = result.cost
    assert cost["gflop_per_image"] == pytest.approx(5.0)
    assert cost["achieved_tflops"] == pytest.approx(0.4)
    assert cost["efficiency"] == pytest.approx(0.5)
    assert cost["datasheet_tflops"] is None and cost["efficiency_vs_datasheet"] is None
    record = json.loads(report.json_line(result))
    assert record["cost"] == cost
    assert BenchmarkResult.from_record(record).cost == cost  # recomputed from the raw facts
    row = _rows(report.table([result]))[0]
    assert (row["GFLOP/img"], row["TFLOP/s"], row["Eff. %"]) == ("5.00", "0.400", "50.0")
    assert row["Peak mem"] == "3.00 GiB *"
    csv_row = next(csv.DictReader(io.StringIO(report.csv_text([result]))))
    assert float(csv_row["cost.efficiency"]) == pytest.approx(0.5)
    assert csv_row["extra.peak_memory.kind"] == "process_peak_rss"
    lines = "\n".join(report.summary_lines(result))
    assert "5.000 GFLOP/image, 0.400 TFLOP/s achieved" in lines and "efficiency 50.0%" in lines
    assert "peak memory: 3.00 GiB (process peak RSS)" in lines


def test_cost_without_probe_or_flops_is_empty_not_wrong(make_measured):
    result = make_measured(50, 8, "forward", [0.1, 0.1])
    assert result.cost["efficiency"] is None and result.cost["gflop_per_image"] is None
    row = _rows(report.table([result]))[0]
    assert (row["GFLOP/img"], row["TFLOP/s"], row["Eff. %"], row["Peak mem"]) == ("", "", "", "")


def test_csv_has_header_and_one_row_per_configuration(sweep_results):
    rows = list(csv.DictReader(io.StringIO(report.csv_text(sweep_results))))
    assert len(rows) == len(sweep_results)
    assert rows[0]["config.depth"] == "50" and rows[0]["status"] == "ok"
    assert float(rows[1]["stats.mean_s"]) == sweep_results[1].stats.mean_s
    assert rows[3]["failure.message"].startswith("ResourceExhaustedError")
    assert rows[3]["stats.mean_s"] == ""
    assert "step_times_s" not in rows[0]


def test_non_finite_numbers_become_null():
    assert report.json_safe({"a": [float("inf"), 1.0], "b": float("nan")}) == {
        "a": [None, 1.0], "b": None}


def test_json_lines_file_appends_and_flushes(tmp_path, sweep_results):
    path = tmp_path / "results.jsonl"
    path.write_text('{"earlier": true}\n')
    sink = report.JsonLinesFile(str(path))
    sink.write(sweep_results[0])
    # Readable before close: it was flushed.
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["label"] == sweep_results[0].config.label
    sink.close()


def test_header_names_precision_loss_scale_xla_and_trace(environment_info):
    configs = [BenchmarkConfig(precision="fp16", xla=True, trace="step.json", data_format="NHWC")]
    text = "\n".join(report.header_lines(environment_info, configs, isolate=True))
    assert "Precision: fp16 (fp16 compute, float32 variables" in text
    assert "loss scale auto = dynamic; XLA on" in text
    assert "last burn-in step -> step.json" in text
    assert "efficiency = achieved TFLOP/s / a matrix-product probe" in text


def test_summary_warns_about_skipped_updates_and_non_finite_gradients(make_measured):
    result = make_measured(50, 2, "train", [0.1] * 4)
    result.extra.update(loss_scale="dynamic", loss_scale_before=4096.0, loss_scale_after=1024.0,
                        skipped_updates=2, gradients_finite=False)
    lines = report.summary_lines(result)
    warnings = [line for line in lines if line.startswith("WARNING: ")]
    assert ("WARNING: 2 of 4 measured steps skipped the optimizer update (non-finite gradients) "
            "(dynamic loss scale 4096 -> 1024)") in "\n".join(warnings)
    assert any("gradients are not all finite after the measured steps" in line for line in warnings)
    assert any("loss scale dynamic 4096 -> 1024" in line for line in lines)
    assert report._status(result, {}) == "ok (!)"
