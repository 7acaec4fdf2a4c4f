"""Peak memory (bench/memory.py): the CPU measure follows real allocations and resets."""

import numpy as np
import pytest
import tensorflow as tf

from bench import memory

MIB = 1024 * 1024


def _touch(num_bytes):
  """Allocates and writes `num_bytes` so the pages become resident; returns the array."""
  block = np.empty(num_bytes, dtype=np.uint8)
  block.fill(1)
  return block


def test_cpu_peak_sees_an_allocation_and_resets_after_it():
  tracker = memory.memory_tracker('cpu')
  tracker.reset()
  if tracker.kind != 'process_peak_rss':
    pytest.skip('this kernel does not let the process reset its peak RSS')
  before = tracker.peak_bytes()
  block = _touch(256 * MIB)
  del block  # Freed: the current RSS drops back, the peak stays.
  after_allocation = tracker.peak_bytes()
  assert after_allocation - before >= 250 * MIB
  tracker.reset()
  assert tracker.peak_bytes() < after_allocation - 200 * MIB


def test_cpu_peak_of_a_session_step():
  # A step whose intermediate is ~128 MiB: the peak measured around it grows by at least that.
  with tf.Graph().as_default():
    size = 4096
    ones = tf.ones([size, size * 2], tf.float32)  # 128 MiB, created during the step
    total = tf.reduce_sum(ones * 2.0)
    with tf.compat.v1.Session() as session:
      tracker = memory.memory_tracker('cpu')
      tracker.reset()
      if tracker.kind != 'process_peak_rss':
        pytest.skip('this kernel does not let the process reset its peak RSS')
      before = tracker.peak_bytes()
      assert session.run(total) == 2.0 * size * size * 2
      assert tracker.peak_bytes() - before >= 100 * MIB


def test_labels_say_what_is_measured():
  cpu = memory.memory_tracker('cpu')
  assert cpu.kind == 'process_peak_rss' and 'RSS' in cpu.label
  gpu = memory.memory_tracker('gpu', tf)
  assert gpu.kind == 'gpu_allocator_peak' and 'allocator' in gpu.label
  with pytest.raises(ValueError, match="device must be 'gpu' or 'cpu', got 'tpu'"):
    memory.memory_tracker('tpu')


@pytest.mark.skipif(not tf.config.list_physical_devices('GPU'), reason='needs a GPU')
def test_gpu_peak_sees_a_session_step():
  with tf.Graph().as_default(), tf.device('/gpu:0'):
    total = tf.reduce_sum(tf.ones([4096, 8192]) * 2.0)
    with tf.compat.v1.Session() as session:
      tracker = memory.memory_tracker('gpu', tf)
      tracker.reset()
      session.run(total)
      assert tracker.peak_bytes() >= 100 * MIB


@pytest.mark.skipif(bool(tf.config.list_physical_devices('GPU')), reason='needs a machine without a GPU')
def test_gpu_statistics_that_cannot_be_read_are_reported_not_raised():
  tracker = memory.memory_tracker('gpu', tf)
  tracker.reset()
  assert tracker.peak_bytes() is None
  assert tracker.kind == 'unavailable' and 'unavailable' in tracker.label
