"""How much TensorFlow may say: one `Quiet` object decides it for a whole sweep, children included.

On TensorFlow 2.21, TF_CPP_MIN_LOG_LEVEL=2 silences most C++ log lines but not the ones absl prints
before its logging is initialised, and tf-slim's layers emit Python deprecation warnings. The
mechanisms live in `slim_resnet.support.quiet` (shared with `python -m slim_resnet.extract`); this object
applies them with one setting: the parent builds it from --verbose, hands it to the sweep, and a
child process rebuilds it from the environment its parent gave it (`child_environment`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from slim_resnet.support import quiet as _shared

VERBOSE_ENV_VAR = "BENCH_VERBOSE"


@dataclasses.dataclass(frozen=True)
class Quiet:
    """Whether TensorFlow's log lines and Python warnings reach the user.

    Attributes:
      verbose: let everything through.
    """

    verbose: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Quiet:
        """The setting a parent passed to this (child) process."""
        return cls(verbose=environ.get(VERBOSE_ENV_VAR) == "1")

    def import_tensorflow(self):
        """Imports TensorFlow (and tf-slim) with its start-up noise dropped unless verbose.

        Returns:
          The `tensorflow` module.
        """
        _shared.quiet_tensorflow_import(self.verbose)
        import tensorflow as tf

        return tf

    def child_environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """The environment of a child process that will import TensorFlow.

        Args:
          base: the environment to start from (not modified).

        Returns:
          A copy with this setting in it, and TF_CPP_MIN_LOG_LEVEL=2 unless verbose or the user
          chose a level.
        """
        env = dict(base)
        env[VERBOSE_ENV_VAR] = "1" if self.verbose else "0"
        if not self.verbose:
            env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return env

    def shows(self, line: str) -> bool:
        """Whether a line of a child's stderr is passed on (C++ log lines only when verbose)."""
        return self.verbose or not _shared.is_native_log_line(line)
