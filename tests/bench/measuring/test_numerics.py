"""fp16 numerics through the real harness path (bench.step.graphs, bench.measuring.timing,
bench.measuring.measure, bench.measuring.numerics): the default dynamic loss scale settles during
the burn-in, gradients are checked finite after the measured steps, skipped training updates are
counted and warned about, and a static scale or fp32 carries no loss-scale state.

At 64 px, batch 2 (seed 0) the initial scale 2^15 overflows float16 in some gradients; a few
halvings bring it to a finite scale (2048 when measured), so burn-in 6 is enough and burn-in 2 is
not.

The graph does not depend on the number of steps, so the forward-backward graph is built once per
module and measured with several burn-ins (`bench.measuring.measure.run_in_process(..., timed=...)`, the
rest of `bench.run`'s in-process path); every run opens its own session, so its variables start fresh.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import bench
from bench.core.config import BenchmarkConfig
from bench.measuring import measure, timing
from bench.results.result import BenchmarkResult
from bench.step import graphs
from bench.step.scalers import DYNAMIC_INITIAL_SCALE

FP16 = dict(depth=50, batch_size=2, image_size=64, num_classes=10, num_batches=2, device="cpu",
            precision="fp16", peak_probe=False)
SETTLING_BURN_IN = 6


def _finite_gradient_count(gradient_values):
    return sum(bool(np.isfinite(value).all()) for value in gradient_values)


def _built(config):
    """(the prepared configuration, the environment, its TimedGraph)."""
    (prepared,), environment = bench.prepare([config])
    return prepared, environment, graphs.build_timed_graph(prepared)


def _run(built, **steps):
    """One run of the built graph, with `steps` (burn_in, num_batches) replaced."""
    config, environment, timed = built
    return measure.run_in_process(dataclasses.replace(config, **steps), environment, timed=timed)


@pytest.fixture(scope="module")
def forward_backward():
    """The fp16 forward-backward graph at 64 px with the default loss scale, built once."""
    return _built(BenchmarkConfig(mode="forward-backward", burn_in=SETTLING_BURN_IN, **FP16))


def test_forward_backward_burn_in_settles_the_default_loss_scale(forward_backward):
    config, _, timed = forward_backward
    assert config.loss_scale == "auto"
    gradients = timed.step.gradients
    with tf.compat.v1.Session(graph=timed.graph, config=graphs.session_config(config)) as session:
        session.run(timed.initializer)
        cold = session.run(gradients)
        assert _finite_gradient_count(cold) < len(gradients)  # 2^15 overflows: the case at hand
        timing.measure_steps(session, timed.target, config.burn_in, config.num_batches,
                             burn_in_fetch=timed.step.burn_in_target)
        settled = session.run(gradients)
        scale = session.run(timed.step.loss_scale_state)["loss_scale"]
    assert _finite_gradient_count(settled) == len(gradients)
    assert scale < DYNAMIC_INITIAL_SCALE


def test_forward_backward_records_finite_gradients_and_a_steady_scale(forward_backward):
    result = _run(forward_backward, burn_in=SETTLING_BURN_IN)
    assert result.ok, result.failure
    assert result.extra.loss_scale == "dynamic"  # 'auto' for fp16
    numerics = result.extra.numerics
    assert numerics.gradients_finite is True
    # Measured steps use the settled scale and never change it.
    assert numerics.loss_scale_before == numerics.loss_scale_after < DYNAMIC_INITIAL_SCALE
    assert numerics.skipped_updates is None  # nothing is updated in forward-backward
    assert not [warning for warning in result.warnings if "finite" in warning]


def test_too_short_a_burn_in_is_warned_about(forward_backward):
    result = _run(forward_backward, burn_in=2)
    assert result.ok, result.failure
    assert result.extra.numerics.gradients_finite is False
    record = result.to_record()
    (warning,) = [warning for warning in record["warnings"] if "not all finite" in warning]
    assert "dynamic loss scale 16384 -> 16384" in warning and "--burn-in" in warning
    # The warning is derived again from a record read back.
    assert warning in BenchmarkResult.from_record(record).warnings


def test_train_counts_measured_steps_that_skipped_the_update():
    result = bench.run(BenchmarkConfig(mode="train", burn_in=1, **dict(FP16, num_batches=3)))
    assert result.ok, result.failure
    assert result.extra.loss_scale == "dynamic"
    assert result.config.label == "resnet_v2_50 batch 2 train fp16"
    numerics = result.extra.numerics
    skipped = numerics.skipped_updates
    assert skipped > 0
    # No growth in three steps: every skip halved the scale.
    assert numerics.loss_scale_after == numerics.loss_scale_before / 2 ** skipped
    (warning,) = [warning for warning in result.warnings if "skipped the optimizer update" in warning]
    assert warning.startswith(f"{skipped} of 3 measured steps skipped")
    assert result.cost.achieved_tflops > 0


def test_a_static_loss_scale_has_no_state_and_no_probe_means_no_efficiency():
    result = bench.run(BenchmarkConfig(mode="forward-backward", loss_scale="128", burn_in=1,
                                       **FP16))
    assert result.ok, result.failure
    assert result.extra.loss_scale == "128"
    numerics = result.extra.numerics
    assert numerics.gradients_finite is True  # 128 does not overflow here
    assert numerics.loss_scale_before is None and numerics.skipped_updates is None
    assert result.extra.peak_probe is None and result.cost.efficiency is None
    assert {"peak_probe", "loss_scale_before"}.isdisjoint(result.to_record()["extra"])
    assert result.cost.gflop_per_image > 0


def test_fp32_gradients_are_checked_and_carry_no_loss_scale_state():
    mode = "train"  # its gradients are forward-backward's; the fp16 tests cover that mode
    config = BenchmarkConfig(mode=mode, burn_in=1, **dict(FP16, batch_size=1, image_size=32,
                                                           precision="fp32"))
    result = bench.run(config)
    assert result.ok, result.failure
    numerics = result.extra.numerics
    assert numerics.gradients_finite is True
    assert numerics.loss_scale_before is None and numerics.skipped_updates is None
    assert {"loss_scale_before", "skipped_updates"}.isdisjoint(result.to_record()["extra"])
