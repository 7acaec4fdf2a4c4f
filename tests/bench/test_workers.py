"""Several workers: refused settings, and --workers end to end (2 local workers x 1 CPU device
through forward-backward and train; a worker that dies)."""

import json

import pytest


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
                     "--no-peak-probe", "--output", str(output), *tiny_args, timeout=900)
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
        assert record["stats"]["images_per_sec"] == pytest.approx(4 / record["stats"]["mean_s"])


@pytest.mark.slow
def test_a_worker_that_dies_ends_the_configuration_naming_it(run_bench, tiny_args, tmp_path):
    output = tmp_path / "dead.jsonl"
    done = run_bench("--workers", "2", "--mode", "forward", "--no-peak-probe", "--output", str(output),
                     *tiny_args, env_extra={"BENCH_TEST_FAULT": "kill:*:*:*:1"}, timeout=600)
    assert done.returncode == 1
    (record,) = _records(output)
    assert record["status"] == "failed"
    assert record["failure"]["message"].startswith("worker 1 (localhost:")
    assert "killed by signal 9 (SIGKILL)" in record["failure"]["message"]
    assert "worker 1 (localhost:" in done.stdout
