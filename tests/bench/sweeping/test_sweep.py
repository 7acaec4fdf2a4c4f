"""Preparing and running a sweep (bench/sweeping/sweep.py): one validation before TensorFlow, resolution,
Ctrl-C between configurations."""

import signal
import subprocess
import sys

import pytest

import bench
from bench.core.config import BenchmarkConfig, ConfigError
from bench.measuring import measure
from bench.step import graphs
from bench.step.plan import plan_step
from bench.sweeping import sweep

TINY_FORWARD = dict(depth=50, image_size=32, num_classes=10, num_batches=2, burn_in=1,
                    device="cpu", peak_probe=False)


@pytest.fixture(scope="module")
def batches_1_2_3():
    """Prepared tiny configurations of batch 1, 2 and 3, the environment, and a run_one for
    `sweep.run_sweep`: the in-process run (`bench.measuring.measure.run_in_process`) on batch 1's graph,
    built once for the module; the interrupted sweeps below measure batch 1 only."""
    configs, environment = bench.prepare(
        [BenchmarkConfig(**dict(TINY_FORWARD, batch_size=batch)) for batch in (1, 2, 3)])
    timed = graphs.build_timed_graph(plan_step(configs[0]))

    def run_one(config):
        assert config == configs[0], config  # the graph is batch 1's
        return measure.run_in_process(config, environment, timed=timed)

    return configs, environment, run_one


def test_invalid_configuration_is_refused_before_anything_runs(tiny):
    with pytest.raises(ConfigError, match="depth=77"):
        bench.run(BenchmarkConfig(**dict(tiny, depth=77)))
    with pytest.raises(ConfigError, match="image_size=16"):
        bench.run(BenchmarkConfig(**dict(tiny, image_size=16)))


def test_unusable_data_is_refused_before_tensorflow_is_imported(tmp_path):
    code = ("import sys; from bench.sweeping import sweep; from bench.core.config import BenchmarkConfig\n"
            "try:\n"
            f"    sweep.prepare([BenchmarkConfig(data={str(tmp_path)!r}, device='cpu')])\n"
            "except ValueError as error:\n"
            "    print(error.field, 'tensorflow' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               timeout=60)
    assert completed.stdout.split() == ["data", "False"]  # an empty folder, found without TensorFlow


def test_prepare_resolves_device_and_layout_once_and_drops_duplicates(tiny):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    configs = [BenchmarkConfig(**dict(tiny, device="auto", data_format=layout))
               for layout in ("auto", "NHWC")]
    resolved, environment = bench.prepare(configs)
    assert [(c.device, c.data_format) for c in resolved] == [("cpu", "NHWC")]
    assert environment["device"] == "cpu" and environment["gpu_names"] == []
    with pytest.raises(ConfigError, match="device='gpu': TensorFlow sees no GPU"):
        bench.prepare([BenchmarkConfig(**dict(tiny, device="gpu"))])
    with pytest.raises(ConfigError, match="data_format='NCHW': not available on the CPU"):
        bench.prepare([BenchmarkConfig(**dict(tiny, data_format="NCHW"))])


def test_ctrl_c_keeps_finished_results_and_marks_the_interrupted_one(batches_1_2_3, python_ctrl_c):
    configs, environment, run_one = batches_1_2_3
    delivered = []

    def press_ctrl_c_when_second_starts(config):
        if config.batch_size == 2:
            signal.raise_signal(signal.SIGINT)

    outcome = sweep.run_sweep(configs, environment, isolate=False,
                              on_start=press_ctrl_c_when_second_starts,
                              on_result=delivered.append, run_one=run_one)
    assert outcome.interrupted
    assert [r.status for r in outcome.results] == ["ok", "interrupted"]
    assert delivered == outcome.results
    assert [c.batch_size for c in outcome.not_run] == [3]
    assert outcome.any_failed


def test_a_signal_while_a_result_is_delivered_waits_for_it(batches_1_2_3, python_ctrl_c):
    configs, environment, run_one = batches_1_2_3
    configs = configs[:2]
    written = []

    def deliver(result):
        signal.raise_signal(signal.SIGTERM if not written else signal.SIGINT)
        written.append(result.config.batch_size)  # still runs: the signal is held back

    from bench.sweeping.signals import raise_on_sigterm

    with raise_on_sigterm():
        outcome = sweep.run_sweep(configs, environment, isolate=False, on_result=deliver,
                                  run_one=run_one)
    assert written == [1, 2]  # the first result, then the interrupted one
    assert outcome.interrupted and outcome.results[1].failure.message == "interrupted (SIGTERM)"
