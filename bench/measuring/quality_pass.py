"""The untimed pass after the measured steps: accuracy (--quality) and agreement with fp32.

Run in the measured session once its steps are done (`bench.measuring.measure`): the weights are
read out of it, the measured synthetic batch too, and everything else happens in a graph and
session of its own (`bench.step.quality_graph`), so no measured step is touched. The images: one
batch (the measured one with synthetic data), or with --quality one epoch of the data, or
--quality-images N of it, read in order by forward's evaluation pipeline (the last batch cut to N).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from bench.core.clock import clock
from bench.results.quality import Accuracy, Agreement, QualityFacts
from bench.step import quality_graph
from bench.step.plan import StepPlan
from slim_resnet.support import agreement as agreement_lib

tf1 = tf.compat.v1


class Tally:
    """Per-image figures of the batches seen so far, and the facts they add up to."""

    def __init__(self, num_classes: int):
        self.top_k = min(5, num_classes)
        self.images = 0
        self.top1_correct = 0
        self.top5_correct = 0
        self.same_top1 = 0
        self.nonfinite = 0
        self.relative_errors: list[np.ndarray] = []
        self.cosines: list[np.ndarray] = []
        self.labelled = False
        self.compared = False

    def add(self, batch: dict) -> None:
        """Adds one batch of fetched arrays ('logits', 'pooled', maybe 'labels' and the reference's)."""
        logits = batch["logits"]
        self.images += len(logits)
        if "labels" in batch:
            self.labelled = True
            labels = batch["labels"]
            self.top1_correct += int((logits.argmax(axis=1) == labels).sum())
            top = np.argsort(-logits, axis=1)[:, : self.top_k]
            self.top5_correct += int((top == labels[:, None]).any(axis=1).sum())
        if "reference_logits" in batch:
            self.compared = True
            self._compare(logits, batch["pooled"], batch["reference_logits"], batch["reference_pooled"])

    def _compare(self, logits, pooled, reference, reference_pooled) -> None:
        finite = agreement_lib.finite_rows(logits) & agreement_lib.finite_rows(pooled)
        self.nonfinite += int((~finite).sum())
        self.same_top1 += int((agreement_lib.same_top1(logits, reference) & finite).sum())
        self.relative_errors.append(agreement_lib.relative_errors(logits[finite], reference[finite]))
        self.cosines.append(agreement_lib.cosines(pooled[finite], reference_pooled[finite]))

    def accuracy(self) -> Accuracy | None:
        if not self.labelled or not self.images:
            return None
        return Accuracy(self.images, self.top1_correct, self.top5_correct, self.top_k)

    def agreement(self) -> Agreement | None:
        if not self.compared or not self.images:
            return None
        errors = np.concatenate(self.relative_errors) if self.relative_errors else np.zeros(0)
        cosines = np.concatenate(self.cosines) if self.cosines else np.zeros(0)
        some = errors.size > 0
        return Agreement(
            images=self.images,
            same_top1=self.same_top1,
            max_relative_error=float(errors.max()) if some else None,
            mean_relative_error=float(errors.mean()) if some else None,
            feature_cosine_mean=float(cosines.mean()) if some else None,
            feature_cosine_min=float(cosines.min()) if some else None,
            nonfinite_images=self.nonfinite,
        )


def _as_nhwc_float32(images: np.ndarray, data_format: str) -> np.ndarray:
    """The measured batch as the quality graph takes it."""
    images = np.asarray(images).astype(np.float32)
    return images.transpose(0, 2, 3, 1) if data_format == "NCHW" else images


def weights_in_words(config) -> str:
    """'checkpoint PATH' or 'fresh (seed N)'."""
    return f"checkpoint {config.checkpoint}" if config.checkpoint else f"fresh (seed {config.seed})"


def run_untimed_pass(session: tf1.Session, timed, plan: StepPlan) -> QualityFacts:
    """Runs the pass (see the module docstring) after the measured steps.

    Args:
      session: the measured session (its steps done).
      timed: its `bench.step.graphs.TimedGraph`.
      plan: its plan (`plan.untimed_pass` says what the pass does).

    Returns:
      The QualityFacts.
    """
    start = clock()
    strategy = timed.replicated.strategy if timed.replicated is not None else None
    values = quality_graph.weight_values(session, timed.graph, plan.config.model_name, strategy)
    synthetic, wanted = None, plan.untimed_pass.images
    if wanted is None:
        synthetic = _as_nhwc_float32(session.run(timed.images), plan.data_format)
        wanted = len(synthetic)
    built = quality_graph.build_quality_graph(plan, plan.untimed_pass.agreement, timed.network)
    tally = Tally(plan.config.num_classes)
    with tf1.Session(graph=built.graph, config=plan.session_config) as quality_session:
        quality_session.run(built.initializer)
        quality_session.run(built.load, quality_graph.load_feed(built, values))
        while tally.images < wanted:
            feed = None if synthetic is None else {built.images: synthetic}
            batch = quality_session.run(built.fetches, feed)
            left = wanted - tally.images
            tally.add({name: array[:left] for name, array in batch.items()})
    return QualityFacts(images=tally.images, seconds=clock() - start, weights=weights_in_words(plan.config),
                        accuracy=tally.accuracy(), agreement=tally.agreement())
