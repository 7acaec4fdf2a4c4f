"""`--batch max` (bench/sweeping/batch_max.py): refused where it cannot run, how a try's result counts, the
lines, rows and records of a search, Ctrl-C during one, and one real search on the CPU under a
memory limit."""

import dataclasses
import json
import signal
import subprocess
import sys

import pytest

import bench
from bench.core import batch_search, faults, quality_settings
from bench.core.batch_search import FAILED, FIT, NO_FIT, SearchFacts, SearchSettings, Try
from bench.core.config import BenchmarkConfig
from bench.core.limits import Limits
from bench.output import plot_data, report, table
from bench.results import failures
from bench.results.result import Failure
from bench.sweeping import batch_max, sweep
from bench.verbs import cli

ONE_LINE = "python -m bench: error: "
SEARCH = "resnet_v2_50 batch max forward"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--batch", "max", "8"], "--batch max 8: max searches for the largest batch: give it alone"),
        (["--batch", "8", "max"], "--batch 8 max: max searches for the largest batch: give it alone"),
        (
            ["--batch", "max", "--device", "cpu"],
            "--batch max: on the CPU needs --memory-limit SIZE (without it the search grows until the "
            "machine swaps)",
        ),
        (
            ["--batch", "max", "--memory-limit", "2GiB", "--in-process"],
            "--batch max: runs each try in its own child process: drop --in-process",
        ),
        (
            ["--batch", "MAX", "--memory-limit", "2GiB", "--resume", "--output", "/tmp/never.jsonl"],
            "--batch max: not with --resume (a search is run again in full)",
        ),
        (
            ["--batch", "max", "--memory-limit", "2GiB", "--trace", "step.json"],
            "--batch max: not with --trace (trace a batch size you give)",
        ),
        (["--batch", "max:4", "8"], "--batch max:4 8: max searches for the largest batch: give it alone"),
        (
            ["--batch", "max:0"],
            "argument --batch: 'max:0': max:N starts the search at batch N, a whole number from 1 to 65536",
        ),
        (
            ["--batch", "Max:16", "--memory-limit", "2GiB", "--trace", "step.json"],
            "--batch max:16: not with --trace (trace a batch size you give)",
        ),
        (
            ["--batch", "max:16", "--memory-limit", "2GiB", "--repeat", "2"],
            "--batch max:16: one search per configuration; drop --repeat",
        ),
        (
            ["--batch", "maximal"],
            "argument --batch: 'maximal': not a batch size; give whole numbers, or max (max:N to start "
            "the search at N)",
        ),
    ],
)
def test_bad_batch_max_is_one_line_and_exit_code_2(capsys, args, expected):
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ONE_LINE + expected + "\n"


def test_refusals_come_before_tensorflow():
    code = (
        "import sys; from bench.verbs import cli; "
        "codes = [cli.main(['--batch', 'max', '8']), cli.main(['--batch', 'max', '--device', 'cpu'])]; "
        "print(codes, 'tensorflow' in sys.modules)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.stdout.strip() == "[2, 2] False", completed.stderr


def test_on_a_cpu_found_by_auto_it_needs_a_memory_limit(capsys):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    assert cli.main(["--batch", "max"]) == 2
    assert capsys.readouterr().err == (
        ONE_LINE + "--batch max: on the CPU needs --memory-limit SIZE (without it the search grows "
        "until the machine swaps)\n"
    )


def test_what_a_try_counts_as(make_measured, make_failed):
    assert batch_max.outcome_of(make_measured(50, 8, "forward", [0.1, 0.1])) == Try(8, FIT, "fits")
    bound = Limits(memory_bytes=2**30)
    over = failures.over_memory_limit(bound, 2**30 + 2**20, -9, [])
    oom = make_failed(50, 16, "forward", over)
    assert batch_max.outcome_of(oom) == Try(
        16, NO_FIT, "over the memory limit (1 GiB): peak 1.001 GiB resident"
    )
    # A crash under a bound does not fit either; the same crash without one stops the search.
    crashed = failures.under_memory_limit(failures.from_exit(-11, []), bound, 2**29)
    assert batch_max.outcome_of(make_failed(50, 16, "forward", crashed)) == Try(
        16, NO_FIT, "crashed at the memory bound (SIGSEGV): most likely out of memory"
    )
    segv = make_failed(50, 16, "forward", failures.from_exit(-11, []))
    assert batch_max.outcome_of(segv) == Try(16, FAILED, "killed by signal 11 (SIGSEGV)")
    killed = make_failed(50, 16, "forward", Failure("signal", "killed by signal 9 (SIGKILL)", -9, 9))
    assert batch_max.outcome_of(killed) == Try(16, FAILED, "killed by signal 9 (SIGKILL)")
    error = make_failed(50, 4, "forward", Failure("error", "ValueError: bad"))
    assert batch_max.outcome_of(error).outcome == FAILED


def test_a_search_bisects_over_fits_a_watch_stop_and_a_crash_under_a_bound(make_measured, make_failed):
    """Scripted tries: up to 12 fits, 14 and 13 the watch stops above the bound, 16 crashes at
    it; the crash is a no-fit like the others, so the search bisects to 12."""
    bound = Limits(memory_bytes=2**30)
    crash = failures.under_memory_limit(failures.from_exit(-11, []), bound, 2**29)
    over = failures.over_memory_limit(bound, 2**30 + 2**20, -9, [])

    def outcome(size):
        if size <= 12:
            return batch_max.outcome_of(make_measured(50, size, "forward", [0.1, 0.1]))
        return batch_max.outcome_of(make_failed(50, size, "forward", crash if size == 16 else over))

    tries = batch_search.run_search(outcome)
    assert [(t.batch_size, t.outcome) for t in tries] == [
        (1, FIT), (2, FIT), (4, FIT), (8, FIT), (16, NO_FIT), (12, FIT), (14, NO_FIT), (13, NO_FIT)
    ]
    assert (batch_search.largest_fit(tries), batch_search.ending(tries)) == (12, "boundary")


@pytest.mark.slow  # fast: the rule and its words (the test below, test_batch_search)
def test_a_try_that_fails_otherwise_stops_the_search_and_the_largest_so_far_is_measured(
    run_bench, table_rows, tmp_path
):
    """Batch 2 raises a Python error (not memory): the search stops there, batch 1 (the largest
    that fitted) is measured with the sweep's steps, the record keeps both tries, and the exit
    status says something failed."""
    output = tmp_path / "search.jsonl"
    flags = "--batch max --image-size 32 --memory-limit 2GiB --device cpu --num-batches 3 --burn-in 1"
    fault = {faults.ENV_VAR: "error:50:2:*"}
    completed = run_bench(*flags.split(), "--no-peak-probe", "--output", str(output), small_network=True,
                          env_extra=fault)
    assert completed.returncode == 1, completed.stderr
    *tries, largest = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(t["config"]["batch_size"], t["status"]) for t in tries] == [(1, "ok"), (2, "failed")]
    found = largest["batch_search"]
    assert (found["largest"], found["ended"], len(found["tries"])) == (1, "failed", 2)
    assert largest["status"] == "ok" and len(largest["step_times_s"]) == 3
    (row,) = table_rows(completed.stdout)
    assert row["Batch"] == "max 1 (so far)" and row["Status"].startswith("ok")
    assert f"{SEARCH}: largest batch 1 so far (a try failed and the search stopped)" in completed.stdout


def test_a_search_stopped_by_a_failed_try_answers_with_the_largest_so_far(make_measured, make_failed):
    tries = (Try(1, FIT, "fits"), Try(2, FIT, "fits"), Try(4, FAILED, "error: ValueError: bad"))
    runner = batch_max.Runner({})
    facts = runner._facts(BenchmarkConfig(), list(tries))
    assert (facts.largest, facts.ended, facts.batch_cell()) == (2, "failed", "max 2 (so far)")
    result = make_measured(50, 2, "forward", [0.1] * 4)
    result.batch_search = facts
    head = report.summary_lines(result)[0]
    assert head.endswith(
        f"{SEARCH}: largest batch 2 so far (a try failed and the search stopped), 20.00 images/sec "
        "(tries: 1, 2 fit; 4 failed (error: ValueError: bad))"
    )
    # Measured, yet the sweep's exit status says a try failed.
    assert sweep.SweepOutcome([result], []).any_failed
    result.batch_search = runner._facts(BenchmarkConfig(), [Try(1, FIT), Try(2, NO_FIT)])
    assert not sweep.SweepOutcome([result], []).any_failed


class ScriptedRunner(batch_max.Runner):
    """A Runner whose children are scripted: a real child cannot be made to fit in its short try
    and not in its full run on demand. `fits(config)` says whether a run fits."""

    def __init__(self, fits, make_measured, make_failed):
        super().__init__({})
        self.fits, self.make_measured, self.make_failed = fits, make_measured, make_failed
        self.runs = []

    def _run_child(self, config, progress):
        self.runs.append((config.batch_size, config.num_batches))
        if self.fits(config):
            return self.make_measured(50, config.batch_size, "forward", [0.1] * config.num_batches)
        over = failures.over_memory_limit(Limits(memory_bytes=2**30), 2**30 + 2**20, -9, [])
        return self.make_failed(50, config.batch_size, "forward", over)


def test_a_largest_batch_whose_full_run_does_not_fit_is_a_no_fit_and_the_search_goes_on(
    make_measured, make_failed
):
    """Tries (2 steps) fit up to 12; full runs (10 steps) only up to 10, as a full run's peak probe
    can make it: each full run over the bound is one more no-fit, and the search ends measuring 10."""
    delivered = []

    def fits(config):
        return config.batch_size <= (12 if config.num_batches == 2 else 10)

    runner = ScriptedRunner(fits, make_measured, make_failed)
    runner.on_try = delivered.append
    result = runner.run(BenchmarkConfig(batch_size=1, num_batches=10))
    assert result.ok and result.config.batch_size == 10
    full_runs = [size for size, steps in runner.runs if steps == 10]
    assert full_runs == [12, 11, 10]
    facts = result.batch_search
    assert (facts.largest, facts.ended) == (10, "boundary")
    fit, no, full = FIT, NO_FIT, "full run"
    assert [(t.batch_size, full if t.full_run else t.outcome) for t in facts.tries] == [
        (1, fit), (2, fit), (4, fit), (8, fit), (16, no), (12, fit), (14, no), (13, no),
        (12, full),  # a no-fit in its full run
        (10, fit), (11, fit),
        (11, full),
    ]
    assert batch_search.follows_rule(facts.tries)
    assert all(t.outcome == NO_FIT for t in facts.tries if t.full_run)
    # Every run is recorded: the tries and the full runs that did not fit, in order.
    assert [r.batch_search.tries[0] for r in delivered] == list(facts.tries)


def test_max_n_starts_each_search_at_n(make_measured, make_failed):
    limits = Limits(memory_bytes=2**30)
    settings = batch_max.requested(["max:16"], "cpu", limits, False, False, None)
    assert settings == SearchSettings(start=16)
    assert batch_max.requested(["max"], "cpu", limits, False, False, None) == SearchSettings(start=1)
    assert batch_max.requested([8, 16], "cpu", limits, False, False, None) is None
    assert "doubling from 16 (at most 65536)" in batch_max.header_lines(settings, limits)[0]
    runner = ScriptedRunner(lambda config: config.batch_size <= 20, make_measured, make_failed)
    runner.settings = settings
    result = runner.run(BenchmarkConfig(batch_size=16, num_batches=10))
    assert [size for size, _ in runner.runs] == [16, 32, 24, 20, 22, 21, 20]  # the last: its full run
    assert (result.batch_search.largest, result.batch_search.settings.start) == (20, 16)


def test_a_try_config_is_short_with_the_sweeps_peak_probe():
    config = BenchmarkConfig(batch_size=1, num_batches=100, burn_in=10, trace="t.json")
    tried = batch_max.try_config(config, 24, SearchSettings(try_burn_in=1, try_steps=3))
    assert (tried.batch_size, tried.burn_in, tried.num_batches) == (24, 1, 3)
    assert tried.peak_probe is config.peak_probe and tried.trace is None
    bf16 = batch_max.try_config(dataclasses.replace(config, precision="bf16"), 24, SearchSettings())
    assert not quality_settings.wants_untimed_pass(bf16)  # no agreement pass in a try
    assert batch_max.as_search(config).label == SEARCH


def searched(make_measured, make_failed, largest=5):
    """The records of a search that found `largest` (sizes to 2x largest tried), in order."""
    tries = batch_search.run_search(
        lambda size: Try(
            size,
            FIT if size <= largest else NO_FIT,
            "fits" if size <= largest else "over the memory limit (1 GiB)",
        )
    )
    results = []
    for index, attempt in enumerate(tries, start=1):
        if attempt.outcome == FIT:
            result = make_measured(50, attempt.batch_size, "forward", [0.1, 0.1], (0.5,))
        else:
            result = make_failed(
                50,
                attempt.batch_size,
                "forward",
                Failure("oom", "over the memory limit (1 GiB)", limit="memory limit 1 GiB"),
            )
        result.batch_search = SearchFacts(batch_search.ROLE_TRY, SEARCH, (attempt,), index=index)
        results.append(result)
    final = make_measured(50, largest, "forward", [0.2] * 12)
    final.batch_search = SearchFacts(
        batch_search.ROLE_LARGEST, SEARCH, tuple(tries), largest=largest, ended=batch_search.ending(tries)
    )
    return results + [final]


def test_lines_rows_and_records_of_a_search(make_measured, make_failed, table_rows, records_file):
    results = searched(make_measured, make_failed)
    lines = [report.summary_lines(result) for result in results]
    assert lines[0] == ["  try batch 1: fits (2 steps, 10.00 images/sec)"]
    assert lines[3] == ["  try batch 8: does not fit: over the memory limit (1 GiB)"]
    head, classic, *_ = lines[-1]
    assert head.endswith(
        f": {SEARCH}: largest batch 5, 25.00 images/sec (tries: 1, 2, 4 fit; 8, 6 OOM; 5 fit)"
    )
    assert " Forward across 12 steps, 0.200 +/- 0.000 sec / batch" in classic
    rows = table_rows(table.table(results[-1:]))
    assert [(r["Batch"], r["Images/sec"], r["Relative"], r["Status"]) for r in rows] == [
        ("max 5", "25.00", "1.00", "ok")
    ]
    assert "Batch max N: the largest batch that fits" in "\n".join(table.footnotes(results[-1:], []))
    # A file with every record: the tries say they are tries, and a plot leaves them out.
    path = records_file("search.jsonl", results)
    loaded = bench.results.records.read_records(path)
    assert [r.batch_search for r in loaded] == [r.batch_search for r in results]
    assert [r["Batch"] for r in table_rows(table.table(loaded))][:2] == ["1 (try)", "2 (try)"]
    recorded = json.loads(open(path, encoding="utf-8").read().splitlines()[-1])["batch_search"]
    assert (recorded["role"], recorded["largest"], recorded["ended"]) == ("largest", 5, "boundary")
    assert [t["batch_size"] for t in recorded["tries"]] == [1, 2, 4, 8, 6, 5]
    (source,) = plot_data.read_sources([path])
    assert [entry.result.config.batch_size for entry in source.entries] == [5]


def test_the_largest_of_two_depths_compare_and_a_failed_search_says_why(
    make_measured, make_failed, table_rows
):
    first = searched(make_measured, make_failed, largest=5)[-1]
    deeper = make_measured(101, 3, "forward", [0.3] * 12)
    deeper.batch_search = SearchFacts(
        batch_search.ROLE_LARGEST,
        "resnet_v2_101 batch max forward",
        (Try(1, FIT), Try(2, FIT), Try(4, NO_FIT), Try(3, FIT)),
        largest=3,
        ended="boundary",
    )
    none = make_failed(
        152, 1, "forward", Failure("oom", "over the memory limit (1 GiB)", limit="memory limit 1 GiB")
    )
    none.batch_search = SearchFacts(
        batch_search.ROLE_LARGEST,
        "resnet_v2_152 batch max forward",
        (Try(1, NO_FIT, "over the memory limit (1 GiB)"),),
        ended="none fits",
    )
    rows = table_rows(table.table([first, deeper, none]))
    assert [(r["Batch"], r["Relative"], r["Status"]) for r in rows] == [
        ("max 5", "1.00", "ok"),
        ("max 3", "0.40", "ok"),
        ("max", "", "over the memory limit (1 GiB)"),
    ]
    (line,) = report.summary_lines(none)
    assert line.endswith(": resnet_v2_152 batch max forward: no batch fits (tries: 1 OOM)")


def test_ctrl_c_during_a_search_keeps_its_finished_tries(tiny, environment_info, python_ctrl_c):
    # Prepared by hand (device and layout resolved), so only the try's child imports TensorFlow.
    configs = [BenchmarkConfig(**dict(tiny, peak_probe=False, data_format="NHWC"))]
    environment = environment_info
    delivered = []

    def press_ctrl_c_after_the_first_try(result):
        delivered.append(result)
        signal.raise_signal(signal.SIGINT)  # held back until the try is delivered

    runner = batch_max.Runner(environment, SearchSettings(), on_try=press_ctrl_c_after_the_first_try)
    outcome = sweep.run_sweep(configs, environment, run_one=runner.run, on_result=delivered.append)
    assert outcome.interrupted
    first, interrupted = delivered
    assert first.ok and first.batch_search.role == batch_search.ROLE_TRY and first.config.batch_size == 1
    assert outcome.results == [interrupted] and interrupted.status == "interrupted"
    facts = interrupted.batch_search
    assert (facts.role, facts.ended, facts.largest) == (batch_search.ROLE_LARGEST, "interrupted", None)
    assert facts.tries == (Try(1, FIT, "fits"),)
    (line,) = report.summary_lines(interrupted)
    assert line.endswith(f": {SEARCH}: interrupted (tries: 1 fit)")


@pytest.mark.slow  # fast: the search rule (test_batch_search), one real try (the Ctrl-C test above)
def test_a_real_search_on_the_cpu_under_a_memory_limit(run_bench, table_rows, tmp_path):
    """The children build the stand-in network (the search, the bound and the processes are what
    is tested, not resnet_v2_50's footprint; it halves the test's time). At 224 px its forward step
    holds about 7 MiB per image on top of the 0.6 GiB a child holds anyway, so under 1 GiB the
    boundary is near batch 59. The search starts at 16 (max:16: the tries 1 to 8 would prove
    nothing more), so about 8 tries, one child each. Near the bound the largest batch's full run
    may go over it where its try did not: one more no-fit, marked as the full run, and the search
    goes on below it (in one run of resnet_v2_50 at 299 px fits were fuzzy near the bound: 32
    fitted, then its full run and 24 did not; 17 tries). Whatever the kernels do when memory runs
    out (oneDNN's crashed, TensorFlow's raised an error under the old RLIMIT_DATA bound), the
    parent stops a try above the bound, so every no-fit is 'over the memory limit' and the search
    ends with a largest batch and exit status 0."""
    output = tmp_path / "search.jsonl"
    flags = (
        "--batch max:16 --image-size 224 --memory-limit 1GiB --device cpu --num-batches 1 --burn-in 0 "
        "--no-peak-probe"
    )
    completed = run_bench(*flags.split(), "--output", str(output), small_network=True, timeout=1200)
    assert completed.returncode == 0, completed.stderr
    records = [json.loads(line) for line in output.read_text().splitlines()]
    *tries, largest = records
    facts = [r["batch_search"] for r in tries]
    assert [f["role"] for f in facts] == [batch_search.ROLE_TRY] * len(tries) and len(tries) <= 12
    assert [f["index"] for f in facts] == list(range(1, len(tries) + 1))
    # Each try is the one the search's rule asks for after the tries before it (near the bound a
    # largest batch's full run can go over it, which is one more no-fit: `follows_rule`).
    seen = [Try.from_dict(f) for f in facts]
    settings = SearchSettings(start=16)
    assert [SearchSettings.from_dict(f["settings"]) for f in facts] == [settings] * len(facts)
    assert seen[0].batch_size == 16
    assert batch_search.follows_rule(seen, settings) and batch_search.next_size(seen, settings) is None
    # Fits are measured tries; no-fits are out-of-memory failures under the limit.
    for record, attempt in zip(tries, seen, strict=True):
        assert record["config"]["batch_size"] == attempt.batch_size
        steps = (1, 0) if attempt.full_run else (2, 1)
        assert (record["config"]["num_batches"], record["config"]["burn_in"]) == steps
        if attempt.outcome == FIT:
            assert record["status"] == "ok" and len(record["step_times_s"]) == 2
        else:
            assert attempt.outcome == NO_FIT, record["failure"]
            assert record["failure"]["kind"] == "oom"
            assert record["failure"]["limit"] == "memory limit 1 GiB"
            assert record["failure"]["message"].startswith("over the memory limit (1 GiB): ")
    # The result: the largest fit, whose neighbour above did not fit, measured with the sweep's
    # own steps.
    found = largest["batch_search"]
    biggest = batch_search.largest_fit(seen)
    expected = (batch_search.ROLE_LARGEST, biggest, "boundary")
    assert (found["role"], found["largest"], found["ended"]) == expected
    assert [Try.from_dict(t) for t in found["tries"]] == seen
    assert any(t.batch_size == biggest + 1 and t.outcome == NO_FIT for t in seen)
    assert largest["status"] == "ok" and largest["config"]["batch_size"] == biggest
    assert (largest["config"]["num_batches"], len(largest["step_times_s"])) == (1, 1)
    (row,) = table_rows(completed.stdout)
    assert row["Batch"] == f"max {biggest}" and row["Status"].startswith("ok")
    assert f"{SEARCH}: largest batch {biggest}, {row['Images/sec']} images/sec" in completed.stdout
