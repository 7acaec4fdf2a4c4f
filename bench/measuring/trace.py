"""--trace FILE: a Chrome trace of one full step, taken during burn-in.

The traced step runs with `RunOptions(trace_level=FULL_TRACE)`, which makes TensorFlow record every
op's start and end on every device (and, on a GPU, the kernels' stream times); tracing adds overhead
to that step, so it is always one of the unmeasured burn-in steps (the last one, when the caches and
autotuning of the first steps are done), never a measured one. The RunMetadata's step stats are
turned into Chrome's trace-event JSON by TensorFlow's `timeline.Timeline`.

Open the file in chrome://tracing (Load) or https://ui.perfetto.dev (Open trace file).
"""

from __future__ import annotations

from slim_resnet.support.files import atomic_output


def chrome_trace(run_metadata) -> str:
    """The step's Chrome trace-event JSON (a string) from a traced run's RunMetadata."""
    from tensorflow.python.client import timeline

    return timeline.Timeline(run_metadata.step_stats).generate_chrome_trace_format()


def write_chrome_trace(path: str, run_metadata) -> None:
    """Writes the Chrome trace of a traced run to `path`, replacing it atomically."""
    with atomic_output(path) as trace_file:
        trace_file.write(chrome_trace(run_metadata))
