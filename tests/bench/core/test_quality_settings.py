"""The quality settings' rules: what a record keeps, what is refused, when the untimed pass runs
and over how many images."""

import pytest

from bench.core import quality_settings
from bench.core.config import BenchmarkConfig
from bench.core.errors import ConfigError


def test_a_record_keeps_only_settings_that_are_not_the_default():
    assert not {"checkpoint", "quality", "quality_images", "agreement"} & set(BenchmarkConfig().to_dict())
    assert BenchmarkConfig(agreement=False, precision="bf16").to_dict()["agreement"] is False
    config = BenchmarkConfig(checkpoint="model.ckpt", quality=True, data="shards", quality_images=64)
    values = config.to_dict()
    assert (values["checkpoint"], values["quality"], values["quality_images"]) == ("model.ckpt", True, 64)
    assert BenchmarkConfig.from_dict(values) == config


@pytest.mark.parametrize("settings, field", [
    (dict(quality=True), "data"),
    (dict(quality=True, data="shards", mode="train"), "mode"),
    (dict(quality_images=3, batch_size=4), "quality_images"),
    (dict(quality_images=True), "quality_images"),
    (dict(checkpoint="  "), "checkpoint"),
])
def test_bad_settings_are_refused(settings, field):
    with pytest.raises(ConfigError) as raised:
        BenchmarkConfig(**settings).validate()
    assert raised.value.field == field


def test_the_data_must_hold_a_batch_and_the_images_asked_for():
    config = BenchmarkConfig(quality=True, data="shards", batch_size=8)
    quality_settings.check_data_size(config, 8)
    quality_settings.check_data_size(config, None)  # not counted: nothing to check
    with pytest.raises(ConfigError, match="fewer than one batch"):
        quality_settings.check_data_size(config, 7)
    with pytest.raises(ConfigError, match="more than the 10 images"):
        quality_settings.check_data_size(BenchmarkConfig(quality=True, data="d", batch_size=8,
                                                         quality_images=11), 10)


@pytest.mark.parametrize("settings, agreement", [
    (dict(), False),
    (dict(precision="bf16"), True),
    (dict(precision="fp16", mode="train"), True),
    (dict(xla=True), True),
    (dict(precision="bf16", mode="input", data="shards"), False),
    (dict(precision="bf16", agreement=False), False),
])
def test_agreement_is_for_reduced_precision_and_xla(settings, agreement):
    assert quality_settings.wants_agreement(BenchmarkConfig(**settings)) is agreement


def test_the_untimed_pass_runs_an_epoch_with_quality_else_one_batch():
    assert quality_settings.untimed_images(BenchmarkConfig(batch_size=8, quality=True, data="d"), 100) == 100
    assert quality_settings.untimed_images(BenchmarkConfig(batch_size=8, precision="bf16"), 100) == 8
    assert quality_settings.untimed_images(BenchmarkConfig(batch_size=8, quality_images=24), 100) == 24


def test_the_speed_only_twin_runs_no_untimed_pass():
    config = BenchmarkConfig(precision="bf16", quality=True, data="shards", quality_images=16)
    assert quality_settings.wants_untimed_pass(config)
    assert not quality_settings.wants_untimed_pass(quality_settings.speed_only(config))
