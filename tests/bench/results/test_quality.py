"""The quality facts without TensorFlow: Wilson intervals on known counts, the shares, the record."""

import pytest

from bench.results.quality import Accuracy, Agreement, QualityFacts, wilson_interval


@pytest.mark.parametrize("successes, trials, low, high", [
    (50, 100, 0.40383, 0.59617),
    (0, 10, 0.0, 0.27753),
    (10, 10, 0.72247, 1.0),
    (756, 1000, 0.72843, 0.78161),
])
def test_wilson_interval_on_known_counts(successes, trials, low, high):
    assert wilson_interval(successes, trials) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_narrows_with_more_images_and_stays_in_bounds():
    widths = [high - low for low, high in (wilson_interval(n * 3 // 4, n) for n in (40, 400, 4000, 50000))]
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < 0.01  # ImageNet's 50,000 validation images: under a point either way


@pytest.mark.parametrize("successes, trials", [(1, 0), (-1, 5), (6, 5)])
def test_wilson_interval_refuses_impossible_counts(successes, trials):
    with pytest.raises(ValueError, match="need 0 <= successes <= trials"):
        wilson_interval(successes, trials)


def test_facts_read_back_from_their_record():
    facts = QualityFacts(images=8, seconds=1.5, weights="checkpoint m.ckpt",
                         accuracy=Accuracy(8, 6, 8), agreement=Agreement(8, 7, 0.02, 0.01, 0.999, 0.99))
    values = facts.to_dict()
    assert values["accuracy"]["top1"] == 0.75 and values["agreement"]["top1_agreement"] == 0.875
    assert values["accuracy"]["top1_interval"] == list(wilson_interval(6, 8))
    assert QualityFacts.from_dict(values) == facts
    assert QualityFacts.from_dict(None) is None
