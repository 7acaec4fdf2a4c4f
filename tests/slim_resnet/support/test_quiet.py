"""slim_resnet.support.quiet: one-line error summaries and native log-line recognition."""

import numpy as np
import pytest
import tensorflow as tf

from slim_resnet.support import quiet


def graph_execution_error():
  """A real TensorFlow graph-execution error (a failing numerics check)."""
  with tf.Graph().as_default():
    checked = tf.debugging.check_numerics(tf.constant(np.inf), 'the value is not finite')
    with tf.compat.v1.Session() as session:
      with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        session.run(checked)
  return raised.value


def test_error_summary_names_the_cause_not_the_trace():
  error = graph_execution_error()
  assert error.message.startswith('Graph execution error')  # What a plain first line would give.
  summary = quiet.error_summary(error)
  assert summary.startswith('InvalidArgumentError: the value is not finite')
  assert '\n' not in summary


def _dataset_assertion_error(message, name_the_value=False):
  """The real error of an assertion failing in a tf.data map function (values 0..9, at most 3)."""
  def check(value):
    limit = tf.constant(3, tf.int64)
    data = ['of', tf.reduce_max(value), 'is above 0..3'] if name_the_value else None
    with tf.control_dependencies([tf.compat.v1.debugging.assert_less_equal(value, limit, data=data,
                                                                           message=message)]):
      return tf.identity(value)

  with tf.Graph().as_default():  # as the input pipeline: groups checked in a parallel map, rebatched
    dataset = tf.data.Dataset.range(10).batch(5).map(check, num_parallel_calls=2).rebatch(2)
    batch = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
    with tf.compat.v1.Session() as session:
      with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        session.run(batch)
  return raised.value


def test_error_summary_unwraps_an_assertion_in_a_dataset_function():
  error = _dataset_assertion_error('shards: a label above 0..3')
  assert 'Condition x <= y' in error.message  # the assert's own data, which the summary leaves out
  assert quiet.error_summary(error) == 'InvalidArgumentError: shards: a label above 0..3'


def test_error_summary_keeps_the_data_an_assertion_names():
  error = _dataset_assertion_error('shards: a label', name_the_value=True)
  assert quiet.error_summary(error) == 'InvalidArgumentError: shards: a label of 4 is above 0..3'  # [0..4]


def test_plain_cause_unwraps_a_dataset_function_error():
  line = ('Error in user-defined function passed to ParallelMapDatasetV2:5 transformation with iterator: '
          'Iterator::Root::Prefetch::RebatchV2::ParallelMapV2: OOM when allocating tensor')
  assert quiet.plain_cause(line) == 'OOM when allocating tensor'


def test_plain_cause_leaves_other_lines_alone():
  assert quiet.plain_cause('OOM when allocating tensor [1,2]') == 'OOM when allocating tensor [1,2]'


def test_first_cause_line_skips_the_task_a_distributed_error_came_from():
  message = ('From /job:worker/replica:0/task:0:\n'
             'Additional GRPC error information from remote target /job:worker/replica:0/task:1')
  assert quiet.first_cause_line(message).startswith('Additional GRPC error information from remote')


def test_first_cause_line_of_plain_messages():
  assert quiet.first_cause_line('one\ntwo') == 'one'
  assert quiet.first_cause_line('') == ''
  assert quiet.error_summary(ValueError('bad value\nmore')) == 'ValueError: bad value'


@pytest.mark.parametrize('line, native', [
    ('I0000 00:00:1795485451.675704    8632 port.cc:153] oneDNN custom operations are on.', True),
    ('E0000 00:00:1795485501.760831    9103 cuda_platform.cc:52] failed call to cuInit', True),
    ('WARNING: All log messages before absl::InitializeLog() is called are written to STDERR', True),
    ('Additional GRPC error information from remote target /job:worker/replica:0/task:1 while '
     'calling /tensorflow.WorkerService/RecvBuf:', True),
    (':UNKNOWN:Error received from peer  {grpc_message:"failed to connect to all addresses"}', True),
    ('python -m bench: error: --batch 0: must be a positive integer', False),
    ('2026-11-24 02:13:31.075329: step 10, duration = 0.152', False),
])
def test_is_native_log_line(line, native):
  assert quiet.is_native_log_line(line) == native
