"""The Python API in this process: run(), failures as rows, Ctrl-C in a sweep."""

import io
import re
import signal

import pytest

import bench
from bench import runner
from bench.config import BenchmarkConfig, ConfigError

TINY = dict(depth=50, batch_size=1, image_size=32, num_classes=10, num_batches=3, burn_in=1,
            device="cpu", display_every=1, peak_probe_size=256)
PROGRESS_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: step (\d+), duration = \d+\.\d{3}$")


def test_run_in_process_measures_and_reports_progress():
    progress = io.StringIO()
    result = bench.run(BenchmarkConfig(mode="forward", **TINY), progress=progress)
    assert result.ok and result.status == "ok"
    assert len(result.measurement.step_times_s) == 3
    assert len(result.measurement.burn_in_times_s) == 1
    steps = [PROGRESS_LINE.match(line).group(1) for line in progress.getvalue().splitlines()]
    assert steps == ["1", "2", "3"]
    assert result.param_count > 23_000_000
    assert result.environment["device"] == "cpu"
    assert result.config.device == "cpu"
    assert {"graph_build", "session_init", "burn_in", "measure", "total"} <= set(result.phases_s)
    assert result.phases_s["measure"] == result.measurement.loop_wall_s
    assert result.stats.images_per_sec == pytest.approx(1 / result.stats.mean_s)


def test_run_in_a_child_process_relays_progress_and_measures_overhead():
    progress = io.StringIO()
    result = bench.run(BenchmarkConfig(mode="forward", **TINY), isolate=True, progress=progress)
    assert result.ok and len(result.measurement.step_times_s) == 3
    steps = [PROGRESS_LINE.match(line).group(1) for line in progress.getvalue().splitlines()]
    assert steps == ["1", "2", "3"]
    assert result.phases_s["child_overhead"] > result.phases_s["tf_import"] > 0


@pytest.mark.parametrize("kind, expected_kind", [("error", "error"), ("oom", "oom")])
def test_an_error_becomes_a_failed_result(monkeypatch, kind, expected_kind):
    monkeypatch.setenv(runner.FAULT_ENV_VAR, f"{kind}:50:1:forward")
    configs, environment = runner.prepare([BenchmarkConfig(mode="forward", **TINY)])
    result = runner.run_in_process(configs[0], environment)
    assert result.status == "failed" and result.measurement is None
    assert result.failure.kind == expected_kind
    assert "\n" not in result.failure.message
    if kind == "error":
        assert result.failure.message == (
            "RuntimeError: injected failure for resnet_v2_50 batch 1 forward")
        assert any("Traceback" in line or "RuntimeError" in line for line in
                   result.failure.details)
    else:
        assert result.failure.short == "OOM"


def test_invalid_configuration_is_refused_before_anything_runs():
    with pytest.raises(ConfigError, match="depth=77"):
        bench.run(BenchmarkConfig(**dict(TINY, depth=77)))
    with pytest.raises(ConfigError, match="image_size=16"):
        bench.run(BenchmarkConfig(**dict(TINY, image_size=16)))


def test_gpu_request_without_gpu_is_refused():
    tf = pytest.importorskip("tensorflow")
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="device='gpu': TensorFlow sees no GPU"):
        runner.prepare([BenchmarkConfig(**dict(TINY, device="gpu"))])


def test_ctrl_c_keeps_finished_results_and_marks_the_interrupted_one():
    configs, environment = runner.prepare(
        [BenchmarkConfig(**dict(TINY, batch_size=batch)) for batch in (1, 2, 3)])
    delivered = []

    def press_ctrl_c_when_second_starts(config):
        if config.batch_size == 2:
            signal.raise_signal(signal.SIGINT)

    outcome = runner.run_sweep(configs, environment, isolate=False,
                               on_start=press_ctrl_c_when_second_starts,
                               on_result=delivered.append)
    assert outcome.interrupted
    assert [r.status for r in outcome.results] == ["ok", "interrupted"]
    assert delivered == outcome.results
    assert [c.batch_size for c in outcome.not_run] == [3]
    assert outcome.any_failed


@pytest.mark.parametrize("xla", [False, True])
def test_trace_takes_the_last_burn_in_step_never_the_cold_one(xla):
    tf = pytest.importorskip("tensorflow")
    config = BenchmarkConfig(**dict(TINY, burn_in=3, trace="step.json", xla=xla))
    options = runner._burn_in_options(config, tf)
    full_trace = tf.compat.v1.RunOptions.FULL_TRACE
    traced = [index for index, option in options.items() if option.trace_level == full_trace]
    assert traced == [2]
    assert (0 in options) == xla  # the XLA check reads the first step's executed graphs


def test_a_tensorflow_error_is_summarised_by_its_cause():
    # 16 x 100000 x 100000 x 3 float32 images (1.9 TB): the allocator refuses them when the
    # initializer runs, and TensorFlow's message starts with 'Graph execution error:'.
    from bench import report

    configs, environment = runner.prepare(
        [BenchmarkConfig(**dict(TINY, batch_size=16, image_size=100_000, burn_in=0,
                                peak_probe=False))])
    result = runner.run_in_process(configs[0], environment)
    assert result.status == "failed" and result.failure.kind == "oom"
    message = result.failure.message
    assert message.startswith("ResourceExhaustedError: OOM when allocating tensor with shape[16,")
    assert "Graph execution error" not in message
    (line,) = report.summary_lines(result)
    assert line.endswith(f"FAILED: {message}")
    assert result.to_record()["failure"]["message"] == message
