"""The quality flags on the command line: bad input is one line and exit status 2, before any
child starts; a checkpoint's class count is the default --num-classes."""

import argparse

import pytest

from bench.verbs import cli, quality_flags

SMALL = ["--image-size", "32", "--device", "cpu", "--num-batches", "1", "--burn-in", "0"]


def refused(capsys, args):
    assert cli.main(args + SMALL) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("python -m bench: error: ")
    return captured.err


@pytest.mark.parametrize("args, expected", [
    (["--quality"], "--data synthetic: --quality needs labelled images: give --data PATH"),
    (["--quality-images", "-1"], "--quality-images -1: must be an integer >= 0"),
    (["--quality-images", "1", "--batch", "4"], "--quality-images 1: fewer images than one batch (4)"),
    (["--checkpoint", ""], "--checkpoint : give the path of a TF-Slim checkpoint"),
])
def test_bad_quality_flags_are_refused(capsys, args, expected):
    assert expected in refused(capsys, args)


def test_quality_needs_the_forward_mode(capsys, memorized):
    err = refused(capsys, ["--quality", "--data", memorized.folder, "--mode", "train"])
    assert "--mode train: --quality measures the accuracy of inference: it needs --mode forward" in err


def test_quality_needs_at_least_one_batch_of_images(capsys, memorized):
    err = refused(capsys, ["--quality", "--data", memorized.folder, "--batch", "32"])
    assert f"--data {memorized.folder}: holds 16 images, fewer than one batch (32) for --quality" in err
    err = refused(capsys, ["--quality", "--data", memorized.folder, "--batch", "4", "--quality-images", "20"])
    assert "--quality-images 20: more than the 16 images" in err


def test_labels_beyond_the_checkpoint_are_refused(capsys, memorized, tmp_path):
    """The checkpoint has 5 classes (labels 1..4); a folder of 5 class sub-folders has label 5."""
    import shutil

    folder = tmp_path / "five"
    shutil.copytree(memorized.folder, folder)
    shutil.copytree(folder / "class_0", folder / "class_9")
    err = refused(capsys, ["--checkpoint", memorized.checkpoint, "--data", str(folder), "--quality",
                           "--batch", "4"])
    assert (f"--data {folder}: 5 class sub-folders give labels 1..5, outside the model's 1..4 "
            "(--checkpoint's 5 classes; class 0 is the background)") in err


def test_a_bad_checkpoint_is_refused_before_any_child(capsys, memorized, tmp_path):
    err = refused(capsys, ["--checkpoint", memorized.checkpoint, "--depth", "152"])
    assert f"--checkpoint {memorized.checkpoint}: its variables are under resnet_v2_50/" in err
    missing = str(tmp_path / "none.ckpt")
    assert f"--checkpoint {missing}: no checkpoint at" in refused(capsys, ["--checkpoint", missing])


def test_the_checkpoint_gives_the_class_count(memorized):
    args = argparse.Namespace(checkpoint=memorized.checkpoint, num_classes=None, verbose=False)
    assert quality_flags.num_classes(args, [50], 1000) == memorized.num_classes
    args.num_classes = 7
    assert quality_flags.num_classes(args, [50], 7) == 7
    without = argparse.Namespace(checkpoint=None, num_classes=None)
    assert quality_flags.num_classes(without, [50], 1001) == 1001


def test_an_fp32_run_and_a_bf16_run_compare_on_one_line(memorized, tmp_path, monkeypatch, capsys):
    """Through the command line in this process (the small network): the bf16 run restores the
    memorized checkpoint and measures its agreement; compare puts it beside the speed-up."""
    from bench.core import stand_ins
    from bench.verbs import compare_cli

    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, stand_ins.SMALL)
    common = ["--checkpoint", memorized.checkpoint, "--batch", "4", "--image-size", "32", "--num-batches",
              "3", "--burn-in", "1", "--device", "cpu", "--no-peak-probe", "--in-process", "--quiet"]
    paths = {precision: str(tmp_path / f"{precision}.jsonl") for precision in ("fp32", "bf16")}
    for precision, path in paths.items():
        assert cli.main(common + ["--precision", precision, "--output", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = max(index for index, line in enumerate(lines) if line.startswith("| Depth"))
    assert "Agree %" not in lines[0]  # the fp32 run's table
    assert "Agree %" in lines[header] and "100.00" in lines[header + 2]  # the bf16 run's
    assert compare_cli.main([paths["fp32"], paths["bf16"]]) == 0
    out = capsys.readouterr().out
    assert "Matched across --precision: fp32.jsonl fp32, bf16.jsonl bf16" in out
    row = next(line for line in out.splitlines() if line.startswith("| 50 "))
    assert "top-1 100.00% of 4, logits error" in row
