"""benchmarks/gpu_check.sh: on a machine without a GPU it says it needs one and runs nothing; its
verdicts read what the records say ran."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_check_records  # noqa: E402 - a script of benchmarks/, not a package


def test_without_a_gpu_it_says_it_needs_one_and_exits_0(tmp_path):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU: the script would run its checks")
    records = tmp_path / "gpu_check.jsonl"
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), str(records)],
                          env=dict(os.environ, PYTHON=sys.executable), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "gpu_check: needs a GPU (TensorFlow sees none here); nothing was run\n"
    assert not records.exists()


def _record(data_format, executed, **extra):
    return {"status": "ok", "config": {"data_format": data_format, "replicas": 1},
            "extra": dict(executed_layout=executed, **extra), "environment": {}}


def test_a_layout_that_ran_otherwise_than_asked_fails_the_check(tmp_path, capsys):
    path = tmp_path / "layouts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (_record("NCHW", "NHWC"), _record("NHWC", "NHWC"))))
    assert gpu_check_records.main(["layouts", str(path)]) == 1
    assert capsys.readouterr().out == "FAILED: asked -> ran: {'NCHW': 'NHWC'}\n"
    path.write_text("".join(json.dumps(r) + "\n" for r in (_record("NCHW", "NCHW"), _record("NHWC", "NHWC"))))
    assert gpu_check_records.main(["layouts", str(path)]) == 0
    assert capsys.readouterr().out == "ok\n"


def _try(batch, status, peak=None, failed_run=None):
    record = {"status": status, "config": {"batch_size": batch}, "batch_search": {"role": "try"},
              "extra": {"peak_memory": {"bytes": peak}} if peak else {}, "environment": {}}
    if failed_run is not None:
        record.update(failure={"kind": "oom"}, phases_s={"failed_run": failed_run})
    return record


def test_a_capped_search_says_how_long_its_no_fit_tries_took_to_fail(tmp_path, capsys):
    cap = 2**30
    largest = {"status": "ok", "config": {"batch_size": 2}, "extra": {"peak_memory": {"bytes": cap // 2}},
               "batch_search": {"role": "largest", "ended": "boundary"}, "environment": {}}
    records = [_try(1, "ok", cap // 4), _try(2, "ok", cap // 2), _try(4, "failed", failed_run=10.31),
               _try(3, "failed", failed_run=10.04), largest]
    path = tmp_path / "capped.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert gpu_check_records.main(["capped", str(path), str(cap)]) == 0
    assert capsys.readouterr().out == "ok (no-fit tries failed 10.3, 10.0 s into their run)\n"
    records[1] = _try(2, "ok", cap + 1)  # a try that fitted, yet peaked above the cap
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert gpu_check_records.main(["capped", str(path), str(cap)]) == 1
    assert capsys.readouterr().out == "FAILED: batch [2] peaked above the cap\n"
