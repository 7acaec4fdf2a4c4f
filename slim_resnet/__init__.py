"""The TF-Slim ResNet v2 family (resnet_v2_50/101/152/200) on current TensorFlow.

Graph mode (`tf.compat.v1`), tf-slim's `arg_scope`, TF-Slim's variable names: official
`resnet_v2_*_2017_04_14` checkpoints restore by name.
"""

from slim_resnet.batch_norm import batch_norm
from slim_resnet.resnet_utils import (
    Block,
    conv2d_same,
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
    resnet_v2,
    resnet_v2_50,
    resnet_v2_101,
    resnet_v2_152,
    resnet_v2_200,
    resnet_v2_block,
)

__all__ = [
    'Block', 'MIN_IMAGE_SIZE', 'NETWORKS', 'VALID_DEPTHS', 'batch_norm', 'bottleneck',
    'conv2d_same', 'get_network', 'resnet_arg_scope', 'resnet_v2', 'resnet_v2_50', 'resnet_v2_101',
    'resnet_v2_152', 'resnet_v2_200', 'resnet_v2_block', 'stack_blocks_dense', 'subsample',
]
