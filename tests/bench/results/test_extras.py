"""The typed facts of a record's `extra` object: written with schema 1's keys, read back equal."""

import pytest

from bench.results.extras import DatasheetPeak, Extras, FlopCount, Numerics, PeakMemory, PeakProbe


def _full():
    return Extras(
        peak_probe=PeakProbe("fp16", "cpu", 256, 2, [0.02, 0.01]),
        datasheet_peak=DatasheetPeak("H100 SXM5", 989.4, "FP16 tensor core, dense", "datasheet"),
        flops=FlopCount(10**9, {"Conv2D": 10**9}),
        loss_scale="dynamic", xla_compiled=True, trace_file="/tmp/step.json",
        peak_memory=PeakMemory(2**30, "gpu_allocator_peak", "TensorFlow allocator peak"),
        numerics=Numerics(True, 2048.0, 1024.0, 1),
    )


def test_schema_one_keys_and_round_trip():
    extras = _full()
    values = extras.to_dict()
    assert list(values) == [
        "peak_probe", "datasheet_peak", "flops", "loss_scale", "xla_compiled", "trace_file",
        "peak_memory", "gradients_finite", "loss_scale_before", "loss_scale_after",
        "skipped_updates"]
    assert values["peak_probe"]["best_tflops"] == pytest.approx(2 * 256**3 * 2 / 0.01 / 1e12)
    assert values["flops"] == {"per_step": 10**9, "by_op_type": {"Conv2D": 10**9},
                               "counted_on": "the timed graph"}
    assert Extras.from_dict(values) == extras


def test_nothing_recorded_is_an_empty_object_and_cpu_has_a_null_datasheet():
    assert Extras().to_dict() == {}
    assert Extras.from_dict({}) == Extras() == Extras.from_dict(None)
    cpu = Extras(flops=FlopCount(None, counted_on="the timed graph", error="cannot count"))
    assert cpu.to_dict() == {"datasheet_peak": None, "flops": {
        "per_step": None, "by_op_type": {}, "counted_on": "the timed graph",
        "error": "cannot count"}}
    assert Extras.from_dict(cpu.to_dict()) == cpu


def test_numerics_warnings():
    assert Numerics(gradients_finite=True).warnings(10) == []
    skipped, not_finite = Numerics(False, 4096.0, 1024.0, 2).warnings(4)
    assert skipped.startswith("2 of 4 measured steps skipped the optimizer update (non-finite "
                              "gradients) (dynamic loss scale 4096 -> 1024)")
    assert not_finite.startswith("gradients are not all finite after the measured steps")
    assert PeakMemory(1, "process_peak_rss", "").is_process_rss
    assert not PeakMemory(1, "gpu_allocator_peak", "").is_process_rss


def test_the_data_facts_round_trip_and_are_absent_for_synthetic_inputs(make_measured):
    from bench.results.extras import DataFacts
    from bench.results.result import BenchmarkResult

    source = {"path": "/d", "format": "tfrecord", "num_files": 2, "num_images": 8, "num_classes": None}
    facts = DataFacts(source, "inception", 0, "training", skipped_images=3)
    result = make_measured(50, 2, "train", [0.1] * 3, data="/d")
    result.extra = Extras(data=facts)
    record = result.to_record()
    assert record["extra"]["data"] == {"source": source, "preprocessing": "inception", "threads": 0,
                                       "pipeline": "training", "skipped_images": 3}
    back = BenchmarkResult.from_record(record)
    assert back.extra.data == facts and back.config == result.config
    assert back.to_record() == record
    assert "data" not in make_measured(50, 2, "train", [0.1] * 3).to_record()["extra"]
    assert Extras.from_dict({}).data is None
