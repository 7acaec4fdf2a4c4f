"""What a plot draws: which panels, which lines with which labels, the values of their points (the
records' images/sec), the scaling efficiency, and the failures below."""

import pytest

from bench.output import plot_data, plot_panels
from bench.results.result import Failure


def _spec(*paths):
    return plot_panels.build(plot_data.read_sources(list(paths)))


def _lines(panel):
    return {series.label: [(point.x, point.y) for point in series.points] for series in panel.series}


def test_throughput_against_depth_and_batch_size(make_measured, make_failed, records_file):
    steps = {(50, 1): 0.05, (101, 1): 0.10, (50, 2): 0.08, (101, 2): 0.16}
    results = [
        make_measured(depth, batch, mode, [step * (3 if mode == "train" else 1)] * 10)
        for (depth, batch), step in steps.items()
        for mode in ("forward", "train")
    ]
    results.append(make_failed(152, 2, "train", Failure("oom", "OOM")))
    spec = _spec(records_file("r.jsonl", results))
    by_depth, by_batch = spec.panels
    assert (by_depth.x_field, by_batch.x_field, by_batch.log_x) == ("depth", "batch_size", True)
    assert _lines(by_depth) == {
        "batch 1, forward": [(50, pytest.approx(1 / 0.05)), (101, pytest.approx(1 / 0.10))],
        "batch 1, train": [(50, pytest.approx(1 / 0.15)), (101, pytest.approx(1 / 0.30))],
        "batch 2, forward": [(50, pytest.approx(2 / 0.08)), (101, pytest.approx(2 / 0.16))],
        "batch 2, train": [(50, pytest.approx(2 / 0.24)), (101, pytest.approx(2 / 0.48))],
    }
    assert _lines(by_batch)["depth 101, forward"] == [(1, pytest.approx(10.0)), (2, pytest.approx(12.5))]
    assert by_depth.x_values == [50, 101] and by_batch.x_values == [1, 2]
    assert spec.failures == ("resnet_v2_152 batch 2 train: OOM",)
    assert spec.title.splitlines()[0] == "ResNet v2 throughput: CPU Test CPU, TensorFlow 2.21.0"


def test_one_depth_and_batch_gives_the_depth_panel_alone(make_measured, records_file):
    spec = _spec(records_file("r.jsonl", [make_measured(50, 4, "forward", [0.1] * 10)]))
    assert [panel.x_field for panel in spec.panels] == ["depth"]
    assert _lines(spec.panels[0]) == {"batch 4, forward": [(50, pytest.approx(40.0))]}


def test_an_axis_varying_in_a_file_splits_the_lines(make_measured, make_failed, records_file):
    results = [
        make_measured(depth, 8, "forward", [0.1] * 10, image_size=size)
        for depth in (50, 101)
        for size in (64, 224)
    ]
    results.append(make_failed(101, 8, "forward", Failure("oom", "OOM"), image_size=299))
    spec = _spec(records_file("r.jsonl", results))
    assert list(_lines(spec.panels[0])) == ["batch 8, forward, 64 px", "batch 8, forward, 224 px"]
    assert spec.failures == ("resnet_v2_101 batch 8 forward (299 px): OOM",)


def test_several_files_give_a_line_each_named_by_what_differs(make_measured, records_file):
    old = [make_measured(depth, 8, "forward", [0.2 * depth / 50] * 10) for depth in (50, 101)]
    new = [make_measured(depth, 8, "forward", [0.1 * depth / 50] * 10) for depth in (50, 101)]
    for result in old:
        result.environment["tensorflow_version"] = "2.20.0"
    spec = _spec(records_file("old.jsonl", old), records_file("new.jsonl", new))
    assert _lines(spec.panels[0]) == {
        "TensorFlow 2.20.0: batch 8, forward": [(50, pytest.approx(40.0)), (101, pytest.approx(8 / 0.404))],
        "TensorFlow 2.21.0: batch 8, forward": [(50, pytest.approx(80.0)), (101, pytest.approx(8 / 0.202))],
    }


def test_several_device_counts_give_the_scaling_efficiency(make_measured, records_file):
    # The record's images/sec: 80 on 1 device, 150 on 2, 240 on 4 (batch 8 per device); depth 101
    # ran on one device count only, so it has no efficiency line.
    results, extra = [], {}
    for replicas, images_per_sec in ((1, 80), (2, 150), (4, 240)):
        extra[len(results)] = {"config": {"replicas": replicas}}
        results.append(make_measured(50, 8, "forward", [8 / images_per_sec] * 10))
    results.append(make_measured(101, 8, "forward", [0.2] * 10))
    spec = _spec(records_file("r.jsonl", results, extra))
    throughput, scaling = spec.panels[0], spec.panels[-1]
    assert [panel.x_field for panel in spec.panels] == ["depth", "replicas"]
    assert scaling.x_values == [1, 2, 4]
    efficiency = {label: [(x, round(y, 9)) for x, y in points] for label, points in _lines(scaling).items()}
    assert efficiency == {"depth 50, batch 8, forward": [(1, 1.0), (2, 0.9375), (4, 0.75)]}
    assert scaling.y_label == "scaling efficiency vs 1 device"
    assert _lines(throughput) == {
        "batch 8, forward, 1 device": [(50, pytest.approx(80.0)), (101, pytest.approx(40.0))],
        "batch 8, forward, 2 devices": [(50, pytest.approx(150.0))],
        "batch 8, forward, 4 devices": [(50, pytest.approx(240.0))],
    }


def test_a_sweep_of_device_counts_plots_the_tables_figures_and_their_scaling(make_measured, records_file,
                                                                              table_rows):
    # As `--num-devices 1 2` writes them: batch 2 per replica; 2 devices step in 0.157 s, so the
    # table says 4 / 0.157 = 25.48 images/sec (not the per-replica 12.74).
    from bench.output import table

    results = [make_measured(50, 2, "forward-backward", [step] * 5, num_devices=devices)
               for devices, step in ((1, 0.125), (2, 0.157))]
    spec = _spec(records_file("r.jsonl", results))
    printed = [row["Images/sec"] for row in table_rows(table.table(results))]
    throughput, scaling = spec.panels[0], spec.panels[-1]
    assert [panel.x_field for panel in spec.panels] == ["depth", "replicas"]
    lines = _lines(throughput)
    assert list(lines) == ["batch 2, forward-backward, 1 device", "batch 2, forward-backward, 2 devices"]
    assert [f"{points[0][1]:.2f}" for points in lines.values()] == printed == ["16.00", "25.48"]
    (efficiency,) = _lines(scaling).values()
    assert efficiency == [(1, 1.0), (2, pytest.approx(25.48 / 2 / 16, abs=1e-3))]
