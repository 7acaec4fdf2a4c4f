"""`python -m bench` end to end: bad input, output formats, failures in children, Ctrl-C.

The sweeps run through real subprocesses on tiny settings; bad-input cases mostly call
`bench.cli.main` in this process (same code path, no TensorFlow import per case).
"""

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from bench import cli, quiet, runner

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY_ARGS = ["--image-size", "32", "--num-classes", "10", "--num-batches", "2", "--burn-in", "1",
             "--device", "cpu", "--peak-probe-size", "256"]
CLASSIC_SUMMARY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (Forward|Forward-backward|Train) across \d+ steps, "
    r"\d+\.\d{3} \+/- \d+\.\d{3} sec / batch$", re.MULTILINE)


def bench_command(*args):
    return [sys.executable, "-m", "bench", *args]


def clean_environment(**extra):
    """Our environment without TF_CPP_MIN_LOG_LEVEL (the harness must be quiet on its own)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", runner.FAULT_ENV_VAR)}
    env.update(extra)
    return env


def run_bench(*args, env=None, timeout=300):
    return subprocess.run(bench_command(*args), cwd=REPO_ROOT, env=env or clean_environment(),
                          capture_output=True, text=True, timeout=timeout)


def table_rows(text):
    """Rows of the github table in `text` as dicts."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, [c.strip() for c in line.strip("|").split("|")], strict=True))
            for line in lines[2:]]


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["--depth", "77"], "--depth 77: not a ResNet v2 depth; choose from 50, 101, 152, 200"),
    (["--depth", "fifty"], "--depth fifty: not a depth; choose from 50, 101, 152, 200 or all"),
    (["--batch", "0"], "--batch 0: must be a positive integer"),
    (["--batch", "4", "-2"], "--batch -2: must be a positive integer"),
    (["--batch", "x"], "argument --batch: invalid int value: 'x'"),
    (["--mode", "backward"], "argument --mode: invalid choice: 'backward' (choose from"),
    (["--num-batches", "0"], "--num-batches 0: must be a positive integer"),
    (["--burn-in", "-1"], "--burn-in -1: must be an integer >= 0"),
    (["--image-size", "16"], "--image-size 16: too small for the network; must be at least 32"),
    (["--device", "tpu"], "argument --device: invalid choice: 'tpu' (choose from"),
    (["--display-every", "0"], "--display-every 0: must be a positive integer"),
    (["--table-format", "fancy"], "--table-format fancy: unknown; choose from"),
    (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
])
def test_bad_input_is_one_line_and_exit_code_2(capsys, args, expected):
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("python -m bench: error: ")
    assert expected in captured.err


def test_gpu_without_gpu_is_refused(capsys):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    assert cli.main(["--device", "gpu"]) == 2
    err = capsys.readouterr().err
    assert err == "python -m bench: error: --device gpu: TensorFlow sees no GPU here; use cpu or auto\n"


def test_unwritable_output_is_refused_and_nothing_is_created(capsys, tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "out.jsonl"
    assert cli.main(["--output", str(missing)]) == 2
    assert f"--output {missing}: directory" in capsys.readouterr().err
    assert not missing.parent.exists()
    assert cli.main(["--output", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    read_only = tmp_path / "read_only.jsonl"
    read_only.write_text("")
    read_only.chmod(0o444)
    if os.access(read_only, os.W_OK):
        pytest.skip("running as a user who can write read-only files")
    assert cli.main(["--output", str(read_only)]) == 2
    assert "not writable" in capsys.readouterr().err


def test_bad_input_through_the_real_command_has_no_traceback():
    completed = run_bench("--depth", "50", "--batch", "0")
    assert completed.returncode == 2
    assert completed.stderr == "python -m bench: error: --batch 0: must be a positive integer\n"
    assert completed.stdout == ""


def test_help_shows_every_flag_default_and_examples():
    completed = run_bench("--help")
    assert completed.returncode == 0
    text = completed.stdout
    for flag in ("--depth", "--batch", "--mode", "--num-batches", "--burn-in", "--image-size",
                 "--num-classes", "--seed", "--device", "--intra-op-threads",
                 "--inter-op-threads", "--display-every", "--quiet", "--verbose", "--output",
                 "--format", "--table-format"):
        assert flag in text, flag
    assert "(default: 100)" in text and "(default: 10)" in text and "(default: github)" in text
    assert text.count("python -m bench --depth") >= 3


def test_depth_all_expands_to_every_valid_depth_in_order():
    tokens = cli._parse_depth_tokens(["101", "ALL"])
    assert cli._expand_depths(tokens, (50, 101, 152, 200)) == [101, 50, 101, 152, 200]


# --- output formats (in this process) ----------------------------------------------------------

def test_json_and_csv_formats(capsys, tmp_path):
    output = tmp_path / "results.jsonl"
    args = ["--depth", "50", "--batch", "1", "--mode", "forward", *TINY_ARGS, "--in-process",
            "--output", str(output)]
    assert cli.main(args + ["--format", "json"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)  # stdout is exactly one JSON record
    assert record["status"] == "ok" and len(record["step_times_s"]) == 2
    assert CLASSIC_SUMMARY.search(captured.err)  # human-readable lines went to stderr
    assert json.loads(output.read_text()) == record

    assert cli.main(args + ["--format", "csv", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert len(rows) == 1 and rows[0]["config.depth"] == "50" and rows[0]["status"] == "ok"
    assert float(rows[0]["stats.mean_s"]) > 0
    assert len(output.read_text().splitlines()) == 2  # appended, not overwritten


# --- sweeps through child processes ------------------------------------------------------------

def test_quiet_csv_through_a_child_prints_only_the_csv():
    completed = run_bench("--depth", "50", "--batch", "2", "--mode", "train", *TINY_ARGS,
                          "--quiet", "--format", "csv")
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    rows = list(csv.DictReader(io.StringIO(completed.stdout)))
    assert [(row["config.batch_size"], row["config.mode"], row["status"]) for row in rows] == [
        ("2", "train", "ok")]
    assert float(rows[0]["phases_s.child_overhead"]) > 0


@pytest.mark.slow
def test_sweep_survives_failing_children_and_records_them(tmp_path):
    output = tmp_path / "sweep.jsonl"
    faults = "oom:50:1:forward-backward,error:50:2:forward,kill:50:2:forward-backward"
    completed = run_bench(
        "--depth", "50", "--batch", "1", "2", "--mode", "forward", "forward-backward",
        *TINY_ARGS, "--display-every", "1", "--output", str(output),
        env=clean_environment(**{runner.FAULT_ENV_VAR: faults}))
    assert completed.returncode == 1, completed.stderr
    # Clean output: no TensorFlow C++ log lines or Python warnings, and no traceback.
    assert completed.stderr == ""
    assert "WARNING:tensorflow" not in completed.stdout
    assert not [line for line in completed.stdout.splitlines() if quiet.is_native_log_line(line)]
    assert len(CLASSIC_SUMMARY.findall(completed.stdout)) == 1
    assert re.search(r"^\d{4}-\d\d-\d\d [\d:.]+: step 2, duration = \d+\.\d{3}$",
                     completed.stdout, re.MULTILINE)
    assert "Child-process overhead per configuration" in completed.stdout
    assert "TensorFlow 2." in completed.stdout and "Device: CPU: " in completed.stdout

    rows = table_rows(completed.stdout)
    assert [(r["Batch"], r["Mode"], r["Status"]) for r in rows] == [
        ("1", "forward", "ok (!)"),
        ("1", "forward-backward", "OOM"),
        ("2", "forward", "error: RuntimeError: injected failure for resnet_v2_50 batch 2 forward"),
        ("2", "forward-backward", "killed by signal 9 (SIGKILL)"),
    ]
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["status"] for r in records] == ["ok", "failed", "failed", "failed"]
    assert [r["failure"]["kind"] for r in records[1:]] == ["oom", "error", "signal"]
    assert records[3]["failure"]["signal"] == 9
    assert records[2]["failure"]["message"] == (  # the error's first line only
        "RuntimeError: injected failure for resnet_v2_50 batch 2 forward")
    measured = records[0]
    assert len(measured["step_times_s"]) == 2
    phases = measured["phases_s"]
    for phase in ("process_start", "tf_import", "graph_build", "session_init", "burn_in",
                  "measure", "teardown", "child_overhead", "total"):
        assert phases[phase] >= 0, phase
    assert phases["child_overhead"] == pytest.approx(
        phases["process_start"] + phases["tf_import"] + phases["teardown"])
    assert phases["total"] >= phases["child_overhead"] + phases["measure"]


def signal_after_first_record(signum, output, *args):
    """Starts a sweep writing to `output`, sends `signum` once its first record is on disk.

    Returns:
      (the finished process, its stdout, its stderr).
    """
    process = subprocess.Popen(
        bench_command(*args, "--output", str(output)),
        cwd=REPO_ROOT, env=clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    deadline = time.monotonic() + 240
    while not (output.exists() and output.read_text().count("\n") >= 1):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the first configuration never finished"
        time.sleep(0.1)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return process, stdout, stderr


@pytest.mark.slow
def test_ctrl_c_keeps_finished_rows_and_marks_the_interrupted_one(tmp_path):
    """Also runs with --verbose, which lets TensorFlow's C++ log lines through."""
    output = tmp_path / "sweep.jsonl"
    process, stdout, stderr = signal_after_first_record(
        signal.SIGINT, output, "--depth", "50", "101", "152", "--batch", "1", "--mode", "forward",
        *TINY_ARGS, "--verbose")

    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert any(quiet.is_native_log_line(line) for line in stderr.splitlines())
    assert "Interrupted: 1 configuration(s) finished, 1 not run." in stderr
    rows = table_rows(stdout)
    assert [(r["Depth"], r["Status"]) for r in rows] == [
        ("50", "ok (!)"), ("101", "interrupted (Ctrl-C)")]
    assert rows[0]["Images/sec"] != ""
    assert "Not run (sweep interrupted): resnet_v2_152 batch 1 forward" in stdout
    assert re.search(r": resnet_v2_101 batch 1 forward INTERRUPTED: interrupted \(Ctrl-C\)$",
                     stdout, re.MULTILINE)
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(r["config"]["depth"], r["status"]) for r in records] == [
        (50, "ok"), (101, "interrupted")]


@pytest.mark.slow
def test_sigterm_stops_the_sweep_like_ctrl_c(tmp_path):
    """`kill` or a batch scheduler's SIGTERM: finished rows kept, the running one marked."""
    output = tmp_path / "sweep.jsonl"
    process, stdout, stderr = signal_after_first_record(
        signal.SIGTERM, output, "--depth", "50", "--batch", "1", "2", "--mode", "forward",
        *TINY_ARGS, "--num-batches", "200")

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    rows = table_rows(stdout)
    assert [r["Batch"] for r in rows] == ["1", "2"]
    assert rows[0]["Status"].startswith("ok")  # "ok (!)" when tiny steps spread widely
    assert rows[1]["Status"] == "interrupted (SIGTERM)"
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(r["config"]["batch_size"], r["status"]) for r in records] == [
        (1, "ok"), (2, "interrupted")]
    assert records[1]["failure"]["message"] == "interrupted (SIGTERM)"
