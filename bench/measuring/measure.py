"""Measuring one configuration in this process: probe, build, count, initialise, time, check.

This is the TensorFlow side of the harness (`bench.processes.child` runs it in a child process,
`bench.sweeping.sweep` in this one with --in-process). Errors propagate from `benchmark`;
`run_in_process` turns them into a failed result.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import IO

import tensorflow as tf

from bench.core.clock import clock
from bench.core.config import BenchmarkConfig
from bench.core.limits import Limits
from bench.inputs import bad_records, sources
from bench.inputs.sources import DataSource
from bench.measuring import breakdown_steps, executed, flops, memory, numerics, peak, quality_pass, timing
from bench.measuring.run_hooks import RunHooks, StepObserver
from bench.results.cost import DatasheetPeak, PeakProbe
from bench.results.extras import DataFacts, Extras, FlopCount, Numerics, PeakMemory
from bench.results.failures import failed_result, from_exception, utc_now
from bench.results.measurement import Measurement, partial_measurement
from bench.results.quality import QualityFacts
from bench.results.result import BenchmarkResult
from bench.step import graphs
from bench.step.gpu_memory import apply_gpu_memory_cap
from bench.step.plan import StepPlan, plan_step

tf1 = tf.compat.v1


@contextlib.contextmanager
def _phase(phases_s: dict, name: str) -> Iterator[None]:
    """Records the block's duration as phases_s[name] when it completes."""
    start = clock()
    yield
    phases_s[name] = clock() - start


def benchmark(
    config: BenchmarkConfig,
    environment: dict,
    progress: IO[str] | None = None,
    phases_s: dict | None = None,
    limits: Limits = Limits(),
    on_step_time: StepObserver | None = None,
    timed: graphs.TimedGraph | None = None,
    data_source: DataSource | None = None,
) -> BenchmarkResult:
    """Probes the device, builds, counts, initialises and times one configuration; errors propagate.

    The GPU memory cap comes first (`bench.step.gpu_memory`: before anything can create the
    allocators it bounds). The configuration is then read into the loop's hooks (`RunHooks`) and
    the step's plan (`plan_step`), which the phases share: `_build_and_probe`, `_count_flops`,
    `_run_session` (initialise and restore, time, check, the untimed passes).

    Args:
      config: a prepared configuration (device and data format resolved).
      environment: the environment dict to attach to the result.
      progress: stream for the every-`display_every`-steps lines, or None.
      phases_s: where the phase times go as each phase ends (a new dict by default), so a
        caller keeps those of a run that failed.
      limits: the bounds to run under (here: the GPU memory cap, in the session's settings).
      on_step_time: told of every step as it finishes (outside the timed interval).
      timed: the graph to time, already built by `graphs.build_timed_graph` from the plan of a
        configuration that differs from `config` at most in the number of steps (burn_in,
        num_batches, display_every), which the graph does not depend on; None (the default):
        build it here.
        Each run opens its own session and initialises every variable, so one graph serves
        several runs (the tests use this); a run given its graph has no 'graph_build' phase.
      data_source: `config.data` as already checked (`bench.step.plan.plan_step`), or None.

    Returns:
      A BenchmarkResult with status 'ok'.
    """
    apply_gpu_memory_cap(limits.gpu_memory_limit_mb)  # before anything can create an allocator
    started_at = utc_now()
    phases_s = {} if phases_s is None else phases_s
    hooks = RunHooks(config, progress, on_step_time)
    plan = plan_step(config, limits.gpu_memory_limit_mb, data_source)
    datasheet = _datasheet(plan, environment)
    timed, probe = _build_and_probe(plan, hooks, phases_s, timed)
    flop_count = _count_flops(plan, timed, phases_s)
    ran = _run_session(plan, timed, hooks, phases_s)
    replicated = timed.replicated
    extra = Extras(
        all_reduce=None if replicated is None else replicated.all_reduce.to_dict(hooks.all_reduce_ops),
        peak_probe=probe, datasheet_peak=datasheet, flops=flop_count, loss_scale=timed.step.loss_scale,
        peak_memory=ran.peak_memory, numerics=ran.numerics, fingerprint=ran.fingerprint, data=ran.data,
        quality=ran.quality, **hooks.facts,
    )
    return BenchmarkResult(
        config=config, limits=limits, measurement=ran.measurement, param_count=timed.param_count,
        environment=environment, phases_s=phases_s, started_at=started_at, extra=extra,
    )


def _datasheet(plan: StepPlan, environment: dict) -> DatasheetPeak | None:
    """The datasheet figure of a known GPU (None on the CPU and for unknown GPUs)."""
    if plan.config.device != "gpu":
        return None
    return peak.datasheet_peak(
        environment.get("device_name"),
        plan.config.precision,
        tf32_enabled=tf.config.experimental.tensor_float_32_execution_enabled(),
        mig=bool(environment.get("mig")),
    )


def _build_and_probe(
    plan: StepPlan, hooks: RunHooks, phases_s: dict, timed: graphs.TimedGraph | None
) -> tuple[graphs.TimedGraph, PeakProbe | None]:
    """The timed graph (`timed` if given) and the peak probe (None when off or without a model).

    The probe runs first; with --checkpoint the graph does, since it matches every variable
    with the checkpoint as it is built: a checkpoint that does not fit fails before the probe
    times anything.
    """
    if timed is None and plan.checkpoint is not None:
        with _phase(phases_s, "graph_build"):
            timed = graphs.build_timed_graph(plan)
    probe = None
    if hooks.peak_probe and plan.has_model:
        with _phase(phases_s, "peak_probe"):
            probe = peak.probe_peak_tflops(
                plan, matrix_size=hooks.peak_probe_size, session_config=plan.session_config
            )
    if timed is None:
        with _phase(phases_s, "graph_build"):
            timed = graphs.build_timed_graph(plan)
    return timed, probe


def _count_flops(plan: StepPlan, timed: graphs.TimedGraph, phases_s: dict) -> FlopCount:
    """The step's FLOP count (`bench.measuring.flops`); none for --mode input, which has no model."""
    if not plan.has_model:
        return FlopCount(None, error="no model: --mode input times the input pipeline alone")
    with _phase(phases_s, "flop_count"):
        return flops.counted(*timed.flop_counted)


@dataclasses.dataclass(frozen=True)
class _SessionFacts:
    """What a run's session gave, beside what its hooks collected (`RunHooks.facts`)."""

    measurement: Measurement
    peak_memory: PeakMemory
    numerics: Numerics
    fingerprint: float | None
    data: DataFacts | None
    quality: QualityFacts | None


def _run_session(plan: StepPlan, timed: graphs.TimedGraph, hooks: RunHooks, phases_s: dict) -> _SessionFacts:
    """Opens the run's session and does all that needs it, in order: initialise (and restore),
    the timed steps, the numerics checks, then the untimed passes; what the steps show goes into
    `hooks.facts`. Errors propagate; a bad label the input pipeline meets is named by its shard
    file and record (`bench.inputs.bad_records`)."""
    init_start = clock()
    session = tf1.Session(timed.session_target, graph=timed.graph, config=timed.session_config)
    try:
        session.run(timed.initializer)
        phases_s["session_init"] = clock() - init_start
        if timed.restore is not None:
            with _phase(phases_s, "restore"):
                session.run(timed.restore)
        hooks.at_session_start()
        measurement, peak_memory, scale_state = _time_steps(session, plan, timed, hooks)
        with _phase(phases_s, "numerics_check"):
            checks = numerics.check_after_measurement(session, timed.step, plan.config.mode, scale_state)
            fingerprint = None
            if timed.replicated is not None:
                fingerprint = float(session.run(timed.replicated.fingerprint))
            data = _data_facts(session, plan, timed)
        quality = _untimed_passes(session, plan, timed, hooks, phases_s)
    except tf.errors.InvalidArgumentError as error:  # a bad label: name its shard and record
        source = plan.data_source
        if source is None or source.format != sources.FORMAT_TFRECORD:
            raise
        raise bad_records.located_error(error, source.files) from error
    finally:
        close_start = clock()
        session.close()
    phases_s.update(
        burn_in=sum(measurement.burn_in_times_s),
        measure=measurement.loop_wall_s,
        session_close=clock() - close_start,
    )
    return _SessionFacts(measurement, peak_memory, checks, fingerprint, data, quality)


def _time_steps(
    session: tf1.Session, plan: StepPlan, timed: graphs.TimedGraph, hooks: RunHooks
) -> tuple[Measurement, PeakMemory, dict]:
    """The burn-in and measured steps (`bench.measuring.timing`), the peak memory of the measured
    ones, and the loss scale's state read just before them."""
    tracker = memory.memory_tracker(plan.config.device, tf)
    scale_states = []

    def before_measured() -> None:
        scale_states.append(numerics.read_loss_scale_state(session, timed.step))
        tracker.reset()

    vote = timed.replicated.stop_vote if timed.replicated is not None else None
    if vote is not None:  # every worker runs it at the same checkpoints; the chief's vote decides
        hooks.share_stop = lambda stop: vote.shared(session, stop)

    measurement = timing.measure_steps(
        session,
        timed.target,
        hooks.burn_in,
        hooks.num_batches,
        on_step=hooks.on_measured_step,
        special_burn_in=hooks.special,
        on_special_burn_in=hooks.on_special_burn_in,
        before_measured=before_measured,
        burn_in_fetch=timed.step.burn_in_target,
        on_burn_in_step=hooks.on_burn_in_step,
        should_stop=hooks.should_stop if hooks.rule.checks else None,
    )
    return measurement, PeakMemory(tracker.peak_bytes(), tracker.kind, tracker.label), scale_states[0]


def _data_facts(session: tf1.Session, plan: StepPlan, timed: graphs.TimedGraph) -> DataFacts | None:
    """What the record keeps of the real data read (None for synthetic inputs)."""
    if plan.data_source is None:
        return None
    return DataFacts(
        source=plan.data_source.to_record(),
        preprocessing=plan.config.preprocessing,
        threads=plan.data_threads or 0,
        pipeline="training" if plan.training_pipeline else "evaluation",
        skipped_images=int(session.run(timed.skipped_images)),
    )


def _untimed_passes(
    session: tf1.Session, plan: StepPlan, timed: graphs.TimedGraph, hooks: RunHooks, phases_s: dict
) -> QualityFacts | None:
    """After the measured steps and their checks, never among them: the XLA check when the
    burn-in could not make it, --breakdown (into the hooks' facts), and the quality pass, whose
    facts are returned (None when none ran)."""
    # Under 2 burn-in steps XLA is checked on one more step; not on a worker of several, whose
    # last collective (the fingerprint) must stay its last, or a peer may lose it mid-step.
    if hooks.xla and "xla_compiled" not in hooks.facts and not timed.session_target:
        hooks.read_executed(executed.run_executed_step(session, timed.target)[1])
    if plan.config.breakdown:
        with _phase(phases_s, "breakdown"):
            hooks.facts["breakdown"] = breakdown_steps.take(session, timed, plan, plan.config.breakdown)
    if plan.untimed_pass is None:
        return None
    with _phase(phases_s, "quality_pass"):
        return quality_pass.run_untimed_pass(session, timed, plan)


def run_in_process(
    config: BenchmarkConfig,
    environment: dict,
    progress: IO[str] | None = None,
    limits: Limits = Limits(),
    on_step_time: StepObserver | None = None,
    timed: graphs.TimedGraph | None = None,
    data_source: DataSource | None = None,
) -> BenchmarkResult:
    """`benchmark`, with errors turned into a failed result (Ctrl-C still propagates); `timed`, an
    already built graph, and `data_source`, the checked data, as for `benchmark`.

    Returns:
      The BenchmarkResult, status 'ok' or 'failed', with the total time in phases_s['total']. A
      failed one keeps the phases it finished, and 'failed_run' is the rest of the time until
      the error, so the phases add up to the time spent (none of it is mistaken for teardown);
      and the steps it finished before the error (`partial_measurement`).
    """
    start = clock()
    phases_s: dict = {}
    finished: dict[str, list[float]] = {"burn_in": [], "measured": []}

    def on_step(kind: str, seconds: float) -> None:
        finished[kind].append(seconds)
        if on_step_time is not None:
            on_step_time(kind, seconds)

    try:
        result = benchmark(config, environment, progress, phases_s, limits, on_step, timed, data_source)
    except Exception as error:  # noqa: BLE001 - any error becomes this configuration's row
        elapsed = clock() - start
        result = failed_result(config, environment, from_exception(error, limits, config.device))
        result.limits = limits
        result.measurement = partial_measurement(finished["measured"], finished["burn_in"])
        result.phases_s = dict(phases_s, failed_run=max(elapsed - sum(phases_s.values()), 0.0))
    result.phases_s["total"] = clock() - start
    return result
