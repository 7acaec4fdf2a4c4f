"""Sweep axes: flag tokens to values, the product, which axes vary, the comparison key."""

import pytest

import bench
from bench.core import axes
from bench.core.config import BenchmarkConfig, ConfigError


def test_every_axis_is_a_config_field_with_a_flag():
    fields = set(BenchmarkConfig.__dataclass_fields__)
    assert [axis.field for axis in axes.AXES] == [
        "depth", "batch_size", "mode", "precision", "xla", "data_format", "image_size",
        "num_devices", "data"]
    assert all(axis.field in fields and axis.flag.startswith("--") for axis in axes.AXES)
    assert [axis.field for axis in axes.AXES if axis.always_shown] == ["depth", "batch_size", "mode"]


@pytest.mark.parametrize("field, tokens, values", [
    ("depth", ["101", "ALL"], [101, 50, 152, 200]),
    ("depth", ["50", "50"], [50]),
    ("xla", ["off", "on", "ON"], [False, True]),
    ("precision", ["bf16", "fp32"], ["bf16", "fp32"]),
    ("image_size", [224, 299], [224, 299]),
])
def test_tokens_become_values_in_first_seen_order(field, tokens, values):
    assert axes.AXIS_OF_FIELD[field].values(tokens) == values


@pytest.mark.parametrize("field, token, message", [
    ("depth", "fifty", "depth='fifty': not a depth; choose from 50, 101, 152, 200 or all"),
    ("xla", "maybe", "xla='maybe': choose from off, on"),
    ("precision", "fp64", "precision='fp64': choose from fp32, fp16, bf16"),
])
def test_unknown_token_is_a_config_error(field, token, message):
    with pytest.raises(ConfigError) as raised:
        axes.AXIS_OF_FIELD[field].values([token])
    assert str(raised.value) == message


def test_sweep_is_the_product_in_axis_order():
    configs = axes.expand({"depth": [50, 101], "batch_size": [8, 8, 1], "mode": ["forward"],
                           "precision": ["fp32", "bf16"]}, num_batches=5)
    assert [(c.depth, c.batch_size, c.precision) for c in configs] == [
        (50, 8, "fp32"), (50, 8, "bf16"), (50, 1, "fp32"), (50, 1, "bf16"),
        (101, 8, "fp32"), (101, 8, "bf16"), (101, 1, "fp32"), (101, 1, "bf16")]
    assert {c.num_batches for c in configs} == {5}
    assert {c.mode for c in configs} == {"forward"}


def test_expand_sweep_keeps_its_depth_batch_mode_signature():
    configs = bench.expand_sweep([50, 101], [8, 1], ["forward", "train"], xla=True)
    assert [(c.depth, c.batch_size, c.mode) for c in configs] == [
        (50, 8, "forward"), (50, 8, "train"), (50, 1, "forward"), (50, 1, "train"),
        (101, 8, "forward"), (101, 8, "train"), (101, 1, "forward"), (101, 1, "train")]
    assert all(c.xla for c in configs)


def test_varying_and_shown_axes():
    configs = axes.expand({"depth": [50], "batch_size": [1], "mode": ["forward"],
                           "xla": [False, True], "image_size": [224, 299]})
    assert [axis.field for axis in axes.varying(configs)] == ["xla", "image_size"]
    assert [axis.field for axis in axes.shown(configs)] == [
        "depth", "batch_size", "mode", "xla", "image_size"]
    assert [axis.field for axis in axes.shown(configs[:1])] == ["depth", "batch_size", "mode"]


def test_comparison_key_leaves_out_one_axis():
    a = BenchmarkConfig(depth=50, precision="bf16")
    b = BenchmarkConfig(depth=101, precision="bf16")
    c = BenchmarkConfig(depth=101, precision="fp32")
    assert axes.comparison_key(a) == axes.comparison_key(b) != axes.comparison_key(c)


def test_trace_files_are_named_by_every_axis_that_varies():
    configs = bench.expand_sweep([50], [8], ["forward", "train"], trace="out/step.json")
    named = axes.with_trace_paths(configs, "out/step.json")
    assert [c.trace for c in named] == ["out/step.50_8_forward.json", "out/step.50_8_train.json"]
    configs = axes.expand({"depth": [50], "batch_size": [8], "mode": ["forward"],
                           "xla": [False, True], "image_size": [224, 299]})
    assert [c.trace for c in axes.with_trace_paths(configs, "step.json")] == [
        "step.50_8_forward_noxla_224px.json", "step.50_8_forward_noxla_299px.json",
        "step.50_8_forward_xla_224px.json", "step.50_8_forward_xla_299px.json"]
    assert axes.with_trace_paths(configs[:1], "step.json")[0].trace is None  # one: as given
