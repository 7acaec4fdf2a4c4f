"""The untimed pass after the measured steps, on the small network memorizing 16 labelled images:
accuracy with the checkpoint and without it, agreement of fp32 with itself and of bf16 with fp32,
the measured synthetic batch, --quality-images, and the measured steps left alone."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from bench.core.config import BenchmarkConfig
from bench.measuring import measure, quality_pass
from bench.step import graphs, quality_graph
from bench.step.plan import plan_step

tf1 = tf.compat.v1


def config_for(memorized, **settings):
    values = dict(depth=50, batch_size=4, image_size=memorized.image_size, num_classes=memorized.num_classes,
                  num_batches=2, burn_in=1, device="cpu", data_format="NHWC", peak_probe=False,
                  data=memorized.folder, quality=True, checkpoint=memorized.checkpoint)
    return BenchmarkConfig(**dict(values, **settings))


def run(config, small_network):
    timed = graphs.build_timed_graph(plan_step(config), small_network(config))
    return measure.run_in_process(config, {}, timed=timed)


@pytest.fixture(scope="module")
def runs(memorized, small_network):
    """{name: result} of forward runs on the memorized images, each with its untimed pass."""
    settings = {
        "fp32": {},
        "bf16": dict(precision="bf16"),
        "fresh": dict(checkpoint=None),
        "six images": dict(quality_images=6, precision="bf16"),
        "synthetic bf16": dict(data="synthetic", quality=False, precision="bf16"),
    }
    return {name: run(config_for(memorized, **values), small_network) for name, values in settings.items()}


def test_the_checkpoint_scores_every_memorized_image(runs):
    result = runs["fp32"]
    assert result.ok, result.failure
    quality = result.extra.quality
    assert quality.images == 16 and quality.agreement is None  # plain fp32: nothing to compare with
    accuracy = quality.accuracy
    assert (accuracy.top1_correct, accuracy.top5_correct, accuracy.top_k) == (16, 16, 5)
    assert accuracy.top1_interval[0] < 1.0 == accuracy.top1_interval[1]
    assert quality.weights.startswith("checkpoint ")


def test_fresh_weights_score_near_chance(runs):
    accuracy = runs["fresh"].extra.quality.accuracy
    assert accuracy.images == 16 and accuracy.top1 <= 0.5  # 4 classes: chance is 0.25
    assert runs["fresh"].extra.quality.weights == "fresh (seed 0)"


def test_bf16_agrees_with_fp32_but_not_exactly(runs):
    quality = runs["bf16"].extra.quality
    agreement = quality.agreement
    assert agreement.images == 16 and agreement.nonfinite_images == 0
    assert agreement.top1_agreement >= 0.9
    assert 0 < agreement.mean_relative_error <= agreement.max_relative_error < 0.1
    assert 0.99 < agreement.feature_cosine_min <= agreement.feature_cosine_mean < 1.0
    assert quality.accuracy.top1 >= 0.9


def test_fp32_agrees_with_itself_exactly(memorized, small_network):
    config = config_for(memorized)
    plan = plan_step(config)
    built = quality_graph.build_quality_graph(plan, agreement=True, network=small_network(config))
    reader = tf.train.load_checkpoint(memorized.checkpoint)
    values = {name: reader.get_tensor(name) for name in built.weight_feeds}
    tally = quality_pass.Tally(memorized.num_classes)
    with tf1.Session(graph=built.graph) as session:
        session.run(built.initializer)
        session.run(built.load, quality_graph.load_feed(built, values))
        for _ in range(4):
            tally.add(session.run(built.fetches))
    agreement = tally.agreement()
    assert (agreement.images, agreement.same_top1, agreement.top1_agreement) == (16, 16, 1.0)
    assert agreement.max_relative_error == 0.0 and agreement.mean_relative_error == 0.0
    assert agreement.feature_cosine_min == pytest.approx(1.0, abs=1e-12)
    assert tally.accuracy().top1 == 1.0


def test_the_pass_stops_at_the_images_asked_for(runs):
    quality = runs["six images"].extra.quality
    assert quality.images == quality.accuracy.images == quality.agreement.images == 6


def test_synthetic_data_compares_the_measured_batch(runs):
    quality = runs["synthetic bf16"].extra.quality
    assert quality.images == 4 and quality.accuracy is None
    assert quality.agreement.images == 4


def test_the_measured_steps_are_untouched_and_the_pass_is_timed_apart(runs):
    for result in runs.values():
        assert len(result.measurement.step_times_s) == 2 and len(result.measurement.burn_in_times_s) == 1
        assert result.phases_s["quality_pass"] >= result.extra.quality.seconds > 0
        assert ("restore" in result.phases_s) is bool(result.config.checkpoint)


def test_a_record_keeps_the_facts(runs):
    from bench.results.result import BenchmarkResult

    result = runs["bf16"]
    record = result.to_record()
    quality = record["extra"]["quality"]
    assert set(quality) == {"images", "seconds", "weights", "accuracy", "agreement"}
    assert quality["accuracy"]["interval"] == "wilson 95%"
    back = BenchmarkResult.from_record(record).extra.quality
    assert back == result.extra.quality


def test_nonfinite_answers_count_as_disagreeing():
    tally = quality_pass.Tally(3)
    logits = np.array([[1.0, 2.0, 0.0], [np.inf, 0.0, 0.0]], np.float32)
    pooled = np.ones((2, 4), np.float32)
    reference = np.array([[1, 2, 0], [3, 0, 0]], np.float32)
    tally.add({"logits": logits, "pooled": pooled, "reference_logits": reference, "reference_pooled": pooled})
    agreement = tally.agreement()
    assert (agreement.same_top1, agreement.nonfinite_images, agreement.max_relative_error) == (1, 1, 0.0)
    assert dataclasses.replace(agreement, images=2).top1_agreement == 0.5
