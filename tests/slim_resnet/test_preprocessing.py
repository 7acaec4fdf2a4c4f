"""The preprocessing choices against NumPy, on sizes where the resize is an identity."""

import numpy as np
import pytest

from slim_resnet import preprocessing


def _image(rng, height, width):
  return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_inception_crops_the_centre_and_scales_to_unit_range(rng):
  image = _image(rng, 64, 80)  # 87.5% of 64 x 80 is 56 x 70; resized to 56 x 56.
  output = preprocessing.preprocess(image, 56, 'inception').numpy()
  assert output.shape == (56, 56, 3)
  assert output.min() >= -1.0 and output.max() <= 1.0
  square = _image(rng, 64, 64)  # Crop 56 x 56 = the output size: the resize changes nothing.
  expected = square[4:60, 4:60].astype(np.float32) / 127.5 - 1.0
  np.testing.assert_allclose(preprocessing.preprocess(square, 56, 'inception').numpy(), expected,
                             atol=1e-6)


def test_vgg_resizes_shorter_side_crops_and_subtracts_means(rng):
  image = _image(rng, 256, 300)  # Shorter side already 256 for size 224.
  expected = image[16:240, 38:262].astype(np.float32) - np.array([123.68, 116.78, 103.94])
  output = preprocessing.preprocess(image, 224, 'vgg').numpy()
  np.testing.assert_allclose(output, expected, atol=1e-4)
  small = preprocessing.preprocess(_image(rng, 20, 90), 32, 'vgg')
  assert small.shape == (32, 32, 3)


def test_none_only_resizes(rng):
  image = _image(rng, 40, 40)
  np.testing.assert_array_equal(preprocessing.preprocess(image, 40, 'none').numpy(),
                                image.astype(np.float32))
  assert preprocessing.preprocess(image, 32, 'none').shape == (32, 32, 3)


def test_bad_choices_are_refused(rng):
  with pytest.raises(ValueError, match="unknown preprocessing 'caffe'; choose one of inception, "
                     'none, vgg'):
    preprocessing.preprocess(_image(rng, 8, 8), 8, 'caffe')
  with pytest.raises(ValueError, match='3 \\(RGB\\) channels'):
    preprocessing.preprocess(np.zeros([8, 8, 4], np.uint8), 8)
  with pytest.raises(ValueError, match='size must be a positive int'):
    preprocessing.preprocess(_image(rng, 8, 8), 0)
