"""The words of a plot: what tells several files apart, the title, the failures listed below
the plot, and an axis value in a legend.

Each file is labelled by the facets (environment and settings) in which the files differ; the
title names the device and TensorFlow version of the measured records and what every configuration
shares. No matplotlib and no TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from bench.core import axes, flag_names
from bench.core.config import DATA_SYNTHETIC, BenchmarkConfig
from bench.output.plot_data import Source

# Config fields that say nothing about what was measured, or that the environment already names.
UNLABELLED_FIELDS = ("trace", "display_every", "device")
_CONFIG_FIELDS = {field.name for field in dataclasses.fields(BenchmarkConfig)}
# Between the values of a facet that takes several in one file.
SEPARATOR = " / "
# Axes the title never names: every legend does.
TITLE_SKIPS = ("depth", "batch_size", "mode", "num_devices")  # the device count: as 'replicas'
# How many environments the title names before it counts them instead.
TITLE_ENVIRONMENTS = 3


def label_sources(sources: list[Source]) -> list[Source]:
    """The sources, each labelled by the facets (TensorFlow version, device, host CPU, CUDA, every
    setting, device count) that have one value in each file and not the same in all, e.g.
    'TensorFlow 2.20.0' against 'TensorFlow 2.21.0' (a facet a file has no value of, such as the
    CUDA version of a CPU run, is not named in its label); by file name when none differs, and with
    the file name added where two labels would be equal. A single source gets no label.

    A facet with several values in one file is left out: where it is a sweep axis, that file's
    lines are split by it already. Facets are read from a file's measured records, or from all of
    them when it has none.
    """
    if len(sources) < 2:
        return sources
    facets = [_facets(source) for source in sources]
    names = list(dict.fromkeys(name for found in facets for name in found))
    differing = [
        name
        for name in names
        if all(SEPARATOR not in found.get(name, "") for found in facets)
        and len({found.get(name, "") for found in facets}) > 1
    ]
    names = _file_names([source.path for source in sources])
    labels = [
        ", ".join(_facet_words(name, found[name]) for name in differing if found.get(name)) or file_name
        for found, file_name in zip(facets, names, strict=True)
    ]
    labels = [
        f"{label} ({name})" if labels.count(label) > 1 else label
        for label, name in zip(labels, names, strict=True)
    ]
    return [dataclasses.replace(source, label=label) for source, label in zip(sources, labels, strict=True)]


def _facets(source: Source) -> dict[str, str]:
    """{facet name: its values in the file, joined by SEPARATOR}, environment first."""
    entries = [entry for entry in source.entries if entry.result.ok] or list(source.entries)
    environments = [entry.result.environment for entry in entries]
    facets = {
        "TensorFlow": _joined(env.get("tensorflow_version") for env in environments),
        "device": _joined(device_words(env) for env in environments),
        "host CPU": _joined(env.get("cpu_model") for env in environments if env.get("device") == "gpu"),
        "CUDA": _joined(env.get("cuda_version") for env in environments if env.get("device") == "gpu"),
    }
    for field in dataclasses.fields(BenchmarkConfig):
        if field.name in UNLABELLED_FIELDS:
            continue
        values = (getattr(entry.result.config, field.name) for entry in entries)
        facets[flag_names.setting_name(field.name)] = _joined(
            flag_names.setting_value(field.name, value) for value in values
        )
    facets["devices"] = _joined(str(entry.replicas) for entry in entries)
    return facets


def _facet_words(name: str, value: str) -> str:
    """A facet in a label: 'TensorFlow 2.21.0', 'GPU NVIDIA A100-SXM4-40GB', '--num-batches 20',
    '2 devices'."""
    if name == "device":
        return value
    if name == "devices":
        return value_words("replicas", int(value))
    if value == flag_names.GIVEN:  # a switch: its flag alone
        return name
    if name in _CONFIG_FIELDS:  # a setting only the Python API sets: its keyword
        return f"{name}={value}"
    return f"{name} {value}"


def _joined(values) -> str:
    """Distinct non-empty values in first-seen order, joined by SEPARATOR."""
    return SEPARATOR.join(dict.fromkeys(str(value) for value in values if value not in (None, "")))


def _file_names(paths: Sequence[str]) -> list[str]:
    """The files' base names, or the paths as given when two base names are equal."""
    names = [os.path.basename(path) for path in paths]
    return names if len(set(names)) == len(names) else list(paths)


def device_words(environment: dict) -> str:
    """'GPU NVIDIA A100-SXM4-40GB' or 'CPU AMD EPYC 7B13' ('unknown device' for a record without
    an environment)."""
    kind = environment.get("device")
    name = environment.get("device_name") or environment.get("cpu_model")
    if not kind or not name:
        return "unknown device"
    return f"{kind.upper()} {name}"


def title(sources: Sequence[Source]) -> str:
    """'ResNet v2 throughput: CPU AMD EPYC, TensorFlow 2.21.0', naming each environment of the
    measured records (counted when there are more than TITLE_ENVIRONMENTS), and a second line with
    the values every measured record shares of the axes other than depth, batch and mode, e.g.
    'every configuration: 64 px, fp32, NHWC, XLA off' (a device count only when it is not 1)."""
    measured = [entry for source in sources for entry in source.entries if entry.result.ok]
    environments = list(
        dict.fromkeys(
            f"{device_words(env)}, TensorFlow {env.get('tensorflow_version') or 'unknown'}"
            for env in (entry.result.environment for entry in measured)
        )
    )
    if len(environments) > TITLE_ENVIRONMENTS:
        first = f"ResNet v2 throughput: {len(environments)} environments (see the legends)"
    else:
        first = "ResNet v2 throughput: " + "; ".join(environments)
    shared = []
    named = [axis.field for axis in axes.AXES if axis.field not in ("image_size", *TITLE_SKIPS)]
    for field in ("image_size", *named, "replicas"):
        values = {entry.value(field) for entry in measured}
        if values == {DATA_SYNTHETIC}:  # the default inputs go without saying
            continue
        if len(values) == 1 and values != {1}:  # the only value 1 can have is a device count
            shared.append(value_words(field, *values))
    return first + ("\nevery configuration: " + ", ".join(shared) if shared else "")


def failures(sources: Sequence[Source], shown_fields: Sequence[str] = ()) -> list[str]:
    """One line per configuration that was not measured, e.g. 'resnet_v2_101 batch 8 train: OOM',
    prefixed by its file's label when there are several files; a line shared by several records
    (failed repeats) says how many.

    Args:
      sources: the plotted sources.
      shown_fields: axis fields (or 'replicas') the plot tells apart beyond the record's label,
        named after it, e.g. '(image 64 px)'.
    """
    lines: dict[str, int] = {}
    for source in sources:
        for entry in source.entries:
            result = entry.result
            if result.ok:
                continue
            words = [value_words(field, entry.value(field)) for field in shown_fields]
            line = result.config.label + (f" ({', '.join(words)})" if words else "")
            reason = result.failure.short if result.failure else result.status
            line = f"{source.label + ': ' if source.label else ''}{line}: {reason}"
            lines[line] = lines.get(line, 0) + 1
    return [line if count == 1 else f"{line} ({count} records)" for line, count in lines.items()]


def value_words(field: str, value: object) -> str:
    """An axis value (or a device count) in a legend: 'batch 8', 'forward', 'XLA on', '64 px'."""
    if field == "replicas":
        return f"{value} device{'s' if value != 1 else ''}"
    if field in ("mode", "precision", "data_format"):
        return str(value)
    if field == "image_size":
        return f"{value} px"
    axis = axes.AXIS_OF_FIELD[field]
    return f"{axis.header.lower() if field != 'xla' else 'XLA'} {axis.cell(value)}"
