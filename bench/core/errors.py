"""The errors a run refuses with, each one line: ConfigError (a setting whose value is not allowed,
raised by every module that validates one) and DataError (data that cannot be used)."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value that is not allowed.

    Attributes:
      field: the BenchmarkConfig field (or other setting) that is wrong.
      value: the offending value.
      allowed: what would have been accepted, in words.
    """

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}={value!r}: {allowed}")


class DataError(ValueError):
    """The data cannot be used; the message is one line naming the bad value and what is allowed.

    Raised by `bench.inputs` (`sources.DataError` is the same class)."""
