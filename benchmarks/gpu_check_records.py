"""The verdicts of benchmarks/gpu_check.sh: one check's records read back, one line printed.

    python benchmarks/gpu_check_records.py CHECK RECORDS.jsonl [CAP_BYTES]

prints `ok`, or `FAILED: why` (and exits 1), for CHECK, one of the names in VERDICTS. Each verdict
reads what the runtime did from the records (`extra.executed_layout`, `extra.xla_compiled`,
`extra.all_reduce`, `extra.peak_memory`, the environment), never what was asked. No TensorFlow.
"""

from __future__ import annotations

import json
import sys


def _ok(records: list[dict]) -> str | None:
    """Why the records are not all measured, or None."""
    if not records:
        return "no record written"
    failed = [r for r in records if r.get("status") != "ok"]
    if failed:
        config, failure = failed[0]["config"], failed[0].get("failure") or {}
        return f"{config.get('depth')} {config.get('mode')}: {failure.get('message')}"
    return None


def card(records: list[dict]) -> str | None:
    """The card's command: measured, on the GPU allocator, in the layout asked for."""
    for record in records:
        extra = record["extra"]
        if extra.get("peak_memory", {}).get("kind") != "gpu_allocator_peak":
            return f"peak memory is {extra.get('peak_memory')}, not the GPU allocator's"
        if extra.get("executed_layout") != record["config"]["data_format"]:
            return f"asked {record['config']['data_format']}, ran {extra.get('executed_layout')}"
    return None


def layouts(records: list[dict]) -> str | None:
    """NCHW and NHWC each ran as asked (grappler's layout optimizer is off)."""
    ran = {r["config"]["data_format"]: r["extra"].get("executed_layout") for r in records}
    if set(ran) != {"NCHW", "NHWC"}:
        return f"layouts measured: {sorted(ran)}"
    wrong = {asked: executed for asked, executed in ran.items() if asked != executed}
    return f"asked -> ran: {wrong}" if wrong else None


def xla(records: list[dict]) -> str | None:
    """fp16 and bf16 with XLA: compiled code ran all the step marked."""
    for record in records:
        extra = record["extra"]
        if extra.get("xla_compiled") is not True:
            return f"{record['config']['precision']}: xla_compiled {extra.get('xla_compiled')}, " \
                   f"uncompiled {extra.get('xla_uncompiled')}"
    return None


def _all_reduce(records: list[dict], implementation: str) -> str | None:
    for record in records:
        if record["config"].get("replicas", 1) < 2:
            continue
        reduction = record["extra"].get("all_reduce") or {}
        if not reduction.get("implementation", "").startswith(implementation):
            return f"all-reduce {reduction.get('implementation')}, expected {implementation}"
        if not reduction.get("ops_run"):
            return f"no all-reduce op ran ({reduction})"
    return None


def devices(records: list[dict]) -> str | None:
    """--num-devices 1 and 2: the 2-replica step ran NCCL."""
    return _all_reduce(records, "nccl")


def workers(records: list[dict]) -> str | None:
    """--workers 2: every worker agrees, NCCL collectives ran."""
    for record in records:
        prints = record["extra"].get("cluster", {}).get("fingerprints") or []
        if len(prints) < 2 or len(set(prints)) != 1:
            return f"the workers' fingerprints differ: {prints}"
    return _all_reduce(records, "collective nccl")


def capped(records: list[dict], cap_bytes: int) -> str | None:
    """--gpu-memory-limit with --batch max: the search ended on an out-of-memory try under the cap,
    its largest batch measured, and no try that fitted peaked above the cap."""
    largest = [r for r in records if (r.get("batch_search") or {}).get("role") == "largest"]
    if not largest or largest[0].get("status") != "ok":
        return f"the search's record: {largest[0].get('failure') if largest else 'missing'}"
    if largest[0]["batch_search"].get("ended") != "boundary":
        return f"the search ended {largest[0]['batch_search'].get('ended')}, not at an out-of-memory try"
    over = [r["config"]["batch_size"] for r in records if r.get("status") == "ok"
            and ((r.get("extra") or {}).get("peak_memory") or {}).get("bytes", 0) > cap_bytes]
    return f"batch {over} peaked above the cap" if over else None


def no_fit_seconds(records: list[dict]) -> list[float]:
    """How far into its run each try that did not fit failed (`phases_s.failed_run`): TensorFlow's
    GPU allocator waits up to 10 s for memory before it reports (docs/batch-search.md), which no
    GPU has shown this project yet."""
    return [r["phases_s"]["failed_run"] for r in records
            if (r.get("batch_search") or {}).get("role") == "try"
            and (r.get("failure") or {}).get("kind") == "oom" and "failed_run" in (r.get("phases_s") or {})]


def tf32(records: list[dict]) -> str | None:
    """TF32 on and off: the override is recorded as set."""
    overrides = sorted(str(r["environment"].get("tf32_override")) for r in records)
    return None if overrides == ["0", "None"] else f"tf32_override recorded: {overrides}"


VERDICTS = {"card": card, "layouts": layouts, "xla": xla, "devices": devices, "workers": workers,
            "capped": capped, "tf32": tf32}


def main(argv: list[str]) -> int:
    check, path = argv[0], argv[1]
    with open(path, encoding="utf-8") as stream:
        records = [json.loads(line) for line in stream if line.strip()]
    why = None if check == "capped" else _ok(records)  # a search's tries fail by design
    if why is None:
        arguments = [int(argv[2])] if len(argv) > 2 else []
        why = VERDICTS[check](records, *arguments)
    if why is not None:
        print(f"FAILED: {why}")
        return 1
    waits = no_fit_seconds(records) if check == "capped" else []
    seconds = ", ".join(f"{value:.1f}" for value in waits)
    print(f"ok (no-fit tries failed {seconds} s into their run)" if waits else "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
