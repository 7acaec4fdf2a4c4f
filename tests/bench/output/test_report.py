"""What a person reads: start, progress and summary lines, from fixed step times."""

import dataclasses
import re

from bench.core.config import BenchmarkConfig
from bench.output import report
from bench.results.extras import Extras, FlopCount, Numerics, PeakMemory, PeakProbe
from bench.results.result import BenchmarkResult

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
    assert lines[2] == "  setup: graph build 1.00 s, session + init 0.50 s"


def test_summary_warns_about_few_steps_and_failure_is_one_line(make_measured):
    lines = report.summary_lines(make_measured(50, 1, "forward", [0.1, 0.1]))
    assert any(line.startswith("WARNING: only 2 measured steps") for line in lines)
    failed = BenchmarkResult.from_record({
        "config": BenchmarkConfig(depth=50).to_dict(), "status": "failed", "stats": None,
        "failure": {"kind": "signal", "message": "killed by signal 9", "signal": 9}})
    (line,) = report.summary_lines(failed)
    assert line.endswith(": resnet_v2_50 batch 32 forward FAILED: killed by signal 9")


def test_cost_lines(make_measured):
    result = make_measured(50, 8, "forward", [0.1, 0.1])
    result.extra = Extras(flops=FlopCount(40 * 10**9),
                          peak_probe=PeakProbe("fp32", "cpu", 1000, 1, [0.0025]),
                          peak_memory=PeakMemory(3 * 1024**3, "process_peak_rss", "process peak RSS"))
    lines = report.cost_lines(result)
    assert lines == [
        "  cost: 5.000 GFLOP/image, 0.400 TFLOP/s achieved; probe 0.800 TFLOP/s (fp32 matmul "
        "1000x1000): efficiency 50.0%",
        "  peak memory: 3.00 GiB (process peak RSS)"]
    # The layout that ran is told only when it is not the one asked for.
    result.extra = Extras(flops=FlopCount(40 * 10**9), executed_layout="NHWC")
    result.config = dataclasses.replace(result.config, data_format="NHWC")
    assert not any("layout" in line for line in report.cost_lines(result))
    result.config = dataclasses.replace(result.config, data_format="NCHW")
    assert report.cost_lines(result)[-1] == "  layout: NCHW asked, NHWC RAN"


def test_summary_warns_about_skipped_updates_and_non_finite_gradients(make_measured):
    result = make_measured(50, 2, "train", [0.1] * 4)
    result.extra = Extras(loss_scale="dynamic", numerics=Numerics(False, 4096.0, 1024.0, 2))
    lines = report.summary_lines(result)
    warnings = [line for line in lines if line.startswith("WARNING: ")]
    assert ("WARNING: 2 of 4 measured steps skipped the optimizer update (non-finite gradients) "
            "(dynamic loss scale 4096 -> 1024)") in "\n".join(warnings)
    assert any("gradients are not all finite after the measured steps" in line for line in warnings)
    assert any("loss scale dynamic 4096 -> 1024" in line for line in lines)


def test_overhead_line(make_measured):
    results = [make_measured(50, 1, "forward", [0.1]) for _ in range(2)]
    assert report.overhead_line(results) == ""
    results[0].phases_s["child_overhead"] = 2.0
    results[1].phases_s["child_overhead"] = 3.0
    assert report.overhead_line(results).endswith("mean 2.50 s over 2, not in any timing")


def test_render_picks_the_format(sweep_results):
    assert report.render(sweep_results, "table").startswith("| Depth")
    assert report.render(sweep_results, "json").count("\n") == len(sweep_results) - 1
    assert report.render(sweep_results, "csv").startswith("schema,label,status")
