"""What a person reads: header, start, progress and summary lines, from fixed step times."""

import re

from bench import axes, report
from bench.config import BenchmarkConfig
from bench.extras import Extras, FlopCount, Numerics, PeakMemory, PeakProbe
from bench.result import BenchmarkResult

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


def test_header_names_versions_device_cuda_images_and_threads(environment_info):
    configs = [BenchmarkConfig(depth=d, batch_size=8, image_size=64, intra_op_threads=2,
                               data_format="NHWC") for d in (50, 101)]
    lines = report.header_lines(environment_info, configs, isolate=True)
    text = "\n".join(lines)
    assert lines[0] == "TensorFlow 2.21.0, Python 3.11.7"
    assert "CPU: Test CPU (2 cores, 2 usable)" in text
    assert "CUDA" not in text  # TensorFlow's CUDA build says nothing about a CPU run
    assert "Images: 64x64x3 synthetic, on the device; data format NHWC; 1000 classes" in text
    assert "intra-op 2, inter-op TensorFlow default" in text
    assert lines[-1] == ("Sweep: 2 configuration(s): depth 50, 101 x batch 8 x mode forward; "
                         "10 burn-in + 100 measured steps; one child process each")


def test_header_names_the_cuda_build_for_a_gpu_run(environment_info):
    gpu = dict(environment_info, device="gpu", device_name="NVIDIA H100 80GB HBM3")
    lines = report.header_lines(gpu, [BenchmarkConfig(data_format="NCHW")], isolate=True)
    assert lines[1:3] == ["Device: GPU: NVIDIA H100 80GB HBM3", "CUDA 12.5.1, cuDNN 9 (TensorFlow build)"]


def test_header_lists_every_varying_axis(environment_info):
    configs = axes.expand({"depth": [50], "batch_size": [8], "mode": ["forward"],
                           "precision": ["fp32", "bf16"], "xla": [False, True],
                           "image_size": [224, 299]}, data_format="NHWC")
    lines = report.header_lines(environment_info, configs, isolate=False)
    text = "\n".join(lines)
    assert "Images: 224x224x3, 299x299x3 synthetic" in text
    assert ("Precision: fp32 (float32 throughout); bf16 (bf16 compute, float32 variables, "
            "batch-norm statistics and loss); loss scale auto = none; XLA off, on") in text
    assert lines[-1].startswith("Sweep: 8 configuration(s): depth 50 x batch 8 x mode forward x "
                                "precision fp32, bf16 x xla off, on x image 224, 299;")
    start = report.start_line(configs[1], 2, 8, axes.varying(configs))
    assert start == "== [2/8] resnet_v2_50 batch 8 forward (image 299)"


def test_header_names_precision_loss_scale_xla_and_trace(environment_info):
    configs = [BenchmarkConfig(precision="fp16", xla=True, trace="step.json", data_format="NHWC")]
    text = "\n".join(report.header_lines(environment_info, configs, isolate=True))
    assert "Precision: fp16 (fp16 compute, float32 variables" in text
    assert "loss scale auto = dynamic; XLA on" in text
    assert "last burn-in step -> step.json" in text
    assert "efficiency = achieved TFLOP/s / a matrix-product probe" in text


def test_summary_warns_about_skipped_updates_and_non_finite_gradients(make_measured):
    result = make_measured(50, 2, "train", [0.1] * 4)
    result.extra = Extras(loss_scale="dynamic", numerics=Numerics(False, 4096.0, 1024.0, 2))
    lines = report.summary_lines(result)
    warnings = [line for line in lines if line.startswith("WARNING: ")]
    assert ("WARNING: 2 of 4 measured steps skipped the optimizer update (non-finite gradients) "
            "(dynamic loss scale 4096 -> 1024)") in "\n".join(warnings)
    assert any("gradients are not all finite after the measured steps" in line for line in warnings)
    assert any("loss scale dynamic 4096 -> 1024" in line for line in lines)


def test_progress_and_overhead_lines(make_measured):
    assert re.match(r"^\d{4}-\d\d-\d\d [\d:.]+: step 7, duration = 0.123$",
                    report.progress_line(7, 0.1234))
    results = [make_measured(50, 1, "forward", [0.1]) for _ in range(2)]
    assert report.overhead_line(results) == ""
    results[0].phases_s["child_overhead"] = 2.0
    results[1].phases_s["child_overhead"] = 3.0
    assert report.overhead_line(results).endswith("mean 2.50 s over 2, not in any timing")


def test_render_picks_the_format(sweep_results):
    assert report.render(sweep_results, "table").startswith("| Depth")
    assert report.render(sweep_results, "json").count("\n") == len(sweep_results) - 1
    assert report.render(sweep_results, "csv").startswith("schema,label,status")
