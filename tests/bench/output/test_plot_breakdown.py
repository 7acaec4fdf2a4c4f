"""`python -m bench plot --breakdown`: a stacked bar per configuration whose segments are the
records' part times (read back from the figure's bars, not its pixels), backward hatched."""

import pytest

from bench.output import plot_breakdown, plot_breakdown_data, plot_data
from bench.results.breakdown import Breakdown, Part, unavailable
from bench.results.extras import Extras
from bench.verbs import plot_cli


def found(scale):
    return Breakdown(parts=[Part("root", 1.0, 0.5), Part("block1/unit_1", 2.0 * scale, 4.0 * scale),
                            Part("block1/unit_2", 2.0, 4.0), Part("head", 0.5, 0.25),
                            Part("optimizer", 3.0), Part("other", 1.0)], traced_steps=3)


@pytest.fixture
def records(make_measured, records_file):
    results = []
    for depth, breakdown in ((50, found(1)), (101, found(2)), (152, unavailable("units", "under XLA")),
                             (200, None)):
        result = make_measured(depth, 8, "train", [0.01] * 3, breakdown="units")
        result.extra = Extras(breakdown=breakdown)
        results.append(result)
    return records_file("records.jsonl", results)


def test_each_configuration_is_a_bar_of_its_parts(records):
    spec = plot_breakdown_data.bars(plot_data.read_sources([records]))
    assert [bar.label for bar in spec.bars] == ["resnet_v2_50 batch 8 train", "resnet_v2_101 batch 8 train"]
    assert spec.unavailable == ("resnet_v2_152 batch 8 train: under XLA",)
    first = spec.bars[0]
    assert sum(segment.ms for segment in first.segments) == pytest.approx(first.op_ms) == pytest.approx(18.25)
    assert [(s.part, s.backward) for s in first.segments] == [
        ("root", False), ("block1/unit_1", False), ("block1/unit_2", False), ("head", False),
        ("head", True), ("block1/unit_2", True), ("block1/unit_1", True), ("root", True),
        ("optimizer", False), ("other", False)]


def test_the_figure_stacks_the_segments_and_hatches_the_backward(records):
    spec = plot_breakdown_data.bars(plot_data.read_sources([records]))
    figure = plot_breakdown.draw(spec)
    bars = [patch for patch in figure.axes[0].patches if patch.get_gid()]
    for index, bar in enumerate(spec.bars):
        own = [patch for patch in bars if patch.get_gid().startswith(f"{index}:")]
        assert [patch.get_height() for patch in own] == pytest.approx([s.ms for s in bar.segments])
        assert own[-1].get_y() + own[-1].get_height() == pytest.approx(bar.op_ms)
        assert all(bool(patch.get_hatch()) == patch.get_gid().endswith("backward") for patch in own)
    units = [patch for patch in bars if ":block1/unit_" in patch.get_gid()]
    assert len({patch.get_facecolor() for patch in units}) == 1  # a block's units share its colour
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == ["root", "block1", "head", "optimizer", "other", "backward"]


def test_the_verb_writes_the_bars_and_refuses_records_without_breakdown(records, make_measured,
                                                                        records_file, tmp_path, capsys):
    output = tmp_path / "breakdown.png"
    assert plot_cli.main(["--breakdown", records, "-o", str(output)]) == 0
    assert output.stat().st_size > 1000
    assert "2 configuration(s) plotted, 1 without a breakdown available" in capsys.readouterr().out
    plain = records_file("plain.jsonl", [make_measured(50, 8, "forward", [0.01] * 3)])
    assert plot_cli.main(["--breakdown", plain, "-o", str(tmp_path / "none.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing to plot: no measured record holds a breakdown" in err
    assert not (tmp_path / "none.png").exists()
