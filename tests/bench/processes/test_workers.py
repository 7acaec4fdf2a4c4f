"""Several workers: refused settings, and --workers end to end (2 local workers x 1 CPU device
through forward-backward and train; a worker that dies; which failure is blamed; what the servers
listen on, and the warning when they can be reached from outside)."""

import contextlib
import json
import os
import re
import signal
import subprocess
import time

import pytest

from bench.core import cluster, faults
from bench.processes import workers
from bench.processes.workers import free_ports
from bench.results.result import Failure


def test_bad_worker_settings_are_one_line_and_exit_2(run_bench):
    refused = run_bench("--workers", "2", "--in-process", "--device", "cpu")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "python -m bench: error: --workers 2: not with --in-process (each worker is a process of "
        "its own)"]
    malformed = run_bench("--device", "cpu", env_extra={"TF_CONFIG": '{"cluster": 3}'})
    assert malformed.returncode == 2
    assert len(malformed.stderr.strip().splitlines()) == 1
    assert malformed.stderr.startswith("python -m bench: error: TF_CONFIG {\"cluster\": 3}: not a cluster")


def _records(path):
    with open(path, encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


@pytest.mark.slow
def test_two_workers_agree_through_forward_backward_and_train(run_bench, tiny_args, tmp_path):
    output = tmp_path / "workers.jsonl"
    done = run_bench("--workers", "2", "--batch", "2", "--mode", "forward-backward", "train",
                     "--no-peak-probe", "--output", str(output), *tiny_args, small_network=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    records = _records(output)
    assert [r["config"]["mode"] for r in records] == ["forward-backward", "train"]
    for record in records:
        assert record["status"] == "ok"
        config = record["config"]
        assert (config["replicas"], config["workers"], config["global_batch_size"]) == (2, 2, 4)
        cluster = record["extra"]["cluster"]
        assert cluster["workers"] == 2 and len(set(cluster["addresses"])) == 2
        # Each worker computed its own fingerprint; they agree: the same reduced gradients in
        # forward-backward, the same weights after training.
        first, second = cluster["fingerprints"]
        assert first is not None and first == second == record["extra"]["fingerprint"]
        assert record["scaling_efficiency"] is None  # no 1-replica run in this sweep
        # The collective ring between CPU workers, its ops read from what a step ran.
        reduction = record["extra"]["all_reduce"]
        assert reduction["implementation"] == "collective ring" and reduction["ops_run"] > 0
        assert reduction["tensors_per_step"]["gradients"] > 0
        assert ("moving_averages" in reduction["tensors_per_step"]) == (config["mode"] == "train")
        assert record["stats"]["images_per_sec"] == pytest.approx(4 / record["stats"]["mean_s"])


@pytest.mark.slow
def test_a_worker_that_dies_ends_the_configuration_naming_it(run_bench, tiny_args, tmp_path):
    output = tmp_path / "dead.jsonl"
    """Worker 1 is killed after its second measured step: the row blames it (not the chief's
    'peer' failure it causes), and the chief's two finished steps are kept."""
    # Batch 1 (not the default 32) and one measured step after the kill: enough for the chief to
    # be in an all-reduce its dead peer never joins.
    done = run_bench("--workers", "2", "--batch", "1", "--mode", "forward-backward", "--no-peak-probe",
                     "--output", str(output), *tiny_args, "--num-batches", "3",
                     env_extra={"BENCH_TEST_FAULT": "killstep:*:*:*:1"}, small_network=True, timeout=600)
    assert done.returncode == 1
    (record,) = _records(output)
    assert record["status"] == "failed"
    assert record["failure"]["message"].startswith("worker 1 (localhost:")
    assert "killed by signal 9 (SIGKILL)" in record["failure"]["message"]
    assert len(record["step_times_s"]) == 2
    assert "worker 1 (localhost:" in done.stdout


@pytest.mark.slow
def test_two_workers_on_real_data_each_read_their_own_shard(run_bench, tiny_args, tmp_path):
    """Shard 1 holds a label the model lacks after a good first record (the data check reads only
    the first): worker 1, which reads shard 1, stops on it; the chief, reading shard 0, never sees
    it, so the row blames worker 1's own error. Were the shards not split, the chief would meet the
    label too (a group of 32 records spans both shards) and be blamed first. The chief, done, waits
    at the pipeline's closing all-reduce until the peer timeout (3 s here) ends it."""
    import numpy as np
    import tensorflow as tf

    from bench.inputs import example_format

    folder = tmp_path / "shards"
    folder.mkdir()
    image = tf.io.encode_jpeg(np.full((40, 48, 3), 128, np.uint8)).numpy()
    for index, labels in enumerate([[1, 2, 3, 4], [5, 6, 50, 7]]):  # --num-classes 10: labels 1..9
        with tf.io.TFRecordWriter(str(folder / f"train-{index:05d}-of-00002")) as writer:
            for label in labels:
                writer.write(example_format.make_example(image, label, 40, 48))
    output = tmp_path / "real.jsonl"
    done = run_bench("--workers", "2", "--batch", "2", "--mode", "input", "--data", str(folder),
                     "--peer-timeout", "3", "--output", str(output), *tiny_args, timeout=600)
    assert done.returncode == 1, done.stderr[-2000:]
    (record,) = _records(output)
    assert record["status"] == "failed" and record["config"]["workers"] == 2
    message = record["failure"]["message"]
    assert message.startswith("worker 1 (localhost:"), message
    assert "image/class/label 50 above the model labels 1..9" in message, message
    assert str(folder) in message and "train-00000" not in message
    assert f"({folder / 'train-00001-of-00002'}, record 2)" in message, message


def test_the_lost_workers_own_failure_is_blamed_before_the_peer_failure_it_caused(make_failed, make_measured):
    lost = make_failed(50, 1, "forward", Failure("peer", "worker 2 (localhost:3) stopped answering"))
    killed = make_failed(50, 1, "forward", Failure("signal", "killed by signal 9 (SIGKILL)", signal=9))
    running = None
    ok = make_measured(50, 1, "forward", [0.1, 0.1])
    assert workers.worker_to_blame([ok, running, running], peer_waited=False) is None
    assert workers.worker_to_blame([lost, running, running], peer_waited=False) is None  # wait for 2
    assert workers.worker_to_blame([lost, running, killed], peer_waited=False) == 2
    assert workers.worker_to_blame([lost, lost, killed], peer_waited=True) == 2
    assert workers.worker_to_blame([lost, running, running], peer_waited=True) == 0  # 2 said nothing
    assert workers.worker_to_blame([ok, ok, ok], peer_waited=True) is None


def _first_server(bench, listening, children_of, deadline_s=300.0):
    """([Listening], its task's port) of the first child of the `bench` process seen listening."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and bench.poll() is None:
        for pid in children_of(bench.pid):
            with contextlib.suppress(OSError):  # a child that ended meanwhile
                sockets = listening(pid)
                if sockets:
                    return sockets, _task_port(pid)
        time.sleep(0.1)
    raise AssertionError(f"no worker listened within {deadline_s:g} s (exit status {bench.poll()})")


def _task_port(pid):
    """The port of the worker's own task in the TF_CONFIG of its environment."""
    with open(f"/proc/{pid}/environ", "rb") as stream:
        variables = dict(item.split(b"=", 1) for item in stream.read().split(b"\0") if b"=" in item)
    shape = cluster.parse(variables[cluster.ENV_VAR.encode()].decode())
    return int(shape["addresses"][shape["index"]].rpartition(":")[2])


# How a run starts a server: local workers in their own network, local workers on a machine without
# the namespace tools (PATH: an empty folder), worker 0 of a TF_CONFIG cluster of two.
RUNS = ["confined", "open", "tf_config"]


@pytest.mark.slow
@pytest.mark.parametrize("run", RUNS)
def test_a_server_reachable_from_outside_is_warned_of_and_local_workers_are_confined(
        run, request, listening, start_bench, tiny_args, tmp_path, children_of):
    """Worker 1 never gets going (a 'stall' fault; in the cluster it is never started), so worker 0
    starts its server and waits for it (up to 60 s): long enough to read, from /proc, what the
    server listens on. Then the run is stopped (SIGTERM). A server reachable from outside is
    named by a WARNING line on stderr; local workers, where the machine allows, are not reachable."""
    if run == "confined":
        request.getfixturevalue("namespaces_allowed")
    env = {faults.ENV_VAR: "stall:*:*:*:1"}
    args = ["--workers", "2"]
    if run == "open":
        env["PATH"] = str(tmp_path)
    if run == "tf_config":
        env = {cluster.ENV_VAR: cluster.make([f"localhost:{port}" for port in free_ports(2)], 0)}
        args = []
    with open(tmp_path / "stderr", "w+", encoding="utf-8") as stderr:
        bench = start_bench(*args, "--mode", "forward", "--no-peak-probe", *tiny_args, env_extra=env,
                            small_network=True, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            sockets, task_port = _first_server(bench, listening, children_of)
        finally:
            bench.send_signal(signal.SIGTERM)
            returncode = bench.wait(timeout=120)
        stderr.seek(0)
        warnings = [line for line in stderr.read().splitlines() if line.startswith("WARNING: ")]
    assert returncode == 130, warnings  # interrupted, every process stopped
    (server,) = sockets
    assert server.port == task_port
    named = [line for line in warnings
             if str(server.port) in re.findall(r"\d+", line) and "0.0.0.0 and [::]" in line]
    assert len(named) == (1 if server.reachable_from_outside else 0), warnings
    own_network = os.readlink("/proc/self/ns/net")
    if run == "confined":
        assert server.interfaces == {"lo"} and server.namespace != own_network
        assert not server.reachable_from_outside and warnings == []
    else:  # every interface of this machine's own network
        assert server.address.is_unspecified and server.namespace == own_network


@pytest.mark.slow
def test_two_workers_stop_auto_steps_at_the_chief_s_step(run_bench, tiny_args, tmp_path):
    """Forward steps do not wait for the other worker, so each would stop on its own steps; with
    --num-batches auto the chief decides at each checkpoint and both stop at the same step."""
    output = tmp_path / "auto.jsonl"
    cut = tiny_args.index("--num-batches")
    args = tiny_args[:cut] + tiny_args[cut + 2:]  # the tiny settings but their fixed count
    done = run_bench("--workers", "2", "--batch", "2", "--mode", "forward", "--no-peak-probe",
                     "--num-batches", "auto", "--target-ci", "2", "--max-time", "5",
                     "--output", str(output), *args, small_network=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    (record,) = _records(output)
    first, second = record["extra"]["cluster"]["measured_steps"]
    assert first == second == record["stats"]["num_steps"] == record["extra"]["stop"]["steps"] >= 10


def test_a_worker_over_the_memory_limit_is_the_rows_reason_with_its_bound_and_peak(make_failed):
    """The worker that went over --memory-limit is named, and its failure keeps what makes it an
    out-of-memory row under a bound: the same wording as a single child's."""
    from bench.core.limits import Limits
    from bench.results import failures

    over = failures.over_memory_limit(Limits(memory_bytes=2**30), 2**30 + 2**20, -9, ["tail"])
    stopped = failures.from_exit(-15, [])
    chief = make_failed(50, 2, "train", stopped)
    results = [chief, make_failed(50, 2, "train", over)]
    result = workers._chief_result(chief.config, {}, results, ["localhost:1", "localhost:2"], 1, "loopback")
    failure = result.failure
    assert (failure.kind, failure.limit, failure.peak_bytes, failure.signal) == (
        "oom", "memory limit 1 GiB", 2**30 + 2**20, 9)
    assert failure.short == (
        "worker 1 (localhost:2) failed: over the memory limit (1 GiB): peak 1.001 GiB resident; "
        "the other workers were stopped")
