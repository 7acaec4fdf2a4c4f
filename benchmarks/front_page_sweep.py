"""The front page's CPU sweep (docs/plot-cpu-sweep.png, issue 34), re-measured until no record of it
has a burst.

It runs one sweep with `--repeat 3`; then, in rounds, every configuration with fewer than three
burst-free records (`bench.results.bursts`: no record's `bursts` list) is measured again, by the
same command narrowed to that configuration, with `--repeat` the number still missing; until
every configuration has three or the rounds run out. The kept records (the first three burst-free
ones of each configuration, the sweep's own first) go to the output file, which
`python -m bench plot` draws. Every record of every round stays in its own file beside it
(OUTPUT.round-N.jsonl), so what was dropped can be read. A configuration that has fewer than three
at the end is named, and keeps what it has.

Run from the repository root (about 35 minutes for the sweep on 2 cores, then the rounds):

    python benchmarks/front_page_sweep.py docs/cpu-sweep.jsonl
    python -m bench plot docs/cpu-sweep.jsonl -o docs/plot-cpu-sweep.png
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEEP = ["--depth", "all", "--batch", "1", "8", "32", "--mode", "forward", "forward-backward"]
COMMON = ["--image-size", "64", "--device", "cpu", "--burn-in", "5", "--num-batches", "auto",
          "--target-ci", "2", "--max-time", "15"]
WANTED = 3


def identity(record: dict) -> tuple:
    """(depth, batch, mode): what tells the sweep's configurations apart."""
    config = record["config"]
    return config["depth"], config["batch_size"], config["mode"]


def clean(record: dict) -> bool:
    """A measured record without a burst."""
    return record["status"] == "ok" and not record.get("bursts")


def read(path: str) -> list[dict]:
    """The records of a JSON Lines file (none if it is missing)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def bench(arguments: list[str], output: str) -> None:
    """One `python -m bench` command, its output dropped (the records are what counts)."""
    command = [sys.executable, "-m", "bench", *arguments, *COMMON, "--output", output]
    print(" ".join(["python", *command[1:]]), flush=True)
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def missing(records: list[dict], configurations: set) -> dict:
    """{configuration: burst-free records it still lacks}, for those that lack any."""
    found = collections.Counter(identity(record) for record in records if clean(record))
    return {key: WANTED - found[key] for key in sorted(configurations) if found[key] < WANTED}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", help="the JSON Lines file of the kept records")
    parser.add_argument("--rounds", type=int, default=8, help="re-measuring rounds at most (default: 8)")
    args = parser.parse_args()
    stem = os.path.splitext(args.output)[0]
    start = time.monotonic()
    bench([*SWEEP, "--repeat", str(WANTED)], f"{stem}.round-0.jsonl")
    records = read(f"{stem}.round-0.jsonl")
    configurations = {identity(record) for record in records}
    print(f"sweep: {len(records)} records, {time.monotonic() - start:.0f} s", flush=True)
    for round_ in range(1, args.rounds + 1):
        lacking = missing(records, configurations)
        if not lacking:
            break
        round_start = time.monotonic()
        for (depth, batch, mode), count in lacking.items():
            arguments = ["--depth", str(depth), "--batch", str(batch), "--mode", mode, "--repeat", str(count)]
            bench(arguments, f"{stem}.round-{round_}.jsonl")
        records += read(f"{stem}.round-{round_}.jsonl")
        print(f"round {round_}: {sum(lacking.values())} processes for {len(lacking)} configurations, "
              f"{time.monotonic() - round_start:.0f} s", flush=True)
    kept = collections.defaultdict(list)
    for record in records:
        if clean(record) and len(kept[identity(record)]) < WANTED:
            kept[identity(record)].append(record)
    with open(args.output + ".tmp", "w", encoding="utf-8") as stream:
        for key in sorted(kept):
            stream.writelines(json.dumps(record) + "\n" for record in kept[key])
    os.replace(args.output + ".tmp", args.output)
    short = missing(records, configurations)
    print(f"kept {sum(len(group) for group in kept.values())} records of {len(records)} in {args.output}; "
          f"{time.monotonic() - start:.0f} s in all"
          + (f"; fewer than {WANTED} burst-free: {short}" if short else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
