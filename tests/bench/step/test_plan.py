"""The step decided once (bench/step/plan.py): every 'auto' resolved, device names per replica,
the compute dtype and loss scale in effect, and the session settings."""

import dataclasses

import pytest
import tensorflow as tf

from bench.core.config import BenchmarkConfig
from bench.step.plan import UntimedPass, plan_step

TINY = dict(depth=50, batch_size=2, image_size=64, num_classes=10)


@pytest.mark.parametrize("device, layout", [("cpu", "NHWC"), ("gpu", "NCHW")])
def test_auto_layout_follows_the_device_and_an_explicit_one_is_kept(device, layout):
    plan = plan_step(BenchmarkConfig(device=device, data_format="auto", **TINY))
    assert plan.data_format == layout
    kept = plan_step(BenchmarkConfig(device="cpu", data_format="NCHW", **TINY))
    assert kept.data_format == "NCHW" and kept.input_shape == (2, 3, 64, 64)
    assert plan_step(BenchmarkConfig(device="cpu", **TINY)).input_shape == (2, 64, 64, 3)


def test_one_device_name_per_local_replica_and_the_replica_layout():
    one = plan_step(BenchmarkConfig(device="cpu", **TINY))
    assert one.device_names == ("/device:CPU:0",) and not one.replicated
    two = plan_step(BenchmarkConfig(device="gpu", num_devices=2, **TINY))
    assert two.device_names == ("/device:GPU:0", "/device:GPU:1") and two.replicated
    workers = plan_step(BenchmarkConfig(device="cpu", workers=2, **TINY))
    assert workers.device_names == ("/device:CPU:0",) and workers.replicated
    assert (one.num_replicas, two.num_replicas, workers.num_replicas) == (1, 2, 2)


@pytest.mark.parametrize("precision, dtype, loss_scale", [
    ("fp32", tf.float32, "none"), ("fp16", tf.float16, "dynamic"), ("bf16", tf.bfloat16, "none")])
def test_compute_dtype_and_the_loss_scale_auto_means(precision, dtype, loss_scale):
    plan = plan_step(BenchmarkConfig(device="cpu", precision=precision, **TINY))
    assert plan.compute_dtype == dtype
    assert plan.loss_scale.describe() == loss_scale
    static = plan_step(BenchmarkConfig(device="cpu", precision=precision, loss_scale="128", **TINY))
    assert static.loss_scale.describe() == "128"


def test_training_modes_train_batch_norm():
    modes = {mode: plan_step(BenchmarkConfig(device="cpu", mode=mode, **TINY)).is_training
             for mode in ("forward", "forward-backward", "train")}
    assert modes == {"forward": False, "forward-backward": True, "train": True}


def test_an_unresolved_device_or_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="device must be resolved to 'gpu' or 'cpu' first"):
        plan_step(BenchmarkConfig(device="auto", **TINY))
    with pytest.raises(ValueError, match="precision must be one of"):
        plan_step(dataclasses.replace(BenchmarkConfig(device="cpu", **TINY), precision="fp8"))


def test_session_settings_threads_and_the_cpu_s_logical_devices():
    config = BenchmarkConfig(device="cpu", num_devices=2, intra_op_threads=3, inter_op_threads=1, **TINY)
    plan = plan_step(config)
    proto = plan.session_config
    assert (proto.intra_op_parallelism_threads, proto.inter_op_parallelism_threads) == (3, 1)
    assert proto.device_count["GPU"] == 0 and proto.device_count["CPU"] == 2
    assert proto.allow_soft_placement


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_the_session_runs_the_layout_it_was_built_in(device):
    # Grappler's layout optimizer would rewrite NCHW <-> NHWC on a GPU; every session turns it off.
    from tensorflow.core.protobuf import rewriter_config_pb2

    proto = plan_step(BenchmarkConfig(device=device, data_format="NHWC")).session_config
    assert proto.graph_options.rewrite_options.layout_optimizer == rewriter_config_pb2.RewriterConfig.OFF


def test_the_gpu_memory_cap_gives_every_visible_gpu_one_capped_virtual_device(monkeypatch):
    # This machine has no GPU: TensorFlow's device listing stands in for one with two.
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["GPU:0", "GPU:1"])
    proto = plan_step(BenchmarkConfig(device="gpu"), gpu_memory_limit_mb=4096).session_config
    devices = proto.gpu_options.experimental.virtual_devices
    assert [list(device.memory_limit_mb) for device in devices] == [[4096.0], [4096.0]]
    uncapped = plan_step(BenchmarkConfig(device="gpu")).session_config
    assert not uncapped.gpu_options.experimental.virtual_devices
    cpu = plan_step(BenchmarkConfig(device="cpu"), gpu_memory_limit_mb=4096).session_config
    assert cpu.device_count["GPU"] == 0 and not cpu.gpu_options.experimental.virtual_devices


def test_real_data_is_checked_here_unless_the_checked_source_is_given(real_data):
    config = BenchmarkConfig(device="cpu", data=real_data, **dict(TINY, num_classes=1001))
    checked = plan_step(config).data_source
    assert (checked.path, checked.num_images) == (real_data, 8)
    # A child is given its parent's check (here one that says 9 images): it is used as it is.
    given = dataclasses.replace(checked, num_images=9)
    assert plan_step(config, data_source=given).data_source is given
    elsewhere = dataclasses.replace(checked, path="/elsewhere")  # not this configuration's data
    assert plan_step(config, data_source=elsewhere).data_source == checked


@pytest.mark.parametrize("settings, expected", [
    ({}, None),  # fp32, no --quality: nothing runs after the measured steps
    (dict(precision="bf16", agreement=False), None),
    (dict(precision="bf16"), UntimedPass(None, True)),  # synthetic: the step's own batch
    (dict(xla=True), UntimedPass(None, True)),
])
def test_the_untimed_pass_is_decided_with_the_plan_on_synthetic_data(settings, expected):
    config = BenchmarkConfig(device="cpu", **dict(TINY, **settings))
    config.validate()
    assert plan_step(config).untimed_pass == expected


@pytest.mark.parametrize("settings, expected", [
    (dict(quality=True), UntimedPass(8, False)),  # one epoch of the data: its 8 images
    (dict(quality=True, quality_images=6, precision="bf16"), UntimedPass(6, True)),
    (dict(precision="bf16"), UntimedPass(2, True)),  # the agreement alone: one batch
    ({}, None),
    (dict(mode="input", precision="bf16"), None),  # no model, nothing to compare
])
def test_the_untimed_pass_on_real_data_counts_its_images(real_data, settings, expected):
    config = BenchmarkConfig(**{**TINY, "device": "cpu", "data": real_data, "mode": "forward",
                                "num_classes": 1001, "batch_size": 2, **settings})
    config.validate()
    assert plan_step(config).untimed_pass == expected
