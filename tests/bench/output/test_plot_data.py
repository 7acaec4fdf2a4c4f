"""Reading records for a plot: one configuration's records grouped, the device count, failed
records left out, files with nothing to plot, and the schema-1 fixture's throughput."""

import json

import pytest

from bench.output import plot_data
from bench.results.result import Failure


def _ips(step_s, batch):
    return batch / step_s


def test_records_of_one_configuration_form_one_group_of_their_mean(make_measured, records_file):
    results = [
        make_measured(50, 8, "forward", [0.100] * 10),
        make_measured(50, 8, "forward", [0.200] * 10),
        make_measured(101, 8, "forward", [0.300] * 10),
    ]
    path = records_file(
        "r.jsonl", results, {0: {"repeat": {"index": 1, "count": 2}}, 1: {"repeat": {"index": 2, "count": 2}}}
    )
    groups = plot_data.groups(plot_data.read_sources([path]))
    assert [(g.config.depth, len(g.results)) for g in groups] == [(50, 2), (101, 1)]
    # Over processes: batch / the mean of their mean step times.
    assert groups[0].images_per_sec == pytest.approx(_ips(0.15, 8))
    assert groups[1].images_per_sec == pytest.approx(_ips(0.3, 8))
    # Two processes this far apart: the step time's interval reaches below 0, no upper bound.
    assert groups[0].interval is None and groups[1].interval is None


def test_repeated_processes_get_the_t_interval_of_their_throughput(make_measured, records_file):
    step_means = [0.100, 0.102, 0.098]
    results = [make_measured(50, 8, "forward", [mean] * 10) for mean in step_means]
    path = records_file("r.jsonl", results, {i: {"repeat": {"index": i + 1, "count": 3}} for i in range(3)})
    (group,) = plot_data.groups(plot_data.read_sources([path]))
    # t(0.975, 2 df) = 4.3027; the standard error of the three means is 0.002 / sqrt(3).
    half = 4.302652729911275 * 0.002 / 3**0.5
    low, high = group.interval
    assert (low, high) == (pytest.approx(8 / (0.1 + half)), pytest.approx(8 / (0.1 - half)))


def test_the_device_count_is_the_config_replicas_and_1_without_it(make_measured, records_file):
    results = [make_measured(50, 8, "forward", [0.1] * 10), make_measured(50, 8, "forward", [0.1] * 10)]
    path = records_file("r.jsonl", results, {1: {"config": {"replicas": 4}}})
    source = plot_data.read_source(path)
    assert [entry.replicas for entry in source.entries] == [1, 4]
    # Different device counts are different configurations.
    assert [g.replicas for g in plot_data.groups([source])] == [1, 4]


def test_failed_records_are_not_grouped(make_measured, make_failed, records_file):
    results = [
        make_measured(50, 8, "forward", [0.1] * 10),
        make_failed(101, 8, "train", Failure("oom", "ResourceExhaustedError: OOM")),
    ]
    sources = plot_data.read_sources([records_file("r.jsonl", results)])
    assert [(g.config.depth, len(g.results)) for g in plot_data.groups(sources)] == [(50, 1)]


def test_nothing_to_plot_says_what_the_files_hold(make_failed, records_file, tmp_path):
    failed = records_file("f.jsonl", [make_failed(50, 8, "forward", Failure("oom", "OOM"))] * 2)
    (tmp_path / "empty.jsonl").write_text("\n")
    sources = plot_data.read_sources([failed, str(tmp_path / "empty.jsonl")])
    with pytest.raises(plot_data.NothingToPlot) as caught:
        plot_data.groups(sources)
    assert (
        str(caught.value)
        == f"no measured configuration in {failed} (2 failed), {tmp_path}/empty.jsonl (no records)"
    )


def test_schema1_records_load_with_their_recorded_throughput(data_path):
    path = data_path("schema1_records.jsonl")
    with open(path, encoding="utf-8") as stream:
        recorded = [json.loads(line) for line in stream if line.strip()]
    groups = plot_data.groups(plot_data.read_sources([path]))
    measured = [record for record in recorded if record["status"] == "ok"]
    assert [(g.config.depth, g.config.batch_size, g.config.mode) for g in groups] == [
        (r["config"]["depth"], r["config"]["batch_size"], r["config"]["mode"]) for r in measured
    ]
    assert [g.images_per_sec for g in groups] == pytest.approx(
        [r["stats"]["images_per_sec"] for r in measured], rel=1e-12
    )
    assert all(g.replicas == 1 for g in groups)
