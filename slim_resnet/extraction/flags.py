"""The flags of `python -m slim_resnet.extract`: names, defaults, help and type checks.

Errors in the flags are one line (no usage block) and exit code 2, like the command's other bad
input.
"""

import argparse

from slim_resnet import preprocessing
from slim_resnet.images import decoding as image_decoding
from slim_resnet.resnet_v2 import MIN_IMAGE_SIZE, VALID_DEPTHS

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
  """An ArgumentParser whose errors are one line (no usage block) and exit code 2."""

  def error(self, message):
    self.exit(EXIT_USAGE, f'{self.prog}: error: {message}\n')


def _positive_int(text):
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f'must be a positive integer, got {text!r}') from None
  if value < 1:
    raise argparse.ArgumentTypeError(f'must be a positive integer, got {text}')
  return value


def build_parser(prog):
  """Returns the command-line parser, whose messages start with `prog`."""
  parser = _Parser(prog=prog,
                   description='Extract ResNet v2 end-point features from a folder of images.')
  parser.add_argument('--depth', type=int, default=50, choices=VALID_DEPTHS,
                      help='network depth (default 50)')
  parser.add_argument('--checkpoint', help='TF-Slim checkpoint (prefix, file or directory); '
                      'without one the weights are random')
  parser.add_argument('--images', required=True,
                      help='folder of images, flat or one sub-folder per class')
  parser.add_argument('--end-point', dest='end_points', nargs='+', action='extend',
                      help='end points to store: full names or short forms (block1..block4, '
                      'global_pool, logits, predictions, block4/unit_3/bottleneck_v2, ...); '
                      'default global_pool')
  parser.add_argument('--image-size', type=_positive_int, default=224,
                      help=f'square input size in pixels, at least {MIN_IMAGE_SIZE} (default 224)')
  parser.add_argument('--preprocessing', default=preprocessing.DEFAULT_PREPROCESSING,
                      choices=sorted(preprocessing.PREPROCESSING),
                      help='inception: [-1, 1] as the official v2 checkpoints (default); vgg: mean '
                      'subtraction; none: raw [0, 255]')
  parser.add_argument('--batch', type=_positive_int, default=32, help='batch size (default 32)')
  parser.add_argument('--num-classes', type=_positive_int,
                      help='classes of the logits layer; default: read from the checkpoint '
                      '(1001 for the official ones), or no logits')
  parser.add_argument('--max-pixels', type=_positive_int, default=image_decoding.DEFAULT_MAX_PIXELS,
                      help='skip images of more pixels (height x width) than this, with a warning '
                      f'(default {image_decoding.DEFAULT_MAX_PIXELS}: 50 megapixels)')
  parser.add_argument('--output', required=True, help='output .npz file')
  parser.add_argument('--verbose', action='store_true',
                      help="let TensorFlow's own log lines and Python warnings through")
  return parser
