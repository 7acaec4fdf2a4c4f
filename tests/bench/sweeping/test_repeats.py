"""--repeat: the interleaved order, one record per process, a failed process among the others, and
the summary over processes; the real command once (one tiny sweep shared by the module), the rest
on records built from fixed step times."""

import json
import re

import pytest

from bench.core import faults
from bench.core.config import BenchmarkConfig
from bench.results.result import BenchmarkResult, Failure, Repeat
from bench.sweeping import repeats
from bench.verbs import cli

A, B, C = (BenchmarkConfig(depth=50, batch_size=batch) for batch in (1, 2, 4))


def test_runs_are_interleaved_across_the_sweep():
    runs = repeats.interleave([A, B, C], 3)
    assert [(config.batch_size, repeat.index) for config, repeat in runs] == [
        (1, 1), (2, 1), (4, 1), (1, 2), (2, 2), (4, 2), (1, 3), (2, 3), (4, 3)]
    assert {repeat.count for _, repeat in runs} == {3}
    assert repeats.interleave([A, B], 1) == [(A, None), (B, None)]  # a plain sweep


def test_the_repeat_count_is_checked():
    assert repeats.count_problem(0, False) == "--repeat 0: must be a positive integer"
    assert "drop --in-process" in repeats.count_problem(2, True)
    assert repeats.count_problem(1, True) is None and repeats.count_problem(5, False) is None


@pytest.mark.parametrize("args, message", [
    (["--repeat", "0"], "--repeat 0: must be a positive integer"),
    (["--repeat", "-2"], "--repeat -2: must be a positive integer"),
    (["--repeat", "3", "--in-process"], "--repeat 3: each repeat is its own child process"),
    (["--repeat", "two"], "argument --repeat: invalid int value: 'two'"),
])
def test_a_bad_repeat_count_is_one_line_and_exit_2(capsys, args, message):
    assert cli.main(args) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"python -m bench: error: {message}")


def test_the_schedule_tags_results_in_run_order(make_measured):
    schedule = repeats.Schedule([A, B], 2)
    assert [c.batch_size for c in schedule.configs] == [1, 2, 1, 2]
    assert schedule.start_note(3) == " (repeat 2/2)"
    results = [make_measured(50, config.batch_size, "forward", [0.1] * 3) for config in schedule.configs]
    for result in results:
        schedule.tag(result)
    assert [r.repeat for r in results] == [Repeat(1, 2), Repeat(1, 2), Repeat(2, 2), Repeat(2, 2)]
    record = results[2].to_record()
    assert record["repeat"] == {"index": 2, "count": 2}
    assert BenchmarkResult.from_record(record).repeat == Repeat(2, 2)
    assert "repeat" not in make_measured(50, 1, "forward", [0.1]).to_record()  # as before --repeat
    assert repeats.Schedule([A], 1).start_note(1) == ""


def repeated(result, index, count):
    result.repeat = Repeat(index, count)
    return result


def test_summary_over_processes_counts_the_measured_ones_and_names_the_failed_one(
        make_measured, make_failed, table_rows):
    results = [
        repeated(make_measured(50, 8, "forward", [0.100, 0.102, 0.098, 0.101] * 5), 1, 3),
        repeated(make_failed(50, 8, "forward", Failure("signal", "killed by signal 9 (SIGKILL)")), 2, 3),
        repeated(make_measured(50, 8, "forward", [0.099, 0.101, 0.100, 0.102] * 5), 3, 3),
    ]
    lines = repeats.summary_lines(results)
    (row,) = table_rows("\n".join(lines))
    assert row["Runs ok"] == "2 of 3" and row["Runs agree"] == "yes"
    # batch / the mean of the two process means (0.10025 and 0.1005).
    assert row["Images/sec (over runs)"] == f"{8 / ((0.10025 + 0.1005) / 2):.2f}"
    low, high = (float(value) for value in row["95% CI"].split(" to "))
    assert low < float(row["Images/sec (over runs)"]) < high
    warnings = [line for line in lines if line.startswith("WARNING: ")]
    assert warnings == ["WARNING: resnet_v2_50 batch 8 forward: 1 of 3 processes failed (run 2/3: "
                        "killed by signal 9 (SIGKILL)); the summary uses the 2 that measured"]
    table = repeats.process_table(results)
    assert [r["Run"] for r in table_rows(table)] == ["1/3", "2/3", "3/3"]
    assert "Relative" not in table


def test_processes_that_disagree_are_warned_about(make_measured, table_rows):
    steady = [0.100, 0.101, 0.099, 0.100] * 5
    results = [repeated(make_measured(50, 8, "forward", [step * scale for step in steady]), index, 3)
               for index, scale in enumerate((1.0, 1.1, 0.9), start=1)]
    lines = repeats.summary_lines(results)
    (row,) = table_rows("\n".join(lines))
    assert row["Runs agree"].startswith("no (p = ") and row["Between runs"] == "10.0%"
    (warning,) = [line for line in lines if line.startswith("WARNING: ")]
    assert "its processes disagree more than their step noise explains" in warning
    assert "F = " in warning and "on 2 and 27 df" in warning


@pytest.fixture(scope="module")
def repeated_sweep(tmp_path_factory, run_bench, tiny_args):
    """`--batch 1 --repeat 2` through real children, the first process killed (SIGKILL) by the fault
    injector: (completed process, records). Two processes only: interleaving across configurations
    is the pure `interleave`, tested above."""
    folder = tmp_path_factory.mktemp("repeats")
    output = folder / "runs.jsonl"
    completed = run_bench(
        "--depth", "50", "--batch", "1", "--repeat", "2", *tiny_args, "--num-batches", "4",
        "--no-peak-probe", "--output", str(output), timeout=600, small_network=True,
        env_extra={faults.ENV_VAR: "kill-once:50:1:forward",
                   faults.ONCE_ENV_VAR: str(folder / "killed-once")})
    return completed, [json.loads(line) for line in output.read_text().splitlines()]


@pytest.mark.slow
def test_a_repeated_configuration_survives_a_killed_process(repeated_sweep, table_rows):
    completed, records = repeated_sweep
    assert completed.returncode == 1, completed.stderr  # a process failed
    assert [(r["repeat"], r["status"]) for r in records] == [
        ({"index": 1, "count": 2}, "failed"), ({"index": 2, "count": 2}, "ok")]
    assert records[0]["failure"]["signal"] == 9 and len(records[1]["step_times_s"]) == 4
    starts = re.findall(r"^== \[(\d)/2\] resnet_v2_50 batch 1 forward \(repeat (\d)/2\)$",
                        completed.stdout, re.MULTILINE)
    assert starts == [("1", "1"), ("2", "2")]
    assert "Sweep: 1 configuration(s)" in completed.stdout
    assert "Repeats: each configuration in 2 child processes, interleaved" in completed.stdout
    # The measured process ends with tf_cnn_benchmarks' closing line and the latency line.
    totals = re.findall(r"^total images/sec: (\d+\.\d\d)$", completed.stdout, re.MULTILINE)
    assert totals == [f"{records[1]['stats']['total_images_per_sec']:.2f}"]
    assert re.search(r"^  latency: p50 [\d.]+ s, p90 [\d.]+ s, p99 [\d.]+ s, jitter [\d.]+ s "
                     r"\(1.4826 x MAD\); mean [\d.]+ s, standard error [\d.]+ s, 95% CI [\d.]+ to "
                     r"[\d.]+ s \(t, 4 batch means\)$", completed.stdout, re.MULTILINE)
    process_part, summary_part = completed.stdout.split("Summary over repeated processes:")
    process_rows = table_rows(process_part)
    assert [(r["Run"], r["Status"]) for r in process_rows] == [
        ("1/2", "killed by signal 9 (SIGKILL)"), ("2/2", "ok (!)")]
    (summary,) = table_rows(summary_part)
    assert summary["Runs ok"] == "1 of 2"
    assert summary["Images/sec (over runs)"] == f"{1 / records[1]['stats']['mean_s']:.2f}"
    assert ("WARNING: resnet_v2_50 batch 1 forward: 1 of 2 processes failed (run 1/2: killed by "
            "signal 9 (SIGKILL)); the summary uses the 1 that measured") in completed.stdout
