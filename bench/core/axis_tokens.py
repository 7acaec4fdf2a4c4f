"""A sweep axis's tokens: how one command-line token of an axis's flag becomes config values.

`bench.core.axes` declares the axes with these parsers. Each raises ConfigError naming the field,
the token and what is allowed (the batch's token, read by argparse itself, raises argparse's
ArgumentTypeError). No TensorFlow here.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

from bench.core import batch_search
from bench.core.config import DATA_SYNTHETIC
from bench.core.errors import ConfigError
from slim_resnet.family import VALID_DEPTHS

XLA_WORDS = {"off": False, "on": True}


def depths(token: str) -> list[int]:
    """'50' -> [50]; 'all' -> every valid depth."""
    if token.lower() == "all":
        return list(VALID_DEPTHS)
    try:
        return [int(token)]
    except ValueError:
        valid = ", ".join(str(depth) for depth in VALID_DEPTHS)
        raise ConfigError("depth", token, f"not a depth; choose from {valid} or all") from None


def integers(field: str) -> Callable[[str], list[int]]:
    """A parser of one integer token for `field`."""

    def parse(token: str) -> list[int]:
        try:
            return [int(token)]
        except ValueError:
            raise ConfigError(field, token, "must be an integer") from None

    return parse


def batch_token(token: str) -> int | str:
    """A --batch token as the command line reads it: a whole number, or 'max' / 'max:N' (the batch
    search, from batch 1 or N: `bench.core.batch_search.search_start`; `bench.sweeping.batch_max`,
    which the command line takes out before the sweep is expanded), lower-cased."""
    try:
        start = batch_search.search_start(token)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{token!r}: {error}") from None
    if start is not None:
        return token.strip().lower()
    try:
        return int(token)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{token!r}: not a batch size; give whole numbers, or max (max:N to start the search at N)"
        ) from None


def choice(field: str, choices: Sequence[str]) -> Callable[[str], list[str]]:
    """A parser accepting one of `choices` for `field`."""

    def parse(token: str) -> list[str]:
        if token not in choices:
            raise ConfigError(field, token, "choose from " + ", ".join(choices))
        return [token]

    return parse


def xla(token: str) -> list[bool]:
    """'on' -> [True], 'off' -> [False]."""
    if token.lower() not in XLA_WORDS:
        raise ConfigError("xla", token, "choose from off, on")
    return [XLA_WORDS[token.lower()]]


def data(token: str) -> list[str]:
    """'synthetic' (any case) -> ['synthetic']; a path as given (checked on disk by
    `bench.sweeping.sweep.prepare`)."""
    if token.strip().lower() == DATA_SYNTHETIC:
        return [DATA_SYNTHETIC]
    if not token.strip():
        raise ConfigError("data", token, f"give {DATA_SYNTHETIC} or a path")
    return [token]


def data_in_file_name(value: object) -> str:
    """'synthetic', or the path's last part ('train' for /data/imagenet/train/)."""
    return os.path.basename(os.path.normpath(str(value))) or "data"


def on_off(value: object) -> str:
    return "on" if value else "off"
