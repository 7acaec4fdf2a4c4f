"""The row-by-row agreement figures on arrays whose answers are known."""

import numpy as np
import pytest

from slim_resnet.support import agreement


def test_identical_rows_agree_exactly():
  rows = np.array([[1.0, -2.0, 3.0], [0.5, 0.25, -4.0]])
  found = agreement.summary(rows, rows.copy(), top1=True)
  assert found == {'images': 2, 'nonfinite_images': 0, 'max_relative_error': 0.0,
                   'mean_relative_error': 0.0, 'cosine_mean': pytest.approx(1.0, abs=1e-15),
                   'cosine_min': pytest.approx(1.0, abs=1e-15), 'top1_agreement': 1.0}


def test_known_errors_cosines_and_top1():
  reference = np.array([[3.0, 4.0], [1.0, 0.0]])
  values = np.array([[3.0, 4.5], [0.0, 1.0]])  # 0.5 / 5 off; a right angle away, top class moved
  np.testing.assert_allclose(agreement.relative_errors(values, reference), [0.1, np.sqrt(2)])
  np.testing.assert_allclose(agreement.cosines(values, reference), [(9 + 18) / (5 * np.hypot(3, 4.5)), 0.0])
  assert agreement.same_top1(values, reference).tolist() == [True, False]
  assert agreement.cosines(np.zeros([1, 2]), np.zeros([1, 2])).tolist() == [1.0]


def test_non_finite_rows_are_counted_and_left_out():
  values = np.array([[1.0, np.inf], [1.0, 1.0]])
  found = agreement.summary(values, np.ones([2, 2]), top1=True)
  assert (found['nonfinite_images'], found['max_relative_error'], found['top1_agreement']) == (1, 0.0, 0.5)
  assert agreement.summary(values[:1], np.ones([1, 2]))['cosine_mean'] is None


def test_any_shape_is_flattened_per_image():
  features = np.ones([2, 1, 1, 8])
  assert agreement.relative_errors(features * 1.01, features) == pytest.approx([0.01, 0.01])
