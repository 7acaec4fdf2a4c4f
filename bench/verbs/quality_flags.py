"""The quality flags of `python -m bench`: --checkpoint, --quality, --quality-images (their rules
are `bench.core.quality_settings`'s). No TensorFlow at import time: the class count of a checkpoint
is read (`bench.step.restore`) only when --checkpoint is given without --num-classes.
"""

from __future__ import annotations

import argparse

from bench.core.errors import ConfigError
from bench.core.flag_names import add_config_flag
from bench.core.quiet import Quiet


def add_quality_flags(parser: argparse.ArgumentParser) -> None:
    """Adds the group of quality flags to `parser`."""
    group = parser.add_argument_group("weights and quality (untimed, after the measured steps)")
    group.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="restore the network's weights from a TF-Slim checkpoint (prefix, file or directory, e.g. "
        "the official resnet_v2_50.ckpt); its class count is the default --num-classes",
    )
    group.add_argument(
        "--quality",
        action="store_true",
        help="forward mode with --data: after the measured steps, an untimed pass over the images "
        "reporting top-1 and top-5 accuracy with 95%% Wilson intervals",
    )
    add_config_flag(group, "--quality-images",
        type=int,
        metavar="N",
        help="images of the untimed pass (0: one epoch of --data with --quality, else one batch); fp16, "
        "bf16 and XLA runs also compare their answers on them with fp32's",
    )
    group.add_argument(
        "--no-agreement",
        dest="agreement",
        action="store_false",
        help="fp16, bf16 and XLA runs skip the untimed comparison of their answers with fp32's "
        "(speed alone, as before it existed)",
    )


def quality_settings(args: argparse.Namespace) -> dict:
    """The BenchmarkConfig fields the quality flags set."""
    return {"checkpoint": args.checkpoint, "quality": args.quality, "quality_images": args.quality_images,
            "agreement": args.agreement}


def num_classes(args: argparse.Namespace, depths: list[int], default: int) -> int:
    """The logits' class count: --num-classes, else the checkpoint's (1001 for TF-Slim's official
    ones), else `default`.

    Raises:
      ConfigError: on field 'checkpoint' when the checkpoint cannot be read.
    """
    if args.num_classes is not None or not args.checkpoint:
        return default
    Quiet(args.verbose).import_tensorflow()  # without its start-up noise
    from bench.step import restore

    try:
        found = restore.checkpoint_classes(args.checkpoint, depths)
    except restore.CheckpointError as error:
        message = restore.without_path(str(error), args.checkpoint)
        raise ConfigError("checkpoint", args.checkpoint, message) from None
    return default if found is None else found
