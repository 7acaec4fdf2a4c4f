"""`python -m bench plot`: writes the image, and refuses bad input with one line and exit 2 before
anything is written."""

import subprocess
import sys

import pytest

from bench.results.result import Failure
from bench.verbs import cli, plot_cli


@pytest.fixture
def results_path(make_measured, make_failed, records_file):
    """A file of 4 measured configurations and a failed one."""
    results = [
        make_measured(depth, batch, "forward", [0.01 * batch * depth / 50] * 10)
        for depth in (50, 101)
        for batch in (1, 2)
    ]
    results.append(make_failed(152, 2, "forward", Failure("oom", "OOM")))
    return records_file("results.jsonl", results)


def test_writes_the_plot(results_path, tmp_path, capsys):
    output = tmp_path / "sweep.svg"
    assert cli.main(["plot", results_path, "-o", str(output)]) == 0
    assert output.read_bytes().startswith(b"<?xml")
    assert capsys.readouterr().out == f"wrote {output}: 4 configuration(s) plotted, 1 not measured\n"


def test_python_m_bench_plot_dispatches_to_the_verb(results_path, tmp_path):
    output = tmp_path / "sweep.png"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "plot", results_path, "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_verb_imports_neither_tensorflow_nor_matplotlib_until_it_draws():
    code = (
        "import sys, bench.verbs.cli, bench.verbs.plot_cli; "
        "print('tensorflow' in sys.modules, 'matplotlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"], done.stderr


@pytest.mark.parametrize(
    "name, contents, message",
    [
        ("text.jsonl", "resnet 50 is fast\n", "text.jsonl:1: not a benchmark record"),
        ("list.jsonl", "[1, 2]\n", "list.jsonl:1: not a benchmark record"),
        ("binary.jsonl", b"\x89PNG\r\n\x1a\n\xff\xfe", "binary.jsonl: not a text file"),
        ("empty.jsonl", "", "nothing to plot: no measured configuration in "),
    ],
)
def test_a_file_that_is_not_records_is_one_line(tmp_path, capsys, name, contents, message):
    path = tmp_path / name
    path.write_bytes(contents if isinstance(contents, bytes) else contents.encode())
    output = tmp_path / "plot.png"
    assert cli.main(["plot", str(path), "-o", str(output)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("python -m bench plot: error: ") and message in error
    assert error.count("\n") == 1
    assert not output.exists()


def test_no_measured_record_is_one_line(make_failed, records_file, tmp_path, capsys):
    path = records_file("failed.jsonl", [make_failed(50, 8, "forward", Failure("oom", "OOM"))])
    assert cli.main(["plot", path, "-o", str(tmp_path / "plot.png")]) == 2
    assert capsys.readouterr().err == (
        f"python -m bench plot: error: nothing to plot: no measured configuration in {path} (1 failed)\n"
    )
    assert not (tmp_path / "plot.png").exists()


@pytest.mark.parametrize(
    "output, message",
    [
        ("plot.jpg", "-o {tmp}/plot.jpg: unknown image type; give a file name ending in .png or .svg"),
        ("plot", "-o {tmp}/plot: unknown image type; give a file name ending in .png or .svg"),
        ("missing/plot.png", "-o {tmp}/missing/plot.png: directory {tmp}/missing does not exist"),
        ("/proc/plot.png", "-o /proc/plot.png: cannot create a file in /proc"),
    ],
)
def test_a_bad_output_path_is_one_line(results_path, tmp_path, capsys, output, message):
    target = output if output.startswith("/") else f"{tmp_path}/{output}"
    assert cli.main(["plot", results_path, "-o", target]) == 2
    error = capsys.readouterr().err
    assert error.startswith("python -m bench plot: error: " + message.format(tmp=tmp_path))
    assert error.count("\n") == 1


def test_a_missing_file_or_flag_is_one_line(tmp_path, capsys):
    assert cli.main(["plot", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "p.png")]) == 2
    assert capsys.readouterr().err == (
        f"python -m bench plot: error: {tmp_path}/none.jsonl: cannot read (No such file or directory)\n"
    )
    assert cli.main(["plot", str(tmp_path / "none.jsonl")]) == 2
    assert "the following arguments are required: -o/--output" in capsys.readouterr().err


def test_without_matplotlib_one_line_names_the_extra(results_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an import of a missing module does
    assert plot_cli.main([results_path, "-o", str(tmp_path / "plot.png")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "matplotlib, which is not installed" in error and "pip install '.[plot]'" in error
    assert not (tmp_path / "plot.png").exists()
