"""A worker's peers: waiting for them at the start, and watching them during the run.

At the start (`bench.core.cluster.wait_for_peers`, before any collective can hang) a worker waits up
to `PEER_WAIT_S` for every peer's server port to accept a connection, else fails naming the peer.
During the run a worker waits inside a collective for every peer; when a peer dies, the survivors
would wait there until their --timeout, or for ever without one (tf.distribute's own health check
runs only in eager mode, not in a v1 session). So each worker's child watches its
peers itself: a thread tries a TCP connection to every peer's server port every `POLL_S`. A peer
counts as lost once it has answered at least once (a peer still starting is `wait_for_peers`'s
business), then has not answered for `GRACE_S`, and this worker has finished no step in that
time either. The last condition keeps a normal end from looking like a death: a peer that
finished its last step and exited while this worker closes its own run is no loss, as this
worker's steps are done. The watcher then calls `on_lost` with one line naming the peer; the
child reports it and exits (the collective it is blocked in cannot be interrupted otherwise).
A collective may also fail at once instead of waiting (gRPC finds the peer's port closed and
TensorFlow raises UnavailableError naming only a task); the child's run then ends its watch
through `end_watch`, which has the watcher try every peer again at once (`PeerWatch.diagnose`),
and a peer that does not answer is named the same way.

A peer that hangs with its port open is not detected here; --timeout bounds that. No TensorFlow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bench.core import cluster
from bench.results.result import BenchmarkResult, Failure

# Seconds between two rounds of connection attempts.
POLL_S = 1.0
# Seconds a peer may go unanswered, with no step finished here meanwhile, before it counts as lost.
GRACE_S = 15.0


class PeerState:
    """What the watcher knows of the peers: pure bookkeeping over the answers it is given.

    Args:
      addresses: every worker's host:port, in task order.
      index: this worker's position among them.
      grace_s: see GRACE_S.
    """

    def __init__(self, addresses: list[str], index: int, grace_s: float = GRACE_S):
        self.addresses = list(addresses)
        self.index = index
        self.grace_s = grace_s
        self._seen: set[int] = set()
        self._silent_since: dict[int, float] = {}
        self._reasons: dict[int, str] = {}  # why each peer whose last attempt failed did not answer
        self._last_step_at: float | None = None
        self.steps = 0

    def peers(self) -> list[int]:
        """The other workers' positions."""
        return [peer for peer in range(len(self.addresses)) if peer != self.index]

    def has_answered(self, peer: int) -> bool:
        """True once `peer` has answered at least once."""
        return peer in self._seen

    def step_finished(self, now: float) -> None:
        """Notes that this worker finished a step at `now`."""
        self._last_step_at = now
        self.steps += 1

    def observe(self, peer: int, why_not: str | None, now: float) -> None:
        """Notes one connection attempt to `peer` at `now`: None if it answered, else why not."""
        if why_not is None:
            self._seen.add(peer)
            self._silent_since.pop(peer, None)
            self._reasons.pop(peer, None)
            return
        self._reasons[peer] = why_not
        if peer in self._seen:
            self._silent_since.setdefault(peer, now)

    def lost(self, now: float) -> str | None:
        """One line naming the first peer lost at `now` (see the module docstring), or None."""
        for peer, since in sorted(self._silent_since.items()):
            stuck = self._last_step_at is None or self._last_step_at <= since
            if now - since >= self.grace_s and stuck:
                return self._line(peer, f" for {now - since:.0f} s")
        return None

    def unreachable(self) -> str | None:
        """One line naming the first peer whose last attempt failed, or None if all answered.

        For a step that already failed: the failure is the evidence, so neither the grace nor an
        earlier answer is needed (every peer answered `wait_for_peers` before the run).
        """
        return self._line(min(self._reasons), "") if self._reasons else None

    def _line(self, peer: int, how_long: str) -> str:
        return (
            f"worker {peer} ({self.addresses[peer]}) stopped answering ({self._reasons[peer]})"
            f"{how_long} while worker {self.index} waited after {self.steps} step(s) of this run"
        )


class PeerWatch(threading.Thread):
    """The watcher thread: probes every peer each `poll_s` and calls `on_lost(line)` once.

    Args:
      state: the PeerState to keep.
      on_lost: called (from this thread) with the line describing the lost peer.
      poll_s: seconds between rounds.
      probe: address -> None or why not (`bench.core.cluster.answers`; tests give a closed port
        instead of a peer).
      clock: monotonic seconds.
    """

    def __init__(
        self,
        state: PeerState,
        on_lost: Callable[[str], None],
        poll_s: float = POLL_S,
        probe: Callable[[str], str | None] = cluster.answers,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__(daemon=True, name="peer-watch")
        self.state = state
        self._on_lost = on_lost
        self._poll_s = poll_s
        self._probe = probe
        self._clock = clock
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def step_finished(self) -> None:
        """Tells the watcher this worker finished a step (any thread)."""
        with self._lock:
            self.state.step_finished(self._clock())

    def stop(self) -> None:
        """Ends the watch; `on_lost` is not called after this returns."""
        with self._lock:
            self._stopped.set()

    def diagnose(self) -> str | None:
        """After a step failed: stops the watch, tries every peer once more, and returns the
        line naming the first that does not answer (`PeerState.unreachable`), or None."""
        self.stop()
        answers_now = self._probe_all()
        with self._lock:
            self._observe_all(answers_now)
            return self.state.unreachable()

    def _probe_all(self) -> dict[int, str | None]:
        return {peer: self._probe(self.state.addresses[peer]) for peer in self.state.peers()}

    def _observe_all(self, answers_now: dict[int, str | None]) -> None:
        now = self._clock()
        for peer, why_not in answers_now.items():
            self.state.observe(peer, why_not, now)

    def run(self) -> None:
        while not self._stopped.wait(self._poll_s):
            answers_now = self._probe_all()
            with self._lock:
                if self._stopped.is_set():
                    return
                self._observe_all(answers_now)
                now = self._clock()
                line = self.state.lost(now)
                if line is not None:
                    self._stopped.set()
                    self._on_lost(line)
                    return


def watch_cluster(
    tf_config: str | None, workers: int, on_lost: Callable[[str], None], grace_s: float = GRACE_S
) -> PeerWatch | None:
    """A started PeerWatch over the cluster TF_CONFIG names, or None for a run of one worker.

    Args:
      tf_config: the TF_CONFIG text (None or empty: no cluster).
      workers: the configuration's worker count.
      on_lost: see PeerWatch.
      grace_s: see GRACE_S.
    """
    if not tf_config or workers < 2:
        return None
    shape = cluster.parse(tf_config)
    watch = PeerWatch(PeerState(shape["addresses"], shape["index"], grace_s), on_lost)
    watch.start()
    return watch


def end_watch(watch: PeerWatch, result: BenchmarkResult) -> None:
    """Ends the watch over a finished run; a step's error while a peer does not answer becomes
    that peer's failure (kind 'peer', TensorFlow's own line first among the details): the
    collective found the peer gone before the watcher's grace ran out."""
    if result.ok or result.failure is None or result.failure.kind != "error":
        watch.stop()
        return
    line = watch.diagnose()
    if line is not None:
        error = result.failure
        result.failure = Failure("peer", line, details=[error.message, *error.details])
