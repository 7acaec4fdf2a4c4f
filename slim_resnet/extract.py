"""The command line that extracts ResNet v2 features from a folder of images into one .npz file.

    python -m slim_resnet.extract --depth 50 --checkpoint resnet_v2_50.ckpt --images photos/ \
        --end-point block4 global_pool --image-size 224 --output features.npz

`--images` is a flat folder of images, or one sub-folder per class (`slim_resnet.images.folder`).
`--end-point` takes full end-point names or short forms (`slim_resnet.end_points`). Files that cannot
be decoded are skipped with a warning naming them and listed in the output. The output's layout and
its atomic write are `slim_resnet.extraction.feature_file`'s.

Images of more than --max-pixels pixels are skipped likewise, without being decoded where the file's
header gives the size.

Exit codes: 0 done; 2 bad input (no such folder, no images, unknown end point, too small an image
size, an output that cannot be written, a checkpoint that does not match), one line on stderr,
before any image is processed; 1 the output could not be written at the end, one line; 130 Ctrl-C
and 143 SIGTERM, one line, no file left behind.
"""

import os
import signal
import sys

PROG = 'python -m slim_resnet.extract'

if __name__ == '__main__':
  # Run as a command: Ctrl-C or SIGTERM while TensorFlow loads is one line, and TensorFlow's start-up
  # log lines are dropped before anything imports it.
  from slim_resnet.extraction.interrupts import exit_on_stop_signals
  from slim_resnet.support.quiet import quiet_tensorflow_import
  exit_on_stop_signals(f'{PROG}: interrupted while starting; nothing was written')
  quiet_tensorflow_import(verbose='--verbose' in sys.argv[1:])

import tensorflow as tf  # noqa: E402
import tf_slim as slim  # noqa: E402

from slim_resnet import end_points as end_points_lib  # noqa: E402
from slim_resnet.extraction import flags as extract_flags  # noqa: E402
from slim_resnet.extraction import interrupts, weights  # noqa: E402
from slim_resnet.extraction import precision as precision_lib  # noqa: E402
from slim_resnet.extraction.errors import OutputError, UsageError  # noqa: E402
from slim_resnet.extraction.feature_file import feature_arrays, write_feature_file  # noqa: E402
from slim_resnet.extraction.progress import format_progress  # noqa: E402
from slim_resnet.extraction.run import print_to_stderr, run_extraction  # noqa: E402
from slim_resnet.images import decoding as image_decoding  # noqa: E402
from slim_resnet.images import folder as image_folder  # noqa: E402
from slim_resnet.resnet_utils import resnet_arg_scope  # noqa: E402
from slim_resnet.resnet_v2 import MIN_IMAGE_SIZE, get_network  # noqa: E402
from slim_resnet.support import files  # noqa: E402

EXIT_OUTPUT_FAILED = 1
EXIT_USAGE = 2  # Also what the parser exits with. A signal N exits with 128 + N (Ctrl-C 130, SIGTERM 143).


def build_parser():
  """Returns the command-line parser (`slim_resnet.extraction.flags`)."""
  return extract_flags.build_parser(PROG)


def _say(message):
  print_to_stderr(message)


def _list_images(args):
  """The --images folder's `ImageFolder`.

  Raises:
    UsageError: if the folder is missing, empty, or mixes images and class folders.
  """
  try:
    return image_folder.list_images(args.images)
  except image_folder.ImageFolderError as error:
    raise UsageError(f'--images {args.images}: {error}') from error


def _build_model(args, images, num_classes, requested):
  """Builds the network on `images` (in --precision, `slim_resnet.extraction.precision`) and resolves
  the requested end points.

  Returns:
    {end-point name: float32 tensor} for the requested end points.

  Raises:
    UsageError: for an unknown end point or an input the network refuses.
  """
  network = get_network(args.depth)
  scope = f'resnet_v2_{args.depth}'
  try:
    with slim.arg_scope(resnet_arg_scope()):
      _, end_points = network(precision_lib.compute_images(images, args.precision),
                              num_classes=num_classes, is_training=False, scope=scope)
  except ValueError as error:
    raise UsageError(f'--image-size {args.image_size}: {error}') from error
  try:
    names = end_points_lib.resolve_end_points(requested, end_points, scope)
  except end_points_lib.UnknownEndPointError as error:
    raise UsageError(f'--end-point {error.name}: {error}') from error
  return precision_lib.as_float32({name: end_points[name] for name in names})


def _file_identity(path):
  """What tells a file replaced by a rename from the one there before: (device, inode), or None."""
  try:
    status = os.stat(path)
  except OSError:
    return None
  return status.st_dev, status.st_ino


def _output_path_problem(path):
  """Why `path` cannot be written, or None (`slim_resnet.support.files.output_path_problem`)."""
  with interrupts.deferred():  # It may create and remove a file to be sure: never cut in between.
    return files.output_path_problem(path, example='features.npz')


def _write(path, arrays):
  """Writes the .npz file.

  Raises:
    OutputError: if it cannot be created or renamed into place (the folder went away or became
      read-only, the target became a folder, the disk is full, ...).
  """
  try:
    write_feature_file(path, arrays)
  except OSError as error:
    reason = _output_path_problem(path) or error.strerror or str(error)
    raise OutputError(f'--output {path}: cannot write the features: {reason}; nothing was '
                      'written') from error


def extract(args):
  """Runs the whole extraction described by parsed `args`; returns the written arrays.

  Raises:
    UsageError: for bad input (see the module docstring).
    OutputError: if the output cannot be written at the end.
  """
  requested = args.end_points or ['global_pool']
  if args.image_size < MIN_IMAGE_SIZE:
    raise UsageError(f'--image-size {args.image_size}: too small for end point(s) '
                     f'{", ".join(requested)}; resnet_v2 needs at least {MIN_IMAGE_SIZE} pixels')
  problem = _output_path_problem(args.output)
  if problem:
    raise UsageError(f'--output {args.output}: {problem}')
  if precision_lib.problem(args):
    raise UsageError(precision_lib.problem(args))
  folder = _list_images(args)
  stored = weights.stored_variables(args.checkpoint)
  if stored is not None:
    weights.check_checkpoint_depth(args, stored)
  num_classes = weights.num_classes(args, requested, stored)

  graph = tf.Graph()
  with graph.as_default():
    dataset = image_folder.build_dataset(folder, args.image_size, args.preprocessing, args.batch,
                                         max_pixels=args.max_pixels)
    iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
    indices, images = iterator.get_next()  # [B], [B, size, size, 3]
    selected = _build_model(args, images, num_classes, requested)
    reference = {}
    if args.agreement:
      reference = precision_lib.reference_end_points(
          get_network(args.depth), images, num_classes, f'resnet_v2_{args.depth}', list(selected))
    probe = image_decoding.ImageProbe(args.max_pixels)
    with tf.compat.v1.Session(graph=graph) as session:
      session.run(tf.compat.v1.global_variables_initializer())
      weights.restore_or_warn(session, args, graph)
      _say(f'extract: {len(folder.files)} images in {args.images}'
           + (f' ({len(folder.class_names)} class folders)' if folder.class_names else ''))
      session.run(iterator.initializer)
      extraction = run_extraction(session, dict(selected, **reference, index=indices), folder, probe,
                                  report=_say)

  if not extraction.kept_indices:
    raise UsageError(f'--images {args.images}: none of the {len(folder.files)} images could be '
                     'read')
  arrays = feature_arrays(folder, extraction, list(selected), args.depth, args.image_size,
                          args.preprocessing, args.checkpoint, args.precision)
  _write(args.output, arrays)
  _say(format_progress(extraction.progress))
  if args.agreement:
    for line in precision_lib.agreement_lines(extraction.features, list(selected), args.precision):
      _say(line)
  _say(f'extract: wrote {len(extraction.kept_indices)} rows of {", ".join(selected)} to '
       f'{args.output} ({len(extraction.skipped_indices)} skipped)')
  return arrays


def main(argv=None):
  """Command-line entry point; returns the exit code."""
  args = build_parser().parse_args(argv)
  before = _file_identity(args.output)
  try:
    # Ctrl-C and SIGTERM raise KeyboardInterrupt; the .npz write removes its temporary file then.
    with interrupts.stop_signals_interrupt():
      extract(args)
  except UsageError as error:
    _say(f'{PROG}: error: {error}')
    return EXIT_USAGE
  except OutputError as error:
    _say(f'{PROG}: error: {error}')
    return EXIT_OUTPUT_FAILED
  except KeyboardInterrupt as interrupt:
    signum = getattr(interrupt, 'signum', signal.SIGINT)
    how = 'interrupted' if signum == signal.SIGINT else f'interrupted by {signal.Signals(signum).name}'
    if _file_identity(args.output) not in (None, before):
      _say(f'{PROG}: {how} after {args.output} was written')
    else:
      _say(f'{PROG}: {how}; {args.output} was not written')
    return 128 + signum
  return 0


if __name__ == '__main__':
  sys.exit(main())
