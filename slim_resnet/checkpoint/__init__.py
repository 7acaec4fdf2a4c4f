"""Restoring TF-Slim checkpoints: `from slim_resnet import checkpoint; checkpoint.restore_checkpoint(...)`.

Three modules, one job each:
- `files`: finding a checkpoint from a prefix, file or directory, and listing its variables;
- `matching`: graph names to checkpoint names, the comparison and its mismatch report;
- `restore`: the all-or-nothing restore, and the stages `frozen_stages` freezes.

Every public name of the three is importable from here. They are loaded on first use, as the
package's network names are, so that importing this package costs nothing until a name is read.
"""

import importlib

_EXPORTS = {
    'CheckpointError': 'files',
    'CheckpointVariable': 'files',
    'list_checkpoint_variables': 'files',
    'resolve_checkpoint': 'files',
    'top_level_scopes': 'files',
    'CheckpointComparison': 'matching',
    'CheckpointMismatchError': 'matching',
    'Mismatch': 'matching',
    'check_exclude_matches': 'matching',
    'checkpoint_name': 'matching',
    'compare_with_checkpoint': 'matching',
    'in_scope': 'matching',
    'variable_name': 'matching',
    'STAGES': 'restore',
    'Restorer': 'restore',
    'UnusedCheckpointVariablesWarning': 'restore',
    'make_restorer': 'restore',
    'restore_checkpoint': 'restore',
    'stage_of': 'restore',
    'variables_by_stage': 'restore',
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
  if name not in _EXPORTS:
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
  value = getattr(importlib.import_module(f'{__name__}.{_EXPORTS[name]}'), name)
  globals()[name] = value
  return value


def __dir__():
  return sorted(set(globals()) | set(_EXPORTS))
