"""Measuring one configuration in this process (bench/measuring/measure.py): what is timed and recorded,
errors as failed results, the special burn-in steps, FLOPs of an NCHW step."""

import dataclasses
import io
import re

import numpy as np
import pytest
import tensorflow as tf

import bench
from bench.core import faults, stand_ins
from bench.core.config import BenchmarkConfig
from bench.measuring import flops, measure, run_hooks
from bench.output import report
from bench.step import graphs
from bench.step.plan import plan_step

PROGRESS_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: step (\d+), duration = \d+\.\d{3}$")


@pytest.fixture(scope="module")
def forward_run():
    """One tiny forward configuration run in this process, with its progress lines."""
    progress = io.StringIO()
    config = BenchmarkConfig(depth=50, batch_size=1, image_size=32, num_classes=10, num_batches=3,
                             burn_in=1, device="cpu", display_every=1, peak_probe_size=256)
    return bench.run(config, progress=progress), progress.getvalue()


def test_a_run_keeps_raw_times_progress_phases_and_facts(forward_run):
    result, progress = forward_run
    assert result.ok and result.status == "ok"
    assert len(result.measurement.step_times_s) == 3
    assert len(result.measurement.burn_in_times_s) == 1
    steps = [PROGRESS_LINE.match(line).group(1) for line in progress.splitlines()]
    assert steps == ["1", "2", "3"]
    assert result.param_count > 23_000_000
    assert result.environment["device"] == "cpu" and result.config.device == "cpu"
    assert {"peak_probe", "graph_build", "flop_count", "session_init", "burn_in", "measure",
            "numerics_check", "session_close", "total"} <= set(result.phases_s)
    assert result.phases_s["measure"] == result.measurement.loop_wall_s
    assert result.stats.images_per_sec == pytest.approx(1 / result.stats.mean_s)
    extra = result.extra
    assert extra.peak_probe.matrix_size == 256 and extra.datasheet_peak is None
    assert extra.flops.per_step > 0 and extra.loss_scale == "none"
    assert extra.peak_memory.kind.startswith("process_peak_rss")
    assert extra.numerics.gradients_finite is None  # forward computes no gradient
    # Read from the graphs the runtime executed in the burn-in step, not from the configuration.
    assert extra.executed_layout == "NHWC" and result.to_record()["extra"]["executed_layout"] == "NHWC"
    assert extra.xla_compiled is None  # no XLA asked: not checked


@pytest.fixture(scope="module")
def failing_forward():
    """The tiny forward configuration (prepared, no probe), its environment and its graph, built
    once for the injected failures (each run opens its own session)."""
    (config,), environment = bench.prepare([BenchmarkConfig(mode="forward", device="cpu", depth=50,
                                                            batch_size=1, image_size=32,
                                                            num_classes=10, num_batches=2,
                                                            burn_in=1, peak_probe=False)])
    return config, environment, graphs.build_timed_graph(plan_step(config))


@pytest.mark.parametrize("kind, expected_kind", [("error", "error"), ("oom", "oom")])
def test_an_error_becomes_a_failed_result(monkeypatch, failing_forward, kind, expected_kind):
    monkeypatch.setenv(faults.ENV_VAR, f"{kind}:50:1:forward")
    config, environment, timed = failing_forward
    result = measure.run_in_process(config, environment, timed=timed)
    assert result.status == "failed" and result.measurement is None
    assert result.failure.kind == expected_kind
    assert "\n" not in result.failure.message
    # The phases finished before the error are kept, the rest of the time is the failed run's
    # (the graph was given: no graph_build phase; the next test has one).
    phases = result.phases_s
    assert {"flop_count", "session_init", "failed_run", "total"} <= set(phases)
    assert "graph_build" not in phases
    # 'failed_run' is the rest of the time until the failure (no tolerance on how long the
    # failure takes to describe: that depends on the machine's load).
    assert phases["failed_run"] >= 0
    assert sum(value for key, value in phases.items() if key != "total") <= phases["total"]
    if kind == "error":
        assert result.failure.message == (
            "RuntimeError: injected failure for resnet_v2_50 batch 1 forward")
        assert any("Traceback" in line or "RuntimeError" in line for line in
                   result.failure.details)
    else:
        assert result.failure.short == "OOM"


def test_an_error_mid_run_keeps_the_steps_finished_before_it(monkeypatch, failing_forward):
    monkeypatch.setenv(faults.ENV_VAR, "errorstep:*:*:*")
    config, environment, timed = failing_forward
    config = dataclasses.replace(config, num_batches=4)  # the same graph, more steps
    seen = []
    result = measure.run_in_process(config, environment, timed=timed,
                                    on_step_time=lambda kind, seconds: seen.append(kind))
    assert result.status == "failed" and result.failure.kind == "error"
    assert result.failure.message == (
        f"RuntimeError: injected failure after measured step {faults.KILL_AFTER_STEP} of {config.label}")
    assert seen == ["burn_in"] + ["measured"] * faults.KILL_AFTER_STEP
    assert len(result.measurement.step_times_s) == faults.KILL_AFTER_STEP
    assert len(result.measurement.burn_in_times_s) == 1
    again = bench.BenchmarkResult.from_record(result.to_record())
    assert again.measurement.step_times_s == result.measurement.step_times_s and not again.ok


def test_a_tensorflow_error_is_summarised_by_its_cause(tiny, monkeypatch):
    # 16 x 2**25 x 2**25 x 3 float32 images (192 PiB, beyond any 64-bit address space, so no
    # allocator can grant them, overcommit or not): refused when the initializer runs, and
    # TensorFlow's message starts with 'Graph execution error:'. The stand-in network: what
    # fails is the input, whatever the depth. With oneDNN on, the test takes about 10 s: the
    # failing allocation goes to TensorFlow's BFC allocator ('mklcpu'), which waits 10 s for memory
    # to be freed before it reports (docs/batch-search.md); with TF_ENABLE_ONEDNN_OPTS=0, none.
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, stand_ins.SMALL)
    config = BenchmarkConfig(**dict(tiny, batch_size=16, image_size=2**25, burn_in=0,
                                    peak_probe=False))
    result = measure.run_in_process(config, {"device": "cpu"})
    assert result.status == "failed" and result.failure.kind == "oom"
    message = result.failure.message
    assert message.startswith("ResourceExhaustedError: OOM when allocating tensor with shape[16,")
    assert "Graph execution error" not in message
    (line,) = report.summary_lines(result)
    assert line.endswith(f"FAILED: {message}")
    assert result.to_record()["failure"]["message"] == message
    # The phases before the error, the graph's build among them, are kept.
    phases = result.phases_s
    assert {"graph_build", "flop_count", "failed_run", "total"} <= set(phases)
    # 'failed_run' is the rest of the time until the failure (no tolerance on how long the
    # failure takes to describe: that depends on the machine's load).
    assert phases["failed_run"] >= 0
    assert sum(value for key, value in phases.items() if key != "total") <= phases["total"]


@pytest.mark.parametrize("xla", [False, True])
def test_trace_takes_the_last_burn_in_step_never_the_cold_one(tiny, xla):
    config = BenchmarkConfig(**dict(tiny, burn_in=3, trace="step.json", xla=xla))
    special = run_hooks.special_burn_in(config.burn_in, config.xla, config.trace)
    full_trace = tf.compat.v1.RunOptions.FULL_TRACE
    traced = [index for index, (options, _) in special.items() if options.trace_level == full_trace]
    assert traced == [2]
    assert list(special) == [2]  # what ran (layout, XLA) is read from the same step
    assert all(isinstance(metadata, tf.compat.v1.RunMetadata) for _, metadata in special.values())
    assert run_hooks.special_burn_in(0, True, None) == {}


def test_nchw_step_flops_are_counted_on_its_nhwc_twin(forward_run, tiny):
    # TensorFlow's profiler refuses NCHW pooling / backward convolutions; the harness counts the
    # same step built in NHWC, which must give the NHWC step's own count (that of `forward_run`,
    # the tiny forward step timed in NHWC).
    nchw = BenchmarkConfig(mode="forward", data_format="NCHW", **tiny)  # NCHW max-pooling
    nchw_count = flops.counted(*graphs.build_timed_graph(plan_step(nchw)).flop_counted)
    nhwc_result, _ = forward_run
    assert (nhwc_result.config.mode, nhwc_result.config.data_format) == ("forward", "NHWC")
    nhwc_count = nhwc_result.extra.flops
    assert nchw_count.counted_on == "the NHWC twin of the timed graph"
    assert nhwc_count.counted_on == "the timed graph"
    assert nchw_count.per_step == nhwc_count.per_step > 0 and nhwc_count.error is None



@pytest.fixture(scope="module")
def real_data_runs(real_data, small_network):
    """{mode: result} of the tiny configuration on `real_data` (2 shards of 8 JPEGs, 1001 classes)
    in forward, train and input, each measured in this process with the small network."""
    runs = {}
    for mode in ("forward", "train", "input"):
        config = BenchmarkConfig(depth=50, batch_size=2, image_size=32, num_classes=1001, num_batches=2,
                                 burn_in=1, device="cpu", data_format="NHWC", peak_probe_size=256,
                                 data=real_data, mode=mode,
                                 preprocessing="vgg" if mode == "train" else "inception")
        plan = plan_step(config)
        timed = graphs.build_timed_graph(plan, small_network(config))
        runs[mode] = measure.run_in_process(config, {}, timed=timed), timed
    return runs


@pytest.mark.parametrize("mode,pipeline", [("forward", "evaluation"), ("train", "training")])
def test_a_real_data_step_reads_the_pipeline_and_records_the_source(real_data_runs, real_data, mode,
                                                                     pipeline):
    result, timed = real_data_runs[mode]
    assert result.ok, result.failure
    assert len(result.measurement.step_times_s) == 2 and result.param_count > 0
    assert timed.images.shape.as_list() == [2, 32, 32, 3] and len(timed.pipelines) == 1
    assert timed.step.target is not timed.images.op  # the model's step, not the batch alone
    data = result.extra.data
    assert data.source == {"path": real_data, "format": "tfrecord", "num_files": 2, "num_images": 8,
                           "num_classes": None}
    assert data.pipeline == pipeline and data.threads == 0 and data.skipped_images == 0
    assert data.preprocessing == ("vgg" if mode == "train" else "inception")
    assert result.extra.flops.per_step > 0
    assert report.data_lines(result) == [
        f"  data: {real_data} (tfrecord, 2 files, 8 images), {data.preprocessing} {pipeline} "
        "preprocessing, AUTOTUNE; 0 images skipped (did not decode)"]


def test_input_mode_runs_the_pipeline_alone(real_data_runs):
    result, timed = real_data_runs["input"]
    assert result.ok, result.failure
    assert timed.logits is None and result.param_count == 0
    assert timed.step.target is timed.images.op  # run as a target: nothing fetched
    assert result.extra.peak_probe is None and result.extra.flops.per_step is None
    assert result.extra.executed_layout is None  # no convolution ran
    assert "peak_probe" not in result.phases_s and "flop_count" not in result.phases_s
    assert result.extra.data.pipeline == "training" and result.extra.data.skipped_images == 0
    assert result.stats.images_per_sec > 0 and result.cost.gflop_per_image is None
    assert report.summary_lines(result)[1].endswith("the input pipeline alone, no model")
    assert report.summary_lines(result)[0].split(": ", 1)[1].startswith("Input across 2 steps")


def test_a_bad_label_stops_the_run_naming_its_shard_and_record(tmp_path):
    # The pipeline stops on label 50 (the model's labels are 1..9); the failure names the record.
    from bench.inputs import example_format

    folder = tmp_path / "shards"
    folder.mkdir()
    image = tf.io.encode_jpeg(np.full((40, 48, 3), 128, np.uint8)).numpy()
    for index, labels in enumerate([[1, 2, 3, 4], [5, 6, 50, 7]]):
        with tf.io.TFRecordWriter(str(folder / f"train-{index:05d}-of-00002")) as writer:
            for label in labels:
                writer.write(example_format.make_example(image, label, 40, 48))
    config = BenchmarkConfig(mode="input", batch_size=2, image_size=32, num_classes=10, num_batches=4,
                             burn_in=1, device="cpu", data_format="NHWC", data=str(folder))
    result = measure.run_in_process(config, {})
    assert not result.ok
    assert result.failure.message == (
        f"InvalidArgumentError: {folder}: image/class/label 50 above the model labels 1..9 "
        f"({folder / 'train-00001-of-00002'}, record 2)")


def test_a_checkpoint_that_does_not_fit_fails_before_the_probe_times_anything(memorized):
    """The small network's checkpoint against resnet_v2_50 itself: the graph is built (and the
    checkpoint matched) before the peak probe, so the run fails with nothing timed."""
    config = BenchmarkConfig(depth=50, batch_size=1, image_size=32, num_classes=memorized.num_classes,
                             num_batches=2, burn_in=1, device="cpu", data_format="NHWC", peak_probe_size=256,
                             checkpoint=memorized.checkpoint)
    result = measure.run_in_process(config, {})
    assert not result.ok and "\n" not in result.failure.message
    message = result.failure.message
    assert memorized.checkpoint in message and "does not match the graph" in message
    assert "peak_probe" not in result.phases_s and result.measurement is None
