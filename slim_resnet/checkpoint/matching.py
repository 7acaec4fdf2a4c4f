"""Lining a graph's variables up with a checkpoint's, and reporting what does not match.

Each graph variable is looked up in the checkpoint under its own name, or under the name
`scope_map` ({graph scope: checkpoint scope}) gives it; the longest matching graph scope wins, an
empty checkpoint scope strips the graph scope and an empty graph scope prefixes every name.
Variables under an `exclude` scope are left out. The result, a `CheckpointComparison`, says what will
be restored, what the checkpoint lacks, what differs in shape or dtype (a float-to-float difference
is a cast, not a mismatch), and which checkpoint variables nothing uses. `CheckpointMismatchError`
reports a failed comparison in one go.
"""

import dataclasses

from slim_resnet.checkpoint.files import CheckpointError, top_level_scopes
from slim_resnet.support.wording import listing, plural


def in_scope(name, scope):
  """True if variable `name` is `scope` itself or lies under it ('' is the root scope)."""
  scope = scope.rstrip('/')
  return not scope or name == scope or name.startswith(scope + '/')


def checkpoint_name(graph_name, scope_map=None):
  """Returns the name `graph_name` has in the checkpoint under `scope_map` ({graph: checkpoint})."""
  matches = [scope for scope in (scope_map or {}) if in_scope(graph_name, scope)]
  if not matches:
    return graph_name
  graph_scope = max(matches, key=lambda scope: len(scope.rstrip('/')))
  target_scope = scope_map[graph_scope].rstrip('/')
  graph_scope = graph_scope.rstrip('/')
  rest = graph_name[len(graph_scope):].lstrip('/') if graph_scope else graph_name
  if not target_scope:
    return rest
  return f'{target_scope}/{rest}' if rest else target_scope


def variable_name(variable):
  """Returns a variable's name without the ':0' output suffix."""
  return variable.op.name


@dataclasses.dataclass(frozen=True)
class Mismatch:
  """A graph variable whose checkpoint tensor has another shape or an incompatible dtype."""
  graph_name: str
  checkpoint_name: str
  graph_shape: tuple
  checkpoint_shape: tuple
  graph_dtype: str
  checkpoint_dtype: str

  def describe(self):
    """Returns e.g. 'a/w: graph [3, 3] float32, checkpoint [3, 4] float32'."""
    looked_up = ('' if self.graph_name == self.checkpoint_name
                 else f' (checkpoint name {self.checkpoint_name})')
    return (f'{self.graph_name}{looked_up}: graph {list(self.graph_shape)} {self.graph_dtype}, '
            f'checkpoint {list(self.checkpoint_shape)} {self.checkpoint_dtype}')


@dataclasses.dataclass
class CheckpointComparison:
  """How the graph's variables line up with a checkpoint.

  Attributes:
    restored: (graph name, checkpoint name) pairs that match and will be restored.
    missing: (graph name, checkpoint name) pairs whose checkpoint name the checkpoint lacks.
    mismatched: `Mismatch`es in shape or dtype.
    excluded: graph names left out by `exclude`.
    unused: checkpoint names nothing restores (excluded ones not counted).
    checkpoint_scopes: the checkpoint's top-level scopes, as a hint for `scope_map`.
  """
  restored: list
  missing: list
  mismatched: list
  excluded: list
  unused: list
  checkpoint_scopes: list

  @property
  def ok(self):
    """True when every selected variable can be restored."""
    return not self.missing and not self.mismatched

  @property
  def nothing_matched(self):
    """True when variables are missing and none at all was found: likely another scope."""
    return bool(self.missing) and not self.restored


def _castable(graph_dtype, checkpoint_dtype):
  """True if a checkpoint tensor can be assigned to a graph variable, casting floats if needed."""
  return graph_dtype == checkpoint_dtype or (graph_dtype.is_floating and checkpoint_dtype.is_floating)


def compare_with_checkpoint(variables, checkpoint_variables, exclude=(), scope_map=None):
  """Lines the graph's variables up with a checkpoint's.

  Args:
    variables: the graph variables to restore.
    checkpoint_variables: {name: CheckpointVariable}, from `list_checkpoint_variables`.
    exclude: graph scopes or variable names not to restore.
    scope_map: {graph scope: checkpoint scope}; see the module docstring.

  Returns:
    A `CheckpointComparison`.
  """
  restored, missing, mismatched, excluded = [], [], [], []
  used = set()
  for variable in variables:
    graph_name = variable_name(variable)
    name_in_checkpoint = checkpoint_name(graph_name, scope_map)
    if any(in_scope(graph_name, scope) for scope in exclude):
      excluded.append(graph_name)
      used.add(name_in_checkpoint)
      continue
    stored = checkpoint_variables.get(name_in_checkpoint)
    if stored is None:
      missing.append((graph_name, name_in_checkpoint))
      continue
    used.add(name_in_checkpoint)
    graph_shape = tuple(variable.shape.as_list())
    graph_dtype = variable.dtype.base_dtype
    if graph_shape != stored.shape or not _castable(graph_dtype, stored.dtype):
      mismatched.append(Mismatch(graph_name, name_in_checkpoint, graph_shape, stored.shape,
                                 graph_dtype.name, stored.dtype.name))
    else:
      restored.append((graph_name, name_in_checkpoint))
  unused = sorted(set(checkpoint_variables) - used)
  return CheckpointComparison(restored, missing, mismatched, excluded, unused,
                              top_level_scopes(checkpoint_variables))


def check_exclude_matches(exclude, variables):
  """Refuses an `exclude` entry that matches none of `variables`.

  A typo there ('resnet_v2_50/logit') would otherwise restore what the caller meant to keep fresh.

  Raises:
    CheckpointError: naming the entries that match nothing.
  """
  names = [variable_name(variable) for variable in variables]
  unmatched = [scope for scope in exclude if not any(in_scope(name, scope) for name in names)]
  if unmatched:
    raise CheckpointError(
        f'exclude {listing(unmatched)} matches no variable to restore; give graph scopes (e.g. '
        f'resnet_v2_50/logits) or full variable names')


def _missing_name(graph_name, name_in_checkpoint):
  if graph_name == name_in_checkpoint:
    return graph_name
  return f'{graph_name} (looked up as {name_in_checkpoint})'


def _mismatch_hint(comparison):
  """What to do about a failed comparison, for callers of the Python API."""
  if comparison.nothing_matched:
    return (f'nothing matched: the checkpoint\'s top-level scopes are '
            f'{listing(comparison.checkpoint_scopes)}; pass scope_map to remap')
  return 'pass exclude for variables that should keep their initial values'


def _mismatch_summary(checkpoint, comparison, hint=None):
  """Returns the one-line form of a `CheckpointMismatchError`, with `hint` or the default one."""
  parts = []
  if comparison.missing:
    names = [_missing_name(g, c) for g, c in comparison.missing]
    parts.append(f'{plural(len(names), "variable")} missing from it ({listing(names)})')
  if comparison.mismatched:
    descriptions = [mismatch.describe() for mismatch in comparison.mismatched]
    parts.append(f'{plural(len(descriptions), "shape/dtype mismatch", "shape/dtype mismatches")} '
                 f'({listing(descriptions, 3, "; ")})')
  hint = _mismatch_hint(comparison) if hint is None else hint
  return (f'checkpoint {checkpoint} does not match the graph, nothing restored: '
          f'{"; ".join(parts)}; {hint}')


def _mismatch_report(checkpoint, comparison):
  """Returns the multi-line message of a `CheckpointMismatchError`: the summary, then every name."""
  lines = [_mismatch_summary(checkpoint, comparison)]
  for graph_name, name_in_checkpoint in comparison.missing:
    lines.append(f'  missing from checkpoint: {_missing_name(graph_name, name_in_checkpoint)}')
  for mismatch in comparison.mismatched:
    lines.append(f'  mismatch: {mismatch.describe()}')
  return '\n'.join(lines)


class CheckpointMismatchError(CheckpointError):
  """The graph's variables and the checkpoint's do not match; nothing was restored.

  Attributes:
    checkpoint: the resolved checkpoint path.
    comparison: the `CheckpointComparison` that failed.
  """

  def __init__(self, checkpoint, comparison):
    self.checkpoint = checkpoint
    self.comparison = comparison
    super().__init__(_mismatch_report(checkpoint, comparison))

  def summary(self, hint=None):
    """Returns the error on one line (for command lines).

    Args:
      hint: what to do about it, instead of the Python API's hint (which names `scope_map` or
        `exclude`): a command line says which of its own flags to use.
    """
    return _mismatch_summary(self.checkpoint, self.comparison, hint)
