"""Scaling efficiency against the sweep's matching 1-replica run, and what data-parallel records
carry (old and single-device records are unchanged)."""

import json

import pytest

from bench.core.config import BenchmarkConfig
from bench.output import table
from bench.results import records, scaling
from bench.results.result import BenchmarkResult


def test_efficiency_is_throughput_over_replicas_times_the_single_run(make_measured):
    single = make_measured(50, 8, "train", [0.100] * 12)              # 80 images/sec
    double = make_measured(50, 8, "train", [0.125] * 12, num_devices=2)  # 16 / 0.125 = 128
    other_mode = make_measured(50, 8, "forward", [0.125] * 12, num_devices=2)
    assert double.stats.images_per_sec == 128
    assert scaling.efficiency(double, [single, double]) == pytest.approx(0.8)
    assert scaling.efficiency(single, [single]) == 1.0
    assert scaling.efficiency(other_mode, [single, double]) is None  # no 1-replica forward run
    assert scaling.efficiencies([single, double, other_mode]) == [1.0, pytest.approx(0.8), None]


def test_data_parallel_records_name_the_replicas_and_read_back(make_measured):
    double = make_measured(50, 8, "train", [0.125] * 12, num_devices=2)
    double.scaling_efficiency = 0.8
    record = json.loads(records.json_line(double))
    assert {key: record["config"][key] for key in ("num_devices", "workers", "replicas",
                                                    "global_batch_size")} == {
        "num_devices": 2, "workers": 1, "replicas": 2, "global_batch_size": 16}
    assert record["scaling_efficiency"] == 0.8
    again = BenchmarkResult.from_record(record)
    assert again.config == double.config and again.scaling_efficiency == 0.8
    # Alone, the saved row keeps the efficiency it was written with.
    assert scaling.efficiencies([again]) == [0.8]


def test_single_device_records_have_no_data_parallel_keys(make_measured):
    record = json.loads(records.json_line(make_measured(50, 8, "train", [0.1] * 12)))
    assert not {"num_devices", "workers", "replicas", "global_batch_size"} & set(record["config"])
    assert "scaling_efficiency" not in record
    config = BenchmarkConfig.from_dict(record["config"])
    assert (config.replicas, config.workers, config.global_batch_size) == (1, 1, 8)


def test_the_table_shows_replicas_per_replica_rate_and_scaling(make_measured, table_rows):
    rows = table_rows(table.table([
        make_measured(50, 8, "train", [0.100] * 12),
        make_measured(50, 8, "train", [0.125] * 12, num_devices=2)]))
    assert [(r["Devices"], r["Images/sec"], r["Img/s/replica"], r["Scaling"])
            for r in rows] == [("1", "80.00", "80.00", "1.00"),
                               ("2", "128.00", "64.00", "0.80")]
    assert "Replicas" not in rows[0]  # one worker: the Devices column says it already
    plain = table_rows(table.table([make_measured(50, 8, "train", [0.1] * 12)]))
    assert "Scaling" not in plain[0] and "Replicas" not in plain[0]


def test_the_replicas_column_shows_when_the_devices_column_does_not_say_it(make_measured, table_rows):
    # Two devices, not varying: no Devices column, so Replicas says how many.
    (alone,) = table_rows(table.table([make_measured(50, 8, "train", [0.125] * 12, num_devices=2)]))
    assert "Devices" not in alone and alone["Replicas"] == "2"
    # Devices varying on two workers: replicas = devices x workers differs from Devices.
    rows = table_rows(table.table([
        make_measured(50, 8, "train", [0.1] * 12, num_devices=1, workers=2),
        make_measured(50, 8, "train", [0.1] * 12, num_devices=2, workers=2)]))
    assert [(r["Devices"], r["Replicas"]) for r in rows] == [("1", "2"), ("2", "4")]
