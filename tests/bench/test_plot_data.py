"""Reading records for a plot: grouping of one configuration's records, the device count, labels
telling files apart, the title, the failures, and files with nothing to plot."""

import json

import pytest

from bench import plot_data
from bench.result import Failure


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
    assert groups[0].images_per_sec == pytest.approx((_ips(0.1, 8) + _ips(0.2, 8)) / 2)
    assert groups[1].images_per_sec == pytest.approx(_ips(0.3, 8))
    # The hook for repeats' confidence intervals: none until bench.stats provides them.
    assert groups[0].interval is None


def test_the_device_count_is_the_config_replicas_and_1_without_it(make_measured, records_file):
    results = [make_measured(50, 8, "forward", [0.1] * 10), make_measured(50, 8, "forward", [0.1] * 10)]
    path = records_file("r.jsonl", results, {1: {"config": {"replicas": 4}}})
    source = plot_data.read_source(path)
    assert [entry.replicas for entry in source.entries] == [1, 4]
    # Different device counts are different configurations.
    assert [g.replicas for g in plot_data.groups([source])] == [1, 4]


def test_failed_records_are_listed_and_not_grouped(make_measured, make_failed, records_file):
    results = [
        make_measured(50, 8, "forward", [0.1] * 10),
        make_failed(101, 8, "train", Failure("oom", "ResourceExhaustedError: OOM")),
        make_failed(101, 8, "train", Failure("oom", "ResourceExhaustedError: OOM")),
        make_failed(152, 8, "forward", Failure("signal", "killed by signal 9 (SIGKILL)", -9, 9)),
    ]
    sources = plot_data.read_sources([records_file("r.jsonl", results)])
    assert [g.config.depth for g in plot_data.groups(sources)] == [50]
    assert plot_data.failures(sources) == [
        "resnet_v2_101 batch 8 train: OOM (2 records)",
        "resnet_v2_152 batch 8 forward: killed by signal 9 (SIGKILL)",
    ]
    assert plot_data.failures(sources, ["image_size", "replicas"])[1] == (
        "resnet_v2_152 batch 8 forward (224 px, 1 device): killed by signal 9 (SIGKILL)"
    )


def test_files_are_labelled_by_the_environment_that_differs(make_measured, make_failed, records_file):
    old = make_measured(50, 8, "forward", [0.1] * 10)
    old.environment["tensorflow_version"] = "2.20.0"
    new = make_measured(50, 8, "forward", [0.1] * 10)
    failure = make_failed(101, 8, "train", Failure("oom", "OOM"))
    sources = plot_data.read_sources(
        [records_file("a.jsonl", [old]), records_file("b.jsonl", [new, failure])]
    )
    assert [source.label for source in sources] == ["TensorFlow 2.20.0", "TensorFlow 2.21.0"]
    assert plot_data.failures(sources) == ["TensorFlow 2.21.0: resnet_v2_101 batch 8 train: OOM"]
    assert plot_data.title(sources) == (
        "ResNet v2 throughput: CPU Test CPU, TensorFlow 2.20.0; CPU Test CPU, TensorFlow 2.21.0\n"
        "every configuration: 224 px, fp32, XLA off, auto"
    )


def test_files_are_labelled_by_the_settings_that_differ(make_measured, records_file):
    short = make_measured(50, 8, "forward", [0.1] * 5)
    long = make_measured(50, 8, "forward", [0.1] * 20)
    bf16 = make_measured(50, 8, "forward", [0.1] * 20, precision="bf16")
    paths = [records_file("a.jsonl", [short]), records_file("b.jsonl", [bf16])]
    labels = [source.label for source in plot_data.read_sources(paths)]
    assert labels == ["--num-batches 5, --precision fp32", "--num-batches 20, --precision bf16"]
    # A setting with several values in one file does not label it (its lines are split by it);
    # where labels would be equal, the file name tells them apart.
    paths = [
        records_file("a.jsonl", [short]),
        records_file("b.jsonl", [long]),
        records_file("c.jsonl", [long, bf16]),
    ]
    labels = [source.label for source in plot_data.read_sources(paths)]
    assert labels == ["--num-batches 5", "--num-batches 20 (b.jsonl)", "--num-batches 20 (c.jsonl)"]


def test_files_that_differ_in_nothing_are_labelled_by_name(make_measured, records_file, tmp_path):
    result = make_measured(50, 8, "forward", [0.1] * 10)
    a, b = records_file("monday.jsonl", [result]), records_file("tuesday.jsonl", [result])
    assert [s.label for s in plot_data.read_sources([a, b])] == ["monday.jsonl", "tuesday.jsonl"]
    (tmp_path / "other").mkdir()
    same_name = records_file("other/monday.jsonl", [result])
    assert [s.label for s in plot_data.read_sources([a, same_name])] == [a, same_name]
    assert plot_data.read_sources([a])[0].label == ""


def test_the_title_names_device_tensorflow_and_what_every_configuration_shares(make_measured, records_file):
    gpu = [
        make_measured(50, 8, "forward", [0.1] * 10, precision=precision, data_format="NCHW")
        for precision in ("fp16", "bf16")
    ]
    for result in gpu:
        result.environment.update(device="gpu", device_name="NVIDIA A100-SXM4-40GB")
    sources = plot_data.read_sources(
        [records_file("r.jsonl", gpu, {0: {"config": {"replicas": 2}}, 1: {"config": {"replicas": 2}}})]
    )
    assert plot_data.title(sources) == (
        "ResNet v2 throughput: GPU NVIDIA A100-SXM4-40GB, TensorFlow 2.21.0\n"
        "every configuration: 224 px, XLA off, NCHW, 2 devices"
    )
    many = []
    for version in ("2.17.0", "2.18.0", "2.19.0", "2.20.0"):
        result = make_measured(50, 8, "forward", [0.1] * 10, image_size=64 if many else 32)
        result.environment["tensorflow_version"] = version
        many.append(result)
    sources = plot_data.read_sources([records_file("m.jsonl", many)])
    assert plot_data.title(sources) == (
        "ResNet v2 throughput: 4 environments (see the legends)\nevery configuration: fp32, XLA off, auto"
    )


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
