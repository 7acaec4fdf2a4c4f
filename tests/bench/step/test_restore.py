"""--checkpoint: the timed graph restores a memorized model's weights (every precision, every
replica's copy), and a bad checkpoint is one line naming the file and the variable."""

import dataclasses
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from bench.core.config import BenchmarkConfig
from bench.core.errors import ConfigError
from bench.step import graphs, restore
from bench.step.plan import plan_step

tf1 = tf.compat.v1


def config_for(memorized, **settings):
    values = dict(depth=50, batch_size=len(memorized.labels), image_size=memorized.image_size,
                  num_classes=memorized.num_classes, device="cpu", data_format="NHWC",
                  checkpoint=memorized.checkpoint)
    return BenchmarkConfig(**dict(values, **settings))


def logits_on(timed, images, restored=True):
    """The timed graph's logits on `images` (fed in place of its synthetic batch), in float32,
    after its initializer and, when `restored`, its restore op."""
    with tf1.Session(graph=timed.graph, config=timed.session_config) as session:
        session.run(timed.initializer)
        if restored:
            session.run(timed.restore)
        images = images.astype(timed.images.dtype.as_numpy_dtype)
        return session.run(timed.logits, {timed.images: images}).astype(np.float32)


@pytest.fixture(scope="module")
def built(memorized, small_network):
    """Forward graphs of the small network with the memorized checkpoint: fp32 and bf16."""
    graphs_by_precision = {}
    for precision in ("fp32", "bf16"):
        config = config_for(memorized, precision=precision)
        graphs_by_precision[precision] = graphs.build_timed_graph(plan_step(config), small_network(config))
    return graphs_by_precision


def test_restored_logits_are_the_saved_models(built, memorized):
    logits = logits_on(built["fp32"], memorized.images)
    np.testing.assert_allclose(logits, memorized.logits, rtol=1e-4, atol=1e-4)
    assert (logits.argmax(axis=1) == memorized.labels).all()


def test_fresh_weights_are_near_chance(built, memorized):
    logits = logits_on(built["fp32"], memorized.images, restored=False)
    assert (logits.argmax(axis=1) == memorized.labels).mean() <= 0.5  # 4 classes: chance is 0.25


def test_bf16_restores_the_float32_masters(built, memorized):
    timed = built["bf16"]
    with timed.graph.as_default():
        masters = tf1.model_variables("resnet_v2_50")
    assert masters and all(variable.dtype.base_dtype == tf.float32 for variable in masters)
    logits = logits_on(timed, memorized.images)
    assert (logits.argmax(axis=1) == memorized.labels).all()
    assert not np.array_equal(logits, memorized.logits)  # computed in bfloat16, not exactly the same


def test_every_replica_copy_is_restored(memorized, small_network):
    config = config_for(memorized, num_devices=2, mode="train", batch_size=2)
    timed = graphs.build_timed_graph(plan_step(config), small_network(config))
    reader = tf.train.load_checkpoint(memorized.checkpoint)
    with tf1.Session(graph=timed.graph, config=timed.session_config) as session:
        session.run(timed.initializer)
        session.run(timed.restore)
        with timed.graph.as_default():
            mirrored = tf1.model_variables("resnet_v2_50")
        strategy = timed.replicated.strategy
        for variable in mirrored:
            copies = strategy.experimental_local_results(variable)
            assert len(copies) == 2
            expected = reader.get_tensor(copies[0].op.name)
            for copy in copies:
                np.testing.assert_array_equal(session.run(copy), expected)


def test_a_graph_of_another_shape_is_one_line_naming_the_variable(memorized):
    config = config_for(memorized)
    wider = [graphs.resnet_v2_lib.resnet_v2_block("block1", base_depth=8, num_units=1, stride=2),
             graphs.resnet_v2_lib.resnet_v2_block("block2", base_depth=8, num_units=1, stride=1)]
    network = graphs.functools.partial(graphs.resnet_v2_lib.resnet_v2, blocks=wider, scope="resnet_v2_50")
    with pytest.raises(restore.CheckpointError) as raised:
        graphs.build_timed_graph(plan_step(config), network)
    message = str(raised.value)
    assert "\n" not in message
    assert memorized.checkpoint in message
    assert "resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/weights" in message
    assert "not saved from resnet_v2_50" in message


# --- the parent's check ------------------------------------------------------------------------

def check(memorized, **settings):
    restore.check_configs([config_for(memorized, **settings)])


def test_a_good_checkpoint_passes_and_gives_its_class_count(memorized):
    check(memorized)
    assert restore.checkpoint_classes(memorized.checkpoint, [101, 50]) == memorized.num_classes


@pytest.mark.parametrize("settings, expected", [
    (dict(depth=101), "its variables are under resnet_v2_50/, none under resnet_v2_101/: the checkpoint "
                      "looks like resnet_v2_50: pass --depth 50"),
    (dict(num_classes=1001), "variable resnet_v2_50/logits/biases has 5 classes, the model 1001 "
                             "(--num-classes); leave --num-classes out"),
])
def test_a_checkpoint_that_does_not_fit_is_refused(memorized, settings, expected):
    with pytest.raises(ConfigError) as raised:
        check(memorized, **settings)
    assert raised.value.field == "checkpoint"
    assert expected in raised.value.allowed


def test_a_missing_checkpoint_is_refused(memorized, tmp_path):
    with pytest.raises(ConfigError) as raised:
        check(memorized, checkpoint=str(tmp_path / "nothing.ckpt"))
    assert "no checkpoint at" in raised.value.allowed


def test_a_truncated_data_file_names_a_variable(memorized, tmp_path):
    source = os.path.dirname(memorized.checkpoint)
    for name in os.listdir(source):
        shutil.copy(os.path.join(source, name), tmp_path / name)
    data = [name for name in os.listdir(tmp_path) if ".data-" in name][0]
    size = os.path.getsize(tmp_path / data)
    with open(tmp_path / data, "r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(ConfigError) as raised:
        check(memorized, checkpoint=str(tmp_path / "model.ckpt"))
    assert "variable resnet_v2_50/" in raised.value.allowed
    assert "is the file truncated?" in raised.value.allowed


def test_the_input_mode_has_no_network_to_restore(memorized):
    config = dataclasses.replace(config_for(memorized, depth=101), mode="input", data=memorized.folder)
    restore.check_configs([config])  # nothing to check: no network
    assert plan_step(config).checkpoint is None
