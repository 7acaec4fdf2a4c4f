"""A worker's peers: waiting for them at the start, and a peer lost during the run (the rule on
given answers, the watcher on a real socket, and two workers of a hand-made TF_CONFIG cluster)."""

import json
import socket
import threading
import time

import pytest

from bench.core import cluster
from bench.processes import peers
from bench.processes.workers import free_ports
from bench.results.result import Failure


def test_a_peer_that_never_listens_is_named_in_bounded_time():
    port = free_ports(1)[0]
    with pytest.raises(ConnectionError, match=f"worker 0 cannot reach worker 1 at localhost:{port}"):
        cluster.wait_for_peers(["localhost:1", f"localhost:{port}"], 0, timeout_s=0.5)


def _state():
    return peers.PeerState(["a:1", "b:2", "c:3"], index=0, grace_s=10.0)


def test_a_peer_not_seen_yet_is_still_starting_not_lost():
    state = _state()
    state.observe(1, "Connection refused", now=0.0)
    assert state.lost(now=100.0) is None


def test_a_peer_silent_for_the_grace_while_no_step_finished_is_lost():
    state = _state()
    state.step_finished(now=0.5)
    state.step_finished(now=1.0)
    state.observe(2, None, now=1.0)
    state.observe(2, "Connection refused", now=2.0)
    assert state.lost(now=11.9) is None  # not yet the grace
    state.observe(2, "Connection refused", now=12.0)
    assert state.lost(now=12.0) == (
        "worker 2 (c:3) stopped answering (Connection refused) for 10 s while worker 0 waited "
        "after 2 step(s) of this run")


def test_a_step_finished_after_the_peer_went_silent_is_no_loss():
    """A peer that exited after the last collective while this worker ends its run normally."""
    state = _state()
    state.observe(1, None, now=0.0)
    state.observe(1, "Connection refused", now=1.0)
    state.step_finished(now=1.5)
    assert state.lost(now=60.0) is None


def test_a_peer_that_answers_again_is_no_longer_silent():
    state = _state()
    state.observe(1, None, now=0.0)
    state.observe(1, "timed out", now=1.0)
    state.observe(1, None, now=5.0)
    assert state.lost(now=60.0) is None


def test_after_a_failed_step_a_peer_silent_now_is_named_without_waiting_for_the_grace():
    state = _state()
    state.step_finished(now=0.5)
    state.observe(1, None, now=1.0)
    state.observe(2, None, now=1.0)
    assert state.unreachable() is None
    state.observe(2, "Connection refused", now=1.5)
    assert state.lost(now=1.5) is None  # the watch alone would still wait
    assert state.unreachable() == (
        "worker 2 (c:3) stopped answering (Connection refused) while worker 0 waited after 1 step(s) "
        "of this run")
    state.observe(2, None, now=2.0)
    assert state.unreachable() is None


def _listening():
    server = socket.socket()
    server.bind(("localhost", 0))
    server.listen()
    return server, f"localhost:{server.getsockname()[1]}"


def test_the_watcher_reports_a_closed_peer_port_once():
    server, address = _listening()
    lost = []
    reported = threading.Event()
    watch = peers.PeerWatch(peers.PeerState(["localhost:1", address], index=0, grace_s=0.3),
                            on_lost=lambda line: (lost.append(line), reported.set()), poll_s=0.05)
    watch.start()
    deadline = time.monotonic() + 10
    while not watch.state.has_answered(1) and time.monotonic() < deadline:
        watch.step_finished()
        time.sleep(0.05)
    server.close()
    assert reported.wait(timeout=10)
    watch.join(timeout=5)
    assert not watch.is_alive() and len(lost) == 1
    assert lost[0].startswith(f"worker 1 ({address}) stopped answering (Connection refused)")


def test_diagnose_tries_every_peer_at_once_and_names_the_closed_one():
    server, address = _listening()
    other, other_address = _listening()
    lost = []
    watch = peers.PeerWatch(peers.PeerState([other_address, "localhost:1", address], index=1, grace_s=60),
                            on_lost=lost.append, poll_s=60)
    watch.start()  # its first round is a minute away: diagnose alone probes
    assert watch.diagnose() is None
    server.close()
    assert watch.diagnose().startswith(f"worker 2 ({address}) stopped answering (Connection refused)")
    watch.join(timeout=5)
    assert not watch.is_alive() and lost == []
    other.close()


def test_ending_the_watch_turns_an_error_into_the_silent_peers_failure(make_failed):
    server, address = _listening()
    watch = peers.PeerWatch(peers.PeerState(["localhost:1", address], index=0), on_lost=print, poll_s=60)
    watch.start()
    kept = make_failed(50, 1, "forward", Failure("oom", "OOM"))
    peers.end_watch(watch, kept)  # not an error: left as it is, the watch ended
    assert kept.failure.kind == "oom"
    watch.join(timeout=5)
    assert not watch.is_alive()
    server.close()
    watch = peers.PeerWatch(peers.PeerState(["localhost:1", address], index=0), on_lost=print, poll_s=60)
    error = make_failed(50, 1, "forward", Failure("error", "UnavailableError: Collective ops is aborted",
                                                  details=["line"]))
    peers.end_watch(watch, error)
    assert error.failure.kind == "peer"
    assert error.failure.message.startswith(f"worker 1 ({address}) stopped answering")
    assert error.failure.details == ["UnavailableError: Collective ops is aborted", "line"]


def test_a_stopped_watcher_reports_nothing():
    server, address = _listening()
    lost = []
    watch = peers.PeerWatch(peers.PeerState(["localhost:1", address], index=0, grace_s=0.0),
                            on_lost=lost.append, poll_s=0.05)
    watch.start()
    watch.stop()
    server.close()
    watch.join(timeout=5)
    assert not watch.is_alive() and lost == []


def test_one_worker_or_no_cluster_is_not_watched():
    assert peers.watch_cluster(None, 1, print) is None
    assert peers.watch_cluster(cluster.make(["a:1", "b:2"], 0), 1, print) is None


@pytest.mark.slow
def test_a_peer_killed_mid_run_ends_the_chiefs_configuration_naming_it(run_bench, tiny_args, tmp_path):
    """Two workers of a TF_CONFIG cluster started by hand, as on real machines (no --workers
    launcher to notice a death): worker 1 is killed after its second measured step; the chief,
    in that step's all-reduce, names it (TensorFlow either raises UnavailableError at once or waits:
    the first case is diagnosed at once, the second after --peer-timeout) instead of waiting for
    ever."""
    addresses = [f"localhost:{port}" for port in free_ports(2)]
    outputs = [tmp_path / f"worker{index}.jsonl" for index in range(2)]
    done = [None, None]

    def worker(index):
        done[index] = run_bench(
            # Batch 1, not the default 32; 3 measured steps (after tiny_args, whose 2 would win):
            # worker 1 dies after the second, the chief's third is the all-reduce that waits for it.
            "--batch", "1", "--mode", "forward-backward", "--no-peak-probe", "--peer-timeout", "3",
            "--timeout", "400", "--output", str(outputs[index]), *tiny_args, "--num-batches", "3",
            timeout=600, small_network=True,
            env_extra={"TF_CONFIG": cluster.make(addresses, index), "BENCH_TEST_FAULT": "killstep:*:*:*:1"})

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    chief = done[0]
    assert chief.returncode == 1, chief.stderr[-2000:]
    (record,) = [json.loads(line) for line in outputs[0].read_text().splitlines()]
    assert record["status"] == "failed"
    assert record["failure"]["kind"] == "peer"  # not the --timeout
    assert record["failure"]["message"].startswith(f"worker 1 ({addresses[1]}) stopped answering")
    assert len(record["step_times_s"]) == 2  # the steps both workers finished are kept
    assert f"worker 1 ({addresses[1]}) stopped answering" in chief.stdout
    assert done[1].returncode == 1 and not outputs[1].exists()  # only the chief records
