"""Fixtures for the bench tests: results built from fixed step times (no TensorFlow needed), the
tiny settings every real run uses, the small network for behaviour that does not depend on the
depth, the command-line runner, and the FLOP hand count."""

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys

import pytest

from bench.core import cluster, faults, quiet, stand_ins
from bench.core.config import BenchmarkConfig
from bench.results.measurement import Measurement
from bench.results.result import STATUS_FAILED, BenchmarkResult
from slim_resnet.family import UNITS_PER_BLOCK

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

ENVIRONMENT = {
    "tensorflow_version": "2.21.0",
    "python_version": "3.11.7",
    "platform": "Linux",
    "device": "cpu",
    "device_name": "Test CPU",
    "cpu_model": "Test CPU",
    "cpu_count": 2,
    "usable_cpu_count": 2,
    "gpu_names": [],
    "cuda_build": True,
    "cuda_version": "12.5.1",
    "cudnn_version": "9",
}

# The smallest real configuration: depth 50 at 32 px, one image, 10 classes, a 256 probe.
TINY = dict(depth=50, batch_size=1, image_size=32, num_classes=10, num_batches=2, burn_in=1,
            device="cpu", display_every=1, peak_probe_size=256)
TINY_ARGS = ["--image-size", "32", "--num-classes", "10", "--num-batches", "2", "--burn-in", "1",
             "--device", "cpu", "--peak-probe-size", "256"]


def measured(depth, batch_size, mode, step_times_s, burn_in_times_s=(1.0, 0.2), **settings):
    """An 'ok' result with the given raw times (loop wall = sum of the steps + 1 ms)."""
    config = BenchmarkConfig(depth=depth, batch_size=batch_size, mode=mode, device="cpu",
                             num_batches=len(step_times_s), burn_in=len(burn_in_times_s),
                             **settings)
    measurement = Measurement(list(step_times_s), list(burn_in_times_s),
                              loop_wall_s=sum(step_times_s) + 0.001)
    return BenchmarkResult(config=config, measurement=measurement, param_count=25_568_360,
                           environment=dict(ENVIRONMENT), started_at="2026-01-01T00:00:00+00:00",
                           phases_s={"graph_build": 1.0, "session_init": 0.5})


def failed(depth, batch_size, mode, failure, **settings):
    """A 'failed' result."""
    config = BenchmarkConfig(depth=depth, batch_size=batch_size, mode=mode, device="cpu",
                             **settings)
    return BenchmarkResult(config=config, status=STATUS_FAILED, failure=failure,
                           environment=dict(ENVIRONMENT))


@pytest.fixture
def make_measured():
    """Factory: make_measured(depth, batch_size, mode, step_times_s, **settings) -> 'ok' result."""
    return measured


@pytest.fixture
def make_failed():
    """Factory: make_failed(depth, batch_size, mode, failure, **settings) -> 'failed' result."""
    return failed


@pytest.fixture
def environment_info():
    """A fixed environment description."""
    return dict(ENVIRONMENT)


@pytest.fixture
def sweep_results():
    """Three measured configurations and two failures, in sweep order."""
    from bench.results.result import Failure

    return [
        measured(50, 8, "forward", [0.100] * 12),
        measured(101, 8, "forward", [0.200, 0.202, 0.198] * 4),
        measured(50, 8, "train", [0.400] * 12),
        failed(101, 8, "train", Failure("oom", "ResourceExhaustedError: OOM when allocating")),
        failed(152, 8, "forward", Failure("signal", "killed by signal 9 (SIGKILL)", -9, 9)),
    ]


@pytest.fixture
def tiny():
    """The tiny BenchmarkConfig settings (a dict; override with dict(tiny, ...))."""
    return dict(TINY)


@pytest.fixture(scope="session")
def tiny_args():
    """The tiny settings as command-line flags (session scope: module fixtures use them too)."""
    return list(TINY_ARGS)


@pytest.fixture(scope="session")
def small_blocks():
    """The block list of a two-unit ResNet v2: what does not depend on the depth, built at a
    fraction of resnet_v2_50's cost."""
    from bench.step import graphs  # TensorFlow, only for the tests that build graphs

    return graphs.small_blocks()


@pytest.fixture(scope="session")
def small_network():
    """small_network(config) -> the two-unit ResNet v2 under `config.model_name`'s scope, as the
    `network` of `graphs.build_timed_graph(plan, network)`."""
    from bench.step import graphs

    return lambda config: graphs.small_network(config.model_name)


# What a child must not inherit from the shell the tests run in: a cluster description, XLA
# auto-clustering flags, the verbose switch, the once-only fault marker and the stand-in network
# would each change what the harness does (tests/conftest.py removes them from this process too;
# a test that wants one passes it in `extra`).
INHERITED_STEERING = (cluster.ENV_VAR, "TF_XLA_FLAGS", quiet.VERBOSE_ENV_VAR, faults.ONCE_ENV_VAR,
                      stand_ins.NETWORK_ENV_VAR)
# The children of tests whose proof does not depend on the depth build the stand-in network
# (`bench.core.stand_ins`): a two-unit ResNet v2 in place of resnet_v2_50, seconds saved per child.
SMALL_NETWORK = {stand_ins.NETWORK_ENV_VAR: stand_ins.SMALL}


@pytest.fixture
def python_ctrl_c():
    """SIGINT raising KeyboardInterrupt in this process, as in a fresh Python, for a test that
    sends itself Ctrl-C: whatever an earlier test in this worker left installed (a native library
    can take the signal over behind Python's back) is put back afterwards."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def clean_environment(**extra):
    """Our environment without TF_CPP_MIN_LOG_LEVEL (the harness must be quiet on its own),
    without a fault injection and without INHERITED_STEERING, plus `extra`."""
    dropped = ("TF_CPP_MIN_LOG_LEVEL", faults.ENV_VAR, *INHERITED_STEERING)
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(extra)
    return env


def bench_command(*args):
    return [sys.executable, "-m", "bench", *args]


@pytest.fixture(scope="session")
def run_bench():
    """run_bench(*args, env_extra=None, small_network=False, timeout=300) -> CompletedProcess of
    `python -m bench ...`, text output captured, in `clean_environment()`; env_extra adds
    variables; small_network: every process builds the stand-in network (SMALL_NETWORK)."""

    def run(*args, env_extra=None, small_network=False, timeout=300):
        extra = dict(SMALL_NETWORK if small_network else {}, **(env_extra or {}))
        return subprocess.run(bench_command(*args), cwd=REPO_ROOT, env=clean_environment(**extra),
                              capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture(scope="session")
def start_bench():
    """start_bench(*args, env_extra=None, small_network=False, **popen) -> the Popen of
    `python -m bench ...` started as `run_bench` runs it, for a test that looks at it while it
    runs; `popen` goes to subprocess.Popen (where its output goes)."""

    def start(*args, env_extra=None, small_network=False, **popen):
        extra = dict(SMALL_NETWORK if small_network else {}, **(env_extra or {}))
        return subprocess.Popen(bench_command(*args), cwd=REPO_ROOT, env=clean_environment(**extra), **popen)

    return start


def _conv(size_out, channels_in, channels_out, kernel):
    return 2 * size_out * size_out * channels_out * kernel * kernel * channels_in


def resnet_v2_hand_count(depth, image_size, batch, num_classes):
    """Float operations of resnet_v2_<depth>'s inference step (input to logits) by the profiler's
    rules, from the architecture: 7x7/2 conv (+bias) and 3x3/2 max-pool; per bottleneck unit a
    projection shortcut (1x1 conv + bias, when the depth changes) or a 1x1 stride-s max-pool
    subsample (when it does not and s > 1), 1x1 / 3x3 (stride s) / 1x1 (+bias) convolutions and the
    residual add; the stride of blocks 1-3 sits in their last unit; global mean; 1x1 logits conv
    (+bias). Batch norm and ReLU count zero."""
    size = math.ceil(image_size / 2)
    total = _conv(size, 3, 64, 7) + size * size * 64
    size = math.ceil(size / 2)
    total += 9 * size * size * 64
    channels = 64
    for base_depth, num_units, block_stride in zip(
        (64, 128, 256, 512), UNITS_PER_BLOCK[depth], (2, 2, 2, 1), strict=True
    ):
        out_depth = 4 * base_depth
        for index in range(num_units):
            stride = block_stride if index == num_units - 1 else 1
            size_out = math.ceil(size / stride)
            outputs = size_out * size_out * out_depth
            if out_depth != channels:
                total += _conv(size_out, channels, out_depth, 1) + outputs
            elif stride > 1:
                total += outputs
            total += _conv(size, channels, base_depth, 1)
            total += _conv(size_out, base_depth, base_depth, 3)
            total += _conv(size_out, base_depth, out_depth, 1) + outputs
            total += outputs  # the residual add
            channels, size = out_depth, size_out
    total += size * size * channels  # the profiler's Mean: one per input element
    total += _conv(1, channels, num_classes, 1) + num_classes
    return batch * total


@pytest.fixture
def hand_count():
    """resnet_v2_hand_count(depth, image_size, batch, num_classes): the inference FLOPs."""
    return resnet_v2_hand_count


def _convolution_gradient_scopes(graph, device=None):
    """{forward convolution: the name scope of its gradient}, read from the graph: the executed-
    gradient floor of the trace tests, one per Conv2D of the network.

    A trace's node count is no floor: how many nodes TensorFlow executes depends on the machine
    (oneDNN fuses BiasAddGrad into the filter gradient, grappler may fuse more). A fused or
    rewritten node keeps the name of a gradient op it replaces, so each convolution's gradient
    scope shows in the trace whatever its kernel. The scope is found among the graph's ops (under a
    replica's name scope it is `replica_1/gradients/replica_1/.../Conv2D_grad/`); `device` keeps
    the convolutions placed on it (a device name's last part, such as 'device:CPU:1').
    """
    operations = graph.get_operations()
    convolutions = [op for op in operations
                    if op.type == "Conv2D" and "gradients/" not in op.name
                    and (device is None or op.device.endswith(device))]
    scopes = {}
    for convolution in convolutions:
        marker = f"gradients/{convolution.name}_grad/"
        for op in operations:
            if marker in op.name:
                scopes[convolution.name] = op.name[:op.name.index(marker) + len(marker)]
                break
        else:
            raise AssertionError(f"the graph has no gradient of {convolution.name}")
    return scopes


@pytest.fixture(scope="session")
def convolution_gradient_scopes():
    """convolution_gradient_scopes(graph, device=None) -> {forward Conv2D name: the name scope of
    its gradient ops}, from the graph (see `_convolution_gradient_scopes`)."""
    return _convolution_gradient_scopes


@pytest.fixture
def data_path():
    """data_path(name): a file in tests/bench/data."""
    return lambda name: os.path.join(DATA_DIR, name)


@pytest.fixture
def traced_op_types():
    """traced_op_types(trace_text) -> the op types of the op events in a Chrome trace."""

    def op_types(trace_text):
        events = json.loads(trace_text)["traceEvents"]
        return {event["args"]["op"] for event in events
                if event.get("ph") == "X" and "op" in event.get("args", {})}

    return op_types


@pytest.fixture
def table_rows():
    """table_rows(text) -> the rows of the github-format table in `text`, as dicts."""

    def parse(text):
        lines = [line for line in text.splitlines() if line.startswith("|")]
        header = [cell.strip() for cell in lines[0].strip("|").split("|")]
        return [dict(zip(header, [cell.strip() for cell in line.strip("|").split("|")],
                         strict=True)) for line in lines[2:]]

    return parse


@pytest.fixture
def records_file(tmp_path):
    """records_file(name, results, extra=None) -> the path of a JSON Lines file in tmp_path holding
    the records of `results` as bench.results.records writes them; extra[i], a dict, adds top-level keys to
    record i, and its "config" dict adds config keys (the keys of other branches' records:
    "repeat", config "replicas")."""
    from bench.results import records

    def write(name, results, extra=None):
        lines = []
        for index, result in enumerate(results):
            record = json.loads(records.json_line(result))
            added = dict((extra or {}).get(index, {}))
            record["config"].update(added.pop("config", {}))
            record.update(added)
            lines.append(json.dumps(record))
        path = tmp_path / name
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return str(path)

    return write


def _jpeg(height, width, seed):
    """JPEG bytes of a random image (TensorFlow imported only by the tests that make images)."""
    import numpy as np
    import tensorflow as tf

    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return tf.io.encode_jpeg(pixels).numpy()


@pytest.fixture
def class_folder(tmp_path):
    """A folder of 3 class sub-folders (a, b, c) of 2 JPEGs each (32-40 px)."""
    root = tmp_path / "classes"
    for label, name in enumerate("abc"):
        os.makedirs(root / name)
        for index in range(2):
            (root / name / f"{index}.jpg").write_bytes(_jpeg(32 + 8 * index, 40, seed=label * 2 + index))
    return str(root)


@pytest.fixture(scope="session")
def real_data(tmp_path_factory):
    """A folder of 2 TFRecord shards of 8 random JPEGs of at most 48 px in ImageNet's format
    (labels 1..1000, so a model reading them has 1001 classes), made once per test process."""
    from bench.inputs import make_data

    folder = tmp_path_factory.mktemp("real_data") / "shards"
    make_data.write_random_shards(str(folder), 8, 2, max_size=48, seed=0)
    return str(folder)


# The tiny settings of a real-data run (`real_data`'s labels need 1001 classes).
TINY_REAL = dict(TINY, batch_size=2, num_classes=1001)


@pytest.fixture
def tiny_real(real_data):
    """The tiny BenchmarkConfig settings reading `real_data` (a dict; override with dict(...))."""
    return dict(TINY_REAL, data=real_data)


# --- a checkpoint that knows its images (issue 31: restore, agreement, quality) -----------------

MEMORIZED_CLASSES = 4  # class sub-folders; the model has one more logit, class 0 the background
MEMORIZED_PER_CLASS = 4
MEMORIZED_SIZE = 32


@dataclasses.dataclass(frozen=True)
class Memorized:
    """The small network (under resnet_v2_50's scope) trained to memorize a folder of images.

    Attributes:
      folder: a folder of MEMORIZED_CLASSES class sub-folders of PNGs (labels 1..4 as read).
      checkpoint: the checkpoint prefix of the trained model's variables.
      num_classes: the logits (5: class 0 the background).
      image_size: the network's input size.
      images: [16, 32, 32, 3] float32, the images as the evaluation pipeline reads them.
      labels: [16] int32, their labels.
      logits: [16, 5] float32, the trained model's logits on them.
    """

    folder: str
    checkpoint: str
    num_classes: int
    image_size: int
    images: object
    labels: object
    logits: object


def _write_memorized_images(folder):
    """Writes MEMORIZED_PER_CLASS random 40 px PNGs into each of MEMORIZED_CLASSES sub-folders."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(31)
    for index in range(MEMORIZED_CLASSES):
        os.makedirs(os.path.join(folder, f"class_{index}"))
        for image in range(MEMORIZED_PER_CLASS):
            pixels = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(os.path.join(folder, f"class_{index}", f"{image}.png"))


def _read_as_evaluated(folder, num_classes):
    """Every image of `folder` and its label, read once by the forward mode's pipeline."""
    import tensorflow as tf

    from bench.inputs import pipeline, sources

    source = sources.inspect_source(folder, num_classes)
    with tf.Graph().as_default():
        built = pipeline.build_pipeline(source, source.num_images, MEMORIZED_SIZE, training=False,
                                        num_classes=num_classes)
        with tf.compat.v1.Session() as session:
            session.run(built.initializer)
            return session.run([built.images, built.labels])


def _train_to_memorize(images, labels, num_classes, prefix):
    """Trains the small network (inference-mode batch norm) until it classifies every image
    correctly, saves its model variables at `prefix`; returns its logits."""
    import numpy as np
    import tensorflow as tf
    import tf_slim as slim

    from bench.step import graphs
    from slim_resnet import resnet_arg_scope

    tf1 = tf.compat.v1
    with tf.Graph().as_default():
        tf1.set_random_seed(31)
        with slim.arg_scope(resnet_arg_scope()):
            logits, _ = graphs.small_network("resnet_v2_50")(tf.constant(images), num_classes=num_classes,
                                                             is_training=False)
        loss = tf1.losses.sparse_softmax_cross_entropy(labels, logits)
        train = tf1.train.AdamOptimizer(0.01).minimize(loss)
        saver = tf1.train.Saver(tf1.model_variables())
        with tf1.Session() as session:
            session.run(tf1.global_variables_initializer())
            for _ in range(300):
                _, values = session.run([train, logits])
                if (values.argmax(axis=1) == labels).all() and np.sort(values, axis=1)[:, -2].max() < \
                        values.max(axis=1).min() - 2.0:
                    break
            values = session.run(logits)
            assert (values.argmax(axis=1) == labels).all(), "the small network did not memorize its images"
            saver.save(session, prefix, write_meta_graph=False)
    return values


@pytest.fixture(scope="session")
def memorized(tmp_path_factory):
    """A `Memorized`: the small network trained on 16 labelled images, and its checkpoint (a few
    seconds, once per test process)."""
    root = tmp_path_factory.mktemp("memorized")
    folder = str(root / "images")
    _write_memorized_images(folder)
    num_classes = MEMORIZED_CLASSES + 1
    images, labels = _read_as_evaluated(folder, num_classes)
    prefix = str(root / "checkpoint" / "model.ckpt")
    logits = _train_to_memorize(images, labels, num_classes, prefix)
    return Memorized(folder, prefix, num_classes, MEMORIZED_SIZE, images, labels, logits)
