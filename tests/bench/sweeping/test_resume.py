"""--resume and the sweep's identity (bench/sweeping/resume.py), on records built from fixed step times."""

import dataclasses
import re
import shlex

import pytest

from bench.core.errors import ConfigError
from bench.results import records
from bench.sweeping import resume


def _write(path, results):
    path.write_text("".join(records.json_line(result) + "\n" for result in results))


def test_a_sweep_id_is_a_utc_time_and_a_random_suffix():
    first, second = resume.new_sweep_id(), resume.new_sweep_id()
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", first) and first != second


def test_the_command_line_reads_back_as_the_same_arguments():
    argv = ["--depth", "50", "--output", "my results.jsonl", "--trace", "it's.json"]
    line = resume.command_line(argv)
    assert line.startswith("python -m bench ")
    assert shlex.split(line)[3:] == argv


def test_recorded_ok_configurations_are_reused_and_the_rest_run(tmp_path, sweep_results, environment_info):
    path = tmp_path / "sweep.jsonl"
    for result in sweep_results:
        result.sweep_id = "S1"
    _write(path, sweep_results)
    wanted = [result.config for result in sweep_results]
    extra = dataclasses.replace(wanted[0], batch_size=64)
    plan = resume.plan([extra, *wanted], str(path), environment_info)
    # The three measured ones are reused; the two failures and the new one run.
    assert list(plan.reused) == wanted[:3]
    assert plan.to_run == [extra, wanted[3], wanted[4]]
    assert plan.sweep_id == "S1" and plan.other_machine == []
    assert [plan.reused[config] for config in wanted[:3]] == [[result] for result in sweep_results[:3]]


def test_only_equal_settings_on_the_same_machine_and_tensorflow_count(tmp_path, make_measured,
                                                                      environment_info):
    path = tmp_path / "sweep.jsonl"
    here = make_measured(50, 8, "forward", [0.1] * 3)
    other_seed = make_measured(50, 8, "forward", [0.1] * 3, seed=7)
    elsewhere = make_measured(50, 8, "train", [0.3] * 3)
    elsewhere.environment["tensorflow_version"] = "2.20.0"
    _write(path, [here, other_seed, elsewhere])
    wanted = [here.config, dataclasses.replace(here.config, num_batches=4), elsewhere.config]
    plan = resume.plan(wanted, str(path), environment_info)
    assert list(plan.reused) == [here.config]
    assert plan.to_run == wanted[1:] and plan.other_machine == [elsewhere.config]
    assert plan.sweep_id is None  # the reused record carries no sweep id


def test_a_missing_file_resumes_nothing_and_a_bad_one_is_refused(tmp_path, make_measured,
                                                                 environment_info):
    config = make_measured(50, 8, "forward", [0.1] * 3).config
    plan = resume.plan([config], str(tmp_path / "none.jsonl"), environment_info)
    assert plan.to_run == [config] and not plan.reused
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    refusal = r"cannot resume from it: .*bad.jsonl:1: not a benchmark record"
    with pytest.raises(ConfigError, match=refusal) as raised:
        resume.plan([config], str(bad), environment_info)
    assert raised.value.field == "output"


def test_with_repeats_a_configuration_needs_that_many_ok_records(tmp_path, make_measured,
                                                                 environment_info):
    path = tmp_path / "sweep.jsonl"
    twice = [make_measured(50, 8, "forward", [0.1 * run] * 3) for run in (1, 2, 3)]
    once = make_measured(50, 8, "train", [0.3] * 3)
    _write(path, [*twice, once])
    plan = resume.plan([twice[0].config, once.config], str(path), environment_info, repeats=2)
    assert plan.reused == {twice[0].config: twice[1:]}  # the latest two
    assert plan.to_run == [once.config]


def test_results_come_back_in_sweep_order(sweep_results):
    configs = [result.config for result in sweep_results]
    reused = {configs[1]: [sweep_results[1]], configs[3]: [sweep_results[3]]}
    new = [sweep_results[4], sweep_results[0], sweep_results[2]]
    assert resume.in_sweep_order(configs, reused, new) == sweep_results
    # An interrupted sweep: configurations never run are simply absent.
    assert resume.in_sweep_order(configs, reused, new[:1]) == [sweep_results[i] for i in (1, 3, 4)]
    # Repeats: a configuration's results stay together, reused ones first.
    again = [sweep_results[0], sweep_results[4], sweep_results[0]]
    assert resume.in_sweep_order(configs[:2], {configs[1]: [sweep_results[1]]}, again) == [
        sweep_results[0], sweep_results[0], sweep_results[1], sweep_results[4]]
