"""Preparing and running a sweep: validate and resolve every configuration, then run them one
after another (one child process each by default), delivering each result as soon as it exists.

Ctrl-C (and SIGTERM under `bench.sweeping.signals.raise_on_sigterm`) stops a sweep cleanly: finished
results are kept, the running configuration is recorded as interrupted, the rest as not run.
Nothing here imports TensorFlow at import time; `prepare` imports it (quietly) to look for GPUs,
and only an in-process run loads the measuring side (`bench.measuring.measure`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from typing import IO

from bench.core import batch_search, cluster, quality_settings, stand_ins
from bench.core.config import LABELS_WITH_BACKGROUND, BenchmarkConfig, without_pipeline_settings
from bench.core.errors import ConfigError
from bench.core.limits import Limits, format_size
from bench.core.quiet import Quiet
from bench.core.run_context import RunContext
from bench.inputs import sources
from bench.measuring import environment as environment_lib
from bench.processes import child, workers
from bench.results import failures
from bench.results.result import BenchmarkResult
from bench.step import device
from bench.sweeping.signals import InterruptedWithResult, deferred_stop


@dataclasses.dataclass
class SweepOutcome:
    """What a sweep produced.

    Attributes:
      results: one result per configuration that was started, in order (the interrupted one
        included, marked 'interrupted').
      not_run: configurations never started because the sweep was interrupted.
      interrupted: whether Ctrl-C (or SIGTERM) stopped the sweep.
    """

    results: list[BenchmarkResult]
    not_run: list[BenchmarkConfig]
    interrupted: bool = False

    @property
    def any_failed(self) -> bool:
        """True if any started configuration did not produce a measurement, or a batch search
        stopped at a try that failed otherwise than out of memory (its largest so far measured)."""
        return any(not result.ok or _search_failed(result) for result in self.results)


def _search_failed(result: BenchmarkResult) -> bool:
    """True for a batch search's result that a failed try ended."""
    facts = result.batch_search
    return facts is not None and facts.ended == batch_search.ENDED_FAILED


def prepare(
    configs: Sequence[BenchmarkConfig],
    verbose: bool = False,
    quiet: Quiet | None = None,
    limits: Limits = Limits(),
    isolate: bool = True,
) -> tuple[list[BenchmarkConfig], dict]:
    """Validates every configuration, resolves device and data format, describes the environment.

    Validation (`BenchmarkConfig.validate`) and the check of every real-data path (`check_data`)
    run before TensorFlow is imported, so bad input fails fast; then TensorFlow is imported
    (quietly) to see the GPUs; no graph is built.
    Configurations that become equal once resolved (e.g. data format auto and NHWC on the CPU)
    are run once.

    Args:
      configs: configurations, possibly with device and data format 'auto'.
      verbose: let TensorFlow's log lines through (ignored when `quiet` is given).
      quiet: the Quiet setting to use.
      limits: the bounds the configurations will run under.
      isolate: whether they will run in child processes.

    Returns:
      (resolved configurations, environment dict).

    Raises:
      ConfigError: for the first configuration with a value that is not allowed, or bounds that
        cannot apply (see `check_limits`).
    """
    quiet = quiet or Quiet(verbose)
    for config in configs:
        config.validate()
    stand_ins.test_network()  # a test-only switch with a wrong value fails before TensorFlow loads
    check_limits(limits, isolate)
    configs = [without_pipeline_settings(config) for config in configs]
    check_data(configs)
    tf = quiet.import_tensorflow()
    if any(config.checkpoint for config in configs):
        from bench.step import restore  # TensorFlow is loaded: check every checkpoint once, here

        restore.check_configs(configs)
    gpu_names = device.visible_gpu_names(tf)
    resolved = list(dict.fromkeys(device.resolve(config, gpu_names) for config in configs))
    if limits.gpu_memory_bytes is not None and not any(config.device == "gpu" for config in resolved):
        raise ConfigError(
            "gpu_memory_limit",
            format_size(limits.gpu_memory_bytes),
            "caps a GPU's memory, and every configuration runs on the CPU",
        )
    used = resolved[0].device if resolved else "cpu"
    return resolved, environment_lib.describe_environment(tf, used, gpu_names)


def check_data(configs: Sequence[BenchmarkConfig]) -> None:
    """Checks every real-data path once (`bench.inputs.sources.inspect_source`: the format, the
    first record of every shard, the labels against the model's classes, the record count) and
    that it has a file for every replica to read its own part of.

    Raises:
      ConfigError: on field 'data' (the --data flag), naming the path and what is wrong.
    """
    checked: dict[tuple[str, int], sources.DataSource] = {}
    for config in configs:
        if not config.real_data:
            continue
        key = (config.data, config.num_classes)
        if key not in checked:
            try:
                checked[key] = sources.inspect_source(config.data, config.num_classes, LABELS_WITH_BACKGROUND)
            except sources.DataError as error:
                message = _without_path(str(error), config.data)
                if "outside the model's" in message:
                    given = f"--checkpoint's {config.num_classes} classes" if config.checkpoint else (
                        f"--num-classes {config.num_classes}")
                    message += f" ({given}; class 0 is the background)"
                raise ConfigError("data", config.data, message) from None
            except ValueError as error:  # too few classes for any label
                raise ConfigError("num_classes", config.num_classes, str(error)) from None
        found = checked[key]
        quality_settings.check_data_size(config, found.num_images)
        if found.num_files < config.replicas:
            raise ConfigError("data", config.data, f"{found.num_files} files cannot be split between "
                              f"{config.replicas} replicas; give at least one file per replica")


def _without_path(message: str, path: str) -> str:
    """A DataError's message without its leading 'PATH: ' (the flag's line names the path)."""
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def check_limits(limits: Limits, isolate: bool) -> None:
    """Raises ConfigError if a bound needs child processes and the sweep runs in this process."""
    if isolate:
        return
    needs_children = "bounds child processes: drop --in-process"
    if limits.memory_bytes is not None:
        raise ConfigError("memory_limit", format_size(limits.memory_bytes), needs_children)
    if limits.timeout_s is not None:
        raise ConfigError("timeout", f"{limits.timeout_s:g}", needs_children)


def run(
    config: BenchmarkConfig,
    isolate: bool = False,
    verbose: bool = False,
    progress: IO[str] | None = None,
    limits: Limits = Limits(),
) -> BenchmarkResult:
    """Benchmarks one configuration: the Python API behind the command line.

    Args:
      config: what to run (device may be 'auto').
      isolate: run it in a child process instead of this one.
      verbose: let TensorFlow's log lines through.
      progress: where progress lines go (None: no progress lines).
      limits: bounds on the run (memory and time need `isolate`).

    Returns:
      The BenchmarkResult (status 'failed' with the reason if the run raised an error).

    Raises:
      ConfigError: if the configuration is invalid.
      KeyboardInterrupt: on Ctrl-C.
    """
    quiet = Quiet(verbose)
    (resolved,), environment = prepare([config], quiet=quiet, limits=limits, isolate=isolate)
    return _run_one(resolved, environment, isolate, quiet, progress, limits)


def _run_one(
    config: BenchmarkConfig,
    environment: dict,
    isolate: bool,
    quiet: Quiet,
    progress: IO[str] | None,
    limits: Limits,
) -> BenchmarkResult:
    """One prepared configuration, in a child process or in this one (or, for --workers, on
    worker processes started here)."""
    if isolate and config.workers > 1 and cluster.environment_text() is None:
        return workers.run_workers(config, RunContext(environment, quiet, progress, limits))
    if isolate:
        return child.run_in_child(config, RunContext(environment, quiet, progress, limits))
    from bench.measuring import measure  # the TensorFlow side, loaded only to measure in this process

    return measure.run_in_process(config, environment, progress=progress, limits=limits)


def run_sweep(
    configs: Sequence[BenchmarkConfig],
    environment: dict,
    isolate: bool = True,
    verbose: bool = False,
    progress: IO[str] | None = None,
    on_start: Callable[[BenchmarkConfig], None] | None = None,
    on_result: Callable[[BenchmarkResult], None] | None = None,
    quiet: Quiet | None = None,
    limits: Limits = Limits(),
    run_one: Callable[[BenchmarkConfig], BenchmarkResult] | None = None,
) -> SweepOutcome:
    """Runs prepared configurations one after another; Ctrl-C stops the sweep cleanly.

    Args:
      configs: configurations from `prepare` (device resolved).
      environment: the environment dict from `prepare`.
      isolate: one child process per configuration (default) or all in this process.
      verbose: let TensorFlow's log lines through (ignored when `quiet` is given).
      progress: stream for progress lines (None: no progress lines).
      on_start: called with each configuration just before it starts.
      on_result: called with each result as soon as it exists (the interrupted one included),
        with Ctrl-C and SIGTERM deferred until it returns, so a record being written is never
        cut short.
      quiet: the Quiet setting to use.
      limits: the bounds every configuration runs under (see `bench.core.limits`).
      run_one: runs one configuration instead of the usual one run (e.g. a batch search,
        `bench.sweeping.batch_max`); if it is interrupted with a result of its own
        (`InterruptedWithResult`), that result is recorded for the configuration.

    Returns:
      A SweepOutcome.
    """
    quiet = quiet or Quiet(verbose)
    results: list[BenchmarkResult] = []
    try:
        for config in configs:
            if on_start is not None:
                on_start(config)
            if run_one is not None:
                _deliver(run_one(config), results, on_result)
            else:
                _deliver(_run_one(config, environment, isolate, quiet, progress, limits), results, on_result)
    except KeyboardInterrupt as stop:
        # Every finished configuration has its result; the next one is the interrupted one.
        index = len(results)
        if index < len(configs):
            if isinstance(stop, InterruptedWithResult):
                interrupted = stop.result
            else:
                interrupted = failures.interrupted_result(
                    configs[index], environment, reason=str(stop) or "Ctrl-C"
                )
            with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C changes nothing
                _deliver(interrupted, results, on_result)
        return SweepOutcome(results, list(configs[index + 1 :]), interrupted=True)
    return SweepOutcome(results, [])


def _deliver(
    result: BenchmarkResult,
    results: list[BenchmarkResult],
    on_result: Callable[[BenchmarkResult], None] | None,
) -> None:
    """Appends `result` and hands it to `on_result` with Ctrl-C and SIGTERM deferred."""
    with deferred_stop():
        results.append(result)
        if on_result is not None:
            on_result(result)
