"""What `--breakdown` costs (issue 29): the measured throughput with and without it, and the seconds
it adds.

One configuration's graph is built once (`bench.step.graphs.build_timed_graph`); each round runs the
harness's own measurement (`bench.measuring.measure.benchmark`, a new session each time) twice on it,
once without and once with `--breakdown`, in alternating order (odd rounds start with the
breakdown). The breakdown's traced steps come after the measured ones, so the two measured
throughputs should agree within the noise: the round's ratio is with / without of images/sec, and
its cost is the breakdown phase's seconds (`phases_s['breakdown']`). The median over rounds is the
figure to read. No peak probe.

Run from the repository root:

    python benchmarks/breakdown.py                            # resnet_v2_50, batch 8, 112 px, 5 rounds
    python benchmarks/breakdown.py --depth 101 --mode train --rounds 3
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

from bench.core.config import BREAKDOWN_LEVELS, MODEL_MODES, BenchmarkConfig  # noqa: E402
from bench.measuring import environment, measure  # noqa: E402
from bench.step import graphs  # noqa: E402
from bench.step.plan import plan_step  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--mode", default="forward-backward", choices=MODEL_MODES)
    parser.add_argument("--level", default="blocks", choices=BREAKDOWN_LEVELS)
    parser.add_argument("--num-batches", type=int, default=20, help="measured steps per run")
    parser.add_argument("--burn-in", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args(argv)


def run_once(config: BenchmarkConfig, timed, facts: dict) -> tuple[float, float | None]:
    """(images/sec of the measured steps, seconds the breakdown added or None) of one run."""
    result = measure.benchmark(config, facts, timed=timed)
    return result.stats.images_per_sec, result.phases_s.get("breakdown")


def main(argv=None) -> int:
    args = parse_args(argv)
    without = BenchmarkConfig(depth=args.depth, batch_size=args.batch_size, image_size=args.image_size,
                              mode=args.mode, num_batches=args.num_batches, burn_in=args.burn_in,
                              device="cpu", data_format="NHWC", peak_probe=False).validate()
    with_breakdown = dataclasses.replace(without, breakdown=args.level).validate()
    timed = graphs.build_timed_graph(plan_step(without))
    facts = environment.describe_environment(tf, "cpu")
    print(f"{without.label}, {args.image_size} px, {args.num_batches} measured steps per run, "
          f"--breakdown {args.level}")
    print("round  without (img/s)  with (img/s)  with / without  breakdown (s)")
    ratios, extra_s = [], []
    for index in range(args.rounds):
        order = [("with", with_breakdown), ("without", without)]
        if index % 2 == 0:
            order.reverse()
        figures = {name: run_once(config, timed, facts) for name, config in order}
        rate_without, rate_with = figures["without"][0], figures["with"][0]
        seconds = figures["with"][1]
        ratios.append(rate_with / rate_without)
        extra_s.append(seconds)
        print(f"{index + 1:5d}  {rate_without:15.2f}  {rate_with:12.2f}  {ratios[-1]:14.3f}  {seconds:13.2f}",
              flush=True)
    print(f"median: with / without {statistics.median(ratios):.3f}; the breakdown added "
          f"{statistics.median(extra_s):.2f} s per configuration")
    return 0


if __name__ == "__main__":
    sys.exit(main())
