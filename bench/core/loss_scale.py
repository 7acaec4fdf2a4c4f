"""The --loss-scale setting: its grammar, and what 'auto' means for each precision.

This module decides both rules once; `bench.core.config` validates with it, `bench.step.precision` builds the
scaler it names, and `bench.output.report` describes it. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import math

from bench.core.errors import ConfigError

WORDS = ("auto", "none", "dynamic")
ALLOWED = "must be auto, none, dynamic or a positive number"


@dataclasses.dataclass(frozen=True)
class LossScaleSetting:
    """A parsed loss-scale setting.

    Attributes:
      kind: 'auto', 'none', 'static' or 'dynamic'.
      value: the static scale (only for kind 'static').
    """

    kind: str
    value: float | None = None

    def describe(self) -> str:
        """'dynamic', 'none', 'auto' or the static value, e.g. '1024'."""
        return f"{self.value:g}" if self.kind == "static" else self.kind


def parse_loss_scale(text: object) -> LossScaleSetting:
    """Parses a --loss-scale value: 'auto', 'none', 'dynamic' or a positive finite number.

    Args:
      text: the value as given (any case, surrounding spaces allowed).

    Returns:
      A LossScaleSetting.

    Raises:
      ConfigError: for anything else, naming the value and what is allowed.
    """
    word = str(text).strip().lower()
    if word in WORDS:
        return LossScaleSetting(word)
    try:
        value = float(word)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise ConfigError("loss_scale", text, ALLOWED)
    return LossScaleSetting("static", value)


def resolve_loss_scale(setting: LossScaleSetting, precision: str) -> LossScaleSetting:
    """The loss scale actually used: 'auto' means dynamic for fp16 and none for fp32 and bf16
    (bfloat16 has float32's exponent range, so its gradients do not underflow).

    Args:
      setting: the parsed setting.
      precision: 'fp32', 'fp16' or 'bf16'.

    Returns:
      A LossScaleSetting whose kind is 'none', 'static' or 'dynamic'.
    """
    if setting.kind != "auto":
        return setting
    return LossScaleSetting("dynamic" if precision == "fp16" else "none")


def effective_loss_scale(text: object, precision: str) -> LossScaleSetting:
    """`resolve_loss_scale(parse_loss_scale(text), precision)`."""
    return resolve_loss_scale(parse_loss_scale(text), precision)
