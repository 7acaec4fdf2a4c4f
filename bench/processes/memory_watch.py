"""The parent's watch on a child's resident memory: how `--memory-limit` is enforced.

A thread of the parent reads the child's /proc/PID/status every 10 to 50 ms (`next_wait_s`:
VmRSS, and VmHWM, the kernel's high-water mark of it) and SIGKILLs the child as soon as either is
above the bound, keeping the peak it read; the parent then reports the configuration as over the
memory limit (`bench.results.failures.over_memory_limit`), whatever the child was doing. What the
bound counts is the child's resident memory (VmRSS: anonymous memory, the pages of the libraries
it runs and shared memory it has touched), the figure the table's "Peak mem" column reports
(VmHWM) and what a smaller machine's RAM would have to hold; not the address space it has
reserved. Reading VmHWM catches a spike that rose above the bound and fell back between two
reads, one read later.

Why this and not the kernel's own bounds (chosen on the 2-core CPU machine this project is
developed on, TensorFlow 2.21; see benchmarks/memory_watch.py and benchmarks/README.md):
- RLIMIT_DATA (the bound until now) counts reserved writable address space, and an allocation
  beyond it fails inside whatever asked for it. TensorFlow's allocator reports that cleanly, but
  oneDNN's and Eigen's buffers do not check every allocation: the same too-big configuration was a
  clean out-of-memory row in one run and a SIGSEGV in the next, and a crash ended `--batch max`. It
  is kept as a backstop only (`bench.core.limits.apply_memory_backstop`: twice the bound), far
  enough above it that the watch stops a child first, so that a runaway the watch misses (its
  thread not scheduled on a starved machine) still cannot take the machine's memory; a crash at the
  backstop reads 'crashed at the memory bound (SIGSEGV): most likely out of memory'.
- A cgroup v2 `memory.max` would be exact, but needs a delegated cgroup with the memory controller
  enabled; this machine's cgroup v2 hierarchy has no controllers (memory is on cgroup v1) and a
  user's machine often gives no delegated cgroup either. The watch needs only /proc.

How far a child can overshoot: what it touches between two reads plus what it touches while the
kill lands; measured 0.3 to 15 MiB for a NumPy child touching fresh memory as fast as it can on one
machine (0.1 to 1.1 GiB/s, in chunks of 16 MiB to one 2 GiB allocation), 0.04 to 59 MiB on one
that touched it at 1.5 to 6.3 GiB/s; more on a machine so loaded that the parent's thread waits
to be scheduled. resnet_v2_50's tries over a 3 GiB bound (64 px, batch 3089 to 4096) were stopped
0.05 to 8 MiB over it.

How often it reads (`next_wait_s`): every `POLL_S` near the bound; farther from it, after the time
a child growing at `FASTEST_GROWTH` (32 GiB/s, 5 times the fastest growth measured above) would
take to reach it, at most `MAX_POLL_S`. A child far below a generous bound is read 5 times less
often, and one that could reach the bound before the next read is read as often as before. A child
growing faster than `FASTEST_GROWTH` can go over by up to (its rate / FASTEST_GROWTH - 1) times the
headroom it had at the last read: still stopped and reported as over the bound, and VmHWM keeps
its true peak. The peak read for a child that failed on its own far below the bound (an allocation
refused) can be one read older. The file is opened once and read again in place (`os.pread`),
which costs about half a fresh open and read, and can never read another process that reuses the
pid.

What it costs (benchmarks/memory_watch.py; benchmarks/README.md has the runs): each read wakes a
thread of the parent. Far below the bound the parent spends 0.0044 CPU seconds per second of a
child's run on it (0.4% of one core; 0.026 s when it read every 10 ms throughout), near it about
0.023 s, on a 2-core machine; the child's step times stay within the machine's noise.
"""

from __future__ import annotations

import os
import signal
import threading

POLL_S = 0.01  # seconds between two reads near the bound
MAX_POLL_S = 0.05  # ... and far from it
FASTEST_GROWTH = 32 * 2**30  # bytes per second a child is assumed to grow its resident memory at most
_FIELDS = (b"VmRSS:", b"VmHWM:")
_STATUS_SIZE = 16384  # more than /proc/PID/status holds (about 1.5 KB)


def next_wait_s(peak_bytes: int, bound_bytes: int, poll_s: float = POLL_S,
                max_poll_s: float = MAX_POLL_S) -> float:
    """Seconds until the next read.

    Args:
      peak_bytes: the most the child was read holding (at or below the bound).
      bound_bytes: the bound.
      poll_s: the shortest wait (near the bound).
      max_poll_s: the longest (far below it); `poll_s` when it is shorter than that.

    Returns:
      The time a child growing at FASTEST_GROWTH from `peak_bytes` would take to reach the bound,
      within [poll_s, max_poll_s].
    """
    reach_s = (bound_bytes - peak_bytes) / FASTEST_GROWTH
    return min(max(reach_s, poll_s), max(max_poll_s, poll_s))


def _parse_status(text: bytes) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in bytes from the text of /proc/PID/status, None without them (an exited
    process)."""
    values = []
    for field in _FIELDS:
        start = text.find(field)
        if start < 0:
            return None
        values.append(int(text[start + len(field) :].split(maxsplit=1)[0]) * 1024)
    return values[0], values[1]


def resident_bytes(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of process `pid` in bytes, or None once it has exited (or never existed).

    Args:
      pid: the process id.

    Returns:
      The current and the peak resident memory, or None when /proc no longer has them (a
      process that has exited keeps no memory figures, even before it is reaped).
    """
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            return _parse_status(status.read())
    except OSError:
        return None


class MemoryWatch(threading.Thread):
    """Watches one child's resident memory and SIGKILLs it above a bound.

    Use: `watch = MemoryWatch(child.pid, bound)`, `watch.start()` once the child runs,
    `watch.stop()` once it has ended; then `watch.over` says whether it was stopped for its memory
    and `watch.peak_bytes` is the most it was seen holding.

    Attributes:
      pid: the child's process id.
      bound_bytes: the bound.
      poll_s: seconds between two reads near the bound (`next_wait_s`).
      max_poll_s: ... and far from it.
      over: True once the child was killed for going over the bound.
      peak_bytes: the largest VmRSS or VmHWM read (None until the first read).
    """

    def __init__(self, pid: int, bound_bytes: int, poll_s: float = POLL_S,
                 max_poll_s: float = MAX_POLL_S):
        super().__init__(daemon=True, name=f"memory-watch-{pid}")
        self.pid = pid
        self.bound_bytes = bound_bytes
        self.poll_s = poll_s
        self.max_poll_s = max_poll_s
        self.over = False
        self.peak_bytes: int | None = None
        self._stopped = threading.Event()
        try:  # a pidfd names this very process, never one that reuses its pid once it is reaped
            self._pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = None
        try:  # so is the status file opened now: read again in place, it never becomes another's
            self._status: int | None = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        except OSError:  # e.g. out of file descriptors: opened at every read instead
            self._status = None

    def run(self) -> None:
        while not self._stopped.is_set():
            if not self.check():
                return
            wait_s = next_wait_s(self.peak_bytes, self.bound_bytes, self.poll_s, self.max_poll_s)
            self._stopped.wait(wait_s)

    def _read(self) -> tuple[int, int] | None:
        if self._status is None:
            return resident_bytes(self.pid)
        try:
            return _parse_status(os.pread(self._status, _STATUS_SIZE, 0))
        except OSError:  # the process has gone (ESRCH)
            return None

    def check(self) -> bool:
        """One read: keeps the peak, kills the child above the bound.

        Returns:
          True while there is more to watch (the child runs, within its bound).
        """
        reading = self._read()
        if reading is None:
            return False
        self.peak_bytes = max(self.peak_bytes or 0, *reading)
        if self.peak_bytes <= self.bound_bytes:
            return True
        self.over = True
        try:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return False

    def stop(self) -> None:
        """Ends the watch (the child has exited) and waits for its thread."""
        self._stopped.set()
        if self.is_alive():
            self.join()
        for name in ("_pidfd", "_status"):
            descriptor = getattr(self, name)
            if descriptor is not None:
                os.close(descriptor)
                setattr(self, name, None)
