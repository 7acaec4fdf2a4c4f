"""The TF-Slim ResNet v2 family (resnet_v2_50/101/152/200) on current TensorFlow.

Graph mode (`tf.compat.v1`), tf-slim's `arg_scope`, TF-Slim's variable names: official
`resnet_v2_*_2017_04_14` checkpoints restore by name.

`slim_resnet.resnet_v2` is the module (as in TF-Slim); the generic builder is
`slim_resnet.resnet_v2.resnet_v2`.
"""

from slim_resnet.batch_norm import batch_norm
from slim_resnet.resnet_utils import (
    Block,
    DataFormatError,
    conv2d_same,
    data_format_errors,
    resnet_arg_scope,
    stack_blocks_dense,
    subsample,
)
from slim_resnet.resnet_v2 import (
    MIN_IMAGE_SIZE,
    NETWORKS,
    VALID_DEPTHS,
    bottleneck,
    get_network,
    resnet_v2_50,
    resnet_v2_101,
    resnet_v2_152,
    resnet_v2_200,
    resnet_v2_block,
)

__all__ = [
    'Block', 'DataFormatError', 'MIN_IMAGE_SIZE', 'NETWORKS', 'VALID_DEPTHS', 'batch_norm',
    'bottleneck', 'conv2d_same', 'data_format_errors', 'get_network', 'resnet_arg_scope',
    'resnet_v2_50', 'resnet_v2_101', 'resnet_v2_152', 'resnet_v2_200', 'resnet_v2_block',
    'stack_blocks_dense', 'subsample',
]
