"""Running configurations: one in this process, or a sweep with one child process per configuration.

Why a child process per configuration (the default): an out-of-memory error, a crash in native
code or the kernel's OOM killer then ends only that configuration, whose row reports it, and the
sweep goes on. Every configuration also starts from the same state (no allocator caches, thread
pools or graph-optimizer caches left over from the previous one).

The child is `python -m bench._child JOB.json`, a fresh interpreter rather than a fork (forking a
process that has started TensorFlow's thread pools is unsafe) and rather than multiprocessing's
spawn (which would re-import the CLI's `__main__` and pickle objects; a JSON job file is simpler
to reason about and to run by hand). The parent sees a crash directly as the exit status (negative
= killed by that signal), gets the result back as a JSON file the child writes when it finishes,
and reads the child's stdout and stderr through pipes as lines arrive: progress lines go to the
parent's chosen stream, stderr to the parent's stderr without TensorFlow's C++ log lines (unless
verbose), and the last stderr lines are kept for failure reports.

The timing inside the child is the same as in-process (only `session.run` is timed). What the
child adds per configuration (interpreter start, importing TensorFlow, exit) is measured and kept
in the record's `phases_s` ('process_start', 'tf_import', 'teardown', 'child_overhead').
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import IO

from bench import environment as environment_lib
from bench import quiet, timing
from bench.config import BenchmarkConfig, ConfigError, validate_against_model

# Test-only: makes configurations fail on purpose, to exercise failure handling for real.
# Comma-separated specs 'KIND:DEPTH:BATCH:MODE', '*' matching anything; KIND is 'error',
# 'oom' or 'kill' (the process kills itself with SIGKILL, so only use it with child processes).
FAULT_ENV_VAR = "BENCH_TEST_FAULT"
# Lines of a failed child's stderr kept in its failure record.
STDERR_TAIL_LINES = 20
# Seconds a child gets to exit after SIGTERM before it is killed.
STOP_GRACE_S = 10.0


@dataclasses.dataclass
class SweepOutcome:
    """What a sweep produced.

    Attributes:
      results: one result per configuration that was started, in order (the interrupted one
        included, marked 'interrupted').
      not_run: configurations never started because the sweep was interrupted.
      interrupted: whether Ctrl-C stopped the sweep.
    """

    results: list[timing.BenchmarkResult]
    not_run: list[BenchmarkConfig]
    interrupted: bool = False

    @property
    def any_failed(self) -> bool:
        """True if any started configuration did not produce a measurement."""
        return any(not result.ok for result in self.results)


def prepare(
    configs: Sequence[BenchmarkConfig], verbose: bool = False
) -> tuple[list[BenchmarkConfig], dict]:
    """Validates configurations fully, resolves the device and describes the environment.

    Imports TensorFlow (quietly) in this process; builds no graph.

    Args:
      configs: configurations, possibly with device 'auto'.
      verbose: let TensorFlow's log lines through.

    Returns:
      (configs with the device resolved to 'gpu' or 'cpu', environment dict).

    Raises:
      ConfigError: for the first configuration with a value that is not allowed.
    """
    for config in configs:
        config.validate()
    tf = environment_lib.import_tensorflow(verbose)
    from slim_resnet import MIN_IMAGE_SIZE, VALID_DEPTHS

    for config in configs:
        validate_against_model(config, VALID_DEPTHS, MIN_IMAGE_SIZE)
    gpu_names = environment_lib.visible_gpu_names(tf)
    resolved = [_resolve(config, gpu_names) for config in configs]
    device = resolved[0].device if resolved else "cpu"
    return resolved, environment_lib.describe_environment(tf, device)


def _resolve(config: BenchmarkConfig, gpu_names: list[str]) -> BenchmarkConfig:
    """The configuration with device and data format resolved ('auto' replaced).

    Raises:
      ConfigError: for a GPU that is not there, or NCHW on the CPU.
    """
    from bench.data_format import resolve_data_format

    device = environment_lib.resolve_device(config.device, gpu_names)
    try:
        data_format = resolve_data_format(config.data_format, device)
    except ValueError as error:
        raise ConfigError("data_format", config.data_format,
                          str(error).split(" is ", 1)[-1]) from None
    return dataclasses.replace(config, device=device, data_format=data_format)


def run(
    config: BenchmarkConfig,
    isolate: bool = False,
    verbose: bool = False,
    progress: IO[str] | None = None,
) -> timing.BenchmarkResult:
    """Benchmarks one configuration: the Python API behind the CLI.

    Args:
      config: what to run (device may be 'auto').
      isolate: run it in a child process instead of this one.
      verbose: let TensorFlow's log lines through.
      progress: where progress lines go (None: no progress lines).

    Returns:
      The BenchmarkResult (status 'failed' with the reason if the run raised an error).

    Raises:
      ConfigError: if the configuration is invalid.
      KeyboardInterrupt: on Ctrl-C.
    """
    (resolved,), environment = prepare([config], verbose)
    if isolate:
        return run_in_child(resolved, environment, verbose=verbose, progress=progress)
    return run_in_process(resolved, environment, progress=progress)


def run_sweep(
    configs: Sequence[BenchmarkConfig],
    environment: dict,
    isolate: bool = True,
    verbose: bool = False,
    progress: IO[str] | None = None,
    on_start: Callable[[BenchmarkConfig], None] | None = None,
    on_result: Callable[[timing.BenchmarkResult], None] | None = None,
) -> SweepOutcome:
    """Runs prepared configurations one after another; Ctrl-C stops the sweep cleanly.

    Args:
      configs: configurations from `prepare` (device resolved).
      environment: the environment dict from `prepare`.
      isolate: one child process per configuration (default) or all in this process.
      verbose: let TensorFlow's log lines through.
      progress: stream for progress lines (None: no progress lines).
      on_start: called with each configuration just before it starts.
      on_result: called with each result as soon as it exists (the interrupted one included),
        with Ctrl-C deferred until it returns, so a record being written is never cut short.

    Returns:
      A SweepOutcome.
    """
    results: list[timing.BenchmarkResult] = []
    try:
        for config in configs:
            if on_start is not None:
                on_start(config)
            if isolate:
                result = run_in_child(config, environment, verbose=verbose, progress=progress)
            else:
                result = run_in_process(config, environment, progress=progress)
            _deliver(result, results, on_result)
    except KeyboardInterrupt as stop:
        # Every finished configuration has its result; the next one is the interrupted one.
        interrupted_index = len(results)
        if interrupted_index < len(configs):
            interrupted = interrupted_result(configs[interrupted_index], environment,
                                             reason=str(stop) or "Ctrl-C")
            with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C changes nothing
                _deliver(interrupted, results, on_result)
        return SweepOutcome(results, list(configs[interrupted_index + 1 :]), interrupted=True)
    return SweepOutcome(results, [])


def _deliver(result, results: list, on_result) -> None:
    """Appends `result` and hands it to `on_result` with Ctrl-C deferred."""
    with _sigint_deferred():
        results.append(result)
        if on_result is not None:
            on_result(result)


# Signals that stop a sweep cleanly, and how a row names them. The command line turns SIGTERM (what
# `kill` and batch schedulers send) into KeyboardInterrupt("SIGTERM"); see `raise_on_sigterm`.
STOP_SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Holds back Ctrl-C and SIGTERM during the block; raises KeyboardInterrupt after it if one
    came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum))
                for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        raise KeyboardInterrupt(STOP_SIGNALS[received[0]])


@contextlib.contextmanager
def raise_on_sigterm() -> Iterator[None]:
    """Inside the block, SIGTERM stops a sweep the way Ctrl-C does (finished rows kept)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt(STOP_SIGNALS[signal.SIGTERM])

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted_result(config: BenchmarkConfig, environment: dict,
                       reason: str = "Ctrl-C") -> timing.BenchmarkResult:
    """The result recorded for a configuration stopped by Ctrl-C (or `reason`, e.g. 'SIGTERM')."""
    return timing.BenchmarkResult(
        config=config,
        status=timing.STATUS_INTERRUPTED,
        failure=timing.Failure(kind="interrupted", message=f"interrupted ({reason})"),
        environment=environment,
        started_at=utc_now(),
    )


def utc_now() -> str:
    """Current UTC time, ISO 8601 with seconds."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# In this process.


def benchmark(
    config: BenchmarkConfig, environment: dict, progress: IO[str] | None = None
) -> timing.BenchmarkResult:
    """Probes the device, builds, counts, initialises and times one configuration in this
    process; errors propagate.

    In order: the peak probe (same device, precision and threads; optional), the graph, its FLOP
    count, the session and initialisation, the burn-in (the first burn-in step also returns the
    executed graphs when XLA is on, to check that it compiled; the last is traced with --trace;
    in forward-backward a dynamic loss scale settles here), the loss-scale reading and the
    peak-memory reset, the measured steps, the peak-memory reading, and the untimed numerics
    checks (gradients finite, loss scale after, skipped updates).

    Args:
      config: a prepared configuration (device and data format resolved).
      environment: the environment dict to attach to the result.
      progress: stream for the every-`display_every`-steps lines, or None.

    Returns:
      A BenchmarkResult with status 'ok'.
    """
    import tensorflow as tf

    from bench import graphs, memory
    from bench import peak as peak_lib

    started_at = utc_now()
    phases_s: dict = {}
    extra: dict = {}
    session_settings = graphs.session_config(config)
    if config.peak_probe:
        probe_start = timing.clock()
        probe = peak_lib.probe_peak_tflops(
            config.precision, config.device, matrix_size=config.peak_probe_size or None,
            session_config=session_settings)
        phases_s["peak_probe"] = timing.clock() - probe_start
        extra["peak_probe"] = probe.to_dict()
    extra["datasheet_peak"] = _datasheet_peak(config, environment, tf)

    build_start = timing.clock()
    timed = graphs.build_timed_graph(config)
    phases_s["graph_build"] = timing.clock() - build_start
    count_start = timing.clock()
    extra["flops"] = _count_flops(config, timed)
    phases_s["flop_count"] = timing.clock() - count_start
    extra["loss_scale"] = timed.loss_scale

    init_start = timing.clock()
    session = tf.compat.v1.Session(graph=timed.graph, config=session_settings)
    try:
        session.run(timed.initializer)
        phases_s["session_init"] = timing.clock() - init_start
        inject_test_fault(config)
        tracker = memory.memory_tracker(config.device, tf)
        scale_states = []

        def before_measured() -> None:
            scale_states.append(_read_loss_scale_state(session, timed))
            tracker.reset()

        measurement = timing.measure_steps(
            session, timed.target, config.burn_in, config.num_batches,
            on_step=_progress_printer(progress, config.display_every),
            burn_in_options=_burn_in_options(config, tf),
            on_burn_in_metadata=lambda index, metadata: _use_burn_in_metadata(
                config, index, metadata, extra),
            before_measured=before_measured,
            burn_in_fetch=timed.burn_in_target,
        )
        extra["peak_memory"] = {"bytes": tracker.peak_bytes(), "kind": tracker.kind,
                                "label": tracker.label}
        check_start = timing.clock()
        extra.update(_numerics_after_measurement(session, timed, config, scale_states[0]))
        phases_s["numerics_check"] = timing.clock() - check_start
        if config.xla and "xla_compiled" not in extra:  # no burn-in: check after the measurement
            from bench import xla

            extra["xla_compiled"], _ = xla.ran_with_xla(session, timed.target)
    finally:
        close_start = timing.clock()
        session.close()
    phases_s.update(
        burn_in=sum(measurement.burn_in_times_s),
        measure=measurement.loop_wall_s,
        session_close=timing.clock() - close_start,
    )
    return timing.BenchmarkResult(
        config=config,
        measurement=measurement,
        param_count=timed.param_count,
        environment=environment,
        phases_s=phases_s,
        started_at=started_at,
        extra=extra,
    )


def _read_loss_scale_state(session, timed) -> dict | None:
    """The dynamic loss scaler's state now ({'loss_scale': float, 'skipped_steps': int}), or None
    without a dynamic loss scale."""
    if timed.loss_scale_state is None:
        return None
    values = session.run(timed.loss_scale_state)
    return {"loss_scale": float(values["loss_scale"]), "skipped_steps": int(values["skipped_steps"])}


def _numerics_after_measurement(session, timed, config: BenchmarkConfig,
                                state_before: dict | None) -> dict:
    """Untimed checks after the measured steps, as `extra` entries.

    Args:
      session: the session the steps ran in.
      timed: the TimedGraph.
      config: the configuration.
      state_before: the loss scaler's state read just before the measured steps (or None).

    Returns:
      {'gradients_finite': bool} where gradients are computed (one extra run of the finiteness
      check of every gradient); with a dynamic loss scale also 'loss_scale_before' and
      'loss_scale_after' (the scale around the measured steps) and, in 'train',
      'skipped_updates' (measured steps whose optimizer update was skipped for non-finite
      gradients). Empty for 'forward'.
    """
    numerics: dict = {}
    if timed.gradients_finite is None:
        return numerics
    numerics["gradients_finite"] = bool(session.run(timed.gradients_finite))
    if state_before is None:
        return numerics
    state_after = _read_loss_scale_state(session, timed)
    numerics.update(loss_scale_before=state_before["loss_scale"],
                    loss_scale_after=state_after["loss_scale"])
    if config.mode == "train":
        numerics["skipped_updates"] = state_after["skipped_steps"] - state_before["skipped_steps"]
    return numerics


def _datasheet_peak(config: BenchmarkConfig, environment: dict, tf) -> dict | None:
    """The datasheet peak of a known GPU for the configuration's precision, as a dict, or None."""
    from bench import peak as peak_lib

    if config.device != "gpu":
        return None
    found = peak_lib.datasheet_peak(
        environment.get("device_name"), config.precision,
        tf32_enabled=tf.config.experimental.tensor_float_32_execution_enabled())
    return dataclasses.asdict(found) if found is not None else None


def _count_flops(config: BenchmarkConfig, timed) -> dict:
    """FLOPs of one step of the timed graph (TensorFlow's profiler on the graph pruned to the
    step's fetch). An NCHW graph is counted on its NHWC twin: the profiler only counts pooling and
    backward convolutions in NHWC, and the layout does not change the arithmetic."""
    from bench import flops, graphs

    counted_on = "the timed graph"
    graph, target = timed.graph, timed.target
    if config.data_format == "NCHW":
        twin = graphs.build_timed_graph(dataclasses.replace(config, data_format="NHWC", xla=False))
        graph, target = twin.graph, twin.target
        counted_on = "the NHWC twin of the timed graph"
    try:
        count = flops.step_flops(graph, target)
    except ValueError as error:  # recorded; the configuration is still measured
        return {"per_step": None, "by_op_type": {}, "counted_on": counted_on, "error": str(error)}
    return {"per_step": count.total, "by_op_type": count.by_op_type, "counted_on": counted_on}


def _burn_in_options(config: BenchmarkConfig, tf) -> dict:
    """RunOptions for special burn-in steps: the first returns the executed graphs when XLA is
    on, the last is fully traced with --trace (configurations with --trace have at least 2
    burn-in steps, so the traced step is never the cold one)."""
    options: dict = {}
    if config.burn_in < 1:
        return options
    if config.xla:
        options[0] = tf.compat.v1.RunOptions(output_partition_graphs=True)
    if config.trace:
        last = config.burn_in - 1
        traced = options.get(last, tf.compat.v1.RunOptions())
        traced.trace_level = tf.compat.v1.RunOptions.FULL_TRACE
        options[last] = traced
    return options


def _use_burn_in_metadata(config: BenchmarkConfig, index: int, run_metadata, extra: dict) -> None:
    """Records what a special burn-in step returned: XLA compiled or not, the trace file."""
    from bench import trace, xla

    if run_metadata.partition_graphs:
        extra["xla_compiled"] = xla.XLA_RUN_OP in xla.executed_op_types(run_metadata)
    if config.trace and index == config.burn_in - 1:
        trace.write_chrome_trace(config.trace, run_metadata)
        extra["trace_file"] = os.path.abspath(config.trace)


def run_in_process(
    config: BenchmarkConfig, environment: dict, progress: IO[str] | None = None
) -> timing.BenchmarkResult:
    """`benchmark`, with errors turned into a failed result (Ctrl-C still propagates).

    Args:
      config: a prepared configuration.
      environment: the environment dict.
      progress: stream for progress lines, or None.

    Returns:
      The BenchmarkResult, status 'ok' or 'failed'.
    """
    start = timing.clock()
    try:
        result = benchmark(config, environment, progress)
    except Exception as error:  # noqa: BLE001 - any error becomes this configuration's row
        result = failed_result(config, environment, error)
    result.phases_s["total"] = timing.clock() - start
    return result


def failed_result(
    config: BenchmarkConfig, environment: dict, error: BaseException
) -> timing.BenchmarkResult:
    """The result for a configuration whose run raised `error`."""
    return timing.BenchmarkResult(
        config=config,
        status=timing.STATUS_FAILED,
        failure=failure_from_exception(error),
        environment=environment,
        started_at=utc_now(),
    )


def failure_from_exception(error: BaseException) -> timing.Failure:
    """Describes an exception as a Failure: 'oom' for out-of-memory errors, else 'error'.

    Args:
      error: the exception.

    Returns:
      A Failure whose message is the exception type and the first line of its message that names
      the cause (for TensorFlow's graph-execution errors, the op's error such as 'OOM when
      allocating tensor ...', not 'Graph execution error:'; see slim_resnet.quiet.error_summary).
    """
    from slim_resnet.quiet import error_summary

    message = error_summary(error)
    details = traceback.format_exception(type(error), error, error.__traceback__)
    tail = "".join(details).splitlines()[-STDERR_TAIL_LINES:]
    return timing.Failure(kind="oom" if _is_out_of_memory(error) else "error",
                          message=message, details=tail)


def _is_out_of_memory(error: BaseException) -> bool:
    """True for MemoryError and TensorFlow's ResourceExhaustedError."""
    if isinstance(error, MemoryError):
        return True
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(error, tf.errors.ResourceExhaustedError)


def _progress_printer(stream: IO[str] | None, display_every: int):
    """on_step callback printing '<timestamp>: step N, duration = D.DDD' every few steps."""
    if stream is None:
        return None

    def on_step(step: int, duration_s: float) -> None:
        if step % display_every == 0:
            print(f"{timing.timestamp()}: step {step}, duration = {duration_s:.3f}",
                  file=stream, flush=True)

    return on_step


def inject_test_fault(config: BenchmarkConfig) -> None:
    """Fails on purpose when BENCH_TEST_FAULT selects this configuration (tests only).

    Args:
      config: the configuration about to be measured.

    Raises:
      RuntimeError: for kind 'error'; tf.errors.ResourceExhaustedError for kind 'oom'.
    """
    for spec in filter(None, os.environ.get(FAULT_ENV_VAR, "").split(",")):
        kind, depth, batch, mode = spec.split(":")
        wanted = {"depth": depth, "batch": batch, "mode": mode}
        actual = {"depth": str(config.depth), "batch": str(config.batch_size), "mode": config.mode}
        if any(value not in ("*", actual[key]) for key, value in wanted.items()):
            continue
        if kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "oom":
            import tensorflow as tf

            raise tf.errors.ResourceExhaustedError(
                None, None, "OOM when allocating tensor (injected by BENCH_TEST_FAULT)"
            )
        raise RuntimeError(f"injected failure for {config.label}\n(second line of the message)")


# ---------------------------------------------------------------------------------------------
# In a child process.


class _LinePump(threading.Thread):
    """Copies a child's output stream to one of ours line by line, as the lines arrive.

    Keeps the last lines (all of them, shown or not) for failure reports.
    """

    def __init__(self, source: IO[bytes], destination: IO[str] | None, show: Callable[[str], bool]):
        """Sets the pump up (start() runs it).

        Args:
          source: the child's pipe.
          destination: where shown lines go (None: nowhere).
          show: which lines to pass on.
        """
        super().__init__(daemon=True)
        self._source = source
        self._destination = destination
        self._show = show
        self.tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)

    def run(self) -> None:
        for raw in iter(self._source.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.tail.append(line)
            if self._destination is not None and self._show(line):
                print(line, file=self._destination, flush=True)
        self._source.close()


def run_in_child(
    config: BenchmarkConfig,
    environment: dict,
    verbose: bool = False,
    progress: IO[str] | None = None,
) -> timing.BenchmarkResult:
    """Runs one prepared configuration in a fresh `python -m bench._child` process.

    Args:
      config: a prepared configuration (device resolved).
      environment: the environment dict.
      verbose: let TensorFlow's log lines through.
      progress: stream the child's progress lines are copied to as they come (None: no
        progress lines).

    Returns:
      The BenchmarkResult: the child's own, or a failed one built from its exit status
      ('killed by signal N', 'exited with status N') and the tail of its stderr.

    Raises:
      KeyboardInterrupt: on Ctrl-C, after the child has been stopped.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        job_path = os.path.join(workdir, "job.json")
        result_path = os.path.join(workdir, "result.json")
        spawned_at = time.time()
        job = {
            "config": config.to_dict(),
            "environment": environment,
            "verbose": verbose,
            "progress": progress is not None,
            "result_path": result_path,
            "spawned_at": spawned_at,
        }
        with open(job_path, "w", encoding="utf-8") as job_file:
            json.dump(job, job_file)
        start = timing.clock()
        child = subprocess.Popen(
            [sys.executable, "-m", "bench._child", job_path],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_environment(verbose),
        )
        pumps = [
            _LinePump(child.stdout, progress, show=lambda line: True),
            _LinePump(child.stderr, sys.stderr,
                      show=lambda line: verbose or not quiet.is_native_log_line(line)),
        ]
        for pump in pumps:
            pump.start()
        try:
            returncode = child.wait()
        finally:
            if child.poll() is None:
                _stop(child)
            for pump in pumps:
                pump.join(timeout=STOP_GRACE_S)
        total_s = timing.clock() - start
        result = _read_child_result(result_path)
    if result is None:
        result = timing.BenchmarkResult(
            config=config,
            status=timing.STATUS_FAILED,
            failure=_failure_from_exit(returncode, list(pumps[1].tail)),
            environment=environment,
            started_at=datetime.datetime.fromtimestamp(spawned_at, datetime.timezone.utc)
            .isoformat(timespec="seconds"),
        )
    _add_child_phases(result.phases_s, total_s)
    return result


def _child_environment(verbose: bool) -> dict[str, str]:
    """Our environment, quieted, with this package importable from the child."""
    env = quiet.quiet_environment(dict(os.environ), verbose)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = [package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _stop(child: subprocess.Popen) -> None:
    """Ends a child: SIGTERM, then SIGKILL if it has not exited after STOP_GRACE_S."""
    child.terminate()
    try:
        child.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _read_child_result(path: str) -> timing.BenchmarkResult | None:
    """The result the child wrote, or None if it wrote none."""
    try:
        with open(path, encoding="utf-8") as result_file:
            return timing.BenchmarkResult.from_record(json.load(result_file))
    except FileNotFoundError:
        return None


def _failure_from_exit(returncode: int, stderr_tail: list[str]) -> timing.Failure:
    """Describes a child that exited without writing a result.

    Args:
      returncode: its exit status (negative: killed by that signal).
      stderr_tail: the last lines of its stderr.

    Returns:
      A Failure of kind 'signal' ('killed by signal 9 (SIGKILL)', plus the fatal log line if
      there was one) or 'exit' (its last stderr line, or 'exited with status N').
    """
    meaningful = [line.strip() for line in stderr_tail if line.strip()]
    if returncode < 0:
        signal_number = -returncode
        try:
            name = signal.Signals(signal_number).name
        except ValueError:
            name = "unknown signal"
        message = f"killed by signal {signal_number} ({name})"
        fatal = [line for line in meaningful if line.startswith("F")]
        if fatal:
            message += ": " + fatal[-1].split("] ", 1)[-1]
        return timing.Failure("signal", message, returncode, signal_number, list(stderr_tail))
    last_line = meaningful[-1] if meaningful else f"exited with status {returncode}"
    return timing.Failure("exit", last_line, returncode, None, list(stderr_tail))


def _add_child_phases(phases_s: dict, total_s: float) -> None:
    """Adds 'total', 'teardown' and 'child_overhead' to a child's phase times (in place).

    teardown is whatever the child's own phases do not account for after its last one (closing
    the session, writing the result, interpreter exit); child_overhead is what running in a child
    costs on top of running in-process: process start + TensorFlow import + teardown.
    """
    phases_s["total"] = total_s
    if "process_start" not in phases_s:
        return
    accounted = sum(value for key, value in phases_s.items() if key != "total")
    phases_s["teardown"] = max(total_s - accounted, 0.0)
    phases_s["child_overhead"] = (
        phases_s["process_start"] + phases_s.get("tf_import", 0.0) + phases_s["teardown"]
    )

