"""BenchmarkResult: the record it writes, statistics and cost derived from raw facts, warnings."""

import json

import pytest

from bench.core.config import BenchmarkConfig
from bench.results.extras import Extras, FlopCount, Numerics, PeakMemory, PeakProbe
from bench.results.result import RECORD_SCHEMA, BenchmarkResult, Failure


def test_record_schema_and_round_trip(sweep_results, environment_info):
    result = sweep_results[1]
    record = result.to_record()
    assert record["schema"] == RECORD_SCHEMA == "slim-resnet-bench/1"
    assert list(record) == [
        "schema", "label", "status", "started_at", "config", "environment", "model", "stats",
        "cost", "warnings", "step_times_s", "burn_in_times_s", "phases_s", "failure", "extra"]
    assert record["config"]["depth"] == 101 and record["config"]["batch_size"] == 8
    assert record["environment"] == environment_info
    assert record["model"] == {"name": "resnet_v2_101", "param_count": 25_568_360}
    assert record["step_times_s"] == result.measurement.step_times_s
    assert record["stats"]["cold_step_s"] == 1.0  # the first burn-in step
    # Every statistic is recomputed from the raw times in the record, not read from it.
    record["stats"]["mean_s"] = 99.0
    assert BenchmarkResult.from_record(record).stats == result.stats
    failed = sweep_results[3].to_record()
    assert failed["status"] == "failed" and failed["stats"] is None and failed["cost"] is None
    assert failed["failure"]["kind"] == "oom" and failed["extra"] == {}
    assert BenchmarkResult.from_record(json.loads(json.dumps(failed))).failure == (
        sweep_results[3].failure)


def _with_cost(result, flops_per_step, probe_seconds, peak_bytes):
    result.extra = Extras(
        flops=FlopCount(flops_per_step),
        peak_probe=PeakProbe("fp32", "cpu", 1000, 1, [probe_seconds]),
        peak_memory=PeakMemory(peak_bytes, "process_peak_rss", "process peak RSS"))
    return result


def test_cost_is_derived_from_flops_probe_and_step_times(make_measured):
    # 8 images x 5 GFLOP in a mean step of 0.1 s: 0.4 TFLOP/s; probe 2e9 FLOP in 2.5 ms = 0.8.
    result = _with_cost(make_measured(50, 8, "forward", [0.1, 0.1]), 40e9, 0.0025, 3 * 1024**3)
    cost = result.cost
    assert cost.gflop_per_image == pytest.approx(5.0)
    assert cost.achieved_tflops == pytest.approx(0.4)
    assert cost.attainable_tflops == pytest.approx(0.8)
    assert cost.efficiency == pytest.approx(0.5)
    assert cost.datasheet_tflops is None and cost.efficiency_vs_datasheet is None
    assert cost.peak_memory_bytes == 3 * 1024**3
    record = json.loads(json.dumps(result.to_record()))
    assert record["cost"] == cost.to_dict()
    assert BenchmarkResult.from_record(record).cost == cost  # recomputed from the raw facts


def test_cost_without_probe_or_flops_is_empty_not_wrong(make_measured):
    cost = make_measured(50, 8, "forward", [0.1, 0.1]).cost
    assert cost.efficiency is None and cost.gflop_per_image is None
    assert cost.peak_memory_bytes is None


def test_warnings_come_from_the_raw_times_and_the_numerics(make_measured):
    result = make_measured(50, 2, "train", [0.1] * 4, burn_in_times_s=())
    result.extra = Extras(numerics=Numerics(False, 4096.0, 1024.0, 2))
    warnings = result.warnings
    assert warnings[0].startswith("only 4 measured steps")
    assert "no burn-in: the first measured step is the cold step" in warnings
    assert any(w.startswith("2 of 4 measured steps skipped the optimizer update") for w in warnings)
    assert BenchmarkResult.from_record(result.to_record()).warnings == warnings


def test_failure_short_forms():
    assert Failure("oom", "ResourceExhaustedError: OOM").short == "OOM"
    assert Failure("signal", "killed by signal 9 (SIGKILL)").short == "killed by signal 9 (SIGKILL)"
    assert Failure("error", "ValueError: x").short == "error: ValueError: x"


def test_old_records_without_newer_fields_still_load():
    record = {"config": {"depth": 50, "batch_size": 8, "mode": "forward", "some_new": 1},
              "status": "failed", "stats": None,
              "failure": {"kind": "signal", "message": "killed by signal 9", "signal": 9}}
    result = BenchmarkResult.from_record(record)
    assert result.config == BenchmarkConfig(depth=50, batch_size=8, mode="forward")
    assert result.extra == Extras() and result.param_count is None


def test_a_result_and_a_batch_try_read_as_one_line(make_measured, make_failed):
    from bench.core.batch_search import ROLE_TRY, SearchFacts, Try

    measured = make_measured(50, 8, "train", [0.5] * 4)
    assert str(measured) == "resnet_v2_50 batch 8 train: ok, 16.0 images/sec"
    oom = Failure("oom", "over the memory limit (6 GiB): peak 6.003 GiB resident", limit="memory limit 6 GiB")
    failed = make_failed(50, 64, "train", oom)
    assert str(failed) == ("resnet_v2_50 batch 64 train: failed, over the memory limit (6 GiB): peak "
                           "6.003 GiB resident")
    no_fit = Try(64, "no-fit", failed.failure.short)
    failed.batch_search = SearchFacts(ROLE_TRY, "resnet_v2_50 batch max train", (no_fit,), index=3)
    assert str(failed) == ("resnet_v2_50 batch max train, try 3: batch 64 no-fit (over the memory limit "
                           "(6 GiB): peak 6.003 GiB resident)")
    assert str(Try(32, "fit", "fits")) == "batch 32 fit"


def test_a_burst_is_a_record_field_and_a_warning_recomputed_from_the_steps(make_measured):
    steps = [0.060, 0.061, 0.059] * 10
    steps[12:18] = [0.090, 0.092, 0.091, 0.089, 0.090, 0.093]
    result = make_measured(50, 8, "forward", steps)
    record = json.loads(json.dumps(result.to_record()))
    assert record["bursts"] == [{"first_step": 13, "last_step": 18, "level_s": 0.0905, "rest_level_s": 0.060}]
    assert record["warnings"] == [
        "high spread: sd 21% and IQR 3% of the median step time (over 10%); is the machine busy?",
        "steps 13-18 ran 1.5x slower than the other 24 (median 90 ms vs 60 ms): a burst (a neighbour, "
        "throttling?); the median of the other steps is 60 ms"]
    record["bursts"] = []  # derived: read back from the steps, not from the field
    assert BenchmarkResult.from_record(record).bursts == result.bursts
    steady = make_measured(50, 8, "forward", [0.060, 0.061, 0.059] * 10).to_record()
    assert "bursts" not in steady and steady["warnings"] == []
