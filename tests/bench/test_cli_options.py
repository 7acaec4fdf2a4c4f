"""`python -m bench` with the GPU-grade options: --precision, --loss-scale, --xla, --trace,
--data-format, the peak probe, FLOPs, efficiency and peak memory (tiny settings, on the CPU)."""

import json
import os

import pytest
from test_cli import TINY_ARGS, run_bench
from test_flops import resnet_v2_hand_count

import bench
from bench import cli, trace
from bench.config import BenchmarkConfig

TINY = dict(depth=50, batch_size=1, image_size=32, num_classes=10, num_batches=2, burn_in=1,
            device="cpu", peak_probe_size=256)


@pytest.mark.parametrize("args, expected", [
    (["--precision", "fp64"], "argument --precision: invalid choice: 'fp64'"),
    (["--loss-scale", "-1"], "--loss-scale -1: must be auto, none, dynamic or a positive number"),
    (["--loss-scale", "big"], "--loss-scale big: must be auto, none, dynamic or a positive number"),
    (["--data-format", "nchw"], "argument --data-format: invalid choice: 'nchw'"),
    (["--peak-probe-size", "-5"], "--peak-probe-size -5: must be an integer >= 0"),
    (["--trace", "/nonexistent-dir/step.json"],
     "--trace /nonexistent-dir/step.json: directory /nonexistent-dir does not exist"),
    (["--trace", "step.json", "--burn-in", "0"],
     "--burn-in 0: --trace needs at least 2 burn-in steps (the trace is taken from the last one"),
    (["--trace", "step.json", "--burn-in", "1"],
     "--burn-in 1: --trace needs at least 2 burn-in steps (the trace is taken from the last one"),
    (["--data-format", "NCHW", "--device", "cpu"],
     "--data-format NCHW: not available on the CPU"),
])
def test_bad_options_are_one_line_and_exit_code_2(capsys, args, expected):
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert expected in captured.err


def test_help_lists_the_new_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--data-format", "--precision", "--loss-scale", "--xla", "--trace",
                 "--no-peak-probe", "--peak-probe-size"):
        assert flag in text
    assert "(default: auto)" in text and "(default: fp32)" in text


def _json_records(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_bf16_xla_forward_backward_with_trace(tmp_path):
    trace_path = tmp_path / "step.json"
    completed = run_bench("--mode", "forward-backward", "--batch", "1", *TINY_ARGS,
                          "--precision", "bf16", "--xla", "--trace", str(trace_path),
                          "--burn-in", "2", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    (record,) = _json_records(completed.stdout)
    config, extra, cost = record["config"], record["extra"], record["cost"]
    assert (config["precision"], config["xla"], config["data_format"]) == ("bf16", True, "NHWC")
    assert extra["xla_compiled"] is True
    assert extra["loss_scale"] == "none"
    # The trace is taken from the last burn-in step: the cold step and the two measured ones are
    # untouched.
    assert len(record["burn_in_times_s"]) == 2 and len(record["step_times_s"]) == 2
    assert extra["trace_file"] == str(trace_path)
    op_types = trace.traced_op_types(trace_path.read_text())
    assert "_XlaRun" in op_types
    # FLOPs of the backward pass are counted: more than twice the forward's.
    forward_flops = resnet_v2_hand_count(50, 32, 1, 10)
    assert extra["flops"]["per_step"] > 2 * forward_flops
    assert "Conv2DBackpropFilter" in extra["flops"]["by_op_type"]
    assert extra["peak_probe"]["precision"] == "bf16" and extra["peak_probe"]["matrix_size"] == 256
    assert 0 < cost["efficiency"] < 2  # probe and step share device and precision
    assert cost["peak_memory_kind"] == "process_peak_rss" and cost["peak_memory_bytes"] > 100e6


def test_forward_table_shows_cost_columns_with_the_counted_flops():
    completed = run_bench("--mode", "forward", "--batch", "1", *TINY_ARGS)
    assert completed.returncode == 0, completed.stderr
    header = next(line for line in completed.stdout.splitlines() if line.startswith("| Depth"))
    for column in ("GFLOP/img", "TFLOP/s", "Eff. %", "Peak mem"):
        assert column in header
    assert "Precision: fp32 (float32 throughout); loss scale auto = none; XLA off" in (
        completed.stdout)
    assert "GFLOP/image" in completed.stdout and "efficiency" in completed.stdout
    # The network's hand count plus the 10-element sum the forward step fetches.
    gflop = (resnet_v2_hand_count(50, 32, 1, 10) + 10) / 1e9
    row = [line for line in completed.stdout.splitlines() if line.startswith("| 50")][0]
    assert f"| {gflop:.2f} " in row


def test_fp16_train_in_process_uses_dynamic_loss_scale():
    result = bench.run(BenchmarkConfig(mode="train", precision="fp16", **TINY))
    assert result.ok, result.failure
    assert result.extra["loss_scale"] == "dynamic"
    # At 32 px the initial scale does not overflow: no measured step skipped its update.
    assert result.extra["skipped_updates"] == 0 and result.extra["gradients_finite"] is True
    assert result.extra["loss_scale_before"] == result.extra["loss_scale_after"] == 2.0 ** 15
    assert result.config.label == "resnet_v2_50 batch 1 train fp16"
    assert result.cost["achieved_tflops"] > 0


def test_static_loss_scale_and_no_probe():
    result = bench.run(BenchmarkConfig(mode="forward-backward", precision="fp16", loss_scale="128",
                                       peak_probe=False, **TINY))
    assert result.ok, result.failure
    assert result.extra["loss_scale"] == "128"
    assert "peak_probe" not in result.extra and result.cost["efficiency"] is None
    assert result.cost["gflop_per_image"] > 0


def test_sweep_gives_each_configuration_its_own_trace(tmp_path):
    trace_path = tmp_path / "step.json"
    completed = run_bench("--mode", "forward", "--batch", "1", "2", *TINY_ARGS, "--no-peak-probe",
                          "--trace", str(trace_path), "--burn-in", "2", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    records = _json_records(completed.stdout)
    expected = [str(tmp_path / f"step.50_{batch}_forward.json") for batch in (1, 2)]
    assert [record["extra"]["trace_file"] for record in records] == expected
    assert all(os.path.getsize(path) > 1000 for path in expected)
    assert all(record["cost"]["efficiency"] is None for record in records)


def test_nchw_step_flops_are_counted_on_its_nhwc_twin():
    # TensorFlow's profiler refuses NCHW pooling / backward convolutions; the runner counts the
    # same step built in NHWC, which must give the NHWC step's own count.
    from bench import graphs, runner

    nchw = BenchmarkConfig(mode="forward-backward", data_format="NCHW", **TINY)
    nhwc = BenchmarkConfig(mode="forward-backward", data_format="NHWC", **TINY)
    nchw_count = runner._count_flops(nchw, graphs.build_timed_graph(nchw))
    nhwc_count = runner._count_flops(nhwc, graphs.build_timed_graph(nhwc))
    assert nchw_count["counted_on"] == "the NHWC twin of the timed graph"
    assert nhwc_count["counted_on"] == "the timed graph"
    assert nchw_count["per_step"] == nhwc_count["per_step"] > 0
