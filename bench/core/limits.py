"""Bounds on each configuration's child process: memory and wall time, and the sizes they are
written in (`6GiB`, `512MiB`, `8GB`).

The memory bound counts the child's resident memory (VmRSS: what it holds in RAM, its libraries'
pages included; not the address space it has reserved), the figure a record's peak memory reports
on the CPU. Its parent watches it and stops the child above the bound
(`bench.processes.memory_watch`, which says why that mechanism, what it costs and how far a fast
spike overshoots); the configuration's row then reads `over the memory limit (6 GiB): peak 6.01 GiB
resident`, whatever part of TensorFlow was allocating. As a backstop only, the child also bounds
its own data segment (RLIMIT_DATA, reserved writable memory) at `BACKSTOP_FACTOR` times the bound
before it imports TensorFlow, so that a runaway the watch misses still fails inside that child;
an allocation failing there is reported as over the bound too, a crash as `crashed at the memory
bound (SIGSEGV): most likely out of memory` (`bench.results.failures.under_memory_limit`).
Nothing else on the machine is touched, and the kernel's OOM killer is never involved. The
wall-time bound is enforced by the parent (`bench.processes.child`), which stops the child and
keeps the steps it finished. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import math
import re

from bench.core.errors import ConfigError

# Binary and decimal units a size may carry (case-insensitive; a bare number is bytes).
_UNITS = {
    "": 1,
    "b": 1,
    "k": 2**10,
    "kib": 2**10,
    "kb": 10**3,
    "m": 2**20,
    "mib": 2**20,
    "mb": 10**6,
    "g": 2**30,
    "gib": 2**30,
    "gb": 10**9,
    "t": 2**40,
    "tib": 2**40,
    "tb": 10**12,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)
# Below this a child cannot even import TensorFlow (it holds 0.66 GiB resident once it has).
MIN_MEMORY_LIMIT_BYTES = 2**30
# The RLIMIT_DATA backstop as a multiple of the bound: the data segment a child has reserved ran
# 0.9 to 1.1 times its resident memory in the resnet_v2_50 steps measured (about 0.45 at import).
BACKSTOP_FACTOR = 2
SIZE_EXAMPLES = "a number with a unit, such as 512MiB, 6GiB or 8GB"


class SizeError(ValueError):
    """A size that cannot be read; the message says what is allowed."""


def parse_size(text: str) -> int:
    """Bytes in a size such as '6GiB', '6G' (both 6 x 2^30), '8GB' (8 x 10^9), '1.5GiB', '4096'.

    Args:
      text: the size as typed.

    Returns:
      The number of bytes (rounded down to a whole byte).

    Raises:
      SizeError: for anything else (a unit it does not know, a negative or zero size).
    """
    match = _SIZE.match(str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise SizeError(f"not a size; use {SIZE_EXAMPLES}")
    size = math.floor(float(match.group(1)) * _UNITS[unit])
    if size <= 0:
        raise SizeError(f"must be more than zero; use {SIZE_EXAMPLES}")
    return size


def format_size(size_bytes: int, digits: int = 4) -> str:
    """'6 GiB', '512 MiB', '1.5 GiB': the largest binary unit that leaves at least 1, with at most
    `digits` significant digits."""
    for unit, factor in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size_bytes >= factor:
            return f"{size_bytes / factor:.{digits}g} {unit}"
    return f"{size_bytes} B"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What every child process of a sweep is bounded by (None: unbounded).

    Attributes:
      memory_bytes: the child's bound on its resident memory (see the module docstring).
      gpu_memory_bytes: what TensorFlow may allocate on each GPU.
      timeout_s: wall seconds from the child's start after which it is stopped.
      peer_timeout_s: with several workers, seconds a peer may stop answering (while this
        worker finishes no step) before the run ends as lost (`bench.processes.peers`; None: its default).
    """

    memory_bytes: int | None = None
    gpu_memory_bytes: int | None = None
    timeout_s: float | None = None
    peer_timeout_s: float | None = None

    @classmethod
    def from_text(
        cls,
        memory: str | None = None,
        gpu_memory: str | None = None,
        timeout_s: float | None = None,
        peer_timeout_s: float | None = None,
    ) -> Limits:
        """The Limits the flags ask for, checked.

        Args:
          memory: --memory-limit as typed, or None.
          gpu_memory: --gpu-memory-limit as typed, or None.
          timeout_s: --timeout, or None.
          peer_timeout_s: --peer-timeout, or None.

        Returns:
          The Limits.

        Raises:
          ConfigError: naming the flag's field ('memory_limit', 'gpu_memory_limit', 'timeout',
            'peer_timeout').
        """
        memory_bytes = _size_or_none("memory_limit", memory)
        if memory_bytes is not None and memory_bytes < MIN_MEMORY_LIMIT_BYTES:
            raise ConfigError(
                "memory_limit",
                memory,
                f"too small: a child needs at least {format_size(MIN_MEMORY_LIMIT_BYTES)} "
                "to import TensorFlow",
            )
        gpu_memory_bytes = _size_or_none("gpu_memory_limit", gpu_memory)
        if gpu_memory_bytes is not None and gpu_memory_bytes < 2**20:
            raise ConfigError("gpu_memory_limit", gpu_memory, "must be at least 1MiB")
        for field, seconds in (("timeout", timeout_s), ("peer_timeout", peer_timeout_s)):
            if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
                raise ConfigError(field, seconds, "must be a positive number of seconds")
        return cls(memory_bytes, gpu_memory_bytes, timeout_s, peer_timeout_s)

    @property
    def any(self) -> bool:
        """True if some bound is set."""
        return any(value is not None for value in dataclasses.astuple(self))

    @property
    def child_only(self) -> bool:
        """True if a bound needs a child process (memory and time bound a child, not this process)."""
        return self.memory_bytes is not None or self.timeout_s is not None

    @property
    def gpu_memory_limit_mb(self) -> int | None:
        """The GPU bound in MiB (TensorFlow's unit for it), or None."""
        return None if self.gpu_memory_bytes is None else self.gpu_memory_bytes // 2**20

    def memory_text(self) -> str:
        """'memory limit 6 GiB' (what an out-of-memory row names)."""
        return f"memory limit {format_size(self.memory_bytes)}" if self.memory_bytes else ""

    def to_dict(self) -> dict:
        """JSON-ready dict (the record's 'limits')."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None) -> Limits:
        """The Limits of a `to_dict` output; None or {} (old records) means unbounded."""
        values = values or {}
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


def _size_or_none(field: str, text: str | None) -> int | None:
    """parse_size(text), None for None; a bad size is a ConfigError naming `field`."""
    if text is None:
        return None
    try:
        return parse_size(text)
    except SizeError as error:
        raise ConfigError(field, text, str(error)) from None


def apply_memory_backstop(memory_bytes: int | None) -> None:
    """Bounds this process's data segment (RLIMIT_DATA) to BACKSTOP_FACTOR x `memory_bytes`, the
    backstop behind its parent's watch; None does nothing.

    Call it before importing TensorFlow: the limit then covers everything the process allocates.
    """
    if memory_bytes is None:
        return
    import resource

    backstop = BACKSTOP_FACTOR * memory_bytes
    resource.setrlimit(resource.RLIMIT_DATA, (backstop, backstop))
