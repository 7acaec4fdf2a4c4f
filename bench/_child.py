"""Child process entry point: `python -m bench._child JOB.json` benchmarks one configuration.

The job file (written by `bench.runner.run_in_child`) holds the configuration, the environment
description, the verbose flag, where to write the result and when the parent spawned us. The
result is written as one JSON record (the same schema as the --output file) to a temporary name
and renamed, so the parent never reads half a file. Exit status: 0 measured, 1 failed (the
record says why). Ctrl-C is ignored here: the parent decides what happens to the sweep and stops
this process itself.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def main(argv: list[str]) -> int:
    """Runs the job in argv[1]; returns the exit status.

    Args:
      argv: [program, job_path].

    Returns:
      0 if the configuration was measured, 1 if it failed.
    """
    entered_at = time.time()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with open(argv[1], encoding="utf-8") as job_file:
        job = json.load(job_file)
    verbose = bool(job.get("verbose"))

    from bench import environment, timing
    from bench.config import BenchmarkConfig

    import_start = timing.clock()
    environment.import_tensorflow(verbose)
    from bench import runner  # imports the model package and tf-slim

    tf_import_s = timing.clock() - import_start

    config = BenchmarkConfig.from_dict(job["config"])
    progress = sys.stdout if job.get("progress") else None
    result = runner.run_in_process(config, job["environment"], progress=progress)
    result.phases_s.pop("total", None)  # the parent measures the total from outside
    result.phases_s.update(process_start=entered_at - job["spawned_at"], tf_import=tf_import_s)
    _write_atomically(job["result_path"], result.to_record())
    return 0 if result.ok else 1


def _write_atomically(path: str, record: dict) -> None:
    """Writes `record` as JSON to `path` via a temporary file and a rename."""
    temporary_path = path + ".partial"
    with open(temporary_path, "w", encoding="utf-8") as result_file:
        json.dump(record, result_file)
    os.replace(temporary_path, path)


if __name__ == "__main__":
    exit_status = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is written and the session closed: skip the interpreter's slow shutdown of
    # TensorFlow (about a second), which would only add to the per-configuration overhead.
    os._exit(exit_status)
