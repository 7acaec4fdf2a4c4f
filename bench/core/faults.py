"""Test-only fault injection: makes chosen configurations fail on purpose, for real.

BENCH_TEST_FAULT holds comma-separated specs 'KIND:DEPTH:BATCH:MODE[:WORKER]', '*' matching
anything (WORKER: the task index in TF_CONFIG, so one worker of several can fail); KIND is 'error'
(a RuntimeError), 'oom' (TensorFlow's ResourceExhaustedError), 'memoryerror' (Python's
MemoryError), 'kill' (the process SIGKILLs itself), 'segv' (it crashes with SIGSEGV) or 'grow' (it
allocates and touches GROW_STEP_BYTES of NumPy memory after another until something stops it: a
memory bound), all once the session is initialised; 'killstep' (SIGKILL right after measured step
KILL_AFTER_STEP), 'errorstep' (a RuntimeError right after that step) or 'stall' (a child that never
gets going: it sleeps before importing TensorFlow). 'kill', 'segv', 'grow', 'killstep' and 'stall'
are for child processes only. KIND with '-once' ('kill-once') fails only the first process it
selects: that process creates the file named by BENCH_TEST_FAULT_ONCE, and later processes that
find it run normally (how a test fails one of a configuration's repeated processes). A normal run
checks `active()` once per configuration and goes no further.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time

from bench.core import cluster
from bench.core.config import BenchmarkConfig

ENV_VAR = "BENCH_TEST_FAULT"
# The measured step after which 'killstep' kills the process.
KILL_AFTER_STEP = 2
# What 'grow' allocates at a time.
GROW_STEP_BYTES = 256 * 2**20
ONCE_ENV_VAR = "BENCH_TEST_FAULT_ONCE"
ONCE = "-once"


def active() -> bool:
    """True when BENCH_TEST_FAULT is set."""
    return bool(os.environ.get(ENV_VAR))


def _selects(spec: str, config: BenchmarkConfig) -> bool:
    wanted = spec.split(":")[1:]
    worker = cluster.task_index()
    actual = (str(config.depth), str(config.batch_size), config.mode, str(worker))
    return all(want in ("*", value) for want, value in zip(wanted, actual, strict=False))


def _selected_kinds(config: BenchmarkConfig) -> list[str]:
    """The KINDs of the specs that select `config`."""
    specs = filter(None, os.environ.get(ENV_VAR, "").split(","))
    return [spec.split(":")[0] for spec in specs if _selects(spec, config)]


def stall(config: BenchmarkConfig) -> None:
    """Sleeps for good when a 'stall' spec selects `config` (until a signal ends the process)."""
    while "stall" in _selected_kinds(config):
        time.sleep(3600)


_STEP_KINDS = ("killstep", "errorstep")


@dataclasses.dataclass(frozen=True)
class RunFaults:
    """The faults BENCH_TEST_FAULT sets for one configuration's run, selected once (`for_run`).

    Attributes:
      label: the configuration's label, for the messages.
      at_start: the kinds struck once the session is initialised, in order.
      after_step: 'killstep' or 'errorstep', struck after measured step KILL_AFTER_STEP, or None.
    """

    label: str
    at_start: tuple[str, ...]
    after_step: str | None

    def strike_at_start(self) -> None:
        """Fails on purpose as the selected start kinds say ('-once' kinds in the first process only).

        Raises:
          RuntimeError: for kind 'error'; tf.errors.ResourceExhaustedError for kind 'oom';
            MemoryError for kind 'memoryerror'.
        """
        for kind in self.at_start:
            if kind.endswith(ONCE):
                if not _first_time():
                    continue
                kind = kind[: -len(ONCE)]
            if kind == "kill":
                kill_now()
            if kind == "segv":
                os.kill(os.getpid(), signal.SIGSEGV)
            if kind == "grow":
                grow_until_stopped()
            if kind == "memoryerror":
                raise MemoryError("injected by BENCH_TEST_FAULT")
            if kind == "oom":
                import tensorflow as tf

                raise tf.errors.ResourceExhaustedError(
                    None, None, "OOM when allocating tensor (injected by BENCH_TEST_FAULT)"
                )
            raise RuntimeError(f"injected failure for {self.label}\n(second line of the message)")

    def strike_after(self, step: int) -> None:
        """After measured step `step`: the `after_step` fault strikes at KILL_AFTER_STEP (SIGKILL,
        or a RuntimeError for 'errorstep')."""
        if self.after_step is None or step != KILL_AFTER_STEP:
            return
        if self.after_step == "killstep":
            kill_now()
        raise RuntimeError(f"injected failure after measured step {KILL_AFTER_STEP} of {self.label}")


def for_run(config: BenchmarkConfig) -> RunFaults | None:
    """The faults selected for `config`'s run, or None when BENCH_TEST_FAULT selects none."""
    if not active():
        return None
    kinds = _selected_kinds(config)
    at_start = tuple(kind for kind in kinds if kind != "stall" and kind not in _STEP_KINDS)
    after = next((kind for kind in kinds if kind in _STEP_KINDS), None)
    if not at_start and after is None:
        return None
    return RunFaults(config.label, at_start, after)


def grow_until_stopped() -> None:
    """Allocates and touches GROW_STEP_BYTES of memory after another, for good (until a bound stops
    the process, or the allocation fails)."""
    import numpy as np

    held = []
    while True:
        held.append(np.ones(GROW_STEP_BYTES // 8))


def kill_now() -> None:
    """SIGKILLs this process."""
    os.kill(os.getpid(), signal.SIGKILL)


def inject(config: BenchmarkConfig) -> None:
    """Fails on purpose when a BENCH_TEST_FAULT spec selects `config` (its start kinds).

    Raises:
      RuntimeError: for kind 'error'; tf.errors.ResourceExhaustedError for kind 'oom';
        MemoryError for kind 'memoryerror'.
    """
    faults = for_run(config)
    if faults is not None:
        faults.strike_at_start()


def _first_time() -> bool:
    """Creates the BENCH_TEST_FAULT_ONCE file; False if it was already there (or is not set)."""
    path = os.environ.get(ONCE_ENV_VAR)
    if not path:
        return False
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True
