"""The GPU facts of the environment record (bench/measuring/gpu_facts.py): present everywhere, None
on the CPU, and read without starting TensorFlow's devices."""

import pytest
import tensorflow as tf

from bench.measuring import environment, gpu_facts, peak
from bench.step import gpu_memory


def test_every_gpu_fact_is_in_the_record_and_none_on_the_cpu():
    described = environment.describe_environment(tf, "cpu", [])
    assert {key: described[key] for key in gpu_facts.FIELDS} == dict.fromkeys(gpu_facts.FIELDS)


def test_on_a_gpu_the_tf32_switch_and_its_override_are_read(monkeypatch):
    # No GPU here: what the GPU path reads from TensorFlow and the environment still shows.
    monkeypatch.setenv(gpu_facts.TF32_OVERRIDE_VAR, "1")
    started = gpu_memory.context_started()
    facts = gpu_facts.describe_gpu(tf, "gpu", "NVIDIA H100 80GB HBM3")
    assert set(facts) == set(gpu_facts.FIELDS)
    assert facts["tf32_enabled"] is tf.config.experimental.tensor_float_32_execution_enabled()
    assert facts["tf32_override"] == "1" and facts["mig"] is False
    assert gpu_memory.context_started() == started  # nothing here created a device
    tf.config.experimental.enable_tensor_float_32_execution(False)
    try:
        assert gpu_facts.describe_gpu(tf, "gpu", None)["tf32_enabled"] is False
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(True)


@pytest.mark.parametrize("number, text", [(90100, "9.1.0"), (90300, "9.3.0"), (8907, "8.9.7"),
                                          (8600, "8.6.0")])
def test_cudnn_s_version_number_reads_as_its_version(number, text):
    assert gpu_facts.cudnn_version_text(number) == text


def test_a_mig_slice_is_recognised_and_gets_no_datasheet_peak():
    assert gpu_facts.is_mig("NVIDIA A100-SXM4-40GB MIG 3g.20gb", None)
    assert gpu_facts.is_mig("NVIDIA H100 80GB HBM3", "MIG-4e1f3a2b-0c55-5b8e-9c43-0d5e8a4b7c21")
    assert not gpu_facts.is_mig("NVIDIA H100 80GB HBM3", "0,1")
    assert peak.datasheet_peak("NVIDIA A100-SXM4-40GB MIG 3g.20gb", "fp16", mig=True) is None
    assert peak.datasheet_peak("NVIDIA A100-SXM4-40GB", "fp16").tflops == 312.0


def test_a_gh200_is_not_taken_for_an_h200():
    assert peak.known_gpu("NVIDIA GH200 480GB") is None
    assert peak.known_gpu("NVIDIA H200").model == "H200 SXM"
