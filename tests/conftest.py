"""Test-wide settings: quiet TensorFlow, an environment that does not steer the code under test, a
fixed NumPy generator per test, the official layout."""

import json
import os
import warnings

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# Before anything imports TensorFlow: on Ampere and later GPUs TensorFlow computes float32 matrix
# products and convolutions in TF32 (a 10-bit mantissa) unless told not to, and the fp32 comparisons
# here have tolerances far tighter than TF32's rounding. Without a GPU this changes nothing.
os.environ.setdefault('NVIDIA_TF32_OVERRIDE', '0')

# Variables of the shell that would change what the code under test does: a cluster (TF_CONFIG, read
# by bench.core.cluster), XLA auto-clustering (TF_XLA_FLAGS, read by TensorFlow), the verbose switch
# (BENCH_VERBOSE, bench.core.quiet), the once-only fault marker (BENCH_TEST_FAULT_ONCE, bench.core.faults)
# and the stand-in network (BENCH_TEST_NETWORK, bench.core.stand_ins).
# Removed here, before TensorFlow reads them and before any session fixture starts a child (children
# inherit os.environ), and again around each test (the `clean_shell_environment` fixture), so one
# test that sets them without monkeypatch cannot reach the next.
STEERING_VARIABLES = ('TF_CONFIG', 'TF_XLA_FLAGS', 'BENCH_VERBOSE', 'BENCH_TEST_FAULT_ONCE',
                      'BENCH_TEST_NETWORK')
for _name in STEERING_VARIABLES:
  os.environ.pop(_name, None)
warnings.filterwarnings('ignore', category=DeprecationWarning)
warnings.filterwarnings('ignore', category=UserWarning)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# The layout of the official TF-Slim ResNet v2 graphs (names and shapes: plain facts), kept in the
# repository so every clone runs every test: a copy of ../shared/fixtures/slim_resnet_v2_manifest.json
# (its README says how it was made), compared with it by tests/test_manifest.py where it is there.
MANIFEST_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data',
                             'slim_resnet_v2_manifest.json')


@pytest.fixture(autouse=True)
def clean_shell_environment(monkeypatch):
  """Every test starts without the STEERING_VARIABLES (a test may still set them itself)."""
  for name in STEERING_VARIABLES:
    monkeypatch.delenv(name, raising=False)


@pytest.fixture
def rng():
  """A NumPy generator seeded per test, so failures reproduce."""
  return np.random.default_rng(1234)


@pytest.fixture(scope='session')
def manifest():
  """The layout of the official TF-Slim ResNet v2 graphs (tests/data), by model name."""
  with open(MANIFEST_PATH, encoding='utf-8') as manifest_file:
    return json.load(manifest_file)


def _load_all(session, pairs):
  """Assigns (variable, value) pairs in one session.run.

  `Variable.load` runs the graph once per variable, and each run with new fetches prunes the whole
  graph again: for a ResNet that is seconds, against milliseconds for one run.
  """
  pairs = list(pairs)
  session.run([variable.initializer for variable, _ in pairs],
              {variable.initializer.inputs[1]: value for variable, value in pairs})


@pytest.fixture(scope='session')
def load_values():
  """A function `load_values(session, [(variable, value), ...])` that assigns them all in one run."""
  return _load_all


@pytest.fixture
def randomize(rng):
  """A function that fills the default graph's variables in a session with random values.

  `randomize(session)` draws N(0, 0.1^2) values (|N(0, 0.1^2)| + 0.9 for the batch-norm gammas and
  moving variances, which must stay positive), loads them and returns {variable name: value};
  `randomize(session, values)` loads a dict returned earlier, e.g. into a second graph built alike.
  """
  import tensorflow as tf

  def load(session, values=None):
    variables = tf.compat.v1.global_variables()
    if values is None:
      values = {}
      for variable in variables:
        value = rng.standard_normal(variable.shape.as_list()).astype(np.float32) * 0.1
        if variable.op.name.endswith(('moving_variance', 'gamma')):
          value = np.abs(value) + 0.9
        values[variable.op.name] = value
    _load_all(session, [(variable, values[variable.op.name]) for variable in variables])
    return values

  return load
