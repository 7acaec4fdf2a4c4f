"""Bursts: runs of consecutive measured steps whose level differs from the rest of the run.

On a shared machine a neighbour, a throttled core or a noisy page-cache flush slows a block of
consecutive steps (5 to 20 steps 40% slower, then back), which the mean, the sd and the spread
warning cannot tell apart from a slow model. This module names such blocks from the raw step times.

Method: binary segmentation of the log step times for changes in the mean (squared-error cost),
after a running median over 5 steps (numpy's sliding windows; numpy only, so a child process
under --memory-limit never imports a library after its steps have taken their memory):

- the log makes a burst a shift of its level by the same amount whatever the step time (2x slower
  is +0.69 at 10 ms and at 10 s), and the squared-error cost of a shift in mean is the one whose
  penalty has a known noise scale;
- the running median over 5 steps removes runs of one or two slow steps (outliers: a page fault, a
  garbage collection) and keeps every run of three or more with its edges in place, so an outlier
  neither becomes a burst nor pulls a change point towards itself;
- binary segmentation (split where the cost falls most, recurse on both sides while the fall
  exceeds the penalty) is a few numpy cumulative sums per split, so thousands of steps take
  milliseconds; PELT's optimal segmentation is not needed for a handful of bursts.

Penalty: 3 x sigma^2 x ln(n) per change point, a BIC-type penalty (Schwarz's criterion for a change
in a normal mean is 2 sigma^2 ln n; 3 leaves fewer false changes on heavy-tailed step times),
where sigma is the robust noise of one step, 1.4826 x the median absolute first difference of the
log step times / sqrt(2): differences cancel the levels, so a burst does not inflate its own
noise scale. sigma is at least 0.5%, so a series of nearly identical steps does not split on a
timer's rounding.

A segment is reported as a burst when it is fewer than half the run, at least `MIN_STEPS` of its
steps and its median step time are at least `MIN_CHANGE` (20%) above (or below) the level most steps
run at (the median of the segments' medians weighted by their lengths; a burst's own steps do not
count towards it). Adjacent segments both reported on the same side are one burst. The record and
the warning give the median of the burst's steps and the median of all the other steps. Nothing is removed
from the statistics: the raw steps stay the record's truth, and the median of the other steps is
reported beside the burst. No TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

# A burst has at least this many consecutive steps (one or two slow steps are outliers).
MIN_STEPS = 3
# ... and its median differs from the other steps' median by at least this fraction.
MIN_CHANGE = 0.20
# The running median's width: it removes runs shorter than MIN_STEPS.
FILTER_WIDTH = 2 * (MIN_STEPS - 1) + 1
# The penalty per change point, in units of sigma^2 ln n.
PENALTY_FACTOR = 3.0
# The smallest noise scale of one step, as a fraction of its time (the log's units).
MIN_SIGMA = 0.005
# The smallest series analysed: a burst and at least as many other steps.
MIN_SERIES = 2 * MIN_STEPS
# Warning lines of one run's bursts, the last counting those beyond.
MAX_LINES = 4


@dataclasses.dataclass(frozen=True)
class Burst:
    """A run of consecutive measured steps at a level of their own.

    Attributes:
      first_step, last_step: the run's measured steps, 1-based and inclusive.
      level_s: the median time of its steps.
      rest_level_s: the median time of every other measured step.
    """

    first_step: int
    last_step: int
    level_s: float
    rest_level_s: float

    @property
    def steps(self) -> int:
        return self.last_step - self.first_step + 1

    @property
    def ratio(self) -> float:
        """level / the rest's level (above 1: slower)."""
        return self.level_s / self.rest_level_s if self.rest_level_s > 0 else math.inf

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def find_bursts(step_times_s: Sequence[float]) -> list[Burst]:
    """The bursts of a run's measured steps, in step order.

    Args:
      step_times_s: the measured step times, in order.

    Returns:
      The bursts (empty for a series shorter than MIN_SERIES or without one).
    """
    times = np.asarray(step_times_s, dtype=np.float64)
    if len(times) < MIN_SERIES or not np.all(times > 0):
        return []
    logs = np.log(times)
    smooth = _running_median(logs)
    penalty = PENALTY_FACTOR * _noise(logs) ** 2 * math.log(len(logs))
    bounds = sorted(_split(smooth, 0, len(smooth), penalty) + [0, len(smooth)])
    return _bursts(times, list(zip(bounds[:-1], bounds[1:], strict=True)))


def warnings(bursts: Sequence[Burst], num_steps: int) -> list[str]:
    """One line per burst in step order, at most MAX_LINES: beyond that the longest are named,
    longest first, and one more line counts the others (the record keeps every burst).

    Args:
      bursts: a run's bursts, in step order.
      num_steps: how many steps were measured.
    """
    if len(bursts) <= MAX_LINES:
        return [warning(burst, num_steps) for burst in bursts]
    longest = sorted(bursts, key=lambda burst: -burst.steps)[: MAX_LINES - 1]
    others = [burst for burst in bursts if burst not in longest]
    steps = sum(burst.steps for burst in others)
    return [warning(burst, num_steps) for burst in longest] + [
        f"{len(others)} more bursts ({steps} steps in all; the record's bursts lists them): the machine "
        "was busy for much of the run; measure again when it is quiet"
    ]


def warning(burst: Burst, num_steps: int) -> str:
    """The warning line of a burst, e.g. 'steps 31-45 ran 2.3x slower than the other 105 (median
    140 ms vs 63 ms): a burst (a neighbour, throttling?); the median of the other steps is 63 ms'.

    Args:
      burst: the burst.
      num_steps: how many steps were measured.
    """
    others = num_steps - burst.steps
    if burst.ratio >= 1:
        how = f"{burst.ratio:.1f}x slower"
        cause = "a neighbour, throttling?" if burst.first_step > 1 else "a neighbour, or too short a burn-in?"
    else:
        how = f"{1 / burst.ratio:.1f}x faster"
        cause = "the rest slowed by a neighbour or throttling?"
    return (
        f"steps {burst.first_step}-{burst.last_step} ran {how} than the other {others} (median "
        f"{_ms(burst.level_s)} vs {_ms(burst.rest_level_s)}): a burst ({cause}); the median of the "
        f"other steps is {_ms(burst.rest_level_s)}"
    )


def _ms(seconds: float) -> str:
    """'63 ms', '4.2 ms', '1.25 s'."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    milliseconds = seconds * 1e3
    return f"{milliseconds:.0f} ms" if milliseconds >= 10 else f"{milliseconds:.2g} ms"


def _running_median(values: np.ndarray) -> np.ndarray:
    """The median of each value's FILTER_WIDTH neighbours (the ends repeat the end values)."""
    half = FILTER_WIDTH // 2
    padded = np.pad(values, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, FILTER_WIDTH), axis=1)


def _noise(logs: np.ndarray) -> float:
    """The robust noise scale of one log step time (see the module docstring)."""
    differences = np.abs(np.diff(logs))
    return max(1.4826 * float(np.median(differences)) / math.sqrt(2), MIN_SIGMA)


def _split(values: np.ndarray, start: int, stop: int, penalty: float) -> list[int]:
    """The change points of values[start:stop] by binary segmentation (segments of at least
    MIN_STEPS values), in no particular order."""
    segment = values[start:stop]
    count = len(segment)
    if count < 2 * MIN_STEPS:
        return []
    sums = np.cumsum(segment)
    cuts = np.arange(MIN_STEPS, count - MIN_STEPS + 1)  # the left part is segment[:cut]
    left_n, right_n = cuts, count - cuts
    left_sum = sums[cuts - 1]
    right_sum = sums[-1] - left_sum
    # The cost of a part is its sum of squares minus sum^2 / n; the squares cancel in the fall.
    fall = left_sum**2 / left_n + right_sum**2 / right_n - sums[-1] ** 2 / count
    best = int(np.argmax(fall))
    if not fall[best] > penalty:
        return []
    cut = start + int(cuts[best])
    return [cut, *_split(values, start, cut, penalty), *_split(values, cut, stop, penalty)]


def _reference(times: np.ndarray, segments: list[tuple[int, int]]) -> float:
    """The level most steps run at: the median of the segments' medians, each weighted by its
    length (so a burst's neighbours on either side count as one level, not as two rests)."""
    levels = sorted((float(np.median(times[start:stop])), stop - start) for start, stop in segments)
    count = 0
    for level, size in levels:
        count += size
        if 2 * count >= len(times):
            return level
    return levels[-1][0]


def _side(times: np.ndarray, start: int, stop: int, reference: float) -> int:
    """+1 if times[start:stop] is a slow burst against the `reference` level, -1 a fast one, 0
    neither (see the module docstring)."""
    if stop - start < MIN_STEPS or 2 * (stop - start) >= len(times):
        return 0
    steps = times[start:stop]
    level = float(np.median(steps))
    slow, fast = (1 + MIN_CHANGE) * reference, (1 - MIN_CHANGE) * reference
    if level >= slow and np.count_nonzero(steps >= slow) >= MIN_STEPS:
        return 1
    if level <= fast and np.count_nonzero(steps <= fast) >= MIN_STEPS:
        return -1
    return 0


def _bursts(times: np.ndarray, segments: list[tuple[int, int]]) -> list[Burst]:
    """The segments that are bursts, adjacent ones on the same side joined, each with the median
    of the steps outside it."""
    reference = _reference(times, segments)
    joined: list[tuple[int, int, int]] = []  # (start, stop, side)
    for start, stop in segments:
        side = _side(times, start, stop, reference)
        if not side:
            continue
        if joined and joined[-1][1] == start and joined[-1][2] == side:
            start = joined.pop()[0]
        joined.append((start, stop, side))
    bursts = []
    for start, stop, _ in joined:
        if _side(times, start, stop, reference):  # a join may have grown to half the run
            rest = np.concatenate([times[:start], times[stop:]])
            bursts.append(Burst(start + 1, stop, float(np.median(times[start:stop])), float(np.median(rest))))
    return bursts
