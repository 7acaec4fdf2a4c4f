"""What one configuration's timing loop does between steps, read once from the configuration.

The loop (`bench.measuring.timing.measure_steps`) runs the steps; these hooks are everything else
a run of `bench.measuring.measure` asks of it: the number of steps and when to stop
(`bench.results.stopping`; with several workers the chief decides and a vote shares it), the
burn-in steps that report back (the XLA check, the trace), a progress line every `display_every`
measured steps, each step's time streamed to the parent, and the faults the tests inject
(`bench.core.faults`). The
configuration is read here and nowhere else in the loop; the step itself is the plan's business
(`bench.step.plan`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

import tensorflow as tf

from bench.core import faults
from bench.core.clock import timestamp
from bench.core.config import BenchmarkConfig
from bench.measuring import executed, trace
from bench.results import stopping

# Told of each finished step: ('burn_in' or 'measured', seconds), e.g. to stream it to the parent.
StepObserver = Callable[[str, float], None]

tf1 = tf.compat.v1


def progress_line(step: int, duration_s: float) -> str:
    """'<timestamp>: step N, duration = D.DDD', printed every --display-every measured steps."""
    return f"{timestamp()}: step {step}, duration = {duration_s:.3f}"


def special_burn_in(burn_in: int, xla_on: bool, trace_path: str | None,
                    distributed: bool = False) -> dict[int, tuple]:
    """{burn-in index: (RunOptions, RunMetadata)} for the burn-in steps that report back.

    The last burn-in step returns what the runtime executed (`bench.measuring.executed`: the
    layout, whether XLA's code ran); with a trace it is also fully traced (configurations with
    --trace have at least 2 burn-in steps, so the traced step is never the cold one). With XLA the
    check needs a step after the cold one: a cluster's first runs may be TensorFlow's fallback
    while it compiles (lazy compilation), so with one burn-in step XLA is checked after the
    measured steps instead (`bench.measuring.measure`; not on a worker of several: unchecked).
    `distributed`: the session runs on a worker's server (`executed.executed_step_options`).
    """
    if burn_in < 1 or (xla_on and burn_in < 2):
        return {}
    last = burn_in - 1
    options = executed.executed_step_options(tf1.RunOptions(), distributed)
    if trace_path:
        options.trace_level = tf1.RunOptions.FULL_TRACE
    return {last: (options, tf1.RunMetadata())}


def _nothing() -> None:
    """A hook with nothing to do."""


class RunHooks:
    """The loop's settings and callbacks for one configuration.

    Attributes:
      burn_in: unmeasured steps.
      num_batches: measured steps, or None: until the stopping rule says so.
      rule: the stopping rule (`bench.results.stopping.StopRule`).
      share_stop: with several workers, (this worker's vote) -> the chief's decision, set once
        the session runs (None: this process decides alone).
      xla: whether the step is compiled (its first burn-in step is checked).
      peak_probe: whether to probe the device's attainable rate first; peak_probe_size its matrix
        size (None: the device's default).
      special: the burn-in steps that report back (`special_burn_in`).
      facts: what they showed, filled as they run: 'executed_layout', 'xla_compiled',
        'xla_uncompiled', 'trace_file', and 'stop' (why the measured steps stopped, with a stopping
        rule that checks).
      on_measured_step, on_burn_in_step: the loop's callbacks (None: nothing to do).
      at_session_start: called once the session is initialised (the tests' start faults).
    """

    def __init__(
        self,
        config: BenchmarkConfig,
        progress: IO[str] | None = None,
        on_step_time: StepObserver | None = None,
    ):
        self.burn_in = config.burn_in
        self.rule = stopping.StopRule(config)
        self.num_batches = self.rule.fixed
        self.share_stop: Callable[[bool], bool] | None = None
        self.xla = config.xla
        self.peak_probe = config.peak_probe
        self.peak_probe_size = config.peak_probe_size or None
        self._trace = config.trace
        self._display_every = config.display_every
        self._progress = progress
        self._on_step_time = on_step_time
        self.special = special_burn_in(config.burn_in, config.xla, config.trace, config.workers > 1)
        self.facts: dict = {}
        self.all_reduce_ops: int | None = None  # the all-reduce ops a step ran, once read
        self._faults = faults.for_run(config)
        # Called once the session is initialised: a fault the tests set for that moment strikes.
        self.at_session_start = self._faults.strike_at_start if self._faults else _nothing
        self.on_measured_step = self._measured_step_callback()
        self.on_burn_in_step = self._burn_in_step_callback()

    def should_stop(self, step: int, step_times_s: list[float], elapsed_s: float) -> bool:
        """The loop's stop callback: at the rule's checkpoints, its decision (the chief's, shared,
        with several workers); the reason goes into `facts['stop']`. A fixed count reached is
        recorded too when the rule checks (a budget was set)."""
        if not self.rule.checks:
            return False
        if step == self.num_batches:
            self.facts["stop"] = self.rule.stopping(stopping.STEPS, step_times_s)
            return False
        if not self.rule.at_checkpoint(step):
            return False
        reason = self.rule.decide(step_times_s, elapsed_s)
        if self.share_stop is not None:
            if not self.share_stop(reason is not None):
                return False
            # A follower stops with the chief; only the chief's record is kept, its reason named.
            reason = reason or stopping.TIME
        if reason is None:
            return False
        self.facts["stop"] = self.rule.stopping(reason, step_times_s)
        return True

    def on_special_burn_in(self, index: int, run_metadata) -> None:
        """After a special burn-in step: what ran (layout, XLA), the trace file written."""
        if run_metadata.partition_graphs:
            self.read_executed(run_metadata)
        if self._trace and index == self.burn_in - 1:
            trace.write_chrome_trace(self._trace, run_metadata)
            self.facts["trace_file"] = os.path.abspath(self._trace)

    def read_executed(self, run_metadata) -> None:
        """Keeps what a step run with `executed.executed_step_options` ran: its convolutions'
        layout and, with XLA, whether compiled code ran it all."""
        self.facts["executed_layout"] = executed.convolution_layout(run_metadata)
        self.all_reduce_ops = executed.all_reduce_ops(run_metadata)
        if self.xla:
            self.facts["xla_compiled"] = executed.xla_compiled(run_metadata)
            self.facts["xla_uncompiled"] = executed.uncompiled_ops(run_metadata)

    def _burn_in_step_callback(self) -> Callable[[int, float], None] | None:
        """The loop's burn-in callback: each burn-in step's time to the observer (None without one)."""
        observer = self._on_step_time
        if observer is None:
            return None
        return lambda _, seconds: observer("burn_in", seconds)

    def _measured_step_callback(self) -> Callable[[int, float], None] | None:
        """The loop's measured-step callback: the time to the observer, a progress line every
        `display_every` steps, a test fault after step `faults.KILL_AFTER_STEP` (None: nothing to
        do)."""
        stream, observer, fault = self._progress, self._on_step_time, self._faults
        if stream is None and observer is None and fault is None:
            return None

        def on_step(step: int, duration_s: float) -> None:
            if observer is not None:
                observer("measured", duration_s)
            if stream is not None and step % self._display_every == 0:
                print(progress_line(step, duration_s), file=stream, flush=True)
            if fault is not None:
                fault.strike_after(step)

        return on_step
