"""The make-data verb: one line and exit 2 for bad input, the shards and one line for a good run."""

import os

import pytest

from bench.inputs import sources
from bench.verbs import make_data_cli


def _fails(capsys, argv, words):
    assert make_data_cli.main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("make-data: "), captured.err
    assert words in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize("argv,words", [
    (["OUT", "--images", "0"], "argument --images: '0': expected a whole number of at least 1"),
    (["OUT", "--images", "many"], "'many': expected a whole number of at least 1"),
    (["OUT"], "--images N is required (or --from FOLDER"),
    (["OUT", "--images", "2", "--shards", "5"], "5 shards for 2 images: expected 1 to 2"),
    (["OUT", "--images", "2", "--max-size", "8"], "'8': expected a whole number from 16 to 4096"),
    (["OUT", "--images", "2", "--seed", "-1"], "'-1': expected a whole number of at least 0"),
    (["OUT", "--imag", "2"], "unrecognized arguments: --imag"),
    ([], "the following arguments are required: OUT"),
])
def test_bad_input_is_one_line_naming_it_and_exit_2(capsys, tmp_path, argv, words):
    argv = [str(tmp_path / "out") if token == "OUT" else token for token in argv]
    _fails(capsys, argv, words)
    assert not os.path.exists(tmp_path / "out") or not os.listdir(tmp_path / "out")


def test_from_a_missing_folder_or_with_images(capsys, tmp_path, class_folder):
    _fails(capsys, [str(tmp_path / "out"), "--from", str(tmp_path / "none")], "--from")
    _fails(capsys, [str(tmp_path / "out"), "--from", class_folder, "--images", "3"],
           "--images 3: not used with --from")


def test_an_output_that_is_a_file(capsys, tmp_path):
    (tmp_path / "f").write_text("x")
    _fails(capsys, [str(tmp_path / "f"), "--images", "1"], "is a file")


def test_random_images_then_a_converted_folder(capsys, tmp_path, class_folder):
    out = str(tmp_path / "random")
    assert make_data_cli.main([out, "--images", "3", "--max-size", "32", "--seed", "4"]) == 0
    assert capsys.readouterr().out == f"wrote 3 images in 3 shards to {out}\n"
    assert sources.inspect_source(out).num_images == 3
    converted = str(tmp_path / "converted")
    assert make_data_cli.main([converted, "--from", class_folder, "--shards", "2"]) == 0
    assert capsys.readouterr().out == f"wrote 6 images in 2 shards to {converted}\n"
    assert sorted(os.listdir(converted)) == ["train-00000-of-00002", "train-00001-of-00002"]
