"""The `Measurement` of raw step times one configuration's loop returns (`bench.measuring.timing`).

Statistics are derived from the raw times elsewhere (`bench.results.stats`), so a saved record can
always be re-summarised.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Measurement:
    """Raw times of one configuration's steps, in seconds.

    Attributes:
      step_times_s: every measured step, in order.
      burn_in_times_s: every unmeasured step, in order; the first is the cold step (when there
        are no burn-in steps this is empty and the cold step is the first measured step).
      loop_wall_s: wall time of the whole measured loop (first measured step start to last end,
        including progress printing between steps).
    """

    step_times_s: list[float]
    burn_in_times_s: list[float]
    loop_wall_s: float

    @property
    def cold_step_s(self) -> float:
        """Duration of the first step the session ran."""
        return (self.burn_in_times_s or self.step_times_s)[0]


def partial_measurement(step_times_s: list[float], burn_in_times_s: list[float]) -> Measurement | None:
    """The steps a run finished before it ended early (stopped, killed, crashed), or None if it
    finished none; its loop_wall_s is the sum of the measured steps, the loop not having ended."""
    if not (step_times_s or burn_in_times_s):
        return None
    return Measurement(list(step_times_s), list(burn_in_times_s), sum(step_times_s))
