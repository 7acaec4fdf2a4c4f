"""`python -m bench compare`: exit codes of the CI gate, output formats, help, and one line with exit
status 2 for every bad input (synthetic records; the real command only for --help)."""

import csv
import io
import json
import math
import os
import subprocess
import sys

import pytest

from bench.results import records
from bench.verbs import cli

PROG = "python -m bench compare"


def steps(rng, mean_s, size=40, spread=0.03):
    return list(rng.lognormal(math.log(mean_s), spread, size=size))


@pytest.fixture
def files(tmp_path, rng, make_measured):
    """base.jsonl, slower.jsonl (depth 50 ~12% slower, 101 unchanged), faster.jsonl (~10% faster)."""

    def write(name, means, **settings):
        path = tmp_path / name
        results = [make_measured(depth, 8, "forward", steps(rng, mean), **settings)
                   for depth, mean in zip((50, 101), means, strict=True)]
        path.write_text("".join(records.json_line(result) + "\n" for result in results))
        return str(path)

    return {"base": write("base.jsonl", (0.100, 0.200)),
            "slower": write("slower.jsonl", (0.112, 0.200)),
            "faster": write("faster.jsonl", (0.090, 0.180), intra_op_threads=2)}


def run(capsys, *args):
    status = cli.main(["compare", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_table_gives_ratios_verdicts_and_the_geometric_mean(capsys, files, table_rows):
    status, out, err = run(capsys, files["base"], files["slower"])
    assert (status, err) == (0, "")
    rows = table_rows(out)
    assert list(rows[0]) == ["Depth", "Batch", "Mode", "base.jsonl (images/sec)", "slower.jsonl (images/sec)",
                             "Ratio (95% CI)", "Verdict"]
    assert [(r["Depth"], r["Verdict"]) for r in rows] == [("50", "slower"),
                                                          ("101", "no significant difference")]
    ratio, interval = rows[0]["Ratio (95% CI)"].split(" ", 1)
    low, high = (float(value) for value in interval.strip("()").split(" to "))
    assert low < float(ratio) < high < 1
    assert float(ratio) == pytest.approx(float(rows[0]["slower.jsonl (images/sec)"])
                                         / float(rows[0]["base.jsonl (images/sec)"]), abs=2e-3)
    assert "Geometric mean of the ratios, slower.jsonl / base.jsonl: " in out
    assert "(0 faster, 1 slower, 1 no significant difference)" in out


def test_three_files_each_against_the_first_with_differing_settings(capsys, files, table_rows):
    status, out, _ = run(capsys, files["base"], files["slower"], files["faster"])
    assert status == 0
    rows = table_rows(out.split("\n\n")[0])
    assert [r["faster.jsonl: verdict"] for r in rows] == ["faster", "faster"]
    assert [r["slower.jsonl: verdict"] for r in rows] == ["slower", "no significant difference"]
    assert "Settings that differ:" in out
    assert "| --intra-op-threads | default      | default        | 2              |" in out


@pytest.mark.parametrize("percent, status", [("5", 1), ("0", 1), ("20", 0)])
def test_the_ci_gate_exits_1_only_beyond_the_allowed_slowdown(capsys, files, percent, status):
    got, _, err = run(capsys, files["base"], files["slower"], "--fail-if-slower", percent)
    assert got == status
    if status:
        (line,) = err.splitlines()
        assert line.startswith(f"{PROG}: resnet_v2_50 batch 8 forward: ")
        assert "slower in slower.jsonl than base.jsonl (95% CI " in line
        assert line.endswith(f"more than --fail-if-slower {percent}")
    else:
        assert err == ""


def test_a_faster_file_passes_the_gate(capsys, files):
    assert run(capsys, files["base"], files["faster"], "--fail-if-slower", "0")[0] == 0


def test_json_and_csv(capsys, files):
    status, out, _ = run(capsys, files["base"], files["slower"], "--format", "json", "--fail-if-slower", "5")
    document = json.loads(out)
    assert status == 1 and document["baseline"] == files["base"]
    assert [c["verdict"] for c in document["comparisons"]] == ["slower", "no significant difference"]
    first = document["comparisons"][0]
    assert first["ratio_ci"][0] < first["ratio"] < first["ratio_ci"][1]
    assert first["baseline"]["observations"] == 10 and first["baseline"]["observation"] == "batch mean"
    assert document["slower_than_allowed"] == [{"label": "resnet_v2_50 batch 8 forward",
                                                "file": files["slower"]}]
    status, out, _ = run(capsys, files["base"], files["slower"], "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and [r["config.depth"] for r in rows] == ["50", "101"]
    assert float(rows[0]["ratio"]) == pytest.approx(first["ratio"])


def test_bad_input_is_one_line_and_exit_2(capsys, files, tmp_path, rng, make_measured):
    other = tmp_path / "other.jsonl"
    other.write_text(records.json_line(make_measured(152, 1, "train", steps(rng, 0.5))) + "\n")
    not_records = tmp_path / "notes.jsonl"
    not_records.write_text("hello\n")
    cases = [
        ([files["base"]], "the following arguments are required: NEW.jsonl"),
        ([files["base"], str(tmp_path / "nope.jsonl")], f"{tmp_path / 'nope.jsonl'}: no such file"),
        ([files["base"], str(not_records)], f"{not_records}:1: not a benchmark record"),
        ([files["base"], str(other)], "no configuration in common between"),
        ([files["base"], files["slower"], "--fail-if-slower", "-5"],
         "--fail-if-slower -5: must be a percentage from 0 to below 100"),
        ([files["base"], files["slower"], "--fail-if-slower", "100"], "--fail-if-slower 100: must be"),
        ([files["base"], files["slower"], "--fail-if-slower", "lots"],
         "argument --fail-if-slower: invalid float value: 'lots'"),
        ([files["base"], files["slower"], "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        ([files["base"], files["slower"], "--table-format", "nope"], "--table-format nope: unknown"),
    ]
    for args, message in cases:
        status, out, err = run(capsys, *args)
        assert status == 2 and out == "", args
        (line,) = err.splitlines()
        assert line.startswith(f"{PROG}: error: ") and message in line, (args, line)


def test_help_has_examples_and_no_tensorflow_is_imported(tmp_path):
    script = ("import sys\nfrom bench.verbs import cli\ntry:\n    cli.main(['compare', '--help'])\n"
              "except SystemExit as stop:\n    print('exit', stop.code)\n"
              "print('tensorflow' in sys.modules)\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    # argparse wraps the help to the terminal's width (COLUMNS, else the terminal the tests run
    # in): a wide one keeps the example and the usage line whole whatever runs the tests.
    completed = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                               text=True, timeout=60, check=True, env=dict(os.environ, COLUMNS="200"))
    assert "usage: python -m bench compare [-h]" in completed.stdout
    assert "python -m bench compare main.jsonl branch.jsonl --fail-if-slower 5" in completed.stdout
    assert "Welch's t-test" in completed.stdout
    assert completed.stdout.rstrip().endswith("exit 0\nFalse")


def test_sigterm_while_reading_is_one_line_and_exit_130(tmp_path, files):
    """The verb blocked reading a named pipe (opening it for writing here returns only once the
    verb has opened it, so the handler is installed by then) is stopped by SIGTERM: one line."""
    fifo = tmp_path / "slow.jsonl"
    os.mkfifo(fifo)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    verb = subprocess.Popen([sys.executable, "-m", "bench", "compare", files["base"], str(fifo)], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo, "w"):  # the verb now waits for lines that do not come
        verb.terminate()
        out, err = verb.communicate(timeout=60)
    assert verb.returncode == 130 and out == ""
    assert err.splitlines() == [f"{PROG}: interrupted"]


def test_a_side_with_a_burst_says_so(capsys, tmp_path, rng, make_measured, table_rows):
    calm = steps(rng, 0.100)
    bursty = steps(rng, 0.100)
    bursty[10:16] = [value * 1.6 for value in bursty[10:16]]
    paths = []
    for name, times in (("calm.jsonl", calm), ("bursty.jsonl", bursty)):
        path = tmp_path / name
        path.write_text(records.json_line(make_measured(50, 8, "forward", times)) + "\n")
        paths.append(str(path))
    status, out, _ = run(capsys, *paths)
    assert status == 0
    (row,) = table_rows(out.split("\n\n")[0])
    assert row["bursty.jsonl (images/sec)"].endswith(" burst!")
    assert not row["calm.jsonl (images/sec)"].endswith(" burst!")
    assert "burst!: a process of the configuration in that file had a burst" in out
    document = json.loads(run(capsys, *paths, "--format", "json")[1])
    (comparison,) = document["comparisons"]
    counts = [comparison[side]["processes_with_bursts"] for side in ("baseline", "compared")]
    assert counts == [0, 1]
