"""The TF-Slim ResNet v2 family (resnet_v2_50/101/152/200) on current TensorFlow.

Graph mode (`tf.compat.v1`), tf-slim's `arg_scope`, TF-Slim's variable names: official
`resnet_v2_*_2017_04_14` checkpoints restore by name.

`slim_resnet.resnet_v2` is the module (as in TF-Slim); the generic builder is
`slim_resnet.resnet_v2.resnet_v2`.

The names below are loaded on first use, so that command-line entry points (`python -m
slim_resnet.extract`) can quiet TensorFlow before it is imported.
"""

import importlib

_EXPORTS = {
    'batch_norm': 'slim_resnet.batch_norm',
    'Block': 'slim_resnet.resnet_utils',
    'DataFormatError': 'slim_resnet.resnet_utils',
    'conv2d_same': 'slim_resnet.resnet_utils',
    'data_format_errors': 'slim_resnet.resnet_utils',
    'resnet_arg_scope': 'slim_resnet.resnet_utils',
    'stack_blocks_dense': 'slim_resnet.resnet_utils',
    'subsample': 'slim_resnet.resnet_utils',
    'MIN_IMAGE_SIZE': 'slim_resnet.resnet_v2',
    'NETWORKS': 'slim_resnet.resnet_v2',
    'VALID_DEPTHS': 'slim_resnet.resnet_v2',
    'bottleneck': 'slim_resnet.resnet_v2',
    'get_network': 'slim_resnet.resnet_v2',
    'resnet_v2_50': 'slim_resnet.resnet_v2',
    'resnet_v2_101': 'slim_resnet.resnet_v2',
    'resnet_v2_152': 'slim_resnet.resnet_v2',
    'resnet_v2_200': 'slim_resnet.resnet_v2',
    'resnet_v2_block': 'slim_resnet.resnet_v2',
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
  if name not in _EXPORTS:
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
  value = getattr(importlib.import_module(_EXPORTS[name]), name)
  globals()[name] = value
  return value


def __dir__():
  return sorted(set(globals()) | set(_EXPORTS))
