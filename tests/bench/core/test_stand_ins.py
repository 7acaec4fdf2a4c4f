"""The test-only stand-in network switch: unset, 'small', or refused in one line."""

import pytest

from bench.core import stand_ins
from bench.core.errors import ConfigError


def test_unset_or_empty_means_the_real_network(monkeypatch):
    monkeypatch.delenv(stand_ins.NETWORK_ENV_VAR, raising=False)
    assert stand_ins.test_network() is None
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, "")
    assert stand_ins.test_network() is None
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, "small")
    assert stand_ins.test_network() == "small"


def test_another_value_is_refused_naming_it(monkeypatch):
    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, "tiny")
    with pytest.raises(ConfigError, match=r"BENCH_TEST_NETWORK='tiny': not a stand-in network"):
        stand_ins.test_network()


def test_a_wrong_value_on_the_command_line_is_one_line_and_exit_2(monkeypatch, capsys):
    from bench.verbs import cli

    monkeypatch.setenv(stand_ins.NETWORK_ENV_VAR, "tiny")
    assert cli.main(["--device", "cpu", "--in-process"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "python -m bench: error: BENCH_TEST_NETWORK tiny: not a stand-in network; allowed: 'small' "
        "(test-only) or unset"]
