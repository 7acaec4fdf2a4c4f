"""The rules of the quality settings: --checkpoint, --quality, --quality-images, and when a run
compares its answers with fp32. No TensorFlow here.

- `--checkpoint PATH`: the network restores its weights from a TF-Slim checkpoint after they are
  initialised (`bench.step.restore`); with any mode, precision, layout, XLA and device count.
- `--quality` (forward mode with real data only): after the measured steps, an untimed pass over
  the data reports top-1 and top-5 accuracy with 95% Wilson intervals (`bench.results.quality`).
- Agreement with fp32: every configuration that computes in fp16 or bf16, or with XLA, runs the
  same weights on the same images once more in a plain fp32 graph after the measured steps
  (`bench.measuring.quality_pass`), unless `--no-agreement` asks for speed alone.
- `--quality-images N`: the images of that untimed pass; by default one epoch of the data with
  --quality, else one batch (the measured batch with synthetic data).
"""

from __future__ import annotations

import dataclasses

from bench.core.errors import ConfigError

# The config's keys these settings add, with the default a record leaves out (a record without
# them ran with fresh weights and no quality pass, like every record written before they existed).
DEFAULTS = {"checkpoint": None, "quality": False, "quality_images": 0, "agreement": True}


def drop_defaults(values: dict) -> None:
    """Removes from a config's dict the quality keys that hold their default."""
    for key, default in DEFAULTS.items():
        if key in values and values[key] == default:
            del values[key]


def validate(config) -> None:
    """Checks the quality settings of a BenchmarkConfig.

    Raises:
      ConfigError: naming the field ('checkpoint', 'mode', 'data' or 'quality_images') and what is
        allowed.
    """
    path = config.checkpoint
    if path is not None and (not isinstance(path, str) or not path.strip()):
        raise ConfigError("checkpoint", config.checkpoint, "give the path of a TF-Slim checkpoint")
    images = config.quality_images
    if not isinstance(images, int) or isinstance(images, bool) or images < 0:
        raise ConfigError("quality_images", images, "must be an integer >= 0 (0: the default)")
    if config.quality and config.mode != "forward":
        raise ConfigError("mode", config.mode, "--quality measures the accuracy of inference: it needs "
                          "--mode forward")
    if config.quality and not config.real_data:
        raise ConfigError("data", config.data, "--quality needs labelled images: give --data PATH "
                          "(TFRecord shards or a folder of class sub-folders)")
    if 0 < images < config.batch_size:
        raise ConfigError("quality_images", images, f"fewer images than one batch ({config.batch_size}); "
                          "give at least one batch")


def without_quality(config):
    """The configuration without a --quality pass (the timing twins of `bench.results.verdict`
    measure speed only)."""
    return dataclasses.replace(config, quality=False, quality_images=0)


def speed_only(config):
    """The configuration without any untimed pass, neither --quality nor the agreement with fp32
    (the tries of `--batch max`)."""
    return dataclasses.replace(without_quality(config), agreement=False)


def check_data_size(config, num_images: int | None) -> None:
    """Refuses a --quality pass over data holding fewer images than asked for or than one batch.

    Args:
      config: the BenchmarkConfig.
      num_images: the images the data holds (None: not counted, nothing to check).

    Raises:
      ConfigError: on field 'data' or 'quality_images'.
    """
    if not config.quality or num_images is None:
        return
    if num_images < config.batch_size:
        raise ConfigError("data", config.data, f"holds {num_images} images, fewer than one batch "
                          f"({config.batch_size}) for --quality")
    if config.quality_images > num_images:
        raise ConfigError("quality_images", config.quality_images, f"more than the {num_images} images "
                          f"{config.data} holds")


def wants_agreement(config) -> bool:
    """True when the configuration's answers are compared with fp32's: a model computing in fp16 or
    bf16, or compiled with XLA, unless the agreement is switched off (`--no-agreement`)."""
    return config.agreement and config.has_model and (config.precision != "fp32" or config.xla)


def wants_untimed_pass(config) -> bool:
    """True when anything runs after the measured steps: --quality or the agreement with fp32."""
    return config.quality or wants_agreement(config)


def untimed_images(config, num_images: int | None) -> int:
    """How many images the untimed pass runs: --quality-images, else one epoch with --quality
    (`num_images`, the data's count), else one batch."""
    if config.quality_images:
        return config.quality_images
    if config.quality and num_images:
        return num_images
    return config.batch_size
