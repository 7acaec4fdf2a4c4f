"""TF-Slim's training preprocessing: output shape and range, the crop window inside the image."""

import numpy as np
import pytest
import tensorflow as tf

from bench.inputs import training_preprocessing as training

tf1 = tf.compat.v1


def _run(build, repeats=5):
    graph = tf.Graph()
    with graph.as_default():
        tf1.set_random_seed(7)
        output = build()
        with tf1.Session() as session:
            return [session.run(output) for _ in range(repeats)]


def _image(height=40, width=56):
    return tf.constant(np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize("boxes", [np.zeros([0, 4], np.float32),
                                   np.array([[0.2, 0.1, 0.9, 0.6]], np.float32)])
def test_inception_is_size_by_size_in_minus_one_to_one(boxes):
    for image in _run(lambda: training.inception_train(_image(), tf.constant(boxes), 24)):
        assert image.shape == (24, 24, 3) and image.dtype == np.float32
        assert -1.0 <= image.min() and image.max() <= 1.0


def test_inception_crop_window_lies_inside_the_image_and_covers_5_percent_or_more():
    windows = _run(lambda: training.inception_crop_window(tf.constant([40, 56, 3]), tf.zeros([0, 4])), 20)
    for top, left, height, width in windows:
        assert 0 <= top and top + height <= 40 and 0 <= left and left + width <= 56
        assert height * width >= 0.05 * 40 * 56 - 1
    assert len({tuple(window) for window in windows}) > 1  # random


def test_inception_from_jpeg_decodes_only_the_window_to_the_same_shape_and_range(make_jpeg):
    jpeg = make_jpeg(40, 56)
    for image in _run(lambda: training.inception_train_from_jpeg(tf.constant(jpeg), tf.zeros([0, 4]), 16)):
        assert image.shape == (16, 16, 3)
        assert -1.0 <= image.min() and image.max() <= 1.0


def test_vgg_is_size_by_size_with_the_means_subtracted():
    for image in _run(lambda: training.vgg_train(_image(), 32)):
        assert image.shape == (32, 32, 3) and image.dtype == np.float32
        assert image.min() >= -123.68 - 1e-3 and image.max() <= 255 - 103.94 + 1e-3
        assert image.min() < 0  # the means are subtracted


def test_vgg_takes_a_crop_of_an_upscaled_image_not_the_whole_image():
    uniform_left = np.concatenate([np.zeros((40, 28, 3)), np.full((40, 28, 3), 255)], axis=1)
    crops = _run(lambda: training.vgg_train(tf.constant(uniform_left, tf.uint8), 32), 20)
    means = {round(float(crop.mean()), 1) for crop in crops}
    assert len(means) > 1  # different crops see different parts of the two halves


def test_none_is_a_plain_resize():
    (image,) = _run(lambda: training.preprocess_for_training(_image(), 20, "none"), 1)
    assert image.shape == (20, 20, 3) and image.max() > 1.0


def test_an_unknown_name_or_size_is_refused():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="unknown preprocessing 'resnet'; choose one of inception"):
            training.preprocess_for_training(_image(), 20, "resnet")
        with pytest.raises(ValueError, match="size must be a positive int"):
            training.vgg_train(_image(), 0)
