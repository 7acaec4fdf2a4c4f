"""--trace FILE: a Chrome trace of one full step, taken during burn-in.

The traced step runs with `RunOptions(trace_level=FULL_TRACE)`, which makes TensorFlow record every
op's start and end on every device (and, on a GPU, the kernels' stream times); tracing adds overhead
to that step, so it is always one of the unmeasured burn-in steps (the last one, when the caches and
autotuning of the first steps are done), never a measured one. The RunMetadata's step stats are
turned into Chrome's trace-event JSON by TensorFlow's `timeline.Timeline`.

Open the file in chrome://tracing (Load) or https://ui.perfetto.dev (Open trace file).
"""

import json
import os


def check_trace_path(path):
    """Raises ValueError unless `path` can be written: checked before anything is built.

    The file is not created. The message is one line starting with the path, e.g.
    'out/step.json: directory /abs/out does not exist'. (No TensorFlow import needed.)
    """
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f'{path}: is a directory; give a file name, e.g. step.json')
    if not os.path.isdir(directory):
        raise ValueError(f'{path}: directory {directory} does not exist')
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise ValueError(f'{path}: is not writable')


def run_traced(session, fetches):
    """Runs one step of `fetches` with full tracing.

    Returns:
      (the fetched values, the tf.compat.v1.RunMetadata holding the step stats).
    """
    import tensorflow as tf

    options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
    run_metadata = tf.compat.v1.RunMetadata()
    values = session.run(fetches, options=options, run_metadata=run_metadata)
    return values, run_metadata


def chrome_trace(run_metadata):
    """The step's Chrome trace-event JSON (a string) from a traced run's RunMetadata."""
    from tensorflow.python.client import timeline

    return timeline.Timeline(run_metadata.step_stats).generate_chrome_trace_format()


def write_chrome_trace(path, run_metadata):
    """Writes the Chrome trace of a traced run to `path` (replacing it)."""
    with open(path, 'w', encoding='utf-8') as trace_file:
        trace_file.write(chrome_trace(run_metadata))


def traced_op_types(trace_text):
    """The op types of the op events in a Chrome trace written by `chrome_trace`.

    Args:
      trace_text: the JSON text.

    Returns:
      A set of op type names, e.g. {'Conv2D', 'Conv2DBackpropFilter', ...}.
    """
    events = json.loads(trace_text)['traceEvents']
    return {
        event['args']['op'] for event in events if event.get('ph') == 'X' and 'op' in event.get('args', {})
    }
