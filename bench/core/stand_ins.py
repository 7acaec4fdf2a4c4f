"""Test-only stand-ins, switched on through the environment like BENCH_TEST_FAULT (`bench.core.faults`).

BENCH_TEST_NETWORK=small builds a two-unit ResNet v2 under resnet_v2_<depth>'s scope in place of
the full network, in every process of a run (children and workers inherit the variable). The
tests of what a sweep, a child or a worker does (records, failures, signals, clusters) use it so
that each child builds its step in a second instead of spending seconds on resnet_v2_50; what
they prove does not depend on the depth. Every record made with it names it in its environment
(`test_network`), so its figures are never mistaken for resnet_v2_<depth>'s.
"""

from __future__ import annotations

import os

from bench.core.errors import ConfigError

NETWORK_ENV_VAR = "BENCH_TEST_NETWORK"
SMALL = "small"


def test_network() -> str | None:
    """The stand-in network BENCH_TEST_NETWORK names ('small'), or None when it is unset or empty.

    Raises:
      ConfigError: for any other value.
    """
    value = os.environ.get(NETWORK_ENV_VAR, "")
    if value in ("", SMALL):
        return value or None
    raise ConfigError(NETWORK_ENV_VAR, value,
                      f"not a stand-in network; allowed: {SMALL!r} (test-only) or unset")
