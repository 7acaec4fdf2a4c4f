"""--breakdown on real resnet_v2 graphs: every op of the step in one part, the units per block the
model's, the parts' FLOPs adding up to the step's, and traced steps read back.

The graphs are the harness's own (`graphs.build_timed_graph`) at 32 px, batch 1; deeper graphs only
in the slow tests. The 2-replica steps use the two-unit stand-in network (the replica scopes do
not depend on the depth).
"""


import pytest
import tensorflow as tf

from bench.core.config import BenchmarkConfig
from bench.measuring import breakdown_steps, flops
from bench.results import attribution
from bench.step import graphs, targets
from bench.step.plan import plan_step
from slim_resnet.family import UNITS_PER_BLOCK

tf1 = tf.compat.v1
TINY = dict(depth=50, batch_size=1, image_size=32, num_classes=10, device="cpu", data_format="NHWC",
            peak_probe=False)
MODEL_PARTS = ("root", "block1", "block2", "block3", "block4", "head")


def _scopes(plan):
    return attribution.Scopes(plan.config.model_name, (targets.LOSS_SCOPE,), (targets.OPTIMIZER_SCOPE,))


def _open(config, network=None):
    plan = plan_step(config)
    timed = graphs.build_timed_graph(plan, network)
    session = tf1.Session(timed.session_target, graph=timed.graph, config=timed.session_config)
    session.run(timed.initializer)
    session.run(timed.target)  # the cold step
    return plan, timed, session


@pytest.fixture(scope="module")
def forward_backward():
    plan, timed, session = _open(BenchmarkConfig(mode="forward-backward", **TINY))
    yield plan, timed, session
    session.close()


@pytest.fixture(scope="module")
def forward():
    plan, timed, session = _open(BenchmarkConfig(mode="forward", **TINY))
    yield plan, timed, session
    session.close()


def step_rows(plan, timed):
    """One row per op of the step graph, 1 us each, with its FLOPs."""
    graph, fetches, _ = timed.flop_counted
    flop_of = breakdown_steps.op_flops(graph, fetches)
    names = flops._needed_op_names(flops._as_ops(fetches))
    inputs = breakdown_steps.backward_inputs(timed.graph)
    return [attribution.OpRow(name, 1.0, flop_of.get(name, 0), inputs.get(name, ())) for name in names]


def units_of(found, block):
    return sorted(int(part.name.split("unit_")[1])
                  for part in found.parts if part.name.startswith(block + "/"))


def test_every_op_of_a_forward_backward_step_is_in_one_part_and_the_flops_add_up(forward_backward):
    plan, timed, _ = forward_backward
    rows = step_rows(plan, timed)
    for level in ("blocks", "units"):
        found = attribution.attribute(rows, _scopes(plan), level)
        assert found.op_ms == pytest.approx(len(rows) / 1e3)
        assert found.flops == flops.step_flops(*timed.flop_counted[:2]).total
    blocks = attribution.attribute(rows, _scopes(plan), "blocks")
    for name in MODEL_PARTS:
        part = blocks.part(name)
        assert part.forward_flops > 0 and part.backward_flops > 0, name
    assert blocks.part("loss").forward_ms > 0 and blocks.part("loss").backward_ms > 0
    # nothing of the network's own scope is left to 'other'
    model_ops = [row for row in rows if row.name.startswith(plan.config.model_name + "/")]
    assert all(attribution.place_of(row.name, _scopes(plan)).part != "other" for row in model_ops)


def test_the_units_of_each_block_are_the_models(forward_backward):
    plan, timed, _ = forward_backward
    found = attribution.attribute(step_rows(plan, timed), _scopes(plan), "units")
    for index, count in enumerate(UNITS_PER_BLOCK[50]):
        assert units_of(found, f"block{index + 1}") == list(range(1, count + 1))


def test_traced_forward_steps_have_no_backward_and_their_flops_are_the_steps(forward):
    plan, timed, session = forward
    found = breakdown_steps.take(session, timed, plan, "blocks")
    assert [part.name for part in found.parts if part.name in MODEL_PARTS] == list(MODEL_PARTS)
    assert all(part.backward_ms == 0 and part.backward_flops == 0 for part in found.parts)
    assert found.flops == flops.step_flops(*timed.flop_counted[:2]).total
    assert found.traced_steps == breakdown_steps.TRACED_STEPS == len(found.step_wall_ms)
    assert len(found.step_span_ms) == len(found.step_op_ms) == found.traced_steps
    assert found.op_ms > 0 and found.devices and found.seconds > 0
    assert found.op_ms == pytest.approx(sum(part.total_ms for part in found.parts))
    assert found.replica_op_ms == pytest.approx([found.op_ms])


def test_traced_forward_backward_steps_put_time_on_both_passes(forward_backward):
    plan, timed, session = forward_backward
    found = breakdown_steps.take(session, timed, plan, "units")
    assert found.flops == flops.step_flops(*timed.flop_counted[:2]).total
    backward = sum(part.backward_ms for part in found.parts)
    forward = sum(part.forward_ms for part in found.parts if part.directed)
    assert backward > 0 and forward > 0
    assert units_of(found, "block3") == list(range(1, UNITS_PER_BLOCK[50][2] + 1))


def test_a_breakdown_that_finds_no_op_of_the_model_fails_naming_the_scopes(forward):
    plan, timed, session = forward
    renamed = plan.changed(depth=101)  # expects resnet_v2_101's scopes
    with pytest.raises(ValueError, match="found no op of the model .*resnet_v2_101/conv1"):
        breakdown_steps.take(session, timed, renamed, "blocks")


def test_under_xla_no_breakdown_is_taken_and_it_says_why(forward):
    plan, timed, session = forward
    found = breakdown_steps.take(session, timed, plan.changed(xla=True), "blocks")
    assert not found.available and "XLA" in found.reason and found.to_dict()["available"] is False


def test_two_replicas_are_grouped_per_part_and_kept_per_replica(small_network):
    config = BenchmarkConfig(mode="forward-backward", **dict(TINY, batch_size=2, num_devices=2))
    plan, timed, session = _open(config, small_network(config))
    try:
        found = breakdown_steps.take(session, timed, plan, "blocks")
    finally:
        session.close()
    assert len(found.replica_op_ms) == 2 and all(value > 0 for value in found.replica_op_ms)
    assert found.flops == flops.step_flops(*timed.flop_counted[:2]).total
    rows = step_rows(plan, timed)
    replicas = {attribution.place_of(row.name, _scopes(plan)).replica for row in rows}
    assert replicas == {0, 1}
    assert found.part("block1").backward_ms > 0 and found.part("block2").forward_ms > 0


def test_a_gpu_trace_is_read_from_its_kernel_streams():
    names = ["/job:localhost/replica:0/task:0/device:GPU:0", "/device:GPU:0/stream:all",
             "/device:GPU:0/stream:7", "/device:GPU:0/memcpy"]
    assert breakdown_steps.read_devices(names) == ["/device:GPU:0/stream:all"]
    assert breakdown_steps.read_devices(["/job:localhost/replica:0/task:0/device:CPU:0"]) == [
        "/job:localhost/replica:0/task:0/device:CPU:0"]


@pytest.mark.slow
@pytest.mark.parametrize("depth", [101])  # block3's 23 units: unit_2 is not unit_20's prefix
def test_the_units_of_deeper_models_are_theirs(depth):
    config = BenchmarkConfig(mode="forward-backward", **dict(TINY, depth=depth))
    plan = plan_step(config)
    timed = graphs.build_timed_graph(plan)
    rows = step_rows(plan, timed)
    found = attribution.attribute(rows, _scopes(plan), "units")
    for index, count in enumerate(UNITS_PER_BLOCK[depth]):
        assert units_of(found, f"block{index + 1}") == list(range(1, count + 1))
    assert found.flops == flops.step_flops(*timed.flop_counted[:2]).total
