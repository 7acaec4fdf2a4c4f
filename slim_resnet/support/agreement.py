"""How far a reduced-precision network's outputs are from fp32's, row by row (numpy only).

For outputs of the same images from two networks with the same weights, `values` (e.g. bfloat16
computed, cast to float32) and `reference` (float32):

- relative error: ||values - reference|| / ||reference|| per image (Euclidean over all the
  image's elements);
- cosine similarity: <values, reference> / (||values|| ||reference||) per image (1 for two zero
  rows);
- same top-1: the index of the largest value is the same (for logits and predictions).

Used by `python -m slim_resnet.extract --agreement` and by the benchmark's quality pass.
"""

import numpy as np

_TINY = np.finfo(np.float64).tiny


def as_rows(array):
  """[N, ...] -> [N, rest] float64."""
  array = np.asarray(array, dtype=np.float64)
  return array.reshape(len(array), int(np.prod(array.shape[1:])))


def finite_rows(array):
  """[N] bool: the rows whose elements are all finite."""
  return np.isfinite(as_rows(array)).all(axis=1)


def relative_errors(values, reference):
  """[N] ||values - reference|| / ||reference|| per row (a zero reference row divides by tiny)."""
  values, reference = as_rows(values), as_rows(reference)
  return np.linalg.norm(values - reference, axis=1) / np.maximum(np.linalg.norm(reference, axis=1), _TINY)


def cosines(values, reference):
  """[N] cosine similarity per row (1 where both rows are zero, 0 where only one is)."""
  values, reference = as_rows(values), as_rows(reference)
  norms = np.linalg.norm(values, axis=1) * np.linalg.norm(reference, axis=1)
  dots = (values * reference).sum(axis=1)
  both_zero = (norms == 0) & (dots == 0)
  return np.where(norms > 0, dots / np.maximum(norms, _TINY), np.where(both_zero, 1.0, 0.0))


def same_top1(values, reference):
  """[N] bool: the largest element's index is the same in both rows."""
  return as_rows(values).argmax(axis=1) == as_rows(reference).argmax(axis=1)


def summary(values, reference, top1=False):
  """The figures of one end point over all its rows.

  Args:
    values, reference: [N, ...] arrays.
    top1: also compare the top class (logits, predictions).

  Returns:
    {'images', 'nonfinite_images', 'max_relative_error', 'mean_relative_error', 'cosine_mean',
    'cosine_min'} and with `top1` 'top1_agreement'; the errors and cosines over the rows that are
    finite in `values` (None when there are none).
  """
  finite = finite_rows(values)
  kept_values, kept_reference = as_rows(values)[finite], as_rows(reference)[finite]
  errors = relative_errors(kept_values, kept_reference)
  similar = cosines(kept_values, kept_reference)
  some = errors.size > 0
  found = {
      'images': int(len(finite)),
      'nonfinite_images': int((~finite).sum()),
      'max_relative_error': float(errors.max()) if some else None,
      'mean_relative_error': float(errors.mean()) if some else None,
      'cosine_mean': float(similar.mean()) if some else None,
      'cosine_min': float(similar.min()) if some else None,
  }
  if top1:
    found['top1_agreement'] = float((same_top1(values, reference) & finite).mean()) if len(finite) else None
  return found
