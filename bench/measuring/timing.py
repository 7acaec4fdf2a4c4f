"""The measurement loop: burn-in, then the measured steps, each timed around `session.run` alone.

Only `session.run` is inside a timed interval; progress printing and every callback happen between
steps. It returns a `Measurement` of raw times (`bench.results.measurement`). No TensorFlow import
here: the caller passes the session and, for special burn-in steps, the RunOptions and RunMetadata
to use.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

from bench.core.clock import clock
from bench.results.measurement import Measurement


def measure_steps(
    session,
    fetch,
    burn_in: int,
    num_steps: int | None,
    on_step: Callable[[int, float], None] | None = None,
    special_burn_in: Mapping[int, tuple] | None = None,
    on_special_burn_in: Callable[[int, object], None] | None = None,
    before_measured: Callable[[], None] | None = None,
    burn_in_fetch=None,
    on_burn_in_step: Callable[[int, float], None] | None = None,
    should_stop: Callable[[int, list[float], float], bool] | None = None,
) -> Measurement:
    """Runs `burn_in` unmeasured then `num_steps` measured steps of `session.run(fetch)`.

    Args:
      session: a tf.compat.v1.Session with variables initialised.
      fetch: what every measured step runs.
      burn_in: unmeasured steps (>= 0).
      num_steps: measured steps (>= 1), or None: until `should_stop` says so.
      on_step: called as on_step(measured_step_number starting at 1, duration_s) after each
        measured step, outside the timed interval.
      special_burn_in: {burn-in step index (0-based): (RunOptions, RunMetadata)}: those burn-in
        steps run with these options (a trace, the partition graphs) and fill the metadata.
        Measured steps never take options.
      on_special_burn_in: called as (index, run_metadata) after each such step, untimed.
      before_measured: called once after the burn-in, just before the measured loop (e.g. to
        reset peak-memory statistics).
      burn_in_fetch: what every burn-in step but the last runs instead of `fetch` (None:
        `fetch`), e.g. the step plus an update of harness state such as a dynamic loss scale. The
        last burn-in step always runs `fetch`: a session builds one executor per distinct fetch,
        and its first run is slow, so the measured fetch must have run once before timing.
      on_burn_in_step: called as (burn-in index starting at 0, duration_s) after each burn-in
        step, outside the timed interval.
      should_stop: called as (measured step number, the step times so far, seconds since the
        first measured step started) after each measured step and its `on_step`, outside the
        timed interval; True ends the loop before `num_steps`.

    Returns:
      A Measurement.
    """
    run = session.run
    special_burn_in = special_burn_in or {}
    burn_in_times_s = []
    for index in range(burn_in):
        step_fetch = fetch if burn_in_fetch is None or index == burn_in - 1 else burn_in_fetch
        if index not in special_burn_in:
            start = clock()
            run(step_fetch)
            burn_in_times_s.append(clock() - start)
        else:
            options, run_metadata = special_burn_in[index]
            start = clock()
            run(step_fetch, options=options, run_metadata=run_metadata)
            burn_in_times_s.append(clock() - start)
            if on_special_burn_in is not None:
                on_special_burn_in(index, run_metadata)
        if on_burn_in_step is not None:
            on_burn_in_step(index, burn_in_times_s[-1])

    if before_measured is not None:
        before_measured()
    step_times_s = []
    loop_start = clock()
    for step in itertools.count(1):
        start = clock()
        run(fetch)
        duration = clock() - start
        step_times_s.append(duration)
        if on_step is not None:
            on_step(step, duration)
        stop = should_stop is not None and should_stop(step, step_times_s, clock() - loop_start)
        if stop or step == num_steps:
            break
    loop_wall_s = clock() - loop_start
    return Measurement(step_times_s, burn_in_times_s, loop_wall_s)
