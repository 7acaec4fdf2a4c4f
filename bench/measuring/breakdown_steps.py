"""--breakdown: a few fully traced steps after the measured ones, their op times read by op name.

After the measured steps (and the untimed checks), `TRACED_STEPS` more steps run with
`RunOptions(trace_level=FULL_TRACE)`; none of them is in the step statistics. TensorFlow's
RunMetadata then holds, per device, every executed op's start and duration (`step_stats`). On a
GPU the kernels' times on the device's streams (the `/stream:all` device of the trace) are read,
not the host-side op times; elsewhere every device's op times (one per replica's device).

Each op's time is the median over the traced steps of its time in the step (0 in a step it did not
run in). Its FLOPs are the profiler's per-op count (`bench.measuring.flops`) on the graph whose
FLOPs stand for the step (the NHWC twin of an NCHW graph has the same op names), so the parts'
FLOPs add up to the step's. The rows go to `bench.results.attribution`, which decides each op's
part by its name; a backward op whose name carries no part is given the name of an op it reads.

Under XLA the step's ops are compiled into clusters whose names carry no scope: no breakdown is
taken, and the record says why.
"""

from __future__ import annotations

import statistics

import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops

from bench.core.clock import clock
from bench.core.config import BREAKDOWN_TRACED_STEPS
from bench.measuring import flops as flops_lib
from bench.results import attribution, breakdown
from bench.step import targets

tf1 = tf.compat.v1

TRACED_STEPS = BREAKDOWN_TRACED_STEPS
XLA_REASON = (
    "under XLA the step's ops run inside compiled clusters (XlaRun) whose names no longer carry "
    "the network's scopes, so no op time can be attributed to a part"
)
_GPU_STREAMS = "/stream:all"


def read_devices(device_names: list[str]) -> list[str]:
    """The trace's devices whose op times count: a GPU's '/stream:all' kernel times where the trace
    has them (not the host-side op times), else every device but the per-stream and copy ones."""
    streams = [name for name in device_names if name.endswith(_GPU_STREAMS)]
    if streams:
        return streams
    return [name for name in device_names if "/stream:" not in name and "memcpy" not in name]


def traced_op_times(run_metadata) -> tuple[dict, float, list[str]]:
    """({op name: microseconds}, span in microseconds, devices read) of one traced step."""
    by_device = {stats.device: stats for stats in run_metadata.step_stats.dev_stats}
    devices = read_devices(list(by_device))
    times: dict = {}
    starts, ends = [], []
    for device in devices:
        for node in by_device[device].node_stats:
            start_us = node.all_start_nanos / 1e3 if node.all_start_nanos else float(node.all_start_micros)
            duration_us = (
                node.all_end_rel_nanos / 1e3 if node.all_end_rel_nanos else float(node.all_end_rel_micros)
            )
            name = node.node_name.split(":")[0]
            times[name] = times.get(name, 0.0) + duration_us
            starts.append(start_us)
            ends.append(start_us + duration_us)
    span_us = max(ends) - min(starts) if starts else 0.0
    return times, span_us, devices


def op_flops(graph: tf.Graph, fetches) -> dict:
    """{op name: float operations} of the ops one `session.run(fetches)` executes (the profiler's
    per-op statistic; ops without one, or whose count fails, are left out)."""
    counted = {}
    pruned = flops_lib.prune_to_fetches(graph, fetches)
    for op in pruned.get_operations():
        try:
            statistic = tf_ops.get_stats_for_node_def(pruned, op.node_def, "flops")
        except ValueError:
            continue
        if statistic.value:
            counted[op.name] = int(statistic.value)
    return counted


def backward_inputs(graph: tf.Graph) -> dict:
    """{op name: the names of the ops behind its inputs} for the graph's backward ops."""
    return {
        op.name: tuple(tensor.op.name for tensor in op.inputs)
        for op in graph.get_operations()
        if op.inputs and "gradients" in op.name
    }


def rows_of(step_times: list[dict], flop_of: dict, inputs_of: dict) -> list[attribution.OpRow]:
    """One row per op name: its median time over the traced steps, its FLOPs, what it reads."""
    names = set(flop_of).union(*step_times)
    return [
        attribution.OpRow(
            name=name,
            time_us=statistics.median(times.get(name, 0.0) for times in step_times),
            flops=flop_of.get(name, 0),
            inputs=inputs_of.get(name, ()),
        )
        for name in sorted(names)
    ]


def take(session, timed, plan, level: str) -> breakdown.Breakdown:
    """Runs the traced steps of `timed` in `session` and attributes them (see the module).

    Args:
      session: the configuration's open session, its measured steps done.
      timed: its `bench.step.graphs.TimedGraph`.
      plan: its `bench.step.plan.StepPlan` (model scope, XLA).
      level: 'blocks' or 'units'.

    Returns:
      A Breakdown (not available under XLA).

    Raises:
      ValueError: when no op of the model was found in the traced steps.
    """
    start = clock()
    if plan.config.xla:
        return breakdown.unavailable(level, XLA_REASON)
    scopes = attribution.Scopes(
        model=plan.config.model_name, loss=(targets.LOSS_SCOPE,), optimizer=(targets.OPTIMIZER_SCOPE,)
    )
    step_times, walls_ms, spans_ms, devices = [], [], [], []
    for _ in range(TRACED_STEPS):
        options = tf1.RunOptions(trace_level=tf1.RunOptions.FULL_TRACE)
        metadata = tf1.RunMetadata()
        run_start = clock()
        session.run(timed.target, options=options, run_metadata=metadata)
        walls_ms.append((clock() - run_start) * 1e3)
        times, span_us, devices = traced_op_times(metadata)
        step_times.append(times)
        spans_ms.append(span_us / 1e3)
    flop_graph, flop_fetches, _ = timed.flop_counted
    rows = rows_of(step_times, op_flops(flop_graph, flop_fetches), backward_inputs(timed.graph))
    found = attribution.require_model_ops(attribution.attribute(rows, scopes, level), scopes)
    return breakdown.Breakdown(
        level=level,
        parts=found.parts,
        traced_steps=TRACED_STEPS,
        seconds=clock() - start,
        step_wall_ms=walls_ms,
        step_span_ms=spans_ms,
        step_op_ms=[sum(times.values()) / 1e3 for times in step_times],
        replica_op_ms=found.replica_op_ms,
        devices=devices,
        model_ops=found.model_ops,
    )
