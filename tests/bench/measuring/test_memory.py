"""Peak memory (bench/measuring/memory.py): the CPU measure follows real allocations and resets."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bench.measuring import memory

MIB = 1024 * 1024
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _touch(num_bytes):
    """Allocates and writes `num_bytes` so the pages become resident; returns the array."""
    block = np.empty(num_bytes, dtype=np.uint8)
    block.fill(1)
    return block


# Allocators that keep freed memory mapped (and resident) for reuse instead of returning it to the
# kernel, by the name of their shared library.
_CACHING_ALLOCATORS = ('jemalloc', 'tcmalloc', 'mimalloc', 'hoard', 'rpmalloc')


def _allocator_keeping_freed_memory():
    """The allocator library in this process that keeps a freed 256 MiB block resident, or None
    (glibc's malloc: a block that size is its own mmap, unmapped by free). Asks the machine: the
    libraries mapped into the process (linked, or preloaded) and LD_PRELOAD."""
    try:
        with open('/proc/self/maps', encoding='utf-8') as maps:
            libraries = {line.split()[-1] for line in maps if '/' in line}
    except OSError:
        libraries = set()
    libraries.update(os.environ.get('LD_PRELOAD', '').replace(':', ' ').split())
    for library in sorted(libraries):
        name = os.path.basename(library)
        if any(allocator in name for allocator in _CACHING_ALLOCATORS):
            return name
    return None


def test_cpu_peak_sees_an_allocation_and_resets_after_it():
    """The reset brings the peak down to the current RSS, which assumes the freed block left it:
    true of glibc's malloc, not of allocators that cache freed memory (jemalloc, tcmalloc, ...)."""
    tracker = memory.memory_tracker('cpu')
    tracker.reset()
    if tracker.kind != 'process_peak_rss':
        pytest.skip('this kernel does not let the process reset its peak RSS')
    allocator = _allocator_keeping_freed_memory()
    if allocator is not None:
        pytest.skip(f'the allocator {allocator} keeps freed memory resident: the RSS does not drop '
                    'after a free')
    before = tracker.peak_bytes()
    block = _touch(256 * MIB)
    del block  # Freed: the current RSS drops back, the peak stays.
    after_allocation = tracker.peak_bytes()
    assert after_allocation - before >= 250 * MIB
    tracker.reset()
    assert tracker.peak_bytes() < after_allocation - 200 * MIB


_SESSION_STEP = """
import tensorflow as tf
from bench.measuring import memory
with tf.Graph().as_default():
  size = 4096
  total = tf.reduce_sum(tf.ones([size, size * 2], tf.float32) * 2.0)  # a 128 MiB intermediate
  with tf.compat.v1.Session() as session:
    tracker = memory.memory_tracker('cpu')
    tracker.reset()
    before = tracker.peak_bytes()
    session.run(total)
    print(tracker.kind, tracker.peak_bytes() - before)
"""


def test_cpu_peak_of_a_session_step():
    # In a fresh process: TensorFlow's CPU allocator (oneDNN's pool) keeps freed blocks resident and
    # reuses them, so in a long-lived test process the step might not need new pages. (The harness
    # runs each configuration in its own child process for the same reason.)
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', CUDA_VISIBLE_DEVICES='')
    completed = subprocess.run(
        [sys.executable, '-c', _SESSION_STEP],
        env=environment,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    kind, growth = completed.stdout.split()[-2:]
    if kind != 'process_peak_rss':
        pytest.skip('this kernel does not let the process reset its peak RSS')
    assert int(growth) >= 100 * MIB


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
