"""The bare timing loop of the input pipeline alone (no model): raw per-step times, no statistics.

Each step runs the op that produces the images (`images.op`) as a target, not as a fetch, so a batch
left on the device is not copied back to the host and nothing is converted to numpy.
"""

from __future__ import annotations

import time

clock = time.perf_counter


def time_input(session, images, burn_in: int, num_steps: int) -> list[float]:
    """Runs `burn_in` untimed steps, then `num_steps` timed ones.

    Args:
      session: a tf.compat.v1 Session of the pipeline's graph, its initializer already run.
      images: the pipeline's images tensor (`InputPipeline.images`).
      burn_in: steps run before timing, >= 0.
      num_steps: timed steps, >= 1.

    Returns:
      The seconds of each timed step, in order.

    Raises:
      ValueError: for a negative burn_in or num_steps below 1.
    """
    if burn_in < 0 or num_steps < 1:
        raise ValueError(f"burn_in {burn_in}, num_steps {num_steps}: expected burn_in >= 0, num_steps >= 1")
    target = images.op
    for _ in range(burn_in):
        session.run(target)
    times = []
    for _ in range(num_steps):
        start = clock()
        session.run(target)
        times.append(clock() - start)
    return times
