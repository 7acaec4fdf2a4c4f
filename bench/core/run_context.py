"""What every configuration of a run shares, passed down as one value: the machine's description,
how much TensorFlow may print, where progress lines go and the bounds each process runs under.

The sweep builds it once (`bench.sweeping.sweep`); a child process (`bench.processes.child`), the
workers of a configuration (`bench.processes.workers`) and a batch search's tries
(`bench.sweeping.batch_max`) receive it whole. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from typing import IO

from bench.core.limits import Limits
from bench.core.quiet import Quiet


@dataclasses.dataclass(frozen=True)
class RunContext:
    """The shared settings of a run.

    Attributes:
      environment: the environment description every record carries
        (`bench.measuring.environment.describe_environment`).
      quiet: what TensorFlow may print (a child inherits it).
      progress: where progress lines go (None: nowhere).
      limits: the bounds of each configuration's process (memory, time, GPU memory, peers).
    """

    environment: dict
    quiet: Quiet = dataclasses.field(default_factory=Quiet)
    progress: IO[str] | None = None
    limits: Limits = dataclasses.field(default_factory=Limits)

    def without_progress(self) -> RunContext:
        """The same context with no progress lines (a worker other than the chief)."""
        return dataclasses.replace(self, progress=None)
