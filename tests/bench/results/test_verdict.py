"""The verdict on the input pipeline (bench/results/verdict.py): the rule on hand-made results, what is
missing said instead of guessed, and the runs a real-data sweep adds."""

import dataclasses

from bench.core.config import BenchmarkConfig
from bench.results import verdict
from bench.results.result import Failure

DATA = "/data/imagenet/train"


def _results(make_measured, real_s, synthetic_s, pipeline_s=0.001):
    real = make_measured(50, 8, "train", [real_s] * 4, data=DATA)
    synthetic = make_measured(50, 8, "train", [synthetic_s] * 4)
    alone = make_measured(50, 8, "input", [pipeline_s] * 4, data=DATA)
    return [real, synthetic, alone]


def test_more_than_5_percent_slower_than_synthetic_is_input_bound(make_measured):
    (found,) = verdict.verdicts(_results(make_measured, 0.106, 0.100))
    assert found.outcome == verdict.INPUT_BOUND and found.text == "input-bound"
    assert found.real.images_per_sec == 8 / 0.106 and found.synthetic.images_per_sec == 80
    assert found.pipeline.images_per_sec == 8000 and found.slowdown == 1 - (8 / 0.106) / 80


def test_within_5_percent_keeps_up(make_measured):
    (found,) = verdict.verdicts(_results(make_measured, 0.104, 0.100))
    assert found.outcome == verdict.KEEPS_UP
    assert verdict.verdict_rule(95.0, 100.0) == verdict.KEEPS_UP
    assert verdict.verdict_rule(94.9, 100.0) == verdict.INPUT_BOUND


def test_a_missing_run_is_named_not_guessed(make_measured, make_failed):
    real, synthetic, alone = _results(make_measured, 0.2, 0.1)
    oom = make_failed(50, 8, "train", Failure("oom", "OOM"), num_batches=4, burn_in=2)
    (found,) = verdict.verdicts([real, oom, alone])
    assert found.outcome is None and found.text == "no verdict: synthetic run failed: OOM"
    (found,) = verdict.verdicts([real], not_run=[synthetic.config])
    assert found.text == "no verdict: synthetic run not run" and found.pipeline.missing == "not run"
    (found,) = verdict.verdicts([real, synthetic])  # the pipeline's figure only informs
    assert found.outcome == verdict.INPUT_BOUND and found.pipeline.images_per_sec is None
    (found,) = verdict.verdicts([synthetic, alone], not_run=[real.config])
    assert found.text == "no verdict: real-data run not run"


def test_no_verdict_without_a_real_data_model_run(make_measured):
    assert verdict.verdicts([make_measured(50, 8, "train", [0.1] * 4)]) == []
    assert verdict.verdicts([make_measured(50, 8, "input", [0.1] * 4, data=DATA)]) == []


def test_a_real_data_sweep_gets_each_twin_once_right_after_its_first_need():
    real_50 = BenchmarkConfig(depth=50, batch_size=8, mode="train", data=DATA, preprocessing="vgg")
    real_101 = dataclasses.replace(real_50, depth=101)
    synthetic_50 = BenchmarkConfig(depth=50, batch_size=8, mode="train")
    runs = verdict.with_verdict_runs([real_50, real_101, synthetic_50])
    alone = dataclasses.replace(real_50, mode="input")
    assert runs == [real_50, alone, real_101, dataclasses.replace(synthetic_50, depth=101), synthetic_50]
    assert verdict.synthetic_twin(real_50) == synthetic_50  # the pipeline's settings dropped
    assert verdict.with_verdict_runs([synthetic_50]) == [synthetic_50]
    assert verdict.with_verdict_runs([alone]) == [alone]
