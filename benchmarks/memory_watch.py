"""The `--memory-limit` watch (`bench.processes.memory_watch`): what it costs, and how far a child
can go over the bound before it is stopped (issue 32).

Two measurements:

- cost: the same configuration run in a child process (`bench.processes.child.run_in_child`),
  alternately without a memory bound and under one it never reaches (each side first in every
  other round) (so the watch reads the child's /proc/PID/status for the whole run, every
  `MAX_POLL_S` so far below the bound), for several rounds. Printed per
  round: each side's mean measured step time and their ratio (bound on / off), then the median
  ratio, and the parent's CPU time per second of the child's run on each side (the watch's own
  cost, which the child's step time can only show as noise on a machine with a core to spare).
- overshoot: a plain Python child (no TensorFlow) that allocates and touches NumPy memory in
  chunks, as fast as it can, under a watch with a bound; printed per chunk size: the peak the watch
  read, how far above the bound that is (the overshoot), and the rate the child touched memory at.
  A 0-step chunk of the bound's double size is one allocation that spikes past the bound at once.

Run from the repository root:

    python benchmarks/memory_watch.py                      # both, 5 rounds
    python benchmarks/memory_watch.py --only overshoot --repeats 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.core.config import BenchmarkConfig  # noqa: E402
from bench.core.limits import Limits, format_size  # noqa: E402
from bench.core.run_context import RunContext  # noqa: E402
from bench.processes import child, memory_watch  # noqa: E402

MIB = 2**20
GROWING = (
    "import sys, time, numpy\n"
    "chunk, total = int(sys.argv[1]), int(sys.argv[2])\n"
    "held = []\n"
    "start = time.perf_counter()\n"
    "while len(held) * chunk < total:\n"
    "    held.append(numpy.ones(chunk // 8))\n"
    "    print(len(held) * chunk, time.perf_counter() - start, flush=True)\n"
)


def parent_cpu_s() -> float:
    """This process's user + system CPU seconds so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_run(config: BenchmarkConfig, environment: dict, limits: Limits) -> tuple[float, float]:
    """(mean measured step time, parent CPU s per wall s) of one child run of `config`."""
    cpu, wall = parent_cpu_s(), time.perf_counter()
    result = child.run_in_child(config, RunContext(environment, limits=limits))
    cpu, wall = parent_cpu_s() - cpu, time.perf_counter() - wall
    if not result.ok:
        raise SystemExit(f"the run failed: {result.failure.short}")
    return statistics.fmean(result.measurement.step_times_s), cpu / wall


def cost(args: argparse.Namespace) -> None:
    """The cost rounds: bound off, then on, per round."""
    import bench

    config = BenchmarkConfig(
        depth=args.depth,
        batch_size=args.batch,
        image_size=args.image_size,
        mode=args.mode,
        num_batches=args.steps,
        burn_in=args.burn_in,
        device="cpu",
        peak_probe=False,
    )
    configs, environment = bench.prepare([config])
    bound = Limits(memory_bytes=args.bound_gib * 2**30)
    print(f"cost: {configs[0].label}, {args.image_size} px, {args.steps} steps; bound "
          f"{format_size(bound.memory_bytes)} (never reached), {_polls()}")
    ratios, cpu_off, cpu_on = [], [], []
    for round_index in range(1, args.rounds + 1):
        if round_index % 2:  # each side first in every other round, so a drift in load cancels out
            off, off_cpu = one_run(configs[0], environment, Limits())
            on, on_cpu = one_run(configs[0], environment, bound)
        else:
            on, on_cpu = one_run(configs[0], environment, bound)
            off, off_cpu = one_run(configs[0], environment, Limits())
        ratios.append(on / off)
        cpu_off.append(off_cpu)
        cpu_on.append(on_cpu)
        print(f"  round {round_index}: off {off * 1000:.1f} ms, on {on * 1000:.1f} ms, "
              f"on/off {on / off:.3f}; parent CPU s per s: off {off_cpu:.4f}, on {on_cpu:.4f}")
    print(f"  median on/off {statistics.median(ratios):.3f} (min {min(ratios):.3f}, "
          f"max {max(ratios):.3f}); parent CPU s per s, median: off {statistics.median(cpu_off):.4f}, "
          f"on {statistics.median(cpu_on):.4f}")


def _polls() -> str:
    return (f"a read every {memory_watch.POLL_S * 1000:g} to {memory_watch.MAX_POLL_S * 1000:g} ms "
            "(memory_watch.next_wait_s)")


def overshoot(args: argparse.Namespace) -> None:
    """The overshoot runs: a NumPy child per chunk size, under a watch."""
    bound = args.overshoot_bound_mib * MIB
    print(f"overshoot: NumPy child growing until stopped, bound {format_size(bound)}, {_polls()}")
    for chunk_mib in args.chunks_mib:
        chunk = chunk_mib * MIB
        overs, rates = [], []
        for _ in range(args.repeats):
            process = subprocess.Popen(
                [sys.executable, "-c", GROWING, str(chunk), str(4 * bound)], stdout=subprocess.PIPE, text=True
            )
            watch = memory_watch.MemoryWatch(process.pid, bound)
            watch.start()
            lines = process.communicate()[0].split("\n")
            watch.stop()
            if not watch.over:
                raise SystemExit(f"chunk {chunk_mib} MiB: the child was not stopped")
            overs.append(watch.peak_bytes - bound)
            touched = [line.split() for line in lines if line.strip()]
            if len(touched) >= 2:
                (first_bytes, first_s), (last_bytes, last_s) = touched[0], touched[-1]
                rates.append((int(last_bytes) - int(first_bytes)) / (float(last_s) - float(first_s)) / 2**30)
        rate = f", touched at {statistics.median(rates):.2f} GiB/s" if rates else ""
        print(f"  chunk {chunk_mib} MiB: over the bound by {format_size(min(overs))} to "
              f"{format_size(max(overs))} (median {format_size(statistics.median(overs))}){rate}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("cost", "overshoot"))
    parser.add_argument("--rounds", type=int, default=5, help="cost rounds (default 5)")
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--mode", default="forward")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--burn-in", type=int, default=3)
    parser.add_argument("--bound-gib", type=int, default=16, help="the cost side's bound (default 16)")
    parser.add_argument("--overshoot-bound-mib", type=int, default=1024)
    parser.add_argument("--chunks-mib", type=int, nargs="+", default=[16, 64, 256, 2048])
    parser.add_argument("--repeats", type=int, default=3, help="overshoot runs per chunk size")
    args = parser.parse_args()
    if args.only in (None, "overshoot"):
        overshoot(args)
    if args.only in (None, "cost"):
        cost(args)


if __name__ == "__main__":
    main()
