"""Which part of the network an op belongs to, from its name alone: the rule of `--breakdown`.

TensorFlow names every op by the scopes it was built in, and `slim_resnet.resnet_v2` builds the
network in scopes that `end_points` already names. An op name is read from the left:

- an optional replica prefix `replica_K/` (tf.distribute's replicas after the first; K is kept);
- an optional `gradients/` (or `gradients_N/`) scope: the op belongs to the backward pass of
  whatever follows;
- then the model's scope `resnet_v2_D/` followed by `conv1`, `pool1` or `Pad` (part `root`),
  `blockN` (part `blockN`, or `blockN/unit_M` at the `units` level) or `postnorm`, `pool5`,
  `logits`, `SpatialSqueeze` (part `head`); or a loss scope (part `loss`); or an optimizer scope
  (part `optimizer`, its update ops); anything else, and anything in the model's scope that is none
  of these, is part `other`.

Backward ops that carry no part in their own name (the sums TensorFlow adds where a tensor feeds
several ops, `gradients/AddN_7`) are attributed through the names of the ops they read (`inputs`,
the first that names a part), which lie in the scopes of the ops that consumed the tensor. Names that
Grappler gave the ops it made keep the scope after its prefix (`ConstantFolding/gradients/...`), which
is dropped. Every row lands in exactly one part, so the
parts add up to the rows' totals. No TensorFlow here: rows are plain tuples, so the rule is tested
on names alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from bench.results.breakdown import LEVELS, Breakdown, Part, part_order

ROOT, HEAD, LOSS, OPTIMIZER, OTHER = "root", "head", "loss", "optimizer", "other"
# The model scope's children, by part (blocks are matched by pattern).
_ROOT_SCOPES = ("conv1", "pool1", "Pad")
_HEAD_SCOPES = ("postnorm", "pool5", "logits", "SpatialSqueeze")
# Scopes Grappler puts in front of the names of ops it creates from others.
GRAPPLER_PREFIXES = ("ConstantFolding", "ArithmeticOptimizer", "DependencyOptimizer", "LoopOptimizer",
                     "MemoryOptimizer", "AutoMixedPrecision", "Remapper", "LayoutOptimizer")
_REPLICA = re.compile(r"^replica_(\d+)$")
_GRADIENTS = re.compile(r"^gradients(_\d+)?$")
_BLOCK = re.compile(r"^block\d+$")
_UNIT = re.compile(r"^unit_\d+$")


@dataclasses.dataclass(frozen=True)
class OpRow:
    """One op of a step.

    Attributes:
      name: the op's name (a trace's node name, without a ':kernel' suffix).
      time_us: its device time in the step, microseconds (0 for an op that did not run on its own,
        e.g. one fused into another).
      flops: its float operations (the profiler's per-op count; 0 when it has none).
      inputs: the names of the ops it reads (only used for a backward op whose own name carries no
        part), or ().
    """

    name: str
    time_us: float = 0.0
    flops: int = 0
    inputs: tuple = ()


@dataclasses.dataclass(frozen=True)
class Scopes:
    """The scope names the rule matches.

    Attributes:
      model: the network's scope, e.g. 'resnet_v2_50'.
      loss: scopes of the loss (`bench.step.targets.LOSS_SCOPE`).
      optimizer: scopes of the optimizer's update ops (e.g. 'Momentum').
    """

    model: str
    loss: tuple = ("loss",)
    optimizer: tuple = ("Momentum",)

    def expected(self) -> str:
        """The scopes a model op's name is expected in, in words (for the 'found no op' error)."""
        return (
            f"{self.model}/conv1, {self.model}/pool1, {self.model}/block1..block4, "
            f"{self.model}/postnorm, {self.model}/logits (and gradients/... of them)"
        )


@dataclasses.dataclass(frozen=True)
class Place:
    """Where one op belongs: its part, whether it is backward, its replica (0 for the first)."""

    part: str
    backward: bool
    replica: int


def place_of(name: str, scopes: Scopes, level: str = "blocks") -> Place:
    """The part, direction and replica of the op called `name` (see the module's rule).

    Args:
      name: an op name.
      scopes: the scope names to match.
      level: 'blocks' or 'units'.

    Returns:
      A Place; part OTHER when nothing matches.
    """
    components = name.split(":")[0].split("/")
    if components[0] in GRAPPLER_PREFIXES and len(components) > 1:
        components = components[1:]
    replica = 0
    match = _REPLICA.match(components[0])
    if match and len(components) > 1:
        replica = int(match.group(1))
        components = components[1:]
    backward = bool(_GRADIENTS.match(components[0])) and len(components) > 1
    if backward:
        components = components[1:]
    return Place(_part_of_components(components, scopes, level), backward, replica)


def _part_of_components(components: list, scopes: Scopes, level: str) -> str:
    """The part named by the components after any replica and gradients prefix."""
    first = components[0]
    if first in scopes.optimizer:
        return OPTIMIZER
    if first in scopes.loss or first.rsplit("_grad", 1)[0] in scopes.loss:
        return LOSS
    if first != scopes.model or len(components) < 2:
        return OTHER
    child = components[1].rsplit("_grad", 1)[0]
    if child in _ROOT_SCOPES:
        return ROOT
    if child in _HEAD_SCOPES:
        return HEAD
    if _BLOCK.match(child):
        if level == "units" and len(components) > 2 and _UNIT.match(components[2]):
            return f"{child}/{components[2]}"
        return child
    return OTHER


def _resolved_place(row: OpRow, scopes: Scopes, level: str) -> Place:
    """The row's place; for a backward op whose own name says only 'other', that of the first op
    it reads which names a part."""
    place = place_of(row.name, scopes, level)
    if place.part != OTHER or not place.backward:
        return place
    for name in row.inputs:
        through = place_of(name, scopes, level)
        if through.part != OTHER:
            return Place(through.part, True, through.replica)
    return place


def attribute(rows: Iterable[OpRow], scopes: Scopes, level: str = "blocks") -> Breakdown:
    """Adds up the rows' times and FLOPs by part: every row in exactly one part.

    Args:
      rows: the step's ops (one row per op name).
      scopes: the scope names to match.
      level: 'blocks' or 'units'.

    Returns:
      A Breakdown holding the parts in the network's order (root, blocks or units, head, loss,
      optimizer, other), only those with an op; times in milliseconds, per replica in
      `replica_op_ms`.

    Raises:
      ValueError: for an unknown level.
    """
    if level not in LEVELS:
        raise ValueError(f"breakdown level {level!r}: choose from {', '.join(LEVELS)}")
    sums: dict = {}
    replica_us: dict = {}
    model_ops = 0
    for row in rows:
        place = _resolved_place(row, scopes, level)
        direction = "backward" if place.backward and place.part not in (OPTIMIZER, OTHER) else "forward"
        part = sums.setdefault(place.part, {"forward": [0.0, 0], "backward": [0.0, 0]})
        part[direction][0] += row.time_us
        part[direction][1] += row.flops
        replica_us[place.replica] = replica_us.get(place.replica, 0.0) + row.time_us
        model_ops += place.part not in (LOSS, OPTIMIZER, OTHER)
    parts = [
        Part(
            name=name,
            forward_ms=sums[name]["forward"][0] / 1e3,
            backward_ms=sums[name]["backward"][0] / 1e3,
            forward_flops=sums[name]["forward"][1],
            backward_flops=sums[name]["backward"][1],
        )
        for name in part_order(sums)
    ]
    return Breakdown(
        level=level,
        parts=parts,
        model_ops=model_ops,
        replica_op_ms=[replica_us[index] / 1e3 for index in sorted(replica_us)],
    )


def require_model_ops(breakdown: Breakdown, scopes: Scopes) -> Breakdown:
    """The breakdown, unless it found no op of the model.

    Raises:
      ValueError: naming the scopes expected, when no op was attributed to the model's parts.
    """
    if breakdown.model_ops == 0:
        raise ValueError(
            f"--breakdown found no op of the model in the traced step: expected op names under "
            f"{scopes.expected()}"
        )
    return breakdown
