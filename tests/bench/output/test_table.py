"""The comparison table: axis columns shown when they vary, figure columns, Relative baselines."""

import pytest

from bench.output import table
from bench.results.extras import Extras, FlopCount, PeakMemory, PeakProbe
from bench.results.result import Failure


def test_one_row_per_configuration_and_relative_throughput(sweep_results, table_rows):
    parsed = table_rows(table.table(sweep_results))
    assert list(parsed[0]) == ["Depth", "Batch", "Mode", "Mean ± sd (ms)", "Median (ms)",
                               "Images/sec", "Relative", "GFLOP/img", "TFLOP/s", "Eff. %",
                               "Peak mem", "Status"]
    assert [(r["Depth"], r["Mode"]) for r in parsed] == [
        ("50", "forward"), ("101", "forward"), ("50", "train"), ("101", "train"),
        ("152", "forward")]
    first, second, train, oom, killed = parsed
    assert first["Mean ± sd (ms)"] == "100.0 ± 0.0"
    assert first["Images/sec"] == "80.00" and first["Relative"] == "1.00"
    assert second["Median (ms)"] == "200.0"
    assert second["Relative"] == "0.50"  # 40 images/sec against depth 50's 80
    assert train["Relative"] == "1.00"
    assert (oom["Status"], oom["Images/sec"], oom["Relative"]) == ("OOM", "", "")
    assert killed["Status"] == "killed by signal 9 (SIGKILL)"


def test_a_column_for_every_axis_that_varies_and_none_for_the_others(make_measured, table_rows):
    results = [make_measured(depth, 4, "forward", [0.1 * depth / 50] * 10, precision=precision,
                             xla=xla)
               for depth in (101, 50) for precision in ("fp32", "bf16") for xla in (False,)]
    parsed = table_rows(table.table(results))
    assert list(parsed[0])[:4] == ["Depth", "Batch", "Mode", "Precision"]
    assert "XLA" not in parsed[0] and "Layout" not in parsed[0] and "Image" not in parsed[0]
    assert [(r["Depth"], r["Precision"], r["Relative"]) for r in parsed] == [
        ("101", "fp32", "1.00"), ("101", "bf16", "1.00"), ("50", "fp32", "2.02"),
        ("50", "bf16", "2.02")]  # against the first depth of the sweep, 101, same precision
    with_xla = results + [make_measured(101, 4, "forward", [0.1] * 10, xla=True,
                                        image_size=299)]
    header = list(table_rows(table.table(with_xla))[0])
    assert header[:6] == ["Depth", "Batch", "Mode", "Precision", "XLA", "Image"]
    assert table_rows(table.table(with_xla))[-1]["XLA"] == "on"


def test_relative_is_empty_when_the_baseline_failed(make_measured, make_failed, table_rows):
    results = [make_failed(50, 1, "forward", Failure("oom", "OOM")),
               make_measured(101, 1, "forward", [0.1] * 10)]
    assert [r["Relative"] for r in table_rows(table.table(results))] == ["", ""]


def test_cost_columns(make_measured, table_rows):
    result = make_measured(50, 8, "forward", [0.1, 0.1])
    result.extra = Extras(flops=FlopCount(40 * 10**9), peak_probe=PeakProbe("fp32", "cpu", 1000, 1,
                                                                             [0.0025]),
                          peak_memory=PeakMemory(3 * 1024**3, "process_peak_rss", "RSS"))
    row = table_rows(table.table([result]))[0]
    assert (row["GFLOP/img"], row["TFLOP/s"], row["Eff. %"]) == ("5.00", "0.400", "50.0")
    assert row["Peak mem"] == "3.00 GiB *"
    bare = table_rows(table.table([make_measured(50, 8, "forward", [0.1, 0.1])]))[0]
    assert (bare["GFLOP/img"], bare["TFLOP/s"], bare["Eff. %"], bare["Peak mem"]) == (
        "", "", "", "")


def test_columns_can_grow(make_measured, table_rows):
    results = [make_measured(50, 1, "forward", [0.1])]
    extra = table.Column("Params", lambda result, baseline: result.param_count)
    columns = table.axis_columns([r.config for r in results]) + table.FIGURE_COLUMNS + [extra]
    assert table_rows(table.table(results, "github", columns))[0]["Params"] == "25568360"


def test_footnotes_name_the_baseline_and_what_was_not_run(sweep_results, make_measured):
    lines = table.footnotes(sweep_results, [sweep_results[4].config])
    assert lines[0] == "Relative: images/sec divided by that of depth 50 with the same batch and mode."
    assert lines[-1] == "Not run (sweep interrupted): resnet_v2_152 batch 8 forward"
    varied = [make_measured(50, 1, "forward", [0.1], precision=p) for p in ("fp32", "bf16")]
    assert table.footnotes(varied, [])[0].endswith("with the same batch, mode and precision.")


@pytest.mark.parametrize("num_bytes, text", [(None, ""), (3 * 1024**3, "3.00 GiB"),
                                             (5 * 1024**2 + 512 * 1024, "5.5 MiB")])
def test_format_bytes(num_bytes, text):
    assert table.format_bytes(num_bytes) == text


def test_a_row_stopped_after_some_measured_steps_shows_its_figures_marked_partial(make_measured, table_rows):
    from bench.core.limits import Limits
    from bench.results import failures

    done = make_measured(50, 4, "forward", [0.1] * 10)
    stopped = failures.timeout_result(done.config, {}, Limits(timeout_s=10), [0.2] * 9, [1.0])
    never = failures.timeout_result(done.config, {}, Limits(timeout_s=10), [], [1.0])
    rows = table_rows(table.table([done, stopped, never]))
    assert rows[1]["Status"] == "timeout after 10 s (9 of 10 measured steps finished)"
    assert (rows[1]["Images/sec"], rows[1]["Median (ms)"]) == ("20.00 (p)", "200.0 (p)")
    assert rows[1]["Relative"] == "0.50 (p)"  # against the finished row, never a baseline itself
    assert (rows[2]["Images/sec"], rows[2]["Relative"]) == ("", "")  # no measured step: nothing
    assert table.footnotes([done, stopped], [])[-1].startswith("(p): partial figures")
    assert not any(line.startswith("(p)") for line in table.footnotes([done, never], []))


def test_a_row_of_the_input_pipeline_alone_names_no_network_and_is_not_relative(make_measured, table_rows):
    real = make_measured(50, 8, "train", [0.4] * 10, data="/d", num_classes=1001)
    pipeline = make_measured(50, 8, "input", [0.1] * 10, data="/d", num_classes=1001)
    rows = table_rows(table.table([pipeline, real]))
    assert [(r["Depth"], r["Mode"], r["Relative"]) for r in rows] == [
        ("-", "input", ""), ("50", "train", "1.00")]
    footnote = table.footnotes([pipeline, real], [])[0]
    assert footnote.startswith("Relative: images/sec divided by that of depth 50")


def test_a_burst_marks_the_row(make_measured, table_rows):
    steps = [0.100] * 20 + [0.150] * 5 + [0.100] * 15
    rows = table_rows(table.table([make_measured(50, 8, "forward", steps)]))
    assert rows[0]["Status"] == "ok (!)"
