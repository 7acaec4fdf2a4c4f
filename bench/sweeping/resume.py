"""Sweep identity and --resume: which configurations an --output file already holds.

Every record a command-line sweep writes carries the sweep's id and its command line, so the
records of one sweep can be told apart in a file several sweeps appended to. With --resume, a
configuration whose settings equal those of an 'ok' record in the file, measured on the same
machine and TensorFlow, is not run again: that record stands for it in the table (with
--repeat N, it takes N such records, the latest; a configuration with fewer runs all N again).
The resumed sweep keeps the id of the sweep it continues when the reused records all come from
one. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import secrets
import shlex
from collections.abc import Sequence

from bench.core.config import BenchmarkConfig
from bench.core.errors import ConfigError
from bench.results import records
from bench.results.result import BenchmarkResult

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
      reused: {configuration: its recorded 'ok' results (as many as the sweep's repeats)} for
        those already measured.
      other_machine: configurations recorded 'ok' but on another machine or TensorFlow (run again).
      sweep_id: the id of the sweep the reused records belong to, when they share one.
    """

    to_run: list[BenchmarkConfig]
    reused: dict[BenchmarkConfig, list[BenchmarkResult]]
    other_machine: list[BenchmarkConfig]
    sweep_id: str | None


def plan(configs: Sequence[BenchmarkConfig], path: str, environment: dict, repeats: int = 1) -> ResumePlan:
    """Splits a prepared sweep into what `path` already holds and what is left to run.

    Args:
      configs: the sweep's prepared configurations (device resolved, trace paths set).
      path: the --output file (a missing file holds nothing).
      environment: this machine's environment description.
      repeats: the processes the sweep measures each configuration in (--repeat).

    Returns:
      A ResumePlan.

    Raises:
      ConfigError: (field 'output') if the file exists but cannot be read as JSON Lines records.
    """
    recorded = _read(path)
    here = _machine(environment)
    finished: dict[BenchmarkConfig, list[BenchmarkResult]] = {}
    elsewhere: set[BenchmarkConfig] = set()
    for result in recorded:
        if not result.ok:
            continue
        if _machine(result.environment) == here:
            finished.setdefault(result.config, []).append(result)
        else:
            elsewhere.add(result.config)
    # The latest `repeats` records of a configuration stand for it, when there are that many.
    reused = {
        config: finished[config][-repeats:] for config in configs if len(finished.get(config, [])) >= repeats
    }
    sweep_ids = {result.sweep_id for results in reused.values() for result in results}
    return ResumePlan(
        to_run=[config for config in configs if config not in reused],
        reused=reused,
        other_machine=[config for config in configs if config in elsewhere and config not in reused],
        sweep_id=sweep_ids.pop() if len(sweep_ids) == 1 and "" not in sweep_ids else None,
    )


def header_lines(plan: ResumePlan, path: str) -> list[str]:
    """What --resume found, for the header."""
    lines = [
        f"Resuming: {len(plan.reused)} configuration(s) already recorded ok in {path}"
        + (f" (sweep {plan.sweep_id})" if plan.sweep_id else "")
        + f", {len(plan.to_run)} to run"
    ]
    if plan.other_machine:
        lines.append(
            f"  {len(plan.other_machine)} of them recorded on another machine or TensorFlow: run again"
        )
    return lines


def in_sweep_order(
    configs: Sequence[BenchmarkConfig],
    reused: dict[BenchmarkConfig, list[BenchmarkResult]],
    new: Sequence[BenchmarkResult],
) -> list[BenchmarkResult]:
    """The reused and the new results together, configuration by configuration in the sweep's
    order (a configuration's results in the order they were measured)."""
    by_config: dict[BenchmarkConfig, list[BenchmarkResult]] = {}
    for result in new:
        by_config.setdefault(result.config, []).append(result)
    ordered = [result for config in configs for result in reused.get(config, []) + by_config.pop(config, [])]
    return ordered + [result for rest in by_config.values() for result in rest]


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
