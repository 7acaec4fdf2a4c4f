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
