"""Drawing and writing a plot: the figure's lines hold exactly the records' values (read back from
the figure's artists, not its pixels), error bars span the intervals, failures are written below,
and the files are real PNG and SVG images of a sensible size."""

import json
import struct
import xml.etree.ElementTree as ElementTree

import pytest

from bench.output import plot, plot_data, plot_panels


@pytest.fixture(scope="module")
def schema1_spec():
    """The plot of the schema-1 fixture records (5 measured configurations, 1 failed)."""
    import os

    path = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "schema1_records.jsonl"
    )
    with open(path, encoding="utf-8") as stream:
        recorded = [json.loads(line) for line in stream if line.strip()]
    return plot_panels.build(plot_data.read_sources([path])), recorded


@pytest.fixture(scope="module")
def schema1_figure(schema1_spec):
    return plot.draw(schema1_spec[0])


def _recorded_throughput(recorded, x_field, **fixed):
    """{x: images/sec} of the measured records whose config has the `fixed` values."""
    return {
        record["config"][x_field]: record["stats"]["images_per_sec"]
        for record in recorded
        if record["status"] == "ok" and all(record["config"][k] == v for k, v in fixed.items())
    }


def test_the_lines_hold_the_records_values(schema1_spec, schema1_figure):
    spec, recorded = schema1_spec
    by_depth, by_batch = schema1_figure.axes
    lines = {line.get_label(): line for line in by_depth.get_lines()}
    assert list(lines) == [
        "batch 1, forward, fp32",
        "batch 1, forward-backward, fp32",
        "batch 2, train, fp16",
    ]
    for label, fixed in (
        ("batch 1, forward, fp32", {"batch_size": 1, "mode": "forward"}),
        ("batch 1, forward-backward, fp32", {"batch_size": 1, "mode": "forward-backward"}),
        ("batch 2, train, fp16", {"batch_size": 2, "mode": "train"}),
    ):
        expected = _recorded_throughput(recorded, "depth", **fixed)
        line = lines[label]
        assert list(line.get_xdata()) == sorted(expected)
        assert list(line.get_ydata()) == pytest.approx([expected[x] for x in sorted(expected)], rel=1e-12)
    by_batch_lines = {line.get_label(): line for line in by_batch.get_lines()}
    expected = _recorded_throughput(recorded, "batch_size", depth=50, precision="fp16")
    assert list(by_batch_lines["depth 50, train, fp16"].get_ydata()) == pytest.approx(list(expected.values()))
    assert by_depth.get_xlabel() == "depth (resnet_v2_N)" and by_depth.get_ylabel() == "images/sec"
    assert [tick.get_text() for tick in by_depth.get_xticklabels()] == ["50", "101"]
    assert by_batch.get_xscale() == "log"
    assert [text.get_text() for text in by_depth.get_legend().get_texts()] == list(lines)


def test_title_and_failures_are_written_on_the_figure(schema1_figure):
    assert schema1_figure.get_suptitle() == (
        "ResNet v2 throughput: CPU AMD EPYC, TensorFlow 2.21.0\nevery configuration: 32 px, XLA off, NHWC"
    )
    (below,) = [text for text in schema1_figure.texts if text.get_gid() == plot.FAILURES_GID]
    assert below.get_text().splitlines() == [
        "Not plotted (not measured):",
        "  resnet_v2_50 batch 1 train XLA: error: RuntimeError: injected failure for resnet_v2_50 "
        "batch 1 train XLA",
    ]


def test_error_bars_span_the_intervals():
    series = plot_panels.Series(
        "batch 8, forward",
        (plot_panels.Point(50, 100.0, (90.0, 115.0), 3), plot_panels.Point(101, 60.0, None, 1)),
    )
    panel = plot_panels.Panel("Images/sec by depth", "depth", "depth", "images/sec", (series,))
    figure = plot.draw(plot_panels.PlotSpec("t", (panel,), ()))
    (axes,) = figure.axes
    (line,) = axes.get_lines()[:1]
    assert list(line.get_ydata()) == [100.0, 60.0]
    segments = [segment for collection in axes.collections for segment in collection.get_segments()]
    assert [[tuple(end) for end in segment] for segment in segments] == [[(50.0, 90.0), (50.0, 115.0)]]
    assert [text.get_text() for text in figure.texts] == ["t"]  # the title, no failures


def test_png_is_a_real_image_of_the_figures_size(schema1_figure, tmp_path):
    path = tmp_path / "plot.png"
    plot.save(schema1_figure, str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    inches_wide, inches_high = schema1_figure.get_size_inches()
    assert (width, height) == (round(inches_wide * plot.DPI), round(inches_high * plot.DPI))
    assert 800 <= width <= 2000 and 300 <= height <= 1000
    assert 10_000 < len(data) < 300_000
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        assert image.size == (width, height)
        # Not blank: lines, text and white background give many colours.
        assert len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 50
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]  # no temporary file left


def test_svg_is_a_real_image_of_the_figures_size(schema1_figure, tmp_path):
    path = tmp_path / "plot.SVG"
    plot.save(schema1_figure, str(path))
    root = ElementTree.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    inches_wide, inches_high = schema1_figure.get_size_inches()
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(inches_wide * 72)
    assert float(root.get("height").removesuffix("pt")) == pytest.approx(inches_high * 72)
    assert 10_000 < path.stat().st_size < 1_000_000


def test_only_png_and_svg_are_written(schema1_figure, tmp_path):
    assert [plot.image_format(name) for name in ("a.png", "b.Svg", "c.jpg", "d")] == [
        "png",
        "svg",
        None,
        None,
    ]
    with pytest.raises(ValueError, match="not a .png or .svg"):
        plot.save(schema1_figure, str(tmp_path / "plot.jpg"))
    assert list(tmp_path.iterdir()) == []


def test_many_lines_put_the_legend_below_a_taller_figure():
    series = tuple(
        plot_panels.Series(f"batch {batch}, forward", (plot_panels.Point(50, 10.0 * batch),))
        for batch in range(1, plot.LEGEND_INSIDE + 2)
    )
    panel = plot_panels.Panel("Images/sec by depth", "depth", "depth", "images/sec", series)
    figure = plot.draw(plot_panels.PlotSpec("t", (panel,), ()))
    (axes,) = figure.axes
    assert figure.get_size_inches()[1] == pytest.approx(
        plot.PANEL_HEIGHT_IN + plot.LEGEND_LINE_IN * len(series)
    )
    legend = axes.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == [s.label for s in series]
    assert tuple(legend.get_bbox_to_anchor().transformed(axes.transAxes.inverted()).bounds[:2]) == (
        pytest.approx(0.5),
        pytest.approx(-0.15),
    )
