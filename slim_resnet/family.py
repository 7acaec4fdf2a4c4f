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


def saved_depths(scopes):
  """The depths whose model scope ('resnet_v2_<depth>') is among a checkpoint's top-level scopes.

  Args:
    scopes: the checkpoint's top-level scopes (`slim_resnet.checkpoint.top_level_scopes`).

  Returns:
    A list of depths, in `VALID_DEPTHS` order.
  """
  return [depth for depth in VALID_DEPTHS if f'resnet_v2_{depth}' in scopes]


def depth_problem(scopes, depth):
  """Why a checkpoint with top-level `scopes` cannot be restored into resnet_v2_`depth`, or None.

  A checkpoint holding resnet_v2_<depth> variables, or no ResNet v2 scope at all (the variable
  comparison then names what is missing), gives None.

  Returns:
    e.g. 'its variables are under resnet_v2_101/, none under resnet_v2_50/: the checkpoint looks
    like resnet_v2_101: pass --depth 101'.
  """
  if f'resnet_v2_{depth}' in scopes:
    return None
  saved = saved_depths(scopes)
  if len(saved) != 1:
    return None
  return (f'its variables are under resnet_v2_{saved[0]}/, none under resnet_v2_{depth}/: the '
          f'checkpoint looks like resnet_v2_{saved[0]}: pass --depth {saved[0]}')
