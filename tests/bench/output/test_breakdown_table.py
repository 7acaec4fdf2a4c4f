"""--breakdown's tables: a configuration's parts after its summary and a sweep's side by side."""

import pytest

from bench.output import breakdown_table, report
from bench.results.breakdown import Breakdown, Part, unavailable
from bench.results.extras import Extras, PeakProbe


def breakdown_of(scale, **fields):
    """A forward-backward breakdown whose times grow with `scale` (a deeper network)."""
    parts = [Part("root", 1.0, 1.0, 10**9, 2 * 10**9),
             Part("block3", 10.0 * scale, 20.0 * scale, 2 * 10**10 * scale, 4 * 10**10 * scale),
             Part("head", 0.5, 0.5, 10**6, 2 * 10**6), Part("loss", 0.1, 0.1), Part("other", 2.0)]
    return Breakdown(level="blocks", parts=parts, traced_steps=3, seconds=1.25,
                     step_wall_ms=[40.0, 38.0, 39.0], step_span_ms=[30.0, 31.0, 29.0],
                     step_op_ms=[36.0, 35.0, 35.2], replica_op_ms=[35.2], devices=["CPU:0"], **fields)


PEAK = PeakProbe("fp32", "cpu", 256, 1, [2 * 256**3 / 4e12])  # 4 TFLOP/s


@pytest.fixture
def with_breakdown(make_measured):
    def make(depth, found, probe=True):
        result = make_measured(depth, 8, "forward-backward", [0.04] * 3, breakdown="blocks")
        result.extra = Extras(breakdown=found,
                              peak_probe=PEAK if probe else None)
        return result
    return make


def test_a_configurations_table_has_every_part_and_a_total_that_adds_up(with_breakdown, table_rows):
    result = with_breakdown(50, breakdown_of(1))
    lines = breakdown_table.summary_lines(result)
    assert lines[0].startswith("  breakdown: 3 fully traced steps after the measured ones")
    assert "took 1.25 s" in lines[0] and "wall 39.00 ms" in lines[0]
    assert "op times added up 35.20 ms" in lines[0]
    assert "overlap 1.17x" in lines[0]
    rows = table_rows("\n".join(line.strip() for line in lines[1:]))
    assert [row["Part"] for row in rows] == ["root", "block3", "head", "loss", "other", "total"]
    block3 = rows[1]
    assert (block3["Forward ms"], block3["Backward ms"], block3["Total ms"]) == ("10.00", "20.00", "30.00")
    assert block3["Share %"] == f"{100 * 30 / 35.2:.1f}"
    assert block3["GFLOP"] == "60.000" and block3["GFLOP/s"] == "2000.0"
    assert block3["Eff. %"] == "50.0"  # of the probe's 4000 GFLOP/s
    other = rows[4]
    assert (other["Forward ms"], other["Backward ms"], other["Total ms"]) == ("", "", "2.00")
    total = rows[-1]
    assert (total["Total ms"], total["Share %"]) == ("35.20", "100.0")
    assert sum(float(row["Total ms"]) for row in rows[:-1]) == pytest.approx(35.2)


def test_the_summary_carries_the_breakdown_and_its_time(with_breakdown):
    result = with_breakdown(50, breakdown_of(1), probe=False)
    result.phases_s["breakdown"] = 1.25
    lines = report.summary_lines(result)
    assert any(line.startswith("  breakdown: 3 fully traced steps") for line in lines)
    assert "breakdown 1.25 s" in next(line for line in lines if line.startswith("  setup:"))
    assert not any("breakdown" in line for line in report.summary_lines(with_breakdown(50, None)))


def test_an_unavailable_breakdown_says_so_and_why(with_breakdown):
    result = with_breakdown(50, unavailable("blocks", "not available under XLA: fused"))
    assert breakdown_table.summary_lines(result) == [
        "  breakdown: not available: not available under XLA: fused"]


def test_a_depth_sweep_reads_across_one_column_group_per_depth(with_breakdown, table_rows):
    results = [with_breakdown(50, breakdown_of(1)), with_breakdown(101, breakdown_of(2)),
               with_breakdown(152, unavailable("blocks", "not available under XLA"))]
    lines = breakdown_table.sweep_lines(results)
    assert lines[1] == breakdown_table.SWEEP_TITLE
    table = [line for line in lines if line.startswith("|")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert header[:4] == ["Part", "depth 50: ms", "%", "GFLOP/s"]
    assert header[4] == "depth 101: ms" and header[7] == "depth 152: ms"
    block3 = [cell.strip() for cell in table[3].strip("|").split("|")]
    assert block3[:4] == ["block3", "10.0 + 20.0", f"{100 * 30 / 35.2:.1f}", "2000.0"]
    assert block3[4] == "20.0 + 40.0" and block3[7:] == ["", "", ""]
    assert table[-1].split("|")[1].strip() == "op time (ms)"
    assert any("depth 152: breakdown not available: not available under XLA" in line for line in lines)
    assert breakdown_table.sweep_lines([with_breakdown(50, None)]) == []


def test_repeated_processes_get_a_column_group_each(with_breakdown):
    from bench.results.result import Repeat

    results = [with_breakdown(50, breakdown_of(1)), with_breakdown(50, breakdown_of(1.5))]
    for index, result in enumerate(results, start=1):
        result.repeat = Repeat(index=index, count=2)
    header = breakdown_table.sweep_lines(results)[2]
    assert "resnet_v2_50 #1: ms" in header and "resnet_v2_50 #2: ms" in header
