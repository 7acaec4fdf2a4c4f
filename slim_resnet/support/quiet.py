"""Keeping TensorFlow's start-up noise out of a command-line user's way.

On TensorFlow 2.21, `TF_CPP_MIN_LOG_LEVEL=2` silences most C++ log lines, but not the ones absl
prints before its logging is initialised (the oneDNN notice, "Could not find cuda drivers", "failed
call to cuInit" on a machine without a GPU), and tf-slim's layers emit Python deprecation warnings
for every layer. Command-line entry points call `quiet_tensorflow_import()` before anything imports
TensorFlow; libraries never do (this module imports no TensorFlow itself).
"""

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings

# glog/absl prefix: severity letter, MMDD, time, thread id, file:line]. Before absl's logging is
# initialised the time reads '00:00:<seconds since the epoch>', hence \d+ for the seconds.
_NATIVE_LOG_LINE = re.compile(r'^[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+\s+\S+:\d+\]')
_NATIVE_LOG_PREFIXES = (
    'WARNING: All log messages before absl::InitializeLog() is called',
    # The continuation line of the cpu_feature_guard notice.
    'To enable the following instructions:',
    # The continuation lines of a gRPC error in a distributed run's C++ log line.
    'Additional GRPC error information from remote target',
    ':UNKNOWN:Error received from peer',
)


def is_native_log_line(line):
  """True for a TensorFlow/absl C++ log line (INFO, WARNING or ERROR; FATAL is kept)."""
  return bool(_NATIVE_LOG_LINE.match(line)) or line.startswith(_NATIVE_LOG_PREFIXES)


@contextlib.contextmanager
def captured_native_stderr(enabled=True):
  """Sends what is written to file descriptor 2 inside the block to a temporary file.

  Lines that are not C++ log noise are written back to stderr when the block ends, so a real error
  message is never swallowed.

  Args:
    enabled: if False, does nothing.

  Yields:
    A list that, after the block, holds the dropped log lines.
  """
  dropped = []
  if not enabled:
    yield dropped
    return
  sys.stderr.flush()
  saved_fd = os.dup(2)
  with tempfile.TemporaryFile(mode='w+b') as capture:
    os.dup2(capture.fileno(), 2)
    try:
      yield dropped
    finally:
      sys.stderr.flush()
      os.dup2(saved_fd, 2)
      os.close(saved_fd)
      capture.seek(0)
      for line in capture.read().decode('utf-8', 'replace').splitlines():
        if is_native_log_line(line):
          dropped.append(line)
        else:
          print(line, file=sys.stderr)


def silence_python_warnings():
  """Hides Python deprecation/user warnings and TensorFlow's Python log below ERROR."""
  for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning, UserWarning):
    warnings.filterwarnings('ignore', category=category)
  # TensorFlow's deprecation notices ("WARNING:tensorflow:From ...") go through this logger.
  logging.getLogger('tensorflow').setLevel(logging.ERROR)


@contextlib.contextmanager
def layer_apply_hidden():
  """Hides Keras' "`layer.apply` is deprecated" warning inside the block: tf-slim's conv2d and
  max_pool2d trigger it for every layer; it is about tf-slim's internals, and users cannot act on it.
  (`slim_resnet.resnet_v2` builds every network inside this.)"""
  with warnings.catch_warnings():
    warnings.filterwarnings('ignore', message='`layer.apply` is deprecated', category=UserWarning)
    yield


def quiet_tensorflow_import(verbose=False):
  """Imports TensorFlow and tf-slim with their start-up log lines dropped.

  Sets TF_CPP_MIN_LOG_LEVEL=2 unless the user chose a level, imports TensorFlow and tf-slim and lists
  the physical devices (which prints the CUDA probing lines) with file descriptor 2 captured, and
  hides Python warnings. With `verbose`, changes nothing and imports normally.

  Args:
    verbose: let everything through.

  Returns:
    The dropped native log lines (empty when verbose), e.g. for a failure report.
  """
  if verbose:
    import tensorflow as tf
    import tf_slim  # noqa: F401
    tf.config.list_physical_devices()
    return []
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  silence_python_warnings()
  with captured_native_stderr() as dropped:
    import tensorflow as tf
    import tf_slim  # noqa: F401
    tf.config.list_physical_devices()
  silence_python_warnings()  # TensorFlow resets its logger's level on import.
  return dropped


# Lines of a TensorFlow graph-execution error that locate the failure but do not say what it was.
_TRACE_LINE_PREFIXES = ('Graph execution error', 'Detected at node', 'File ', 'Node:', '[[',
                        'Traceback', 'defined at', 'From /job:')


# tf.data's wrapping of an error raised in a dataset function, and an Assert op's message.
_DATASET_FUNCTION_ERROR = re.compile(
    r'Error in user-defined function passed to \S+ transformation with iterator: \S+: (.*)')
_ASSERTION = re.compile(r'^assertion failed: (\[.*\])$')
_ASSERTION_ITEM = re.compile(r'\[(.*?)\](?= \[|$)')


def plain_cause(line):
  """A cause line without tf.data's wrapping and an Assert op's brackets.

  'Error in user-defined function passed to MapDataset:3 transformation with iterator:
  Iterator::Root::Map: assertion failed: [the message] [Condition x <= y did not hold element-wise:]
  [x (...) = ] [1 1 1...] ...' becomes 'the message'; an assertion that names its own data
  ('assertion failed: [a label] [1005] [is above 1..1000]') becomes 'a label 1005 is above 1..1000'.

  Args:
    line: one line of an error message.

  Returns:
    The line, unwrapped where it was wrapped.
  """
  wrapped = _DATASET_FUNCTION_ERROR.search(line)
  if wrapped:
    line = wrapped.group(1)
  assertion = _ASSERTION.match(line)
  if not assertion:
    return line
  items = _ASSERTION_ITEM.findall(assertion.group(1))
  if len(items) > 1 and items[1].startswith('Condition '):  # the assert's default data
    items = items[:1]
  return ' '.join(item.strip() for item in items if item.strip())


def first_cause_line(message):
  """The first line of an error message that says what went wrong.

  TensorFlow's graph-execution errors start with 'Graph execution error:', the Python stack that
  defined the failing node and 'Node: ...' before the actual cause ('OOM when allocating tensor
  ...', 'Cannot parse tensor ...'); a distributed run's errors start with the task that saw
  them ('From /job:worker/replica:0/task:0:'). This skips those, and unwraps the cause
  (`plain_cause`).

  Args:
    message: the error's message, possibly many lines.

  Returns:
    One stripped line ('' for an empty message).
  """
  lines = [line.strip() for line in message.splitlines()]
  causes = [line for line in lines if line and not line.startswith(_TRACE_LINE_PREFIXES)]
  if causes:
    return plain_cause(causes[0])
  return next((line for line in lines if line), '')


def error_summary(error):
  """'<ErrorType>: <first cause line>' for any exception, TensorFlow's included."""
  message = getattr(error, 'message', None) or str(error)
  cause = first_cause_line(message)
  return f'{type(error).__name__}: {cause}' if cause else type(error).__name__
