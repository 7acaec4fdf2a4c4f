"""The --loss-scale grammar and what 'auto' means per precision."""

import pytest

from bench.core.errors import ConfigError
from bench.core.loss_scale import effective_loss_scale, parse_loss_scale


@pytest.mark.parametrize("text, kind, value, words", [
    ("auto", "auto", None, "auto"),
    ("None", "none", None, "none"),
    (" dynamic ", "dynamic", None, "dynamic"),
    ("1024", "static", 1024.0, "1024"),
    ("0.5", "static", 0.5, "0.5"),
])
def test_parse(text, kind, value, words):
    setting = parse_loss_scale(text)
    assert (setting.kind, setting.value, setting.describe()) == (kind, value, words)


@pytest.mark.parametrize("bad", ["0", "-4", "inf", "nan", "big", ""])
def test_bad_values_are_refused_in_one_line(bad):
    with pytest.raises(ConfigError) as raised:
        parse_loss_scale(bad)
    assert raised.value.field == "loss_scale" and raised.value.value == bad
    assert raised.value.allowed == "must be auto, none, dynamic or a positive number"


@pytest.mark.parametrize("precision, kind", [("fp16", "dynamic"), ("bf16", "none"),
                                             ("fp32", "none")])
def test_auto_is_dynamic_for_fp16_only(precision, kind):
    assert effective_loss_scale("auto", precision).kind == kind
    assert effective_loss_scale("64", precision).value == 64.0
