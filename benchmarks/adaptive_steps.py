"""`--num-batches auto` against the default 100 steps (issue 34): steps and seconds spent, and
whether the two means agree.

For each case (by default resnet_v2_50 batch 8 forward and resnet_v2_101 batch 16
forward-backward, at 64 px on the CPU) it runs `python -m bench` twice per round, alternately, in
one child process each: once with `--num-batches auto` (the default 1% target and 60 s budget unless
given) and once with `--num-batches 100`. From each record it reads the measured steps, the
measured phase's seconds (`stats.loop_wall_s`), the whole configuration's seconds
(`phases_s.total`), why measuring stopped, the mean step with its 95% batch-means interval, and any
burst; then it compares the two runs of a round with the harness's own test
(`bench.results.significance.compare`, Welch on the log mean step): "agree" when it finds no
significant difference. On a shared machine the seconds of a configuration are what a user waits;
the means are what the figures rest on.

Run from the repository root:

    python benchmarks/adaptive_steps.py                      # both cases, 1 round
    python benchmarks/adaptive_steps.py --rounds 3 --target-ci 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.results import records, significance  # noqa: E402

CASES = {
    "r50-b8-forward": ["--depth", "50", "--batch", "8", "--mode", "forward"],
    "r101-b16-fb": ["--depth", "101", "--batch", "16", "--mode", "forward-backward"],
}


def run_once(case: list[str], steps: list[str], image_size: int, output: str) -> records.BenchmarkResult:
    """One `python -m bench` configuration in its child; its result read back from `output`."""
    command = [sys.executable, "-m", "bench", *case, *steps, "--image-size", str(image_size),
               "--device", "cpu", "--no-peak-probe", "--quiet", "--output", output]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return records.read_records(output)[-1]


def describe(name: str, result) -> str:
    """One line of a run's figures."""
    stats = result.stats
    interval = significance.sample_of([result]).images_per_sec_interval
    stop = result.extra.stop
    why = f", stopped: {stop.reason} (+/-{stop.ci_pct:.1f}%)" if stop else ""
    bursts = f", {len(result.bursts)} burst(s)" if result.bursts else ""
    return (
        f"  {name:>5}: {stats.num_steps:4d} steps, measured {stats.loop_wall_s:6.1f} s, configuration "
        f"{result.phases_s.get('total', float('nan')):6.1f} s; {stats.images_per_sec:7.2f} images/sec "
        f"(95% CI {interval[0]:.2f} to {interval[1]:.2f}){why}{bursts}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--fixed", type=int, default=100, help="the fixed count compared (default 100)")
    parser.add_argument("--target-ci", type=float, default=None, help="auto's --target-ci (default: its own)")
    parser.add_argument("--max-time", type=float, default=None, help="auto's --max-time (default: its own)")
    args = parser.parse_args()
    auto = ["--num-batches", "auto"]
    auto += [] if args.target_ci is None else ["--target-ci", str(args.target_ci)]
    auto += [] if args.max_time is None else ["--max-time", str(args.max_time)]
    fixed = ["--num-batches", str(args.fixed)]
    summary = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.cases:
            for round_index in range(1, args.rounds + 1):
                print(f"{name}, round {round_index}:", flush=True)
                found = {}
                for label, steps in (("auto", auto), ("fixed", fixed)):
                    output = os.path.join(folder, f"{label}.jsonl")
                    found[label] = run_once(CASES[name], steps, args.image_size, output)
                    print(describe(label, found[label]), flush=True)
                base, new = (significance.sample_of([found[label]]) for label in ("fixed", "auto"))
                verdict = significance.compare(base, new)
                agree = verdict.verdict == significance.SAME
                print(f"  auto / fixed images/sec {verdict.ratio:.3f} (95% CI {verdict.low:.3f} to "
                      f"{verdict.high:.3f}): {'agree' if agree else verdict.verdict}", flush=True)
                summary.append({
                    "case": name, "round": round_index, "ratio": verdict.ratio, "agree": agree,
                    **{f"{label}_steps": found[label].stats.num_steps for label in found},
                    **{f"{label}_measured_s": found[label].stats.loop_wall_s for label in found},
                    **{f"{label}_total_s": found[label].phases_s.get("total") for label in found},
                })
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
