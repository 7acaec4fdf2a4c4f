"""Bounds on child processes (bench/core/limits.py): sizes as typed, the checks, the record form, and
the memory bound applied to a real process."""

import subprocess
import sys

import pytest

from bench.core.errors import ConfigError
from bench.core.limits import (
    BACKSTOP_FACTOR,
    MIN_MEMORY_LIMIT_BYTES,
    Limits,
    SizeError,
    format_size,
    parse_size,
)


@pytest.mark.parametrize("text, expected", [
    ("6GiB", 6 * 2**30), ("6G", 6 * 2**30), ("6gib", 6 * 2**30), ("8GB", 8 * 10**9),
    ("512MiB", 512 * 2**20), ("1.5GiB", 3 * 2**29), (" 2 TiB ", 2 * 2**40), ("4096", 4096),
    ("100kb", 100_000), (".5M", 2**19),
])
def test_sizes_are_read_in_binary_and_decimal_units(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["3XB", "GiB", "-1GiB", "0", "0GiB", "1e9", "six GiB", ""])
def test_a_size_that_cannot_be_read_says_what_is_allowed(text):
    with pytest.raises(SizeError, match="512MiB, 6GiB or 8GB"):
        parse_size(text)


@pytest.mark.parametrize("size, text", [
    (6 * 2**30, "6 GiB"), (512 * 2**20, "512 MiB"), (3 * 2**29, "1.5 GiB"), (1000, "1000 B"),
    (2**40, "1 TiB"),
])
def test_sizes_are_written_in_the_largest_binary_unit(size, text):
    assert format_size(size) == text


def test_limits_from_flags_are_checked_and_name_their_flag():
    limits = Limits.from_text("6GiB", "8GiB", 30)
    assert (limits.memory_bytes, limits.gpu_memory_bytes, limits.timeout_s) == (6 * 2**30, 8 * 2**30, 30)
    assert limits.gpu_memory_limit_mb == 8192 and limits.memory_text() == "memory limit 6 GiB"
    assert limits.any and limits.child_only
    assert not Limits().any and Limits().gpu_memory_limit_mb is None
    assert not Limits.from_text(gpu_memory="1GiB").child_only
    for kwargs, field in [({"memory": "3XB"}, "memory_limit"), ({"memory": "100MiB"}, "memory_limit"),
                          ({"gpu_memory": "1KiB"}, "gpu_memory_limit"), ({"timeout_s": 0}, "timeout"),
                          ({"timeout_s": -3.0}, "timeout"), ({"timeout_s": float("inf")}, "timeout")]:
        with pytest.raises(ConfigError) as raised:
            Limits.from_text(**kwargs)
        assert raised.value.field == field
    with pytest.raises(ConfigError, match="at least 1 GiB"):
        Limits.from_text(memory="100MiB")


def test_limits_round_trip_through_their_record_form():
    limits = Limits(memory_bytes=2**31, timeout_s=12.5)
    assert Limits.from_dict(limits.to_dict()) == limits
    assert Limits.from_dict(None) == Limits() == Limits.from_dict({})


def test_the_backstop_makes_an_allocation_beyond_twice_the_bound_fail_in_that_process_only():
    code = (
        "import resource, sys; from bench.core.limits import apply_memory_backstop; "
        f"apply_memory_backstop({MIN_MEMORY_LIMIT_BYTES}); "
        "print(resource.getrlimit(resource.RLIMIT_DATA)[0]); sys.stdout.flush(); "
        f"small = bytearray({MIN_MEMORY_LIMIT_BYTES}); "
        f"big = bytearray({BACKSTOP_FACTOR * MIN_MEMORY_LIMIT_BYTES})"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.stdout.strip() == str(BACKSTOP_FACTOR * MIN_MEMORY_LIMIT_BYTES)
    assert completed.returncode == 1 and "MemoryError" in completed.stderr
    assert bytearray(2**30)  # this process is not bounded
