"""The words of a plot: labels telling files apart by what differs, the title, the failures."""

from bench.output import plot_data, plot_labels
from bench.results.result import Failure


def _read(paths):
    return plot_labels.label_sources(plot_data.read_sources(paths))


def test_failed_records_are_listed_with_their_reason(make_measured, make_failed, records_file):
    results = [
        make_measured(50, 8, "forward", [0.1] * 10),
        make_failed(101, 8, "train", Failure("oom", "ResourceExhaustedError: OOM")),
        make_failed(101, 8, "train", Failure("oom", "ResourceExhaustedError: OOM")),
        make_failed(152, 8, "forward", Failure("signal", "killed by signal 9 (SIGKILL)", -9, 9)),
    ]
    sources = _read([records_file("r.jsonl", results)])
    assert plot_labels.failures(sources) == [
        "resnet_v2_101 batch 8 train: OOM (2 records)",
        "resnet_v2_152 batch 8 forward: killed by signal 9 (SIGKILL)",
    ]
    assert plot_labels.failures(sources, ["image_size", "replicas"])[1] == (
        "resnet_v2_152 batch 8 forward (224 px, 1 device): killed by signal 9 (SIGKILL)"
    )


def test_files_are_labelled_by_the_environment_that_differs(make_measured, make_failed, records_file):
    old = make_measured(50, 8, "forward", [0.1] * 10)
    old.environment["tensorflow_version"] = "2.20.0"
    new = make_measured(50, 8, "forward", [0.1] * 10)
    failure = make_failed(101, 8, "train", Failure("oom", "OOM"))
    sources = _read([records_file("a.jsonl", [old]), records_file("b.jsonl", [new, failure])])
    assert [source.label for source in sources] == ["TensorFlow 2.20.0", "TensorFlow 2.21.0"]
    assert plot_labels.failures(sources) == ["TensorFlow 2.21.0: resnet_v2_101 batch 8 train: OOM"]
    assert plot_labels.title(sources) == (
        "ResNet v2 throughput: CPU Test CPU, TensorFlow 2.20.0; CPU Test CPU, TensorFlow 2.21.0\n"
        "every configuration: 224 px, fp32, XLA off, auto"
    )


def test_files_are_labelled_by_the_settings_that_differ(make_measured, records_file):
    short = make_measured(50, 8, "forward", [0.1] * 5)
    long = make_measured(50, 8, "forward", [0.1] * 20)
    bf16 = make_measured(50, 8, "forward", [0.1] * 20, precision="bf16")
    paths = [records_file("a.jsonl", [short]), records_file("b.jsonl", [bf16])]
    labels = [source.label for source in _read(paths)]
    assert labels == ["--num-batches 5, --precision fp32", "--num-batches 20, --precision bf16"]
    # A setting with several values in one file does not label it (its lines are split by it);
    # where labels would be equal, the file name tells them apart.
    paths = [
        records_file("a.jsonl", [short]),
        records_file("b.jsonl", [long]),
        records_file("c.jsonl", [long, bf16]),
    ]
    labels = [source.label for source in _read(paths)]
    assert labels == ["--num-batches 5", "--num-batches 20 (b.jsonl)", "--num-batches 20 (c.jsonl)"]
    # Each setting as the user types it: 0 threads is TensorFlow's default, a switch its flag.
    tuned = make_measured(50, 8, "forward", [0.1] * 5, intra_op_threads=2, peak_probe=False)
    labels = [source.label for source in _read([records_file("a.jsonl", [short]),
                                                records_file("t.jsonl", [tuned])])]
    assert labels == ["--intra-op-threads default, --no-peak-probe not given",
                      "--intra-op-threads 2, --no-peak-probe"]


def test_files_that_differ_in_nothing_are_labelled_by_name(make_measured, records_file, tmp_path):
    result = make_measured(50, 8, "forward", [0.1] * 10)
    a, b = records_file("monday.jsonl", [result]), records_file("tuesday.jsonl", [result])
    assert [s.label for s in _read([a, b])] == ["monday.jsonl", "tuesday.jsonl"]
    (tmp_path / "other").mkdir()
    same_name = records_file("other/monday.jsonl", [result])
    assert [s.label for s in _read([a, same_name])] == [a, same_name]
    assert _read([a])[0].label == ""


def test_the_title_names_device_tensorflow_and_what_every_configuration_shares(make_measured, records_file):
    gpu = [
        make_measured(50, 8, "forward", [0.1] * 10, precision=precision, data_format="NCHW")
        for precision in ("fp16", "bf16")
    ]
    for result in gpu:
        result.environment.update(device="gpu", device_name="NVIDIA A100-SXM4-40GB")
    sources = _read(
        [records_file("r.jsonl", gpu, {0: {"config": {"replicas": 2}}, 1: {"config": {"replicas": 2}}})]
    )
    assert plot_labels.title(sources) == (
        "ResNet v2 throughput: GPU NVIDIA A100-SXM4-40GB, TensorFlow 2.21.0\n"
        "every configuration: 224 px, XLA off, NCHW, 2 devices"
    )
    many = []
    for version in ("2.17.0", "2.18.0", "2.19.0", "2.20.0"):
        result = make_measured(50, 8, "forward", [0.1] * 10, image_size=64 if many else 32)
        result.environment["tensorflow_version"] = version
        many.append(result)
    sources = _read([records_file("m.jsonl", many)])
    assert plot_labels.title(sources) == (
        "ResNet v2 throughput: 4 environments (see the legends)\nevery configuration: fp32, XLA off, auto"
    )


def test_a_cpu_file_and_gpu_files_are_told_apart(make_measured, records_file):
    cpu = make_measured(50, 8, "forward", [0.1] * 10)
    gpu = make_measured(50, 8, "forward", [0.01] * 10)
    gpu.environment.update(device="gpu", device_name="NVIDIA A100-SXM4-40GB", cpu_model="Host CPU")
    labels = [
        source.label for source in _read([records_file("c.jsonl", [cpu]), records_file("g.jsonl", [gpu])])
    ]
    # The CPU run has no host CPU or CUDA facet of its own, so its label does not name them.
    assert labels == ["CPU Test CPU", "GPU NVIDIA A100-SXM4-40GB, host CPU Host CPU, CUDA 12.5.1"]
    one, two = (records_file(f"{n}.jsonl", [gpu], {0: {"config": {"replicas": n}}}) for n in (1, 2))
    assert [source.label for source in _read([one, two])] == ["1 device", "2 devices"]
