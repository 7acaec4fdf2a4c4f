"""The breakdown's figures and its record (extra.breakdown, version 1), read back."""

import json

import pytest

from bench.results.breakdown import BREAKDOWN_VERSION, Breakdown, Part, part_order, unavailable
from bench.results.extras import Extras
from bench.results.result import BenchmarkResult

FOUND = Breakdown(
    level="blocks",
    parts=[Part("root", 1.0, 2.0, 10**9, 2 * 10**9), Part("block1", 3.0, 4.0, 3 * 10**9, 6 * 10**9),
           Part("optimizer", 1.0, 0.0, 0, 0), Part("other", 1.0)],
    traced_steps=3, seconds=1.5, step_wall_ms=[20.0, 16.0, 15.0], step_span_ms=[12.0, 10.0, 11.0],
    step_op_ms=[13.0, 12.0, 12.5], replica_op_ms=[12.0], devices=["/device:CPU:0"],
)


def test_the_parts_add_up_to_the_op_time_and_the_overlap_compares_it_with_the_span():
    assert FOUND.op_ms == 12.0
    assert FOUND.flops == 12 * 10**9
    assert FOUND.share(FOUND.part("block1")) == pytest.approx(7 / 12)
    assert (FOUND.wall_ms, FOUND.span_ms) == (16.0, 11.0)
    assert FOUND.overlap == pytest.approx(12 / 11)
    assert FOUND.part("root").gflops_per_s == pytest.approx(3e9 / 3e-3 / 1e9)
    assert FOUND.part("other").gflops_per_s is None
    assert not FOUND.part("optimizer").directed and FOUND.part("root").directed


def test_parts_are_ordered_as_the_step_runs():
    names = ["other", "head", "block3/unit_10", "block3/unit_2", "loss", "block1", "root", "optimizer"]
    assert part_order(names) == ["root", "block1", "block3/unit_2", "block3/unit_10", "head", "loss",
                                 "optimizer", "other"]


def test_the_record_keeps_every_figure_and_reads_back(make_measured):
    result = make_measured(50, 8, "forward-backward", [0.01] * 3, breakdown="blocks")
    result.extra = Extras(breakdown=FOUND)
    record = json.loads(json.dumps(result.to_record()))
    written = record["extra"]["breakdown"]
    assert written["version"] == BREAKDOWN_VERSION == 1
    assert set(written) == {"version", "level", "available", "traced_steps", "seconds", "step_wall_ms",
                            "step_span_ms", "step_op_ms", "replica_op_ms", "devices", "parts"}
    assert set(written["parts"][0]) == {"name", "forward_ms", "backward_ms", "forward_flops",
                                        "backward_flops"}
    assert record["config"]["breakdown"] == "blocks"
    back = BenchmarkResult.from_record(record)
    assert back.extra.breakdown.parts == FOUND.parts
    assert back.extra.breakdown.op_ms == FOUND.op_ms and back.extra.breakdown.overlap == FOUND.overlap
    assert back.config.breakdown == "blocks"


def test_a_record_without_breakdown_is_as_before(make_measured):
    record = make_measured(50, 8, "forward", [0.01] * 3).to_record()
    assert "breakdown" not in record["config"] and "breakdown" not in record["extra"]


def test_an_unavailable_breakdown_says_why_and_reads_back():
    written = unavailable("units", "not available under XLA").to_dict()
    assert written == {"version": 1, "level": "units", "available": False,
                       "reason": "not available under XLA"}
    back = Breakdown.from_dict(written)
    assert not back.available and back.reason == "not available under XLA" and back.parts == []


def test_an_unknown_version_is_refused():
    with pytest.raises(ValueError, match="breakdown version 2: this harness reads version 1"):
        Breakdown.from_dict(dict(FOUND.to_dict(), version=2))
