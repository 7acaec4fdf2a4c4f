"""fp16 numerics through the real harness path (bench.step.graphs, bench.measuring.timing,
bench.measuring.measure, bench.measuring.numerics): the default dynamic loss scale settles during
the burn-in, gradients are checked finite after the measured steps, skipped training updates are
counted and warned about, and a static scale or fp32 carries no loss-scale state.

At 64 px, batch 2 (seed 0) the initial scale 2^15 overflows float16 in some gradients and a few
halvings bring it to a finite scale. How many depends on the gradients' magnitudes, so on the
kernels of the machine: the `settling` fixture asks the machine, letting the scale settle one
burn-in update at a time, and the burn-ins below are derived from the halvings it counted (enough:
one update per halving; too short: one update fewer). The inputs and the initial variables are the
same in every session and forward-backward updates no variable, so every run of the graph on this
machine needs the same halvings. The same count says what train's measured steps skip and
whether a static scale of 128 overflows (`Settling.scale`), so no test assumes this machine's count.

The graph does not depend on the number of steps, so the forward-backward graph is built once per
module and measured with several burn-ins (`bench.measuring.measure.run_in_process(..., timed=...)`, the
rest of `bench.run`'s in-process path); every run opens its own session, so its variables start fresh.
"""

import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf

import bench
from bench.core import stand_ins
from bench.core.config import BenchmarkConfig
from bench.measuring import measure, numerics
from bench.results.result import BenchmarkResult
from bench.step import graphs
from bench.step.plan import plan_step
from bench.step.scalers import DYNAMIC_FACTOR, DYNAMIC_INITIAL_SCALE

# No agreement pass (fp16's default): it would build the network twice more after every run's
# steps, about 4 s each, and tests/bench/measuring/test_quality_pass.py is where it is tested.
FP16 = dict(depth=50, batch_size=2, image_size=64, num_classes=10, num_batches=2, device="cpu",
            precision="fp16", peak_probe=False, agreement=False)
# The scale never goes below 1 (scalers.DynamicLossScaler), so 2^15 settles within 15 halvings
# if it settles at all: one more update than that is the most a burn-in can need.
MAX_UPDATES = 16


def _finite_gradient_count(gradient_values):
    return sum(bool(np.isfinite(value).all()) for value in gradient_values)


def _is_power_of_two(value):
    return value >= 1 and math.frexp(value)[0] == 0.5


def _built(config):
    """(the prepared configuration, the environment, its TimedGraph)."""
    (prepared,), environment = bench.prepare([config])
    return prepared, environment, graphs.build_timed_graph(plan_step(prepared))


def _run(built, **steps):
    """One run of the built graph, with `steps` (burn_in, num_batches) replaced."""
    config, environment, timed = built
    return measure.run_in_process(dataclasses.replace(config, **steps), environment, timed=timed)


@pytest.fixture(scope="module")
def forward_backward():
    """The fp16 forward-backward graph at 64 px with the default loss scale, built once."""
    return _built(BenchmarkConfig(mode="forward-backward", burn_in=1, **FP16))


@dataclasses.dataclass
class Settling:
    """What this machine did with the default loss scale: the gradients at the initial scale, the
    scaler's state after each burn-in update (until an update saw finite gradients) and the
    gradients at the scale it settled on."""

    cold: list
    states: list
    settled: list

    @property
    def halvings(self):
        """The updates that found a non-finite gradient (each halved the scale)."""
        return self.states[-1]["skipped_steps"]

    @property
    def scale(self):
        """The scale it settled on: the largest power of two up to the initial scale whose
        gradients are finite (a larger scale only makes larger gradients)."""
        return DYNAMIC_INITIAL_SCALE / DYNAMIC_FACTOR ** self.halvings


@pytest.fixture(scope="module")
def settling(forward_backward):
    """The default scale settled one burn-in update at a time (the harness's burn-in fetch), in a
    session of its own."""
    config, _, timed = forward_backward
    assert config.loss_scale == "auto"
    with tf.compat.v1.Session(graph=timed.graph, config=timed.session_config) as session:
        session.run(timed.initializer)
        cold = session.run(timed.step.gradients)
        states, skipped = [], 0
        for _ in range(MAX_UPDATES):
            session.run(timed.step.burn_in_target)
            states.append(numerics.read_loss_scale_state(session, timed.step))
            if states[-1]["skipped_steps"] == skipped:  # finite gradients: settled
                break
            skipped = states[-1]["skipped_steps"]
        settled = session.run(timed.step.gradients)
    return Settling(cold, states, settled)


@pytest.fixture(scope="module")
def overflowing(settling):
    """`settling`, for the tests that need the initial scale to overflow: skips where it does not."""
    if settling.halvings == 0:
        pytest.skip(f"the initial loss scale {DYNAMIC_INITIAL_SCALE:g} does not overflow this "
                    "machine's fp16 gradients: there is nothing to settle")
    return settling


def test_forward_backward_burn_in_settles_the_default_loss_scale(forward_backward, overflowing):
    gradients = forward_backward[2].step.gradients
    assert _finite_gradient_count(overflowing.cold) < len(gradients)  # the case at hand
    # Every update before the last found an overflow and halved the scale; the last found finite
    # gradients and kept it.
    scales = [DYNAMIC_INITIAL_SCALE] + [state["loss_scale"] for state in overflowing.states]
    skipped = [0] + [state["skipped_steps"] for state in overflowing.states]
    assert len(overflowing.states) == overflowing.halvings + 1 <= MAX_UPDATES, "the scale never settled"
    for index in range(1, len(scales)):
        halved = skipped[index] == skipped[index - 1] + 1
        assert halved == (index < len(scales) - 1), skipped
        assert scales[index] == (scales[index - 1] / DYNAMIC_FACTOR if halved else scales[index - 1])
    scale = scales[-1]
    assert scale == overflowing.scale
    assert _is_power_of_two(scale) and scale < DYNAMIC_INITIAL_SCALE
    assert _finite_gradient_count(overflowing.settled) == len(gradients)


def test_forward_backward_records_finite_gradients_and_a_steady_scale(forward_backward, overflowing):
    # Every burn-in step but the last updates the scale: one per halving the machine needed.
    result = _run(forward_backward, burn_in=overflowing.halvings + 1)
    assert result.ok, result.failure
    assert result.extra.loss_scale == "dynamic"  # 'auto' for fp16
    numerics_found = result.extra.numerics
    assert numerics_found.gradients_finite is True
    # Measured steps use the settled scale and never change it.
    assert numerics_found.loss_scale_before == numerics_found.loss_scale_after == overflowing.scale
    assert numerics_found.skipped_updates is None  # nothing is updated in forward-backward
    assert not [warning for warning in result.warnings if "finite" in warning]


def test_too_short_a_burn_in_is_warned_about(forward_backward, overflowing):
    # One update fewer than the machine needed (none at all when it needed one).
    result = _run(forward_backward, burn_in=overflowing.halvings)
    assert result.ok, result.failure
    numerics_found = result.extra.numerics
    assert numerics_found.gradients_finite is False
    short_scale = DYNAMIC_INITIAL_SCALE / DYNAMIC_FACTOR ** (overflowing.halvings - 1)
    assert numerics_found.loss_scale_before == numerics_found.loss_scale_after == short_scale
    record = result.to_record()
    (warning,) = [warning for warning in record["warnings"] if "not all finite" in warning]
    assert f"dynamic loss scale {short_scale:g} -> {short_scale:g}" in warning
    assert "--burn-in" in warning
    # The warning is derived again from a record read back.
    assert warning in BenchmarkResult.from_record(record).warnings


def test_train_counts_measured_steps_that_skipped_the_update(settling):
    """A skipped update leaves the variables as they were, so train's gradients are those of the
    forward-backward graph until its first finite step: with one burn-in update, the measured steps
    skip as many updates as `settling` found halvings after its first (up to 3)."""
    expected = min(3, settling.halvings - 1)
    if expected < 1:
        pytest.skip(f"this machine's fp16 gradients overflow the initial loss scale "
                    f"{DYNAMIC_INITIAL_SCALE:g} {settling.halvings} time(s): one burn-in update "
                    "settles it and no measured step skips its update")
    result = bench.run(BenchmarkConfig(mode="train", burn_in=1, **dict(FP16, num_batches=3)))
    assert result.ok, result.failure
    assert result.extra.loss_scale == "dynamic"
    assert result.config.label == "resnet_v2_50 batch 2 train fp16"
    numerics = result.extra.numerics
    skipped = numerics.skipped_updates
    assert skipped >= expected  # a step after the first finite one may overflow again
    # No growth in three steps: every skip halved the scale.
    assert numerics.loss_scale_after == numerics.loss_scale_before / 2 ** skipped
    (warning,) = [warning for warning in result.warnings if "skipped the optimizer update" in warning]
    assert warning.startswith(f"{skipped} of 3 measured steps skipped")
    assert result.cost.achieved_tflops > 0


def test_a_static_loss_scale_has_no_state_and_no_probe_means_no_efficiency(settling):
    result = bench.run(BenchmarkConfig(mode="forward-backward", loss_scale="128", burn_in=1,
                                       **FP16))
    assert result.ok, result.failure
    assert result.extra.loss_scale == "128"
    numerics = result.extra.numerics
    # Finite exactly where 128 is at most the scale this machine's gradients settled on.
    assert numerics.gradients_finite is (128 <= settling.scale)
    assert numerics.loss_scale_before is None and numerics.skipped_updates is None
    assert result.extra.peak_probe is None and result.cost.efficiency is None
    assert {"peak_probe", "loss_scale_before"}.isdisjoint(result.to_record()["extra"])
    assert result.cost.gflop_per_image > 0


def test_fp32_gradients_are_checked_and_carry_no_loss_scale_state(monkeypatch):
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, stand_ins.SMALL)  # nothing here needs the depth
    mode = "train"  # its gradients are forward-backward's; the fp16 tests cover that mode
    config = BenchmarkConfig(mode=mode, burn_in=1, **dict(FP16, batch_size=1, image_size=32,
                                                           precision="fp32"))
    result = bench.run(config)
    assert result.ok, result.failure
    numerics = result.extra.numerics
    assert numerics.gradients_finite is True
    assert numerics.loss_scale_before is None and numerics.skipped_updates is None
    assert {"loss_scale_before", "skipped_updates"}.isdisjoint(result.to_record()["extra"])
