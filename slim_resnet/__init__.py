"""The TF-Slim ResNet v2 family (resnet_v2_50/101/152/200) on current TensorFlow.

Graph mode (`tf.compat.v1`), tf-slim's `arg_scope`, TF-Slim's variable names: official
`resnet_v2_*_2017_04_14` checkpoints restore by name.

`slim_resnet.resnet_v2` is the module (as in TF-Slim); the generic builder is
`slim_resnet.resnet_v2.resnet_v2`.

The names below are loaded on first use, so that command-line entry points (`python -m
slim_resnet.extract`) can quiet TensorFlow before it is imported.
"""

from slim_resnet.support.lazy import lazy_exports

_EXPORTS = {
    'slim_resnet.batch_norm': (
        'batch_norm',
    ),
    'slim_resnet.resnet_utils': (
        'Block', 'DataFormatError', 'conv2d_same', 'data_format_errors', 'resnet_arg_scope',
        'stack_blocks_dense', 'subsample',
    ),
    'slim_resnet.resnet_v2': (
        'MIN_IMAGE_SIZE', 'NETWORKS', 'VALID_DEPTHS', 'bottleneck', 'get_network', 'resnet_v2_50',
        'resnet_v2_101', 'resnet_v2_152', 'resnet_v2_200', 'resnet_v2_block',
    ),
}

__all__ = sorted(name for names in _EXPORTS.values() for name in names)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
