"""How much TensorFlow may say: one `Quiet` object decides it for a whole sweep, children included.

On TensorFlow 2.21, TF_CPP_MIN_LOG_LEVEL=2 silences most C++ log lines but not the ones absl prints
before its logging is initialised, and tf-slim's layers emit Python deprecation warnings. The
mechanisms live in `slim_resnet.support.quiet` (shared with `python -m slim_resnet.extract`); this object
applies them with one setting: the parent builds it from --verbose, hands it to the sweep, and a
child process rebuilds it from the environment its parent gave it (`child_environment`).
"""

from __future__ import annotations

import dataclasses
import importlib.abc
import importlib.util
import os
import sys
from collections.abc import MutableMapping

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
    def from_environment(cls, environ: MutableMapping[str, str] = os.environ) -> Quiet:
        """The setting a parent passed to this (child) process."""
        return cls(verbose=environ.get(VERBOSE_ENV_VAR) == "1")

    def import_tensorflow(self):
        """Imports TensorFlow (and tf-slim) with its start-up noise dropped unless verbose.

        Returns:
          The `tensorflow` module.
        """
        if self.verbose:
            _loud_library_use()
        _shared.quiet_tensorflow_import(self.verbose)
        import tensorflow as tf

        return tf

    def child_environment(self, base: MutableMapping[str, str]) -> dict[str, str]:
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


def quiet_library_use(environ: MutableMapping[str, str] = os.environ) -> bool:
    """What `import bench` does so that the library is as quiet as the command line.

    Unless BENCH_VERBOSE=1, the user chose a TF_CPP_MIN_LOG_LEVEL, or TensorFlow is already
    imported: the first `import tensorflow` (by any module) sets TF_CPP_MIN_LOG_LEVEL=2 before
    TensorFlow loads and drops the C++ lines that level does not silence (those printed before
    absl's logging starts, the CUDA probing of a machine without a GPU), as
    `Quiet.import_tensorflow` does for the command line (which removes it when verbose).

    Args:
      environ: the process environment.

    Returns:
      Whether the quiet import is in place.
    """
    user_chose = environ.get(VERBOSE_ENV_VAR) == "1" or "TF_CPP_MIN_LOG_LEVEL" in environ
    if user_chose or "tensorflow" in sys.modules:
        return False
    if not any(isinstance(finder, _QuietTensorFlowImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport(environ))
    return True


def _loud_library_use() -> None:
    """Removes `quiet_library_use`'s import hook (a verbose command line wants every line)."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _QuietTensorFlowImport)]


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `tensorflow` once, then loads it through `slim_resnet.support.quiet`'s captured stderr."""

    def __init__(self, environ: MutableMapping[str, str]):
        self._environ = environ
        self._loader = None

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        _loud_library_use()  # once, and the real finders find the real module
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self._loader  # TensorFlow sees its own loader
        self._environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with _shared.captured_native_stderr():
            self._loader.exec_module(module)
            module.config.list_physical_devices()  # the CUDA probing lines
        _shared.silence_python_warnings()
