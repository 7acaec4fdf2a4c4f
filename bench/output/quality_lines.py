"""The untimed quality pass in what a person reads: the sweep header's weights line, the summary's
quality and agreement lines, the table's Top-1/Top-5/Agree columns and their footnote. No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.core import quality_settings
from bench.output.table import Column
from bench.results.quality import Accuracy, Agreement
from bench.results.result import BenchmarkResult


def _percent(share: float) -> str:
    return f"{100 * share:.2f}%"


def _interval(bounds: tuple[float, float]) -> str:
    return f"95% CI {100 * bounds[0]:.2f}-{100 * bounds[1]:.2f}%"


def accuracy_words(accuracy: Accuracy) -> str:
    """'top-1 93.75% (95% CI 71.67-98.89%), top-5 100.00% (95% CI ...) of 16 images'."""
    return (f"top-1 {_percent(accuracy.top1)} ({_interval(accuracy.top1_interval)}), "
            f"top-{accuracy.top_k} {_percent(accuracy.top5)} ({_interval(accuracy.top5_interval)}) "
            f"of {accuracy.images:,} images")


def _number(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def agreement_words(agreement: Agreement) -> str:
    """'top-1 agreement 100.00% of 16 images, logits relative error max 0.0039 mean 0.0037,
    global_pool cosine mean 0.999997 min 0.999996'."""
    words = (f"top-1 agreement {_percent(agreement.top1_agreement)} of {agreement.images:,} images, "
             f"logits relative error max {_number(agreement.max_relative_error, 3)} mean "
             f"{_number(agreement.mean_relative_error, 3)}, global_pool cosine mean "
             f"{_number(agreement.feature_cosine_mean, 6)} min {_number(agreement.feature_cosine_min, 6)}")
    if agreement.nonfinite_images:
        words += f"; {agreement.nonfinite_images} images with non-finite answers"
    return words


def quality_lines(result: BenchmarkResult) -> list[str]:
    """The summary's lines about the untimed pass (none when none ran)."""
    quality = result.extra.quality
    if quality is None:
        return []
    lines = [f"  quality pass (untimed, {quality.seconds:.2f} s): {quality.images:,} images, weights "
             f"{quality.weights}"]
    if quality.accuracy is not None:
        lines.append(f"  accuracy: {accuracy_words(quality.accuracy)}")
    if quality.agreement is not None:
        lines.append(f"  agreement with fp32: {agreement_words(quality.agreement)}")
    return lines


def _accuracy_cell(top5: bool):
    def cell(result: BenchmarkResult, baseline: float | None) -> str:
        quality = result.extra.quality
        if quality is None or quality.accuracy is None:
            return ""
        return f"{100 * (quality.accuracy.top5 if top5 else quality.accuracy.top1):.2f}"

    return cell


def _agreement_cell(result: BenchmarkResult, baseline: float | None) -> str:
    quality = result.extra.quality
    if quality is None or quality.agreement is None:
        return ""
    return f"{100 * quality.agreement.top1_agreement:.2f}"


def quality_columns(results: Sequence[BenchmarkResult]) -> list[Column]:
    """Top-1 % and Top-5 % when any row has an accuracy, Agree % when any has an agreement."""
    facts = [result.extra.quality for result in results if result.extra.quality is not None]
    columns = []
    if any(quality.accuracy is not None for quality in facts):
        columns += [Column("Top-1 %", _accuracy_cell(False)), Column("Top-5 %", _accuracy_cell(True))]
    if any(quality.agreement is not None for quality in facts):
        columns.append(Column("Agree %", _agreement_cell))
    return columns


def quality_footnotes(results: Sequence[BenchmarkResult]) -> list[str]:
    """The footnote of the quality columns (none when the table has none)."""
    headers = [column.header for column in quality_columns(results)]
    lines = []
    if "Top-1 %" in headers:
        lines.append("Top-1 %, Top-5 %: accuracy of the untimed --quality pass on the labelled data (95% "
                     "Wilson intervals in the summaries and records).")
    if "Agree %" in headers:
        lines.append("Agree %: images whose top class is the same as an fp32 NHWC graph's on the same "
                     "weights and images (fp16, bf16, XLA; errors and feature cosines in the summaries).")
    return lines


def header_lines(configs: Sequence) -> list[str]:
    """The sweep header's line on weights and the untimed pass, when a checkpoint, --quality or an
    agreement with fp32 is involved (none otherwise)."""
    checkpoints = list(dict.fromkeys(config.checkpoint for config in configs if config.checkpoint))
    scored = [config for config in configs if config.quality]
    compared = [config for config in configs if quality_settings.wants_agreement(config)]
    if not (checkpoints or scored or compared):
        return []
    parts = [f"checkpoint {', '.join(checkpoints)}" if checkpoints else "fresh (initialised, not trained)"]
    if scored:
        images = scored[0].quality_images or "one epoch of the"
        parts.append(f"--quality: top-1/top-5 over {images} images after the measured steps, untimed")
    if compared:
        parts.append("fp16/bf16/XLA runs compare their answers with an fp32 graph's, untimed")
    return ["Weights: " + "; ".join(parts)]
