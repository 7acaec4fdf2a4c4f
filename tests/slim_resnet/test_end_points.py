"""slim_resnet.end_points: short forms, resolution of requested names, the logits' class count."""

import pytest

from slim_resnet import end_points
from slim_resnet.checkpoint.files import CheckpointVariable

END_POINTS = {'resnet_v2_50/conv1': 0, 'resnet_v2_50/block4': 1, 'global_pool': 2,
              'resnet_v2_50/block1/unit_1': 3}


def test_short_end_point_forms():
  assert end_points.resolve_end_points(
      ['block4', 'resnet_v2_50/block4', 'global_pool', 'block1/unit_1'], END_POINTS,
      'resnet_v2_50') == ['resnet_v2_50/block4', 'global_pool', 'resnet_v2_50/block1/unit_1']
  assert end_points.resolve_end_points(['/block4/'], END_POINTS, 'resnet_v2_50') == [
      'resnet_v2_50/block4']
  assert end_points.end_point_short_forms({'a/x': 0, 'b': 1}, 'a') == {'a/x': 'a/x', 'x': 'a/x',
                                                                        'b': 'b'}


def test_unknown_end_point_names_the_main_ones():
  with pytest.raises(end_points.UnknownEndPointError) as raised:
    end_points.resolve_end_points(['block4', 'block9'], END_POINTS, 'resnet_v2_50')
  assert raised.value.name == 'block9'
  assert str(raised.value) == ('unknown end point; choose from conv1, block4, global_pool or a unit '
                               'such as block1/unit_1/bottleneck_v2')


def test_class_count_from_the_caller_then_the_checkpoint():
  stored = {'resnet_v2_50/logits/biases': CheckpointVariable((7,), None)}
  assert end_points.choose_num_classes(['logits'], 3, stored, 'resnet_v2_50') == 3
  assert end_points.choose_num_classes(['logits'], None, stored, 'resnet_v2_50') == 7
  assert end_points.choose_num_classes(['block4'], None, {}, 'resnet_v2_50') is None
  assert end_points.choose_num_classes(['block4'], None, None, 'resnet_v2_50') is None
  for classifier in ('logits', 'resnet_v2_50/logits', 'predictions', 'spatial_squeeze/'):
    assert end_points.needs_classifier(['block1', classifier])
    with pytest.raises(end_points.MissingClassCountError):
      end_points.choose_num_classes([classifier], None, None, 'resnet_v2_50')
  assert not end_points.needs_classifier(['block4', 'global_pool'])
