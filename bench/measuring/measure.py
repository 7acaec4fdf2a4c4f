"""Measuring one configuration in this process: probe, build, count, initialise, time, check.

This is the TensorFlow side of the harness (`bench.processes.child` runs it in a child process,
`bench.sweeping.sweep` in this one with --in-process). Errors propagate from `benchmark`;
`run_in_process` turns them into a failed result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from typing import IO

import tensorflow as tf

from bench.core import faults
from bench.core.clock import clock, timestamp
from bench.core.config import BenchmarkConfig
from bench.core.limits import Limits
from bench.measuring import flops, memory, numerics, peak, timing, trace
from bench.results.extras import Extras, FlopCount, PeakMemory
from bench.results.failures import failed_result, from_exception, utc_now
from bench.results.measurement import partial_measurement
from bench.results.result import BenchmarkResult
from bench.step import graphs, xla

# Told of each finished step: ('burn_in' or 'measured', seconds), e.g. to stream it to the parent.
StepObserver = Callable[[str, float], None]

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
) -> BenchmarkResult:
    """Probes the device, builds, counts, initialises and times one configuration; errors propagate.

    In order: the peak probe (same device, precision and threads; optional), the graph, its FLOP
    count, the session and initialisation, the burn-in (with XLA the first burn-in step also
    returns the executed graphs, to check that it compiled; with --trace the last is traced; in
    forward-backward a dynamic loss scale settles here), the loss-scale reading and the
    peak-memory reset, the measured steps, the peak-memory reading, and the untimed numerics
    checks.

    Args:
      config: a prepared configuration (device and data format resolved).
      environment: the environment dict to attach to the result.
      progress: stream for the every-`display_every`-steps lines, or None.
      phases_s: where the phase times go as each phase ends (a new dict by default), so a
        caller keeps those of a run that failed.
      limits: the bounds to run under (here: the GPU memory cap, in the session's settings).
      on_step_time: told of every step as it finishes (outside the timed interval).
      timed: the graph to time, already built by `graphs.build_timed_graph` for a configuration
        that differs from `config` at most in the number of steps (burn_in, num_batches,
        display_every), which the graph does not depend on; None (the default): build it here.
        Each run opens its own session and initialises every variable, so one graph serves
        several runs (the tests use this); a run given its graph has no 'graph_build' phase.

    Returns:
      A BenchmarkResult with status 'ok'.
    """
    started_at = utc_now()
    phases_s = {} if phases_s is None else phases_s
    session_settings = graphs.session_config(config, limits.gpu_memory_limit_mb)
    probe = None
    if config.peak_probe:
        with _phase(phases_s, "peak_probe"):
            probe = peak.probe_peak_tflops(
                config.precision,
                config.device,
                matrix_size=config.peak_probe_size or None,
                session_config=session_settings,
            )
    datasheet = None
    if config.device == "gpu":
        datasheet = peak.datasheet_peak(
            environment.get("device_name"),
            config.precision,
            tf32_enabled=tf.config.experimental.tensor_float_32_execution_enabled(),
        )
    if timed is None:
        with _phase(phases_s, "graph_build"):
            timed = graphs.build_timed_graph(config)
    with _phase(phases_s, "flop_count"):
        flop_count = count_flops(config, timed)

    burn_in_facts: dict = {}
    init_start = clock()
    if timed.session_config is not None:  # a replicated step's own settings, with the GPU cap
        timed.session_config.gpu_options.MergeFrom(session_settings.gpu_options)
    session = tf1.Session(
        timed.session_target, graph=timed.graph, config=timed.session_config or session_settings
    )
    try:
        session.run(timed.initializer)
        phases_s["session_init"] = clock() - init_start
        if faults.active():
            faults.inject(config)
        tracker = memory.memory_tracker(config.device, tf)
        scale_states = []

        def before_measured() -> None:
            scale_states.append(numerics.read_loss_scale_state(session, timed.step))
            tracker.reset()

        def on_special_burn_in(index: int, run_metadata) -> None:
            burn_in_facts.update(_burn_in_facts(config, index, run_metadata))

        measurement = timing.measure_steps(
            session,
            timed.target,
            config.burn_in,
            config.num_batches,
            on_step=_step_callback(progress, config, on_step_time),
            special_burn_in=special_burn_in(config),
            on_special_burn_in=on_special_burn_in,
            before_measured=before_measured,
            burn_in_fetch=timed.step.burn_in_target,
            on_burn_in_step=None if on_step_time is None else lambda _, s: on_step_time("burn_in", s),
        )
        peak_memory = PeakMemory(tracker.peak_bytes(), tracker.kind, tracker.label)
        with _phase(phases_s, "numerics_check"):
            checks = numerics.check_after_measurement(session, timed.step, config, scale_states[0])
            fingerprint = None
            if timed.replicated is not None:
                fingerprint = float(session.run(timed.replicated.fingerprint))
        if config.xla and "xla_compiled" not in burn_in_facts:  # no burn-in: check afterwards
            burn_in_facts["xla_compiled"], _ = xla.ran_with_xla(session, timed.target)
    finally:
        close_start = clock()
        session.close()
    phases_s.update(
        burn_in=sum(measurement.burn_in_times_s),
        measure=measurement.loop_wall_s,
        session_close=clock() - close_start,
    )
    extra = Extras(
        peak_probe=probe,
        datasheet_peak=datasheet,
        flops=flop_count,
        loss_scale=timed.step.loss_scale,
        peak_memory=peak_memory,
        numerics=checks,
        fingerprint=fingerprint,
        **burn_in_facts,
    )
    return BenchmarkResult(
        config=config,
        limits=limits,
        measurement=measurement,
        param_count=timed.param_count,
        environment=environment,
        phases_s=phases_s,
        started_at=started_at,
        extra=extra,
    )


def run_in_process(
    config: BenchmarkConfig,
    environment: dict,
    progress: IO[str] | None = None,
    limits: Limits = Limits(),
    on_step_time: StepObserver | None = None,
    timed: graphs.TimedGraph | None = None,
) -> BenchmarkResult:
    """`benchmark`, with errors turned into a failed result (Ctrl-C still propagates); `timed`, an
    already built graph, as for `benchmark`.

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
        result = benchmark(config, environment, progress, phases_s, limits, on_step, timed)
    except Exception as error:  # noqa: BLE001 - any error becomes this configuration's row
        elapsed = clock() - start
        result = failed_result(config, environment, from_exception(error, limits))
        result.limits = limits
        result.measurement = partial_measurement(finished["measured"], finished["burn_in"])
        result.phases_s = dict(phases_s, failed_run=max(elapsed - sum(phases_s.values()), 0.0))
    result.phases_s["total"] = clock() - start
    return result


def count_flops(config: BenchmarkConfig, timed: graphs.TimedGraph) -> FlopCount:
    """FLOPs of one step of the timed graph (TensorFlow's profiler on the graph pruned to the
    step's fetch). An NCHW graph is counted on its NHWC twin: the profiler only counts pooling and
    backward convolutions in NHWC, and the layout does not change the arithmetic. A graph that
    cannot be counted is recorded with the reason; the configuration is still measured."""
    counted_on = "the timed graph"
    graph, target = timed.graph, timed.target
    if config.data_format == "NCHW":
        twin = graphs.build_timed_graph(dataclasses.replace(config, data_format="NHWC", xla=False))
        graph, target = twin.graph, twin.target
        counted_on = "the NHWC twin of the timed graph"
    try:
        count = flops.step_flops(graph, target)
    except ValueError as error:
        return FlopCount(per_step=None, counted_on=counted_on, error=str(error))
    return FlopCount(per_step=count.total, by_op_type=count.by_op_type, counted_on=counted_on)


def special_burn_in(config: BenchmarkConfig) -> dict[int, tuple]:
    """{burn-in index: (RunOptions, RunMetadata)} for the burn-in steps that report back: with XLA
    the first returns the executed graphs; with --trace the last is fully traced (configurations
    with --trace have at least 2 burn-in steps, so the traced step is never the cold one)."""
    options: dict[int, tf1.RunOptions] = {}
    if config.burn_in < 1:
        return {}
    if config.xla:
        options[0] = xla.partition_graph_options()
    if config.trace:
        last = config.burn_in - 1
        options.setdefault(last, tf1.RunOptions()).trace_level = tf1.RunOptions.FULL_TRACE
    return {index: (option, tf1.RunMetadata()) for index, option in options.items()}


def _burn_in_facts(config: BenchmarkConfig, index: int, run_metadata) -> dict:
    """What a special burn-in step showed: XLA compiled or not, the trace file written."""
    facts = {}
    if run_metadata.partition_graphs:
        facts["xla_compiled"] = xla.XLA_RUN_OP in xla.executed_op_types(run_metadata)
    if config.trace and index == config.burn_in - 1:
        trace.write_chrome_trace(config.trace, run_metadata)
        facts["trace_file"] = os.path.abspath(config.trace)
    return facts


def _step_callback(stream: IO[str] | None, config: BenchmarkConfig, on_step_time: StepObserver | None):
    """on_step callback: a progress line every `display_every` measured steps (when there is a
    stream), and every step to `on_step_time` (when given)."""
    fault = faults.after_step(config) if faults.active() else None
    if stream is None and on_step_time is None and fault is None:
        return None

    def on_step(step: int, duration_s: float) -> None:
        if on_step_time is not None:
            on_step_time("measured", duration_s)
        if stream is not None and step % config.display_every == 0:
            print(progress_line(step, duration_s), file=stream, flush=True)
        if fault is not None and step == faults.KILL_AFTER_STEP:
            faults.strike(fault, config)

    return on_step


def progress_line(step: int, duration_s: float) -> str:
    """'<timestamp>: step N, duration = D.DDD', printed every --display-every measured steps."""
    return f"{timestamp()}: step {step}, duration = {duration_s:.3f}"
