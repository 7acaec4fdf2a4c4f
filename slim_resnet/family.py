"""Facts about the ResNet v2 family that need no TensorFlow: depths, units per block, input limits.

`slim_resnet.resnet_v2` builds the networks from these; tools that only validate a request (the
benchmark's command line) read them here without importing TensorFlow.
"""

VALID_DEPTHS = (50, 101, 152, 200)

# Smallest input height/width accepted: the network's nominal output stride, so that block4 covers
# at least one full window of the input.
MIN_IMAGE_SIZE = 32

# Units per block for each depth; every block multiplies its base depth by 4 on output.
UNITS_PER_BLOCK = {
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 24, 36, 3),
}
