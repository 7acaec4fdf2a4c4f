"""Restoring TF-Slim checkpoints: `from slim_resnet import checkpoint; checkpoint.restore_checkpoint(...)`.

Three modules, one job each:
- `files`: finding a checkpoint from a prefix, file or directory, and listing its variables;
- `matching`: graph names to checkpoint names, the comparison and its mismatch report;
- `restore`: the all-or-nothing restore, and the stages `frozen_stages` freezes.

Every public name of the three is importable from here. They are loaded on first use, as the
package's network names are, so that importing this package costs nothing until a name is read.
"""

from slim_resnet.support.lazy import lazy_exports

_EXPORTS = {
    'slim_resnet.checkpoint.files': (
        'CheckpointError', 'CheckpointVariable', 'list_checkpoint_variables', 'resolve_checkpoint',
        'top_level_scopes',
    ),
    'slim_resnet.checkpoint.matching': (
        'CheckpointComparison', 'CheckpointMismatchError', 'Mismatch', 'check_exclude_matches',
        'checkpoint_name', 'compare_with_checkpoint', 'in_scope', 'variable_name',
    ),
    'slim_resnet.checkpoint.restore': (
        'STAGES', 'Restorer', 'UnusedCheckpointVariablesWarning', 'make_restorer', 'restore_checkpoint',
        'stage_of', 'variables_by_stage',
    ),
}

__all__ = sorted(name for names in _EXPORTS.values() for name in names)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
