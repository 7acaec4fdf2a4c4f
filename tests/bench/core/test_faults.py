"""Test-only fault injection: which configurations a spec selects, and what it raises."""

import pytest

from bench.core import faults
from bench.core.config import BenchmarkConfig


def test_inactive_without_the_variable(monkeypatch):
    monkeypatch.delenv(faults.ENV_VAR, raising=False)
    assert not faults.active()
    faults.inject(BenchmarkConfig())  # nothing happens


def test_a_spec_selects_by_depth_batch_and_mode(monkeypatch):
    monkeypatch.setenv(faults.ENV_VAR, "error:50:*:train,error:101:8:forward")
    assert faults.active()
    faults.inject(BenchmarkConfig(depth=50, batch_size=8, mode="forward"))
    with pytest.raises(RuntimeError, match="injected failure for resnet_v2_50 batch 3 train"):
        faults.inject(BenchmarkConfig(depth=50, batch_size=3, mode="train"))
    with pytest.raises(RuntimeError, match="resnet_v2_101 batch 8 forward"):
        faults.inject(BenchmarkConfig(depth=101, batch_size=8, mode="forward"))


def test_a_once_spec_fails_only_the_first_process_it_selects(monkeypatch, tmp_path):
    marker = tmp_path / "failed-once"
    monkeypatch.setenv(faults.ENV_VAR, "error-once:50:1:forward")
    monkeypatch.setenv(faults.ONCE_ENV_VAR, str(marker))
    faults.inject(BenchmarkConfig(depth=50, batch_size=2))  # not selected: the marker stays away
    assert not marker.exists()
    with pytest.raises(RuntimeError, match="batch 1 forward"):
        faults.inject(BenchmarkConfig(depth=50, batch_size=1))
    assert marker.exists()
    faults.inject(BenchmarkConfig(depth=50, batch_size=1))  # the second process runs normally
