"""Device peaks (bench/measuring/peak.py): the probe really multiplies, its rate is derived from its times;
datasheet peaks are matched from device names."""

import numpy as np
import pytest
import tensorflow as tf

from bench.core.config import BenchmarkConfig
from bench.measuring import peak
from bench.step.plan import plan_step


@pytest.mark.parametrize('precision', ['fp32', 'fp16', 'bf16'])
def test_probe_runs_and_reports_a_positive_rate(precision):
    plan = plan_step(BenchmarkConfig(device='cpu', precision=precision))
    probe = peak.probe_peak_tflops(plan, matrix_size=128, chain_length=2, repeats=3, warmup=1)
    assert probe.flops_per_run == 2 * 128**3 * 2
    assert len(probe.run_times_s) == 3 and all(t > 0 for t in probe.run_times_s)
    assert probe.best_tflops == probe.flops_per_run / min(probe.run_times_s) / 1e12
    record = probe.to_dict()
    assert record['best_tflops'] == probe.best_tflops and record['precision'] == precision


def test_probe_graph_computes_the_chained_product():
    # The fetched value is what NumPy gets from the same matrices: the products are not skipped.
    graph, initializer, fetch, (x, w) = peak.build_probe_graph(tf.float32, '/device:CPU:0', 64, 3)
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(initializer)
        value, x_value, w_value = session.run([fetch, x, w])
    expected = (x_value.astype(np.float64) @ w_value @ w_value @ w_value).sum()
    assert value == pytest.approx(expected, rel=1e-4, abs=1e-2)
    assert sum(op.type == 'MatMul' for op in graph.get_operations()) == 3


def test_probe_refuses_bad_sizes():
    plan = plan_step(BenchmarkConfig(device='cpu'))
    with pytest.raises(ValueError, match='must be positive'):
        peak.probe_peak_tflops(plan, matrix_size=128, chain_length=2, repeats=0)


def test_datasheet_refuses_an_unknown_precision():
    with pytest.raises(ValueError, match='precision must be one of'):
        peak.datasheet_peak('NVIDIA H100 80GB HBM3', 'fp8')


@pytest.mark.parametrize(
    'name, model',
    [
        ('NVIDIA H100 80GB HBM3', 'H100 SXM5'),
        ('NVIDIA H100 PCIe', 'H100 PCIe'),
        ('NVIDIA H100 NVL', 'H100 NVL'),
        ('NVIDIA H200', 'H200 SXM'),
        ('NVIDIA H200 NVL', 'H200 NVL'),
        ('NVIDIA A100-SXM4-80GB', 'A100 (SXM4 / PCIe)'),
        ('NVIDIA A100 80GB PCIe', 'A100 (SXM4 / PCIe)'),
        ('Tesla V100-SXM2-16GB', 'V100 SXM2'),
        ('Tesla V100-PCIE-32GB', 'V100 PCIe'),
        ('Tesla V100S-PCIE-32GB', 'V100S PCIe'),
    ],
)
def test_known_gpus(name, model):
    assert peak.known_gpu(name).model == model


@pytest.mark.parametrize('name', ['AMD EPYC 7B13', 'NVIDIA GeForce RTX 4090', '', None])
def test_unknown_devices_have_no_datasheet_peak(name):
    assert peak.known_gpu(name) is None
    assert peak.datasheet_peak(name, 'fp16') is None


def test_datasheet_peak_per_precision():
    h100 = 'NVIDIA H100 80GB HBM3'
    assert peak.datasheet_peak(h100, 'fp16').tflops == 989.4
    assert peak.datasheet_peak(h100, 'bf16').basis == 'BF16 tensor core, dense'
    assert peak.datasheet_peak(h100, 'fp32').basis == 'TF32 tensor core, dense'
    assert peak.datasheet_peak(h100, 'fp32', tf32_enabled=False).tflops == 67.0
    assert peak.datasheet_peak('NVIDIA A100-SXM4-40GB', 'fp32').tflops == 156.0
    v100 = 'Tesla V100-SXM2-32GB'
    assert peak.datasheet_peak(v100, 'fp32').basis == 'FP32'  # No TF32 before Ampere.
    assert peak.datasheet_peak(v100, 'fp16').tflops == 125.0
    assert peak.datasheet_peak(v100, 'bf16') is None  # No bf16 tensor cores on Volta.
    assert 'datasheet' in peak.datasheet_peak(v100, 'fp16').source


def test_every_known_gpu_is_ordered_fp32_below_tensor_cores():
    # A typo guard on the table: tensor-core figures exceed the CUDA-core fp32 one, and fp16 >= tf32.
    for _, peaks in peak._KNOWN_GPUS:
        assert peaks.fp16 > peaks.fp32
        if peaks.tf32 is not None:
            assert peaks.fp32 < peaks.tf32 < peaks.fp16
