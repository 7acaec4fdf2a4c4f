"""Where a step's time goes: the parts of the network, their op times and FLOPs (`--breakdown`).

The record keeps it as `extra.breakdown`, schema version `BREAKDOWN_VERSION` (docs/records.md):

    {"version": 1, "level": "blocks", "available": true,
     "traced_steps": 3, "seconds": 4.1,
     "step_wall_ms": [...], "step_span_ms": [...], "step_op_ms": [...],
     "replica_op_ms": [...], "devices": [...],
     "parts": [{"name": "root", "forward_ms": .., "backward_ms": .., "forward_flops": ..,
                "backward_flops": ..}, ...]}

or, where no breakdown could be taken (under XLA), `{"version": 1, "level": ..., "available":
false, "reason": "..."}`. Each part's times are the medians over the traced steps of its ops' times
(each op's median, then summed, so the parts add up to the total op time exactly). Which op belongs
to which part is `bench.results.attribution`'s rule. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import re
import statistics

from bench.core.config import BREAKDOWN_LEVELS

BREAKDOWN_VERSION = 1
LEVELS = BREAKDOWN_LEVELS
# Fixed parts around the blocks, in the order of the step.
_FIRST, _LAST = ("root",), ("head", "loss", "optimizer", "other")
_BLOCK_OR_UNIT = re.compile(r"^block(\d+)(?:/unit_(\d+))?$")


def part_order(names) -> list[str]:
    """`names` in the network's order: root, block1 (its units in order), ..., head, loss,
    optimizer, other."""

    def key(name: str) -> tuple:
        if name in _FIRST:
            return (0, 0, 0)
        match = _BLOCK_OR_UNIT.match(name)
        if match:
            return (1, int(match.group(1)), int(match.group(2) or 0))
        return (2, _LAST.index(name) if name in _LAST else len(_LAST), name)

    return sorted(names, key=key)


@dataclasses.dataclass(frozen=True)
class Part:
    """One part's share of a step.

    Attributes:
      name: 'root', 'block1' .. 'block4' (or 'block3/unit_17'), 'head', 'loss', 'optimizer' or 'other'.
      forward_ms, backward_ms: its ops' time per step in the forward pass and in the backward pass
        (its `gradients/...` ops); optimizer and other have all their time in forward_ms.
      forward_flops, backward_flops: their float operations per step (the profiler's per-op counts).
    """

    name: str
    forward_ms: float = 0.0
    backward_ms: float = 0.0
    forward_flops: int = 0
    backward_flops: int = 0

    @property
    def total_ms(self) -> float:
        return self.forward_ms + self.backward_ms

    @property
    def flops(self) -> int:
        return self.forward_flops + self.backward_flops

    @property
    def gflops_per_s(self) -> float | None:
        """FLOPs / op time, GFLOP/s (None for a part without both)."""
        if not self.flops or self.total_ms <= 0:
            return None
        return self.flops / (self.total_ms / 1e3) / 1e9

    @property
    def directed(self) -> bool:
        """False for optimizer and other, whose ops are neither forward nor backward."""
        return self.name not in ("optimizer", "other")


@dataclasses.dataclass(frozen=True)
class Breakdown:
    """A step's op time and FLOPs by part, or why there is none.

    Attributes:
      level: 'blocks' or 'units'.
      parts: the parts with at least one op, in the network's order (`part_order`).
      available: False when no breakdown could be taken (then `reason` says why).
      reason: why it is not available, or None.
      traced_steps: fully traced steps run after the measured ones.
      seconds: how long the breakdown took (graph look-up, traced steps, attribution).
      step_wall_ms: each traced step's wall time (session.run, tracing included).
      step_span_ms: each traced step's first op start to last op end on the devices read.
      step_op_ms: each traced step's sum of op times.
      replica_op_ms: op time per replica (the first replica first), medians like the parts'.
      devices: the trace's devices whose op times were read (on a GPU its kernel streams).
      model_ops: ops attributed to the model's parts (not recorded; the 'found nothing' check).
    """

    level: str = "blocks"
    parts: list = dataclasses.field(default_factory=list)
    available: bool = True
    reason: str | None = None
    traced_steps: int = 0
    seconds: float | None = None
    step_wall_ms: list = dataclasses.field(default_factory=list)
    step_span_ms: list = dataclasses.field(default_factory=list)
    step_op_ms: list = dataclasses.field(default_factory=list)
    replica_op_ms: list = dataclasses.field(default_factory=list)
    devices: list = dataclasses.field(default_factory=list)
    model_ops: int = 0

    @property
    def op_ms(self) -> float:
        """The parts' times added up: the step's total op time."""
        return sum(part.total_ms for part in self.parts)

    @property
    def flops(self) -> int:
        return sum(part.flops for part in self.parts)

    @property
    def wall_ms(self) -> float | None:
        """Median wall time of the traced steps."""
        return statistics.median(self.step_wall_ms) if self.step_wall_ms else None

    @property
    def span_ms(self) -> float | None:
        """Median span of the traced steps' ops."""
        return statistics.median(self.step_span_ms) if self.step_span_ms else None

    @property
    def overlap(self) -> float | None:
        """Op time / span: 1 when ops ran one after another, more when they overlapped."""
        span = self.span_ms
        return self.op_ms / span if span else None

    def share(self, part: Part) -> float:
        """The part's fraction of the total op time."""
        total = self.op_ms
        return part.total_ms / total if total else 0.0

    def part(self, name: str) -> Part | None:
        return next((part for part in self.parts if part.name == name), None)

    def to_dict(self) -> dict:
        """The record's `extra.breakdown` object."""
        if not self.available:
            return {"version": BREAKDOWN_VERSION, "level": self.level, "available": False,
                    "reason": self.reason}
        return {
            "version": BREAKDOWN_VERSION,
            "level": self.level,
            "available": True,
            "traced_steps": self.traced_steps,
            "seconds": self.seconds,
            "step_wall_ms": self.step_wall_ms,
            "step_span_ms": self.step_span_ms,
            "step_op_ms": self.step_op_ms,
            "replica_op_ms": self.replica_op_ms,
            "devices": self.devices,
            "parts": [dataclasses.asdict(part) for part in self.parts],
        }

    @classmethod
    def from_dict(cls, values: dict | None) -> Breakdown | None:
        """Reads `to_dict`'s output back (None for None).

        Raises:
          ValueError: for a version this harness does not know.
        """
        if not values:
            return None
        if values.get("version") != BREAKDOWN_VERSION:
            raise ValueError(
                f"breakdown version {values.get('version')!r}: this harness reads version {BREAKDOWN_VERSION}"
            )
        known = {field.name for field in dataclasses.fields(cls)} - {"parts", "model_ops"}
        fields = {key: value for key, value in values.items() if key in known}
        parts = [Part(**part) for part in values.get("parts", [])]
        return cls(parts=parts, model_ops=sum(part.name not in _LAST for part in parts), **fields)


def unavailable(level: str, reason: str) -> Breakdown:
    """A breakdown that could not be taken, saying why."""
    return Breakdown(level=level, available=False, reason=reason)
