"""Test-only fault injection: makes chosen configurations fail on purpose, for real.

BENCH_TEST_FAULT holds comma-separated specs 'KIND:DEPTH:BATCH:MODE[:WORKER]', '*' matching
anything (WORKER: the task index in TF_CONFIG, so one worker of several can fail); KIND
is 'error' (a RuntimeError), 'oom' (TensorFlow's ResourceExhaustedError) or 'kill' (the process
SIGKILLs itself; use it with child processes only). A normal run checks `active()` once and goes
no further.
"""

from __future__ import annotations

import json
import os
import signal

from bench.config import BenchmarkConfig

ENV_VAR = "BENCH_TEST_FAULT"


def active() -> bool:
    """True when BENCH_TEST_FAULT is set."""
    return bool(os.environ.get(ENV_VAR))


def _selects(spec: str, config: BenchmarkConfig) -> bool:
    wanted = spec.split(":")[1:]
    worker = json.loads(os.environ.get("TF_CONFIG") or '{"task": {"index": 0}}')["task"]["index"]
    actual = (str(config.depth), str(config.batch_size), config.mode, str(worker))
    return all(want in ("*", value) for want, value in zip(wanted, actual, strict=False))


def inject(config: BenchmarkConfig) -> None:
    """Fails on purpose when a BENCH_TEST_FAULT spec selects `config`.

    Raises:
      RuntimeError: for kind 'error'; tf.errors.ResourceExhaustedError for kind 'oom'.
    """
    for spec in filter(None, os.environ.get(ENV_VAR, "").split(",")):
        if not _selects(spec, config):
            continue
        kind = spec.split(":")[0]
        if kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "oom":
            import tensorflow as tf

            raise tf.errors.ResourceExhaustedError(
                None, None, "OOM when allocating tensor (injected by BENCH_TEST_FAULT)"
            )
        raise RuntimeError(f"injected failure for {config.label}\n(second line of the message)")
