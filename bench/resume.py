"""Sweep identity and --resume: which configurations an --output file already holds.

Every record a command-line sweep writes carries the sweep's id and its command line, so the
records of one sweep can be told apart in a file several sweeps appended to. With --resume, a
configuration whose settings equal those of an 'ok' record in the file, measured on the same
machine and TensorFlow, is not run again: that record stands for it in the table. The resumed
sweep keeps the id of the sweep it continues when the reused records all come from one. No
TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import secrets
import shlex
from collections.abc import Sequence

from bench import records
from bench.config import BenchmarkConfig
from bench.errors import ConfigError
from bench.result import BenchmarkResult

# Environment facts that must be equal for a recorded measurement to stand for a new one.
SAME_MACHINE_KEYS = ("tensorflow_version", "device", "device_name", "cpu_model", "gpu_names")


def new_sweep_id() -> str:
    """A sweep id: the UTC start time and a random suffix, e.g. '20261201T231500Z-3f9a1c'."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{secrets.token_hex(3)}"


def command_line(argv: Sequence[str], program: str = "python -m bench") -> str:
    """The sweep's command line as a shell would take it back."""
    return " ".join([program, *(shlex.quote(arg) for arg in argv)])


@dataclasses.dataclass
class ResumePlan:
    """What --resume found.

    Attributes:
      to_run: configurations still to measure, in sweep order.
      reused: {configuration: its recorded 'ok' result} for those already measured.
      other_machine: configurations recorded 'ok' but on another machine or TensorFlow (run again).
      sweep_id: the id of the sweep the reused records belong to, when they share one.
    """

    to_run: list[BenchmarkConfig]
    reused: dict[BenchmarkConfig, BenchmarkResult]
    other_machine: list[BenchmarkConfig]
    sweep_id: str | None


def plan(configs: Sequence[BenchmarkConfig], path: str, environment: dict) -> ResumePlan:
    """Splits a prepared sweep into what `path` already holds and what is left to run.

    Args:
      configs: the sweep's prepared configurations (device resolved, trace paths set).
      path: the --output file (a missing file holds nothing).
      environment: this machine's environment description.

    Returns:
      A ResumePlan.

    Raises:
      ConfigError: (field 'output') if the file exists but cannot be read as JSON Lines records.
    """
    recorded = _read(path)
    here = _machine(environment)
    finished: dict[BenchmarkConfig, BenchmarkResult] = {}
    elsewhere: set[BenchmarkConfig] = set()
    for result in recorded:
        if not result.ok:
            continue
        if _machine(result.environment) == here:
            finished[result.config] = result  # the latest record of a configuration wins
        else:
            elsewhere.add(result.config)
    reused = {config: finished[config] for config in configs if config in finished}
    sweep_ids = {result.sweep_id for result in reused.values()}
    return ResumePlan(
        to_run=[config for config in configs if config not in reused],
        reused=reused,
        other_machine=[config for config in configs if config in elsewhere and config not in reused],
        sweep_id=sweep_ids.pop() if len(sweep_ids) == 1 and "" not in sweep_ids else None,
    )


def in_sweep_order(
    configs: Sequence[BenchmarkConfig],
    reused: dict[BenchmarkConfig, BenchmarkResult],
    new: Sequence[BenchmarkResult],
) -> list[BenchmarkResult]:
    """The reused and the new results together, in the sweep's order (new ones not in `configs`,
    such as none, go last)."""
    by_config = {result.config: result for result in new}
    ordered = [reused.get(config) or by_config.pop(config, None) for config in configs]
    return [result for result in ordered if result is not None] + list(by_config.values())


def _read(path: str) -> list[BenchmarkResult]:
    """The records in `path` ([] if it does not exist)."""
    if not os.path.exists(path):
        return []
    try:
        return records.read_records(path)
    except OSError as error:
        raise ConfigError("output", path, f"cannot be read to resume from ({error.strerror})") from None
    except ValueError as error:
        raise ConfigError("output", path, f"cannot resume from it: {error}") from None


def _machine(environment: dict) -> tuple:
    """The facts of an environment that decide whether its measurements stand for this one's."""
    return tuple(_hashable(environment.get(key)) for key in SAME_MACHINE_KEYS)


def _hashable(value):
    """Lists (gpu_names) as tuples, so they can be compared and hashed."""
    return tuple(value) if isinstance(value, list) else value
