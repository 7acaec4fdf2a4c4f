"""slim_resnet.checkpoint.matching: graph names to checkpoint names, the comparison and its report."""

import pytest
import tensorflow as tf

from slim_resnet.checkpoint import matching as checkpoint_matching
from slim_resnet.checkpoint.files import CheckpointError, CheckpointVariable


def test_scope_map_rules():
  mapping = {'tower_0': '', 'tower_0/net': 'resnet_v2_50', '': 'outer'}
  assert checkpoint_matching.checkpoint_name('tower_0/net/conv1/w', mapping) == 'resnet_v2_50/conv1/w'
  assert checkpoint_matching.checkpoint_name('tower_0/other/w', mapping) == 'other/w'
  assert checkpoint_matching.checkpoint_name('x/w', mapping) == 'outer/x/w'
  assert checkpoint_matching.checkpoint_name('tower_01/w', {'tower_0': ''}) == 'tower_01/w'
  assert checkpoint_matching.checkpoint_name('a/w') == 'a/w'


def test_in_scope_is_by_whole_components():
  assert checkpoint_matching.in_scope('net/block1/w', 'net/block1')
  assert checkpoint_matching.in_scope('net/block1', 'net/block1/')
  assert checkpoint_matching.in_scope('anything', '')
  assert not checkpoint_matching.in_scope('net/block10/w', 'net/block1')


@pytest.fixture
def graph_variables():
  """{name: variable} of a small graph: float32 a/w [2, 4], a/b [3], a/extra [3], c/w [4], d/h f16."""
  with tf.Graph().as_default():
    yield {name: tf.compat.v1.get_variable(name, initializer=tf.zeros(shape, dtype))
           for name, shape, dtype in [('a/w', [2, 4], tf.float32), ('a/b', [3], tf.float32),
                                      ('a/extra', [3], tf.float32), ('c/w', [4], tf.float32),
                                      ('d/h', [2], tf.float16)]}


CHECKPOINT = {
    'a/w': CheckpointVariable((2, 3), tf.float32),
    'a/b': CheckpointVariable((3,), tf.float32),
    'c/w': CheckpointVariable((4,), tf.int32),
    'd/h': CheckpointVariable((2,), tf.float32),
    'global_step': CheckpointVariable((), tf.int64),
}


def test_comparison_sorts_every_variable(graph_variables):
  comparison = checkpoint_matching.compare_with_checkpoint(list(graph_variables.values()), CHECKPOINT)
  assert comparison.restored == [('a/b', 'a/b'), ('d/h', 'd/h')]  # float32 into float16: a cast.
  assert comparison.missing == [('a/extra', 'a/extra')]
  assert [(m.graph_name, m.checkpoint_shape, m.checkpoint_dtype) for m in comparison.mismatched] == [
      ('a/w', (2, 3), 'float32'), ('c/w', (4,), 'int32')]
  assert comparison.unused == ['global_step']
  assert comparison.checkpoint_scopes == ['a', 'c', 'd', 'global_step']
  assert not comparison.ok and not comparison.nothing_matched


def test_excluded_variables_are_neither_compared_nor_unused(graph_variables):
  variables = [graph_variables[name] for name in ('a/w', 'a/b', 'a/extra')]
  comparison = checkpoint_matching.compare_with_checkpoint(variables, CHECKPOINT, exclude=['a/w', 'a/extra'])
  assert comparison.ok
  assert comparison.excluded == ['a/w', 'a/extra']
  assert comparison.restored == [('a/b', 'a/b')]
  assert comparison.unused == ['c/w', 'd/h', 'global_step']


def test_mismatch_error_reports_everything_and_summarises_on_one_line(graph_variables):
  comparison = checkpoint_matching.compare_with_checkpoint(list(graph_variables.values()), CHECKPOINT)
  error = checkpoint_matching.CheckpointMismatchError('/ckpt/model', comparison)
  assert isinstance(error, CheckpointError)
  assert str(error).splitlines() == [
      error.summary(),
      '  missing from checkpoint: a/extra',
      '  mismatch: a/w: graph [2, 4] float32, checkpoint [2, 3] float32',
      '  mismatch: c/w: graph [4] float32, checkpoint [4] int32',
  ]
  assert error.summary() == (
      'checkpoint /ckpt/model does not match the graph, nothing restored: 1 variable missing from it '
      '(a/extra); 2 shape/dtype mismatches (a/w: graph [2, 4] float32, checkpoint [2, 3] float32; '
      'c/w: graph [4] float32, checkpoint [4] int32); pass exclude for variables that should keep '
      'their initial values')


def test_nothing_matched_names_the_checkpoint_scopes(graph_variables):
  comparison = checkpoint_matching.compare_with_checkpoint(
      [graph_variables['a/b']], CHECKPOINT, scope_map={'a': 'tower_0'})
  assert comparison.nothing_matched
  summary = checkpoint_matching.CheckpointMismatchError('/ckpt/model', comparison).summary()
  assert 'a/b (looked up as tower_0/b)' in summary
  assert summary.endswith("the checkpoint's top-level scopes are a, c, d, global_step; pass "
                          'scope_map to remap')


def test_exclude_entry_matching_nothing_is_refused(graph_variables):
  variables = list(graph_variables.values())
  checkpoint_matching.check_exclude_matches(['a', 'c/w'], variables)
  with pytest.raises(CheckpointError, match='exclude a/wx, e matches no variable to restore'):
    checkpoint_matching.check_exclude_matches(['a/wx', 'a/w', 'e'], variables)


def test_a_command_line_gives_its_own_hint(graph_variables):
  comparison = checkpoint_matching.compare_with_checkpoint([graph_variables['a/extra']], CHECKPOINT)
  error = checkpoint_matching.CheckpointMismatchError('/ckpt/model', comparison)
  assert error.summary(hint='pass --depth 101').endswith('(a/extra); pass --depth 101')
  assert str(error).splitlines()[0] == error.summary()  # The report keeps the API's hint.
