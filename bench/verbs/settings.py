"""From the parsed flags of `python -m bench` to what the sweep's configurations are made of: the
values of every sweep axis, the settings they share, and the number of workers (from --workers or
a TF_CONFIG cluster). No TensorFlow here.
"""

from __future__ import annotations

import argparse

from bench.core import axes, cluster, steps
from bench.core.config import real_data_classes
from bench.verbs import quality_flags
from bench.verbs.flag_checks import tokens
from bench.verbs.usage import UsageError


def axis_values(args: argparse.Namespace) -> dict[str, list]:
    """{axis field: config values} from the axis flags (an empty --xla means on).

    Raises:
      ConfigError: for a value an axis does not know.
    """
    values = {}
    for axis in axes.AXES:
        given = tokens(getattr(args, axis.field))
        if axis.field == "xla" and not given:
            given = ["on"]
        values[axis.field] = axis.values(given)
    return values


def common_settings(args: argparse.Namespace) -> dict:
    """BenchmarkConfig fields shared by every configuration of the sweep."""
    default_classes = real_data_classes(args.num_classes, data_values(args))
    return {
        **quality_flags.quality_settings(args),
        "num_batches": args.num_batches,
        "target_ci": steps.DEFAULT_TARGET_CI_PCT if args.target_ci is None else args.target_ci,
        "max_time": args.max_time,
        "burn_in": args.burn_in,
        "num_classes": quality_flags.num_classes(args, depth_values(args), default_classes),
        "seed": args.seed,
        "device": args.device,
        "intra_op_threads": args.intra_op_threads,
        "inter_op_threads": args.inter_op_threads,
        "display_every": args.display_every,
        "loss_scale": args.loss_scale,
        "trace": args.trace,
        "breakdown": args.breakdown,
        "peak_probe": not args.no_peak_probe,
        "peak_probe_size": args.peak_probe_size,
        "workers": worker_count(args),
        "data_threads": args.data_threads,
        "preprocessing": args.preprocessing,
    }


def depth_values(args: argparse.Namespace) -> list[int]:
    """The --depth values (depths; 'all' expanded)."""
    return axes.AXIS_OF_FIELD["depth"].values(tokens(args.depth))


def data_values(args: argparse.Namespace) -> list[str]:
    """The --data values ('synthetic' or paths)."""
    return axes.AXIS_OF_FIELD["data"].values(tokens(args.data))


def worker_count(args: argparse.Namespace) -> int:
    """--workers, or the size of the cluster in TF_CONFIG.

    Raises:
      ConfigError: for a malformed TF_CONFIG.
      UsageError: for --workers with --in-process, or a --workers the cluster contradicts.
    """
    text = cluster.environment_text()
    if text is None:
        if args.workers is not None and args.workers > 1 and args.in_process:
            raise UsageError(
                f"--workers {args.workers}: not with --in-process (each worker is a process of its own)"
            )
        return 1 if args.workers is None else args.workers
    size = len(cluster.parse(text)["addresses"])
    if args.workers is not None and args.workers != size:
        raise UsageError(f"--workers {args.workers}: TF_CONFIG names a cluster of {size} workers")
    if size > 1 and args.in_process:
        raise UsageError(
            "--in-process: not with a TF_CONFIG cluster (each configuration's worker server "
            "needs a process of its own)"
        )
    return size
