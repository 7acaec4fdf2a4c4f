"""What the untimed pass after the measured steps found: accuracy on labelled data (--quality) and
the agreement of a reduced precision or XLA with fp32 (the record's `extra.quality`). No TensorFlow,
no numpy: the counts and figures come from `bench.measuring.quality_pass`.

Accuracy is a count of correct answers among n images; its 95% interval is Wilson's score interval
(no normal approximation at 0 or n, never outside [0, 1]), the one MLPerf-style accuracy reports
and statsmodels' `proportion_confint(method='wilson')` give.

Agreement compares, image by image, the configuration's answers with a plain fp32 graph's on the
same weights and the same images (NHWC, no XLA, batch norm in inference mode in both):

- top-1 agreement: the share of images whose top class is the same;
- relative error of the logits: ||logits - fp32 logits|| / ||fp32 logits|| (Euclidean, per
  image), its largest and its mean over the images;
- cosine similarity of the pooled features (`end_points['global_pool']`): its mean and smallest.
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist

CONFIDENCE = 0.95
# What the agreement compares with, in words (the reference graph of `bench.step.quality_graph`).
REFERENCE = "fp32, NHWC, no XLA, same weights and images"


def wilson_interval(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval for a proportion of `successes` in `trials`.

    Args:
      successes: 0..trials.
      trials: at least 1.
      confidence: the interval's coverage, e.g. 0.95.

    Returns:
      (low, high), within [0, 1].

    Raises:
      ValueError: for trials < 1 or successes outside 0..trials.
    """
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes} of {trials}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclasses.dataclass(frozen=True)
class Accuracy:
    """Top-1 and top-k answers on labelled images.

    Attributes:
      images: how many were scored.
      top1_correct: images whose top class is their label.
      top5_correct: images whose label is among their top `top_k` classes.
      top_k: 5, or the class count when there are fewer classes.
    """

    images: int
    top1_correct: int
    top5_correct: int
    top_k: int = 5

    @property
    def top1(self) -> float:
        return self.top1_correct / self.images

    @property
    def top5(self) -> float:
        return self.top5_correct / self.images

    @property
    def top1_interval(self) -> tuple[float, float]:
        return wilson_interval(self.top1_correct, self.images)

    @property
    def top5_interval(self) -> tuple[float, float]:
        return wilson_interval(self.top5_correct, self.images)

    def to_dict(self) -> dict:
        """The counts, and the derived shares and intervals for readers (recomputed when read)."""
        return dict(dataclasses.asdict(self), top1=self.top1, top5=self.top5,
                    top1_interval=list(self.top1_interval), top5_interval=list(self.top5_interval),
                    interval="wilson 95%")


@dataclasses.dataclass(frozen=True)
class Agreement:
    """A configuration's answers against fp32's on the same weights and images.

    Attributes:
      images: how many were compared.
      same_top1: images whose top class is the same in both.
      max_relative_error, mean_relative_error: of the logits, per image (None when no image
        had finite logits in both).
      feature_cosine_mean, feature_cosine_min: cosine similarity of the pooled features.
      nonfinite_images: images whose logits or features were not all finite in the configuration
        (counted as disagreeing, left out of the errors and cosines).
      reference: what was compared with, in words.
    """

    images: int
    same_top1: int
    max_relative_error: float | None
    mean_relative_error: float | None
    feature_cosine_mean: float | None
    feature_cosine_min: float | None
    nonfinite_images: int = 0
    reference: str = REFERENCE

    @property
    def top1_agreement(self) -> float:
        return self.same_top1 / self.images

    def to_dict(self) -> dict:
        return dict(dataclasses.asdict(self), top1_agreement=self.top1_agreement)


@dataclasses.dataclass(frozen=True)
class QualityFacts:
    """The untimed pass after the measured steps.

    Attributes:
      images: images it ran.
      seconds: how long it took (building its graph, loading the weights, running), not in any
        timing.
      weights: 'checkpoint PATH' or 'fresh (seed N)'.
      accuracy: with --quality, the accuracy; else None.
      agreement: for fp16, bf16 or XLA, the agreement with fp32; else None.
    """

    images: int
    seconds: float
    weights: str
    accuracy: Accuracy | None = None
    agreement: Agreement | None = None

    def to_dict(self) -> dict:
        values = {"images": self.images, "seconds": self.seconds, "weights": self.weights}
        if self.accuracy is not None:
            values["accuracy"] = self.accuracy.to_dict()
        if self.agreement is not None:
            values["agreement"] = self.agreement.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict | None) -> QualityFacts | None:
        if not values:
            return None
        accuracy = values.get("accuracy")
        agreement = values.get("agreement")
        return cls(
            images=values["images"],
            seconds=values["seconds"],
            weights=values.get("weights", ""),
            accuracy=None if not accuracy else Accuracy(*(accuracy[name] for name in _ACCURACY_FIELDS)),
            agreement=None if not agreement else Agreement(**{
                name: agreement[name] for name in _AGREEMENT_FIELDS if name in agreement}),
        )


_ACCURACY_FIELDS = tuple(field.name for field in dataclasses.fields(Accuracy))
_AGREEMENT_FIELDS = tuple(field.name for field in dataclasses.fields(Agreement))
