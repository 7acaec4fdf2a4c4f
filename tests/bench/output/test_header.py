"""The header before a sweep (bench/output/header.py): versions, device, CUDA build, images, threads,
precision, loss scale, XLA, traces and every varying axis."""

from bench.core import axes
from bench.core.config import BenchmarkConfig
from bench.output import header, report


def test_header_names_versions_device_cuda_images_and_threads(environment_info):
    configs = [BenchmarkConfig(depth=d, batch_size=8, image_size=64, intra_op_threads=2,
                               data_format="NHWC") for d in (50, 101)]
    lines = header.header_lines(environment_info, configs, isolate=True)
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
    lines = header.header_lines(gpu, [BenchmarkConfig(data_format="NCHW")], isolate=True)
    assert lines[1:3] == ["Device: GPU: NVIDIA H100 80GB HBM3", "CUDA 12.5.1, cuDNN 9 (TensorFlow build)"]


def test_header_lists_every_varying_axis(environment_info):
    configs = axes.expand({"depth": [50], "batch_size": [8], "mode": ["forward"],
                           "precision": ["fp32", "bf16"], "xla": [False, True],
                           "image_size": [224, 299]}, data_format="NHWC")
    lines = header.header_lines(environment_info, configs, isolate=False)
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
    text = "\n".join(header.header_lines(environment_info, configs, isolate=True))
    assert "Precision: fp16 (fp16 compute, float32 variables" in text
    assert "loss scale auto = dynamic; XLA on" in text
    assert "last burn-in step -> step.json" in text
    assert "efficiency = achieved TFLOP/s / a matrix-product probe" in text


def test_header_says_what_the_breakdown_adds(environment_info):
    with_breakdown = [BenchmarkConfig(breakdown="units", data_format="NHWC")]
    text = "\n".join(header.header_lines(environment_info, with_breakdown, isolate=True))
    assert ("Breakdown: units: after each configuration's measured steps, 3 more fully traced steps (not "
            "measured) attribute") in text
    plain = header.header_lines(environment_info, [BenchmarkConfig(data_format="NHWC")], isolate=True)
    assert not any(line.startswith("Breakdown") for line in plain)


def test_the_sweep_line_counts_what_will_run_and_how(environment_info):
    # A real-data verdict adds runs that are not a product of the axes: listed by combination.
    configs = [BenchmarkConfig(mode=mode, data=data, batch_size=2, data_format="NHWC")
               for mode, data in (("train", "shards"), ("train", "synthetic"), ("input", "shards"))]
    sweep = header.header_lines(environment_info, configs, isolate=True)[-1]
    assert sweep.startswith("Sweep: 3 configuration(s): depth 50 x batch 2 x mode, data: "
                            "train shards, train synthetic, input shards;")
    # --resume: the configurations left to run, the recorded ones counted apart.
    resumed = header.header_lines(environment_info, configs[:1], isolate=True, recorded=7)[-1]
    assert resumed.startswith("Sweep: 1 configuration(s) (7 more already recorded): depth 50 x")
    assert header.header_lines(environment_info, [], isolate=True, recorded=8) == [
        "Sweep: nothing to run, all 8 configuration(s) already recorded"]
    workers = header.header_lines(environment_info, [BenchmarkConfig(workers=2)], isolate=True)[-1]
    assert workers.endswith("; 2 worker processes each")


def test_the_sweep_line_says_how_many_steps_or_when_auto_stops():
    assert header.measured_steps(BenchmarkConfig(num_batches=20)) == "20 measured steps"
    bounded = BenchmarkConfig(num_batches=20, max_time=5.0)
    assert header.measured_steps(bounded) == "20 measured steps (at most 5 s)"
    assert header.measured_steps(BenchmarkConfig(num_batches="auto")) == (
        "measured steps until the 95% CI of the mean step is within 1% (at least 10 steps; at most 60 s "
        "unless those take longer)")
    looser = BenchmarkConfig(num_batches="auto", target_ci=2.5, max_time=30.0)
    assert header.measured_steps(looser).startswith(
        "measured steps until the 95% CI of the mean step is within 2.5% (at least 10 steps; at most 30 s ")
