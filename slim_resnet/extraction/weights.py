"""The extraction network's weights: the --checkpoint's variables, its depth and class count
checked against the flags before any image is read, then restored, or a loud warning that the
weights are random.
"""

import warnings

from slim_resnet import checkpoint as checkpoint_lib
from slim_resnet import end_points as end_points_lib
from slim_resnet.extraction import precision as precision_lib
from slim_resnet.extraction.errors import UsageError
from slim_resnet.extraction.run import print_to_stderr
from slim_resnet.family import depth_problem
from slim_resnet.support.wording import listing


def stored_variables(checkpoint):
  """{name: CheckpointVariable} of --checkpoint, or None without one.

  Raises:
    UsageError: if the checkpoint cannot be found or read.
  """
  if not checkpoint:
    return None
  try:
    return checkpoint_lib.list_checkpoint_variables(checkpoint)
  except checkpoint_lib.CheckpointError as error:
    raise UsageError(f'--checkpoint {checkpoint}: {error}') from error


def check_checkpoint_depth(args, stored):
  """Refuses a checkpoint saved from another depth than --depth, naming the --depth it needs.

  Raises:
    UsageError: if the checkpoint has no resnet_v2_<depth> variables but those of one other depth.
  """
  problem = depth_problem(checkpoint_lib.top_level_scopes(stored), args.depth)
  if problem:
    raise UsageError(f'--checkpoint {args.checkpoint}: {problem}')


def _mismatch_hint(args, comparison):
  """What to do about a checkpoint that does not match, in terms of this command's flags.

  The Python API's hints name `scope_map` and `exclude`, which have no flags here.
  """
  scope = f'resnet_v2_{args.depth}'
  if comparison.nothing_matched:
    return (f"nothing matched: the checkpoint's top-level scopes are "
            f'{listing(comparison.checkpoint_scopes)}, not {scope}; give a checkpoint saved from '
            f'resnet_v2 under its own scope, and its depth with --depth')
  names = [graph_name for graph_name, _ in comparison.missing]
  names += [mismatch.graph_name for mismatch in comparison.mismatched]
  if args.num_classes and all(name.startswith(f'{scope}/logits/') for name in names):
    return ('the logits differ: leave out --num-classes to use the checkpoint\'s class count, or '
            'extract no logits/predictions')
  return f'the checkpoint was not saved from {scope} (another depth or another network?)'


def num_classes(args, requested, stored):
  """The logits' class count: --num-classes, else the checkpoint's, else None.

  Raises:
    UsageError: if a classifier end point is requested and no class count is known.
  """
  try:
    return end_points_lib.choose_num_classes(requested, args.num_classes, stored,
                                             f'resnet_v2_{args.depth}')
  except end_points_lib.MissingClassCountError as error:
    raise UsageError('--end-point logits/predictions need --num-classes (or a checkpoint with '
                     'logits)') from error


def restore_or_warn(session, args, graph):
  """Restores --checkpoint into the graph, or warns loudly that the weights are random.

  Raises:
    UsageError: if the checkpoint is missing, unreadable or does not match the graph.
  """
  if not args.checkpoint:
    print_to_stderr('WARNING: no --checkpoint given: the network has RANDOM weights, so these features mean '
         'nothing (use this only for testing)')
    return
  try:
    with warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter('always', checkpoint_lib.UnusedCheckpointVariablesWarning)
      restorer = checkpoint_lib.make_restorer(args.checkpoint, graph=graph,
                                              scope_map=precision_lib.scope_map(args))
  except checkpoint_lib.CheckpointMismatchError as error:
    raise UsageError(error.summary(hint=_mismatch_hint(args, error.comparison))) from error
  except checkpoint_lib.CheckpointError as error:
    raise UsageError(f'--checkpoint {args.checkpoint}: {error}') from error
  for warning in caught:
    print_to_stderr(f'warning: {warning.message}')
  restorer(session)
  print_to_stderr(f'extract: restored {len(restorer.comparison.restored)} variables from '
       f'{restorer.checkpoint}')
