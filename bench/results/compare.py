"""Comparing result files: configurations matched by their settings, each measured file against the
first (the baseline), with the verdict of `bench.results.significance`.

A configuration is every sweep axis (`bench.results.grouping.configuration_key`: depth, batch, mode,
precision, XLA, layout, image size, and any axis added later); every record of it in a file counts
as one process, whether it came from `--repeat` or from separate runs appended to the same file.
Settings that do not change the work of a step (steps, burn-in, threads, seed, ...) are not part of
the match: where they differ between files they are listed, like the environments. No TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence

from bench.core import axes, flag_names
from bench.core.config import BenchmarkConfig
from bench.results import grouping, records, significance
from bench.results.result import BenchmarkResult

# Environment facts shown side by side where the files differ: (row title, environment key).
ENVIRONMENT_FACTS = (
    ("TensorFlow", "tensorflow_version"),
    ("Python", "python_version"),
    ("Platform", "platform"),
    ("Device", "device_name"),
    ("CPU", "cpu_model"),
    ("CPU cores", "cpu_count"),
    ("Usable cores", "usable_cpu_count"),
    ("GPUs", "gpu_names"),
    ("CUDA", "cuda_version"),
    ("cuDNN", "cudnn_version"),
)
# Config fields that are not sweep axes and say nothing about the run's speed.
_NOT_SETTINGS = ("display_every", "trace", "breakdown")


class CompareError(Exception):
    """Input that cannot be compared; the message is the one line shown to the user."""


@dataclasses.dataclass(frozen=True)
class RecordFile:
    """One file's records.

    Attributes:
      path: as given.
      name: how tables name it (its base name, or the path when base names repeat).
      results: its records, in file order.
    """

    path: str
    name: str
    results: list[BenchmarkResult]


def load(paths: Sequence[str]) -> list[RecordFile]:
    """Reads every file.

    Raises:
      CompareError: naming the file that is missing, unreadable, not JSON Lines records, or empty.
    """
    loaded = [(path, _read(path)) for path in paths]
    bases = [os.path.basename(path) for path in paths]
    unique = len(set(bases)) == len(bases)
    return [
        RecordFile(path, base if unique else path, results)
        for (path, results), base in zip(loaded, bases, strict=True)
    ]


def _read(path: str) -> list[BenchmarkResult]:
    """The records of one file, or CompareError."""
    try:
        results = records.read_records(path)
    except FileNotFoundError:
        raise CompareError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CompareError(f"{path}: a folder, not a JSON Lines file of benchmark records") from None
    except OSError as error:
        raise CompareError(f"{path}: cannot read ({error.strerror or error})") from None
    except ValueError as error:
        raise CompareError(f"{error}; expected JSON Lines written by python -m bench --output") from None
    if not results:
        raise CompareError(f"{path}: no benchmark records in it")
    return results


@dataclasses.dataclass(frozen=True)
class Row:
    """One configuration across the files.

    Attributes:
      config: the configuration (as the first file holding it recorded it).
      samples: per file, its measurement (None where absent or where every process failed).
      present: per file, whether it has any record of the configuration.
      comparisons: per file after the first, the comparison with the first (None where either
        side has no measurement).
    """

    config: BenchmarkConfig
    samples: list[significance.Sample | None]
    present: list[bool]
    comparisons: list[significance.Comparison | None]


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The whole comparison.

    Attributes:
      files: the files, the baseline first.
      rows: the configurations of the baseline that another file also has, in baseline order.
      missing: configurations not in every file, each with the names of the files holding it.
      environment: (fact, value per file) where the files' environments differ.
      settings: (flag, value per file) where the files' other settings differ.
    """

    files: list[RecordFile]
    rows: list[Row]
    missing: list[tuple[BenchmarkConfig, list[str]]]
    environment: list[tuple[str, list[str]]]
    settings: list[tuple[str, list[str]]]

    def geometric_mean(self, index: int) -> float | None:
        """The geometric mean of file `index`'s ratios to the baseline (None with none)."""
        ratios = [row.comparisons[index - 1].ratio for row in self.rows if row.comparisons[index - 1]]
        if not ratios:
            return None
        return math.exp(sum(math.log(ratio) for ratio in ratios) / len(ratios))

    def verdicts(self, index: int) -> dict[str, int]:
        """How many configurations got each verdict, for file `index`."""
        found = [row.comparisons[index - 1].verdict for row in self.rows if row.comparisons[index - 1]]
        order = (significance.FASTER, significance.SLOWER, significance.SAME, significance.UNDECIDED)
        return {verdict: found.count(verdict) for verdict in order if verdict in found or verdict != order[3]}

    def slower_than(self, percent: float) -> list[tuple[Row, int]]:
        """(row, file index) of every configuration significantly slower than the baseline by more
        than `percent` percent of its images/sec."""
        limit = 1.0 - percent / 100.0
        return [
            (row, index)
            for row in self.rows
            for index, comparison in enumerate(row.comparisons, start=1)
            if comparison and comparison.verdict == significance.SLOWER and comparison.ratio < limit
        ]


def compare_files(files: Sequence[RecordFile]) -> Comparison:
    """Matches the files' configurations and compares each file with the first.

    Raises:
      CompareError: when a file has no configuration in common with the baseline.
    """
    grouped = [_groups(file.results) for file in files]
    base = grouped[0]
    for file, groups in zip(files[1:], grouped[1:], strict=True):
        if not set(groups) & set(base):
            raise CompareError(
                f"no configuration in common between {files[0].path} ({_listing(base)}) and "
                f"{file.path} ({_listing(groups)})"
            )
    rows = []
    for key, members in base.items():
        if not any(key in groups for groups in grouped[1:]):
            continue
        samples = [significance.sample_of(groups.get(key, [])) for groups in grouped]
        comparisons = [
            significance.compare(samples[0], sample) if samples[0] and sample else None
            for sample in samples[1:]
        ]
        rows.append(Row(members[0].config, samples, [key in groups for groups in grouped], comparisons))
    every_key = dict.fromkeys(key for groups in grouped for key in groups)
    configs = {key: next(g[key][0].config for g in grouped if key in g) for key in every_key}
    missing = [
        (configs[key], [file.name for file, groups in zip(files, grouped, strict=True) if key in groups])
        for key in every_key
        if not all(key in groups for groups in grouped)
    ]
    return Comparison(list(files), rows, missing, _environment(files), _settings(files))


def _groups(results: Sequence[BenchmarkResult]) -> dict[tuple, list[BenchmarkResult]]:
    """{configuration key: its records}, in order of first appearance."""
    return {grouping.configuration_key(members[0].config): members for members in grouping.group(results)}


def _listing(groups: dict[tuple, list[BenchmarkResult]], limit: int = 3) -> str:
    """'resnet_v2_50 batch 8 forward, ... and 2 more'."""
    labels = [members[0].config.label for members in groups.values()]
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return ", ".join(labels[:limit]) + more


def _side_by_side(values: list[list[str]], titles: Sequence[str]) -> list[tuple[str, list[str]]]:
    """(title, one value per file) for every title whose values differ between the files."""
    rows = []
    for title, per_file in zip(titles, zip(*values, strict=True), strict=True):
        if len(set(per_file)) > 1:
            rows.append((title, list(per_file)))
    return rows


def _distinct(items: Sequence[object]) -> str:
    """The distinct values, in order, joined with '; '."""
    return "; ".join(dict.fromkeys(_word(item) for item in items))


def _word(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or "none"
    return "" if value is None else str(value)


def _environment(files: Sequence[RecordFile]) -> list[tuple[str, list[str]]]:
    """The environment facts that differ between the files."""
    values = [
        [_distinct([r.environment.get(key) for r in file.results]) for _, key in ENVIRONMENT_FACTS]
        for file in files
    ]
    return _side_by_side(values, [title for title, _ in ENVIRONMENT_FACTS])


def _setting(name: str, config: BenchmarkConfig) -> str:
    """A setting's value in `config` as the user types it (`flag_names.setting_value`)."""
    return flag_names.setting_value(name, getattr(config, name))


def _settings(files: Sequence[RecordFile]) -> list[tuple[str, list[str]]]:
    """The configuration settings outside the match that differ between the files."""
    axis_fields = {axis.field for axis in axes.AXES}
    fields = [
        field.name
        for field in dataclasses.fields(BenchmarkConfig)
        if field.name not in axis_fields and field.name not in _NOT_SETTINGS
    ]
    values = [
        [_distinct([_setting(name, r.config) for r in file.results]) for name in fields]
        for file in files
    ]
    return _side_by_side(values, [flag_names.setting_name(name) for name in fields])
