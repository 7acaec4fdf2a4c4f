"""Results on disk and on stdout: JSON Lines records and CSV rows.

One JSON object per configuration and line (`BenchmarkResult.to_record`, schema
"slim-resnet-bench/1"); `JsonLinesFile` appends each as soon as it exists and forces it to disk;
`read_records` loads a file written by any version of the harness. CSV rows are the same records
flattened to dotted keys. No TensorFlow here.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import stat
from collections.abc import Sequence
from typing import IO

from bench.results.result import BenchmarkResult

# Lists left out of CSV rows (one row per configuration); the JSON record keeps them (a burst's
# line is in the warnings column).
CSV_EXCLUDED = ("step_times_s", "burn_in_times_s", "failure.details", "extra.breakdown.parts", "bursts")


def json_safe(value):
    """`value` with non-finite floats replaced by None, so the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def json_line(result: BenchmarkResult) -> str:
    """One JSON Lines record (no trailing newline)."""
    return json.dumps(json_safe(result.to_record()), sort_keys=False)


def json_lines(results: Sequence[BenchmarkResult]) -> str:
    """The records of `results`, one per line (no trailing newline)."""
    return "\n".join(json_line(result) for result in results)


def read_records(path: str) -> list[BenchmarkResult]:
    """The results recorded in a JSON Lines file (blank lines skipped).

    Raises:
      OSError: if the file cannot be read.
      ValueError: naming the line that is not a JSON record.
    """
    return [result for _, result in read_records_with_json(path)]


def read_records_with_json(path: str) -> list[tuple[dict, BenchmarkResult]]:
    """Each record of a JSON Lines file as parsed JSON and as the result rebuilt from it, for
    readers of keys that `BenchmarkResult` does not keep (blank lines skipped).

    Raises:
      OSError: if the file cannot be read.
      ValueError: naming the line that is not a JSON record (or the file, if it is not UTF-8 text).
    """
    pairs = []
    with open(path, encoding="utf-8") as records:
        try:
            lines = list(records)
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}: not a text file ({error.reason} at byte {error.start})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            pairs.append((record, BenchmarkResult.from_record(record)))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{path}:{number}: not a benchmark record ({error})") from None
    return pairs


def flatten_record(record: dict, prefix: str = "") -> dict:
    """Nested dicts to dotted keys ('stats.mean_s'); lists joined with ';'.

    Args:
      record: a JSON record.
      prefix: key prefix for recursion.

    Returns:
      A flat dict of scalars, CSV_EXCLUDED keys left out.
    """
    flat = {}
    for key, value in record.items():
        name = prefix + key
        if name in CSV_EXCLUDED:
            continue
        if isinstance(value, dict):
            flat.update(flatten_record(value, name + "."))
        elif isinstance(value, list):
            flat[name] = ";".join(str(item) for item in value)
        else:
            flat[name] = value
    return flat


def csv_text(results: Sequence[BenchmarkResult]) -> str:
    """CSV with a header row and one row per configuration (every column of every record).

    Args:
      results: results in sweep order.

    Returns:
      The CSV text.
    """
    rows = [flatten_record(json_safe(result.to_record())) for result in results]
    fieldnames = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


class JsonLinesFile:
    """Appends records to a JSON Lines file, each flushed (and, for a regular file, synced to
    disk) as soon as it is written."""

    def __init__(self, path: str):
        """Opens `path` for appending (creating it).

        Raises:
          OSError: if it cannot be opened for writing.
        """
        self.path = path
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        self._regular = stat.S_ISREG(os.fstat(self._file.fileno()).st_mode)

    def write(self, result: BenchmarkResult) -> None:
        """Appends one record and forces it to disk (fsync applies to regular files only).

        A record that cannot be written whole is taken out again (a regular file is truncated to
        its length before the write), so the file never holds half a line.

        Raises:
          OSError: if the record could not be written (e.g. the disk is full).
        """
        start = self._file.tell() if self._regular else None
        try:
            self._file.write(json_line(result) + "\n")
            self._file.flush()
            if self._regular:
                os.fsync(self._file.fileno())
        except OSError:
            self._discard_unwritten(start)
            raise

    def _discard_unwritten(self, start: int | None) -> None:
        """Drops what a failed write left in the buffer and, for a regular file, on disk."""
        with contextlib.suppress(OSError, ValueError):
            self._file.close()
        with contextlib.suppress(OSError):
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
            if start is not None:
                self._file.truncate(start)

    def close(self) -> None:
        """Closes the file (a failure to flush what is left is not raised: every record was
        flushed when written)."""
        with contextlib.suppress(OSError):
            self._file.close()
