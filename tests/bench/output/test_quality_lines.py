"""The quality pass in the summary, the table and its footnotes (results made from fixed facts)."""

import dataclasses

from bench.output import report, table
from bench.output.quality_lines import quality_columns, quality_footnotes, quality_lines
from bench.results.extras import Extras
from bench.results.quality import Accuracy, Agreement, QualityFacts


def with_quality(result, quality):
    result.extra = dataclasses.replace(result.extra or Extras(), quality=quality)
    return result


def test_summary_lines_say_accuracy_agreement_and_time(make_measured):
    facts = QualityFacts(16, 2.5, "checkpoint m.ckpt", Accuracy(16, 15, 16),
                         Agreement(16, 16, 0.0123, 0.0045, 0.9999, 0.999))
    result = with_quality(make_measured(50, 8, "forward", [0.1] * 10, precision="bf16"), facts)
    assert quality_lines(result) == [
        "  quality pass (untimed, 2.50 s): 16 images, weights checkpoint m.ckpt",
        "  accuracy: top-1 93.75% (95% CI 71.67-98.89%), top-5 100.00% (95% CI 80.64-100.00%) of 16 images",
        "  agreement with fp32: top-1 agreement 100.00% of 16 images, logits relative error max 0.0123 "
        "mean 0.0045, global_pool cosine mean 0.9999 min 0.999",
    ]
    assert all(line in report.summary_lines(result) for line in quality_lines(result))


def test_no_pass_no_lines_no_columns(make_measured):
    result = make_measured(50, 8, "forward", [0.1] * 10)
    assert quality_lines(result) == [] and quality_columns([result]) == [] == quality_footnotes([result])
    assert "Top-1 %" not in table.table([result])


def test_table_shows_top1_top5_and_agreement_before_the_status(make_measured):
    fp32 = with_quality(make_measured(50, 8, "forward", [0.2] * 10),
                        QualityFacts(50000, 60.0, "checkpoint m", Accuracy(50000, 37800, 46400)))
    bf16 = with_quality(make_measured(50, 8, "forward", [0.1] * 10, precision="bf16"),
                        QualityFacts(50000, 90.0, "checkpoint m", Accuracy(50000, 37750, 46390),
                                     Agreement(50000, 49500, 0.2, 0.01, 0.999, 0.98, 1)))
    lines = table.table([fp32, bf16]).splitlines()
    headers = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert headers[-4:] == ["Top-1 %", "Top-5 %", "Agree %", "Status"]
    assert [cell.strip() for cell in lines[2].strip("|").split("|")][-4:-1] == ["75.60", "92.80", ""]
    assert [cell.strip() for cell in lines[3].strip("|").split("|")][-4:-1] == ["75.50", "92.78", "99.00"]
    notes = table.footnotes([fp32, bf16], [])
    assert any(note.startswith("Top-1 %, Top-5 %: accuracy of the untimed --quality pass") for note in notes)
    assert any(note.startswith("Agree %: images whose top class is the same") for note in notes)
    assert "1 images with non-finite answers" in quality_lines(bf16)[-1]


def test_the_header_names_the_weights_and_the_untimed_passes():
    from bench.core.config import BenchmarkConfig
    from bench.output.quality_lines import header_lines

    assert header_lines([BenchmarkConfig()]) == []
    assert header_lines([BenchmarkConfig(checkpoint="m.ckpt", data="d", quality=True),
                         BenchmarkConfig(checkpoint="m.ckpt", precision="bf16")]) == [
        "Weights: checkpoint m.ckpt; --quality: top-1/top-5 over one epoch of the images after the measured "
        "steps, untimed; fp16/bf16/XLA runs compare their answers with an fp32 graph's, untimed"]
    assert header_lines([BenchmarkConfig(xla=True)]) == [
        "Weights: fresh (initialised, not trained); fp16/bf16/XLA runs compare their answers with an fp32 "
        "graph's, untimed"]
