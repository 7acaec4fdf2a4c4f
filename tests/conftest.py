"""Test-wide settings: quiet TensorFlow, and a fixed NumPy generator per test."""

import os
import warnings

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
warnings.filterwarnings('ignore', category=DeprecationWarning)
warnings.filterwarnings('ignore', category=UserWarning)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

SHARED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), '..', 'shared')


@pytest.fixture
def rng():
  """A NumPy generator seeded per test, so failures reproduce."""
  return np.random.default_rng(1234)
