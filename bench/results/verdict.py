"""Does the input pipeline keep up? The verdict rule over a sweep's results, in one place.

For every configuration that runs a model on real data (`--data PATH` in forward, forward-backward
or train) three figures are compared: its images/sec, those of its synthetic twin (the same
configuration with `--data synthetic`) and those of its pipeline twin (`--mode input` with the same
data, batch, image size, preprocessing, threads, precision and devices: the pipeline alone). The
step is `input-bound` when real data is more than `INPUT_BOUND_MARGIN` (5%) slower than synthetic,
else it `keeps up`. Without a measured real-data or synthetic run there is no verdict: it names
what is missing instead of guessing; a missing pipeline run only leaves its figure empty.

`with_verdict_runs` adds the twins a sweep lacks, so the sweep measures them. With `--repeat` a
figure is the mean images/sec over the measured processes. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bench.core.config import DATA_SYNTHETIC, BenchmarkConfig, without_pipeline_settings
from bench.results.result import STATUS_INTERRUPTED, BenchmarkResult

INPUT_BOUND_MARGIN = 0.05
INPUT_BOUND = "input-bound"
KEEPS_UP = "keeps up"


def needs_verdict(config: BenchmarkConfig) -> bool:
    """True for a configuration running a model on real data."""
    return config.real_data and config.has_model


def synthetic_twin(config: BenchmarkConfig) -> BenchmarkConfig:
    """The same configuration on synthetic data."""
    return without_pipeline_settings(dataclasses.replace(config, data=DATA_SYNTHETIC))


def pipeline_twin(config: BenchmarkConfig) -> BenchmarkConfig:
    """The pipeline alone: the same configuration in mode 'input' (no model, so no --breakdown)."""
    return dataclasses.replace(config, mode="input", breakdown=None)


def _run_key(config: BenchmarkConfig) -> BenchmarkConfig:
    """A configuration as the verdict matches it: its own trace file does not matter."""
    return dataclasses.replace(config, trace=None)


def _pipeline_key(config: BenchmarkConfig) -> tuple:
    """What the pipeline alone depends on (an 'input' run matches any depth, layout or XLA)."""
    return (config.data, config.batch_size, config.image_size, config.preprocessing, config.data_threads,
            config.precision, config.num_classes, config.seed, config.device, config.num_devices,
            config.workers, config.num_batches, config.burn_in)


def with_verdict_runs(configs: Sequence[BenchmarkConfig]) -> list[BenchmarkConfig]:
    """`configs` with the twins the verdict needs and the sweep lacks, each added right after the
    first configuration that needs it."""
    runs = {_run_key(config) for config in configs}
    pipelines = {_pipeline_key(config) for config in configs if not config.has_model}
    added: list[BenchmarkConfig] = []
    for config in configs:
        added.append(config)
        if not needs_verdict(config):
            continue
        twin = synthetic_twin(config)
        if _run_key(twin) not in runs:
            runs.add(_run_key(twin))
            added.append(twin)
        alone = pipeline_twin(config)
        if _pipeline_key(alone) not in pipelines:
            pipelines.add(_pipeline_key(alone))
            added.append(alone)
    return added


@dataclasses.dataclass(frozen=True)
class Figure:
    """One of a verdict's three figures.

    Attributes:
      images_per_sec: the mean images/sec of the measured runs, or None.
      missing: why there is none, in words ('not run', 'failed: OOM', 'interrupted'), or None.
    """

    images_per_sec: float | None
    missing: str | None = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The verdict on one real-data configuration.

    Attributes:
      config: the real-data configuration.
      real, synthetic, pipeline: its figures, those of its synthetic twin and of the pipeline alone.
      outcome: INPUT_BOUND, KEEPS_UP, or None when a figure it needs is missing.
      slowdown: 1 - real / synthetic images/sec (None without both).
    """

    config: BenchmarkConfig
    real: Figure
    synthetic: Figure
    pipeline: Figure
    outcome: str | None
    slowdown: float | None

    @property
    def text(self) -> str:
        """'input-bound', 'keeps up', or what is missing ('no verdict: synthetic run failed: OOM')."""
        if self.outcome is not None:
            return self.outcome
        lacking = [f"{name} run {figure.missing}" for name, figure in
                   (("real-data", self.real), ("synthetic", self.synthetic)) if figure.missing]
        return "no verdict: " + "; ".join(lacking)


def _figure(results: list[BenchmarkResult]) -> Figure:
    """The mean images/sec of the measured results, or why there is none."""
    measured = [result.stats.images_per_sec for result in results if result.ok and result.stats]
    if measured:
        return Figure(sum(measured) / len(measured))
    if not results:
        return Figure(None, "not run")
    last = results[-1]
    if last.status == STATUS_INTERRUPTED:
        return Figure(None, "interrupted")
    return Figure(None, f"failed: {last.failure.short}" if last.failure else "not measured")


def verdict_rule(real: float, synthetic: float) -> str:
    """INPUT_BOUND when `real` images/sec are more than INPUT_BOUND_MARGIN below `synthetic`."""
    return INPUT_BOUND if real < (1 - INPUT_BOUND_MARGIN) * synthetic else KEEPS_UP


def verdicts(results: Sequence[BenchmarkResult], not_run: Sequence[BenchmarkConfig] = ()) -> list[Verdict]:
    """One verdict per real-data configuration with a model among `results` (and `not_run`, the
    configurations an interrupted sweep never started), in sweep order.

    Args:
      results: a sweep's results (every process of a repeated configuration).
      not_run: configurations never started.

    Returns:
      The verdicts (none when no configuration runs a model on real data).
    """
    by_run: dict[BenchmarkConfig, list[BenchmarkResult]] = {}
    by_pipeline: dict[tuple, list[BenchmarkResult]] = {}
    for result in results:
        by_run.setdefault(_run_key(result.config), []).append(result)
        if not result.config.has_model:
            by_pipeline.setdefault(_pipeline_key(result.config), []).append(result)
    configs = list(dict.fromkeys([_run_key(result.config) for result in results]
                                 + [_run_key(config) for config in not_run]))
    found = []
    for config in configs:
        if not needs_verdict(config):
            continue
        real = _figure(by_run.get(config, []))
        synthetic = _figure(by_run.get(_run_key(synthetic_twin(config)), []))
        pipeline = _figure(by_pipeline.get(_pipeline_key(pipeline_twin(config)), []))
        outcome = slowdown = None
        if real.images_per_sec is not None and synthetic.images_per_sec is not None:
            outcome = verdict_rule(real.images_per_sec, synthetic.images_per_sec)
            slowdown = 1 - real.images_per_sec / synthetic.images_per_sec
        found.append(Verdict(config, real, synthetic, pipeline, outcome, slowdown))
    return found
