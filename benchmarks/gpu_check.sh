#!/usr/bin/env bash
# What only a GPU exercises, checked on the GPUs this machine has, at small scale: one line per
# check ('ok', 'FAILED: why' or 'skipped: needs 2 GPUs') and every record in one JSON Lines file.
# Run from a fresh clone after the README's install (docs/development.md):
#
#     benchmarks/gpu_check.sh [RECORDS.jsonl]     # default gpu_check.jsonl; PYTHON=... to choose
#
# Meant to take under 8 minutes on one H100 (estimated, not yet measured: no GPU was at hand when
# it was written): the card's command with few steps, both layouts, fp16 and bf16 with XLA,
# --gpu-memory-limit with --batch max, TF32 on and off; plus the 2-GPU checks (--num-devices 1 2,
# --workers 2) where there are two. On a machine without a GPU it says so and
# exits 0 without running anything else. Exit status: 0 when no check failed, else 1.
set -u
cd "$(dirname "$0")/.." || exit 1
PYTHON=${PYTHON:-python}
RECORDS=${1:-gpu_check.jsonl}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

gpus=$("$PYTHON" -c "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))" 2>/dev/null)
if [ "${gpus:-0}" -lt 1 ]; then
    echo "gpu_check: needs a GPU (TensorFlow sees none here); nothing was run"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$RECORDS"
failures=0
SMALL=(--num-batches 5 --burn-in 3 --quiet)  # 3 burn-in steps: what ran is read from the last

# check NAME VERDICT [CAP_BYTES] -- BENCH ARGUMENTS...: runs `python -m bench` into its own file,
# appends the records to $RECORDS and prints the verdict of benchmarks/gpu_check_records.py.
check() {
    local name=$1 verdict=$2 cap=""
    shift 2
    if [ "$1" != "--" ]; then cap=$1; shift; fi
    shift
    local output="$work/$name.jsonl"
    printf '%-34s ' "$name"
    if ! "$PYTHON" -m bench "$@" --output "$output" > "$work/$name.log" 2>&1 && [ ! -s "$output" ]; then
        echo "FAILED: $(tail -n 1 "$work/$name.log")"
        failures=$((failures + 1))
        return
    fi
    cat "$output" >> "$RECORDS"
    "$PYTHON" benchmarks/gpu_check_records.py "$verdict" "$output" $cap || failures=$((failures + 1))
}

skip_without_two() {
    if [ "$gpus" -lt 2 ]; then printf '%-34s skipped: needs 2 GPUs\n' "$1"; return 0; fi
    return 1
}

check "card command (train, auto layout)" card -- --depth 50 --batch 64 --mode train "${SMALL[@]}"
check "layouts NCHW and NHWC as run" layouts -- --depth 50 --batch 64 --mode forward \
    --data-format NCHW NHWC --no-peak-probe "${SMALL[@]}"
check "fp16 and bf16 with XLA, compiled" xla -- --depth 50 --batch 64 --mode train \
    --precision fp16 bf16 --xla --no-peak-probe "${SMALL[@]}"
check "--gpu-memory-limit with --batch max" capped $((1024 * 1024 * 1024)) -- --depth 50 \
    --batch max --mode forward --gpu-memory-limit 1GiB --no-peak-probe "${SMALL[@]}"
printf '%-34s ' "TF32 on and off (fp32)"
: > "$work/tf32.jsonl"
for override in unset 0; do
    if [ "$override" = unset ]; then env -u NVIDIA_TF32_OVERRIDE "$PYTHON" -m bench --depth 50 --batch 64 \
        --mode forward "${SMALL[@]}" --output "$work/tf32.jsonl" > "$work/tf32.log" 2>&1
    else NVIDIA_TF32_OVERRIDE=0 "$PYTHON" -m bench --depth 50 --batch 64 --mode forward \
        "${SMALL[@]}" --output "$work/tf32.jsonl" > "$work/tf32.log" 2>&1
    fi
done
cat "$work/tf32.jsonl" >> "$RECORDS"
"$PYTHON" benchmarks/gpu_check_records.py tf32 "$work/tf32.jsonl" || failures=$((failures + 1))
skip_without_two "--num-devices 1 2, NCCL" ||
    check "--num-devices 1 2, NCCL" devices -- --depth 50 --batch 64 --mode train \
        --num-devices 1 2 --no-peak-probe "${SMALL[@]}"
skip_without_two "--workers 2, a GPU each" ||
    check "--workers 2, a GPU each" workers -- --depth 50 --batch 64 --mode train \
        --workers 2 --no-peak-probe "${SMALL[@]}"

echo "records: $RECORDS"
[ "$failures" -eq 0 ]
