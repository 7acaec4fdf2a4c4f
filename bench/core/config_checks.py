"""The rules of a configuration's fields, checked once (`BenchmarkConfig.validate` calls `check`).

No TensorFlow here: the model's own limits (depths, smallest image) come from `slim_resnet.family`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.core import quality_settings, steps
from bench.core.choices import (
    BREAKDOWN_LEVELS,
    DATA_FORMATS,
    DATA_SYNTHETIC,
    DEVICES,
    MIN_BURN_IN_WITH_TRACE,
    MODEL_MODES,
    MODES,
    PRECISIONS,
    PREPROCESSINGS,
)
from bench.core.errors import ConfigError
from bench.core.loss_scale import parse_loss_scale
from slim_resnet.family import MIN_IMAGE_SIZE, VALID_DEPTHS


def check(config) -> None:
    """Checks every field of a BenchmarkConfig.

    Raises:
      ConfigError: naming the first field with a value that is not allowed.
    """
    if not _is_int(config.depth) or config.depth not in VALID_DEPTHS:
        raise ConfigError(
            "depth",
            config.depth,
            "not a ResNet v2 depth; choose from " + ", ".join(str(depth) for depth in VALID_DEPTHS),
        )
    _require_choice("mode", config.mode, MODES)
    _require_choice("device", config.device, DEVICES)
    _require_choice("data_format", config.data_format, DATA_FORMATS)
    _require_int_at_least("batch_size", config.batch_size, 1)
    steps.check(config.num_batches, config.target_ci, config.max_time)
    _require_int_at_least("burn_in", config.burn_in, 0)
    _require_int_at_least("image_size", config.image_size, 1)
    if config.image_size < MIN_IMAGE_SIZE:
        raise ConfigError(
            "image_size", config.image_size, f"too small for the network; must be at least {MIN_IMAGE_SIZE}"
        )
    _require_int_at_least("num_classes", config.num_classes, 1)
    _require_int_at_least("intra_op_threads", config.intra_op_threads, 0)
    _require_int_at_least("inter_op_threads", config.inter_op_threads, 0)
    _require_int_at_least("display_every", config.display_every, 1)
    _require_int_at_least("seed", config.seed, 0)
    _require_choice("precision", config.precision, PRECISIONS)
    parse_loss_scale(config.loss_scale)
    _require_int_at_least("peak_probe_size", config.peak_probe_size, 0)
    _require_int_at_least("num_devices", config.num_devices, 1)
    _require_int_at_least("workers", config.workers, 1)
    if not isinstance(config.data, str) or not config.data.strip():
        raise ConfigError("data", config.data, f"give {DATA_SYNTHETIC} or the path of TFRecord shards or "
                          "of a folder of class sub-folders of images")
    _require_int_at_least("data_threads", config.data_threads, 0)
    _require_choice("preprocessing", config.preprocessing, PREPROCESSINGS)
    if config.mode == "input" and not config.real_data:
        raise ConfigError("mode", config.mode, "times the input pipeline alone, and synthetic data has "
                          "none; give --data PATH")
    quality_settings.validate(config)
    _check_breakdown(config.breakdown, config.mode)
    if config.trace is not None and config.burn_in < MIN_BURN_IN_WITH_TRACE:
        raise ConfigError(
            "burn_in",
            config.burn_in,
            f"--trace needs at least {MIN_BURN_IN_WITH_TRACE} burn-in steps (the "
            "trace is taken from the last one, so neither the cold step nor a "
            "measured step carries the tracing overhead)",
        )


def _check_breakdown(level: object, mode: str) -> None:
    """Raises ConfigError for an unknown --breakdown level, or a breakdown of a mode without a model."""
    if level is None:
        return
    _require_choice("breakdown", level, BREAKDOWN_LEVELS)
    if mode not in MODEL_MODES:
        raise ConfigError("breakdown", level, f"attributes the model's op times to its parts, and --mode "
                          f"{mode} runs no model; use it with {', '.join(MODEL_MODES)}")


def _is_int(value: object) -> bool:
    """True for an int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _require_choice(field: str, value: object, choices: Sequence[str]) -> None:
    """Raises ConfigError unless `value` is one of `choices`."""
    if value not in choices:
        raise ConfigError(field, value, "choose from " + ", ".join(choices))


def _require_int_at_least(field: str, value: object, minimum: int) -> None:
    """Raises ConfigError unless `value` is an int (not a bool) >= `minimum`."""
    if not _is_int(value) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConfigError(field, value, f"must be {what}")
