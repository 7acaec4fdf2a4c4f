"""`python -m bench` end to end: bad input, sweep axes, output formats, the GPU-grade options,
failures in children, Ctrl-C and SIGTERM.

The sweeps run through real subprocesses on tiny settings, or in this process with --in-process
where the child-process path is not the point; bad-input cases call `bench.verbs.cli.main` in this
process (same code path, no TensorFlow import per case).
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

from bench.core import faults, quiet, stand_ins
from bench.verbs import cli

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLASSIC_SUMMARY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (Forward|Forward-backward|Train) across \d+ steps, "
    r"\d+\.\d{3} \+/- \d+\.\d{3} sec / batch$", re.MULTILINE)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["--depth", "77"], "--depth 77: not a ResNet v2 depth; choose from 50, 101, 152, 200"),
    (["--depth", "fifty"], "--depth fifty: not a depth; choose from 50, 101, 152, 200 or all"),
    (["--batch", "0"], "--batch 0: must be a positive integer"),
    (["--batch", "4", "-2"], "--batch -2: must be a positive integer"),
    (["--batch", "x"],
     "argument --batch: 'x': not a batch size; give whole numbers, or max (max:N to start the search at N)"),
    (["--mode", "backward"], "argument --mode: invalid choice: 'backward' (choose from"),
    (["--num-batches", "0"], "--num-batches 0: must be a positive integer"),
    (["--burn-in", "-1"], "--burn-in -1: must be an integer >= 0"),
    (["--image-size", "16"], "--image-size 16: too small for the network; must be at least 32"),
    (["--image-size", "224", "31"], "--image-size 31: too small for the network; must be at least"),
    (["--device", "tpu"], "argument --device: invalid choice: 'tpu' (choose from"),
    (["--display-every", "0"], "--display-every 0: must be a positive integer"),
    (["--table-format", "fancy"], "--table-format fancy: unknown; choose from"),
    (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["--precision", "fp64"], "argument --precision: invalid choice: 'fp64'"),
    (["--precision", "fp32", "fp8"], "argument --precision: invalid choice: 'fp8'"),
    (["--xla", "maybe"], "argument --xla: invalid choice: 'maybe'"),
    (["--loss-scale", "-1"], "--loss-scale -1: must be auto, none, dynamic or a positive number"),
    (["--loss-scale", "big"], "--loss-scale big: must be auto, none, dynamic or a positive number"),
    (["--data-format", "nchw"], "argument --data-format: invalid choice: 'nchw'"),
    (["--peak-probe-size", "-5"], "--peak-probe-size -5: must be an integer >= 0"),
    (["--trace", "/nonexistent-dir/step.json"],
     "--trace /nonexistent-dir/step.json: directory /nonexistent-dir does not exist"),
    (["--trace", "step.json", "--burn-in", "0"],
     "--burn-in 0: --trace needs at least 2 burn-in steps (the trace is taken from the last one"),
    (["--trace", "step.json", "--burn-in", "1"],
     "--burn-in 1: --trace needs at least 2 burn-in steps (the trace is taken from the last one"),
    (["--data-format", "NCHW", "--device", "cpu"],
     "--data-format NCHW: not available on the CPU"),
    (["--data-format", "NHWC", "NCHW", "--device", "cpu"],
     "--data-format NCHW: not available on the CPU"),
    (["--memory-limit", "3XB"],
     "--memory-limit 3XB: not a size; use a number with a unit, such as 512MiB, 6GiB or 8GB"),
    (["--memory-limit", "100MiB"],
     "--memory-limit 100MiB: too small: a child needs at least 1 GiB to import TensorFlow"),
    (["--gpu-memory-limit", "lots"], "--gpu-memory-limit lots: not a size; use"),
    (["--gpu-memory-limit", "4GiB", "--device", "cpu"],
     "--gpu-memory-limit 4 GiB: caps a GPU's memory, and every configuration runs on the CPU"),
    (["--timeout", "0"], "--timeout 0.0: must be a positive number of seconds"),
    (["--timeout", "soon"], "argument --timeout: invalid float value: 'soon'"),
    (["--timeout", "5", "--in-process"], "--timeout 5: bounds child processes: drop --in-process"),
    (["--memory-limit", "6GiB", "--in-process"],
     "--memory-limit 6 GiB: bounds child processes: drop --in-process"),
    (["--resume"], "--resume: needs --output FILE (the records to resume from and append to)"),
    (["--mode", "input"], "--mode input: times the input pipeline alone, and synthetic data has none; "
     "give --data PATH"),
    (["--data-threads", "-1", "--data", "x"], "--data-threads -1: must be an integer >= 0"),
    (["--preprocessing", "lanczos"], "argument --preprocessing: invalid choice: 'lanczos'"),
    (["--data", ""], "--data : give synthetic or a path"),
    (["--num-batches", "lots"], "argument --num-batches: 'lots' is not a number of steps or auto"),
    (["--num-batches", "0"], "--num-batches 0: must be a positive integer or auto"),
    (["--target-ci", "2"], "--target-ci 2: only with --num-batches auto (a fixed count runs its steps)"),
    (["--num-batches", "auto", "--target-ci", "0"], "--target-ci 0.0: must be a percentage above 0"),
    (["--max-time", "-5"], "--max-time -5.0: must be a number of seconds above 0"),
    (["--breakdown", "layers"], "--breakdown layers: choose from blocks, units"),
    (["--mode", "forward", "input", "--data", "x", "--breakdown"],
     "--breakdown blocks: attributes the model's op times to its parts, and --mode input runs no model"),
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


def test_bad_input_through_the_real_command_has_no_traceback(run_bench):
    completed = run_bench("--depth", "50", "--batch", "0")
    assert completed.returncode == 2
    assert completed.stderr == "python -m bench: error: --batch 0: must be a positive integer\n"
    assert completed.stdout == ""


def test_help_shows_every_flag_default_and_examples(run_bench):
    # argparse wraps the help to the terminal's width (COLUMNS, else the terminal the tests run
    # in): a wide one keeps each "(default: ...)" on one line whatever runs the tests.
    completed = run_bench("--help", env_extra={"COLUMNS": "200"})
    assert completed.returncode == 0
    text = completed.stdout
    for flag in ("--depth", "--batch", "--mode", "--num-batches", "--burn-in", "--image-size",
                 "--num-classes", "--seed", "--device", "--intra-op-threads",
                 "--inter-op-threads", "--display-every", "--quiet", "--verbose", "--output",
                 "--format", "--table-format", "--data-format", "--precision", "--loss-scale",
                 "--xla", "--trace", "--no-peak-probe", "--peak-probe-size"):
        assert flag in text, flag
    assert "(default: 100)" in text and "(default: 10)" in text and "(default: github)" in text
    assert "(default: auto)" in text and "(default: fp32)" in text and "(default: off)" in text
    assert text.count("python -m bench --depth") >= 4


# --- sweeps in this process --------------------------------------------------------------------

# Slow: four builds. Fast: the product, the columns and the header of varying axes (test_axes,
# test_table, test_header), the in-process CLI path (the JSON/CSV test), bf16 runs (test_precision)
# and FLOPs following the image size (test_flops).
@pytest.mark.slow
def test_precision_and_image_size_are_sweep_axes_with_their_own_columns(table_rows, capsys, tmp_path,
                                                                        tiny_args, monkeypatch):
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, stand_ins.SMALL)  # the axes, not the depth
    output = tmp_path / "sweep.jsonl"
    assert cli.main(["--batch", "1", *tiny_args, "--precision", "fp32", "bf16", "--image-size",
                     "32", "40", "--no-peak-probe", "--in-process", "--output", str(output)]) == 0
    stdout = capsys.readouterr().out
    rows = table_rows(stdout)
    assert list(rows[0])[:5] == ["Depth", "Batch", "Mode", "Precision", "Image"]
    assert "Layout" not in rows[0] and "XLA" not in rows[0]
    assert [(r["Precision"], r["Image"]) for r in rows] == [
        ("fp32", "32"), ("fp32", "40"), ("bf16", "32"), ("bf16", "40")]
    assert all(r["Relative"] == "1.00" for r in rows)  # one depth: each row is its own baseline
    assert ("Sweep: 4 configuration(s): depth 50 x batch 1 x mode forward x precision fp32, bf16"
            " x image 32, 40;") in stdout
    assert "== [2/4] resnet_v2_50 batch 1 forward (image 40)" in stdout
    assert ("Relative: images/sec divided by that of depth 50 with the same batch, mode, "
            "precision and image.") in stdout
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(r["config"]["precision"], r["config"]["image_size"]) for r in records] == [
        ("fp32", 32), ("fp32", 40), ("bf16", 32), ("bf16", 40)]
    flops = [r["extra"]["flops"]["per_step"] for r in records]
    assert flops[0] == flops[2] < flops[1] == flops[3]  # the arithmetic follows the image size


# --- sweeps through child processes ------------------------------------------------------------

def test_quiet_csv_of_a_bf16_xla_traced_run_through_a_child(tmp_path, run_bench, tiny_args, tiny,
                                                            small_network, traced_op_types):
    """--quiet --format csv prints only the CSV; the child gets precision, XLA and trace, and its
    record (in --output) has their facts. One child for both: each costs a TensorFlow import. The
    child builds the stand-in network (XLA compiles it in a fraction of resnet_v2_50's time; the
    depth's FLOPs are test_flops'), whose fp32 step this process counts for comparison."""
    trace_path = tmp_path / "step.json"
    output = tmp_path / "results.jsonl"
    completed = run_bench("--mode", "forward", "--batch", "1", *tiny_args,
                          "--precision", "bf16", "--xla", "--trace", str(trace_path), "--no-agreement",
                          "--burn-in", "2", "--quiet", "--format", "csv", "--output", str(output),
                          small_network=True)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    rows = list(csv.DictReader(io.StringIO(completed.stdout)))
    assert [(row["config.batch_size"], row["config.mode"], row["status"]) for row in rows] == [
        ("1", "forward", "ok")]
    assert float(rows[0]["phases_s.child_overhead"]) > 0
    (record,) = [json.loads(line) for line in output.read_text().splitlines()]
    config, extra, cost = record["config"], record["extra"], record["cost"]
    assert (config["precision"], config["xla"], config["data_format"]) == ("bf16", True, "NHWC")
    assert extra["xla_compiled"] is True
    assert extra["loss_scale"] == "none"
    # The trace is taken from the last burn-in step: the cold step and the two measured ones are
    # untouched.
    assert len(record["burn_in_times_s"]) == 2 and len(record["step_times_s"]) == 2
    assert extra["trace_file"] == str(trace_path)
    assert "_XlaRun" in traced_op_types(trace_path.read_text())
    # The same work as the fp32 step of the same network, counted here: bf16 and XLA change the
    # dtypes, not the operations (the profiler counts the 10-element sum the forward step fetches
    # as 9 or 10 adds, depending on the dtypes around it).
    from bench.core.config import BenchmarkConfig
    from bench.measuring import flops
    from bench.step import graphs
    from bench.step.plan import plan_step

    fp32 = plan_step(BenchmarkConfig(**dict(tiny, mode="forward", peak_probe=False)))
    counted = flops.counted(*graphs.build_timed_graph(fp32, small_network(fp32.config)).flop_counted)
    assert counted.per_step > 1000
    assert abs(extra["flops"]["per_step"] - counted.per_step) <= 1
    assert extra["peak_probe"]["precision"] == "bf16" and extra["peak_probe"]["matrix_size"] == 256
    # Efficiency is the step's rate over the probe's, whatever the two rates are on this CPU.
    assert cost["efficiency"] == pytest.approx(cost["achieved_tflops"] / cost["attainable_tflops"],
                                                rel=1e-6)
    assert cost["efficiency"] > 0
    # Where /proc/self/clear_refs cannot be written the peak is the process's since it started.
    assert cost["peak_memory_kind"].startswith("process_peak_rss") and cost["peak_memory_bytes"] > 100e6


@pytest.mark.slow
def test_sweep_survives_failing_children_and_records_them(table_rows, tmp_path, run_bench, tiny_args):
    """Also: the table's cost columns, per-configuration traces, clean output."""
    output = tmp_path / "sweep.jsonl"
    trace_path = tmp_path / "step.json"
    specs = "oom:50:2:forward,error:50:3:forward,kill:50:4:forward"
    completed = run_bench(
        "--depth", "50", "--batch", "1", "2", "3", "4", *tiny_args, "--burn-in", "2",
        "--display-every", "1", "--output", str(output), "--trace", str(trace_path),
        env_extra={faults.ENV_VAR: specs}, small_network=True)
    assert completed.returncode == 1, completed.stderr
    # Clean output: no TensorFlow C++ log lines or Python warnings, and no traceback.
    assert completed.stderr == ""
    assert "WARNING:tensorflow" not in completed.stdout
    assert not [line for line in completed.stdout.splitlines() if quiet.Quiet().shows(line) is False]
    assert len(CLASSIC_SUMMARY.findall(completed.stdout)) == 1
    assert re.search(r"^\d{4}-\d\d-\d\d [\d:.]+: step 2, duration = \d+\.\d{3}$",
                     completed.stdout, re.MULTILINE)
    assert "Child-process overhead per configuration" in completed.stdout
    assert "TensorFlow 2." in completed.stdout and "Device: CPU: " in completed.stdout
    assert "Precision: fp32 (float32 throughout); loss scale auto = none; XLA off" in (
        completed.stdout)

    rows = table_rows(completed.stdout)
    assert list(rows[0]) == ["Depth", "Batch", "Mode", "Mean ± sd (ms)", "Median (ms)",
                             "Images/sec", "Relative", "GFLOP/img", "TFLOP/s", "Eff. %",
                             "Peak mem", "Status"]
    assert [(r["Batch"], r["Mode"], r["Status"]) for r in rows] == [
        ("1", "forward", "ok (!)"),
        ("2", "forward", "OOM"),
        ("3", "forward", "error: RuntimeError: injected failure for resnet_v2_50 batch 3 forward"),
        ("4", "forward", "killed by signal 9 (SIGKILL)"),
    ]
    records = [json.loads(line) for line in output.read_text().splitlines()]
    # The children built the stand-in network, and every record says so; the table's cost is the
    # child's count (resnet_v2_50's hand count through a child: the bf16 XLA child test above).
    assert {r["environment"].get("test_network") for r in records} == {"small"}
    assert rows[0]["GFLOP/img"] == f"{records[0]['extra']['flops']['per_step'] / 1e9:.2f}"
    assert records[0]["extra"]["flops"]["per_step"] > 0
    assert [r["status"] for r in records] == ["ok", "failed", "failed", "failed"]
    assert [r["failure"]["kind"] for r in records[1:]] == ["oom", "error", "signal"]
    assert records[3]["failure"]["signal"] == 9
    assert records[2]["failure"]["message"] == (  # the error's first line only
        "RuntimeError: injected failure for resnet_v2_50 batch 3 forward")
    # The failed child's work is booked as such, not as teardown (which would inflate the
    # child-process overhead).
    failed_phases = records[2]["phases_s"]
    assert {"graph_build", "session_init", "failed_run", "teardown"} <= set(failed_phases)
    assert failed_phases["child_overhead"] == pytest.approx(
        failed_phases["process_start"] + failed_phases["tf_import"] + failed_phases["teardown"])
    measured = records[0]
    assert len(measured["step_times_s"]) == 2
    assert measured["extra"]["trace_file"] == str(tmp_path / "step.50_1_forward.json")
    assert os.path.getsize(measured["extra"]["trace_file"]) > 1000
    phases = measured["phases_s"]
    for phase in ("process_start", "tf_import", "graph_build", "session_init", "burn_in",
                  "measure", "teardown", "child_overhead", "total"):
        assert phases[phase] >= 0, phase


def signal_after_first_record(signum, output, *args):
    """Starts a sweep writing to `output`, sends `signum` once its first record is on disk.

    The signal then reaches the sweep while the second configuration's child is starting (its
    TensorFlow import alone takes seconds, the poll here a tenth of one), so the first
    configuration needs only a few steps.

    Returns:
      (the finished process, its stdout, its stderr).
    """
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", faults.ENV_VAR)}
    env[stand_ins.NETWORK_ENV_VAR] = stand_ins.SMALL  # the proof does not depend on the depth
    process = subprocess.Popen(
        [sys.executable, "-m", "bench", *args, "--output", str(output)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (output.exists() and output.read_text().count("\n") >= 1):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the first configuration never finished"
        time.sleep(0.1)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return process, stdout, stderr


@pytest.mark.slow
def test_ctrl_c_keeps_finished_rows_and_marks_the_interrupted_one(table_rows, tmp_path, tiny_args):
    """Also runs with --verbose, which lets TensorFlow's C++ log lines through."""
    output = tmp_path / "sweep.jsonl"
    process, stdout, stderr = signal_after_first_record(
        signal.SIGINT, output, "--depth", "50", "--batch", "1", "2", "3", "--mode", "forward",
        *tiny_args, "--no-peak-probe", "--num-batches", "20", "--verbose")

    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert any(not quiet.Quiet().shows(line) for line in stderr.splitlines())
    assert "Interrupted: 1 configuration(s) finished, 1 not run." in stderr
    rows = table_rows(stdout)
    assert [(r["Batch"], r["Status"][:2]) for r in rows] == [("1", "ok"), ("2", "in")]
    assert rows[1]["Status"] == "interrupted (Ctrl-C)"
    assert rows[0]["Images/sec"] != ""
    assert "Not run (sweep interrupted): resnet_v2_50 batch 3 forward" in stdout
    assert re.search(r": resnet_v2_50 batch 2 forward INTERRUPTED: interrupted \(Ctrl-C\)$",
                     stdout, re.MULTILINE)
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(r["config"]["batch_size"], r["status"]) for r in records] == [
        (1, "ok"), (2, "interrupted")]


@pytest.mark.slow
def test_sigterm_stops_the_sweep_like_ctrl_c(table_rows, tmp_path, tiny_args):
    """`kill` or a batch scheduler's SIGTERM: finished rows kept, the running one marked."""
    output = tmp_path / "sweep.jsonl"
    process, stdout, stderr = signal_after_first_record(
        signal.SIGTERM, output, "--depth", "50", "--batch", "1", "2", "--mode", "forward",
        *tiny_args, "--no-peak-probe", "--num-batches", "20")

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


# --- records that cannot be written ------------------------------------------------------------

def test_a_record_that_cannot_be_written_is_one_line_and_the_sweep_goes_on(capsys, tiny_args,
                                                                            table_rows):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    args = ["--batch", "1", *tiny_args, "--no-peak-probe", "--in-process", "--output",
            "/dev/full"]
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "could not be written" in line]
    assert len(warnings) == 2  # one for the record, and the closing count
    assert warnings[0].startswith("python -m bench: warning: the record of resnet_v2_50 batch 1 "
                                  "forward could not be written to /dev/full (No space left on ")
    assert "Traceback" not in captured.err
    assert [row["Status"][:2] for row in table_rows(captured.out)] == ["ok"]


def test_an_output_on_a_virtual_file_system_is_refused_before_tensorflow(run_bench):
    completed = run_bench("--output", "/proc/r.jsonl", "--batch", "1")
    assert completed.returncode == 2
    # Root may "write" /proc, so creating the file is what fails; anyone else is refused first.
    reason = ("No such file or directory" if os.access("/proc", os.W_OK | os.X_OK)
              else "not writable")
    assert completed.stderr == ("python -m bench: error: --output /proc/r.jsonl: cannot create a "
                                f"file in /proc ({reason})\n")


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_json_csv_and_resume_on_one_output(capsys, table_rows, tmp_path, tiny_args):
    """Two in-process runs in all: a JSON run, a --resume with nothing left to run (the table
    shows the record), and a quiet CSV --resume that runs only the missing batch size, appends its
    record and prints both rows."""
    output = tmp_path / "sweep.jsonl"
    common = ["--depth", "50", "--mode", "forward", *tiny_args, "--no-peak-probe", "--in-process",
              "--output", str(output)]
    assert cli.main(["--batch", "1", *common, "--format", "json"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)  # stdout is exactly one JSON record
    assert record["status"] == "ok" and len(record["step_times_s"]) == 2
    assert CLASSIC_SUMMARY.search(captured.err)  # human-readable lines went to stderr
    (first,) = _records(output)
    assert first == record
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", first["sweep_id"])
    assert first["command"] == "python -m bench --batch 1 " + " ".join(common) + " --format json"

    # Nothing left to run: no new record, the table shows the recorded one.
    assert cli.main(["--batch", "1", *common, "--resume"]) == 0
    out = capsys.readouterr().out
    assert (f"Resuming: 1 configuration(s) already recorded ok in {output} "
            f"(sweep {first['sweep_id']}), 0 to run") in out
    assert "Sweep: nothing to run, all 1 configuration(s) already recorded" in out  # header counts
    assert [(row["Batch"], row["Status"]) for row in table_rows(out)] == [("1", "ok (!)")]
    assert len(_records(output)) == 1

    # One more batch size: only it runs, in the same sweep; the CSV has both, in sweep order.
    assert cli.main(["--batch", "2", "1", *common, "--resume", "--format", "csv", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [(row["config.depth"], row["config.batch_size"], row["status"]) for row in rows] == [
        ("50", "2", "ok"), ("50", "1", "ok")]
    assert all(float(row["stats.mean_s"]) > 0 for row in rows)
    records = _records(output)
    assert records[0] == first  # appended, not overwritten
    assert [r["config"]["batch_size"] for r in records] == [1, 2]
    assert records[1]["sweep_id"] == first["sweep_id"]
    assert records[1]["command"].endswith("--resume --format csv --quiet")


@pytest.mark.parametrize("where,extra,expected", [
    ("missing", [], "--data {path}: no such file or folder; expected a folder of TFRecord shards or of "
                    "class sub-folders of images"),
    ("empty", [], "--data {path}: empty folder; expected TFRecord shards or one sub-folder of images per "
                  "class"),
    ("no_images", [], "--data {path}: no TFRecord shards (NAME-00000-of-00004, *.tfrecord) and no images "
                      "in class sub-folders"),
    ("shards", ["--num-classes", "10"], "is outside the model's 1..9 (--num-classes 10; class 0 is the "
                                        "background)"),
    ("shards", ["--num-devices", "4"], "--data {path}: 2 files cannot be split between 4 replicas; give at "
                                       "least one file per replica"),
])
def test_unusable_data_is_one_line_naming_data_and_exit_2(capsys, tmp_path, real_data, where, extra,
                                                          expected):
    path = {"missing": str(tmp_path / "none"), "empty": str(tmp_path), "shards": real_data,
            "no_images": str(tmp_path / "notes")}[where]
    if where == "no_images":
        os.makedirs(tmp_path / "notes" / "a")
        (tmp_path / "notes" / "a" / "readme.txt").write_text("not an image")
    assert cli.main(["--data", path, "--device", "cpu", *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("python -m bench: error: ")
    assert expected.format(path=path) in captured.err


def test_input_mode_with_synthetic_data_is_refused_before_tensorflow(run_bench):
    completed = run_bench("--mode", "forward", "input", "--data", "synthetic", "/some/shards")
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr == ("python -m bench: error: --mode input: times the input pipeline alone, "
                                "and synthetic data has none; give --data PATH\n")


def test_a_real_data_sweep_adds_the_verdict_runs_and_ends_with_the_verdict(capsys, table_rows, real_data,
                                                                            tmp_path, monkeypatch):
    from bench.sweeping import sweep

    calls = []

    def fake_run_one(config, environment, isolate, quiet, progress, limits):
        calls.append(config)
        times = {"forward": [0.010] * 2, "input": [0.002] * 2}[config.mode]
        if not config.real_data:
            times = [0.008] * 2  # synthetic: 25% faster than real data, so input-bound
        from bench.results.measurement import Measurement
        from bench.results.result import BenchmarkResult

        return BenchmarkResult(config=config, measurement=Measurement(times, [0.1], sum(times)),
                               param_count=1, environment=environment)

    monkeypatch.setattr(sweep, "_run_one", fake_run_one)
    output = tmp_path / "r.jsonl"
    assert cli.main(["--data", real_data, "--batch", "2", "--image-size", "32", "--num-batches", "2",
                     "--burn-in", "1", "--device", "cpu", "--in-process", "--output", str(output)]) == 0
    assert [(c.mode, c.data) for c in calls] == [("forward", real_data), ("forward", "synthetic"),
                                                 ("input", real_data)]
    assert all(c.num_classes == 1001 for c in calls)  # real data: TF-Slim's 1001 classes by default
    out = capsys.readouterr().out
    rows = table_rows(out.split("Does the input pipeline keep up?")[0])
    assert [row["Data"] for row in rows] == [real_data, "synthetic", real_data]
    verdict = table_rows(out.split("Does the input pipeline keep up?")[1])
    assert verdict == [{"Depth": "50", "Batch": "2", "Mode": "forward", "Real data (img/s)": "200.00",
                        "Synthetic (img/s)": "250.00", "Pipeline alone (img/s)": "1000.00",
                        "Real / synthetic": "0.80", "Verdict": "input-bound"}]
    assert len(_records(output)) == 3


@pytest.mark.slow
def test_a_real_data_forward_step_through_a_child(run_bench, real_data, tmp_path):
    # Slow: three children (real data, synthetic, the pipeline alone on a private thread pool);
    # the fast suite measures the real-data steps and the pipeline alone in process
    # (tests/bench/measuring/test_measure.py) and the verdict rows of a sweep (above).
    output = tmp_path / "r.jsonl"
    completed = run_bench("--data", real_data, "--mode", "forward", "--depth", "50", "--image-size", "32",
                          "--batch", "2", "--num-batches", "2", "--burn-in", "1", "--device", "cpu",
                          "--data-threads", "2", "--no-peak-probe", "--output", str(output),
                          small_network=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    (real, synthetic, alone) = _records(output)
    assert real["extra"]["data"]["source"]["num_images"] == 8 and real["config"]["data"] == real_data
    assert real["extra"]["data"]["skipped_images"] == 0 and real["config"]["num_classes"] == 1001
    assert real["config"]["data_threads"] == 2 and real["extra"]["data"]["threads"] == 2
    assert "data" not in synthetic["config"] and "data" not in synthetic["extra"]
    assert "data_threads" not in synthetic["config"]
    assert alone["config"]["mode"] == "input" and alone["extra"]["data"]["pipeline"] == "training"
    assert alone["extra"]["data"]["threads"] == 2 and alone["model"]["param_count"] == 0
    assert alone["extra"]["flops"]["per_step"] is None
    assert "Does the input pipeline keep up?" in completed.stdout
    assert completed.stdout.rstrip().splitlines()[-1].startswith("Verdict: input-bound where real data")


def test_breakdown_runs_after_the_measured_steps_and_is_recorded(run_bench, tmp_path):
    """One child (the stand-in network, train, the units level): the record's breakdown has every
    part, the measured steps are the ones asked for, the output has its tables and its time."""
    output = tmp_path / "breakdown.jsonl"
    completed = run_bench("--depth", "50", "--batch", "2", "--image-size", "32", "--mode", "train",
                          "--num-batches", "3", "--burn-in", "1", "--device", "cpu", "--no-peak-probe",
                          "--breakdown", "units", "--output", str(output), small_network=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    (record,) = _records(output)
    assert record["config"]["breakdown"] == "units" and len(record["step_times_s"]) == 3
    found = record["extra"]["breakdown"]
    assert found["version"] == 1 and found["available"] and found["traced_steps"] == 3
    names = [part["name"] for part in found["parts"]]
    assert names[:4] == ["root", "block1/unit_1", "block2/unit_1", "head"]
    assert {"loss", "optimizer"} <= set(names)
    assert sum(p["forward_flops"] + p["backward_flops"] for p in found["parts"]) == (
        record["extra"]["flops"]["per_step"])
    assert record["phases_s"]["breakdown"] > 0
    assert "  breakdown: 3 fully traced steps after the measured ones" in completed.stdout
    assert "Where the time goes (--breakdown" in completed.stdout


def test_auto_steps_stop_on_their_own_and_say_why(capsys, tmp_path, monkeypatch):
    """--num-batches auto through the command line in this process (the stand-in network: the
    proof is the loop's, not the depth's), a forward and a train configuration: each measures at
    least the floor, stops on the target or the budget, and says so in the record and the output."""
    from bench.core import stand_ins

    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, stand_ins.SMALL)
    output = tmp_path / "auto.jsonl"
    assert cli.main(["--batch", "1", "--mode", "forward", "train", "--image-size", "32",
                     "--num-classes", "10", "--burn-in", "1", "--device", "cpu", "--no-peak-probe",
                     "--in-process", "--num-batches", "auto", "--target-ci", "20", "--max-time", "2",
                     "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert ("measured steps until the 95% CI of the mean step is within 20% (at least 10 steps; at most "
            "2 s unless those take longer)") in out
    for record in _records(output):
        assert (record["config"]["num_batches"], record["config"]["target_ci"]) == ("auto", 20.0)
        stop = record["extra"]["stop"]
        assert stop["reason"] in ("target", "time") and stop["steps"] == record["stats"]["num_steps"] >= 10
        assert (stop["target_ci_pct"], stop["max_time_s"]) == (20.0, 2.0)
        assert f"  stopped after {stop['steps']} steps: " in out
