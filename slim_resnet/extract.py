"""Extract ResNet v2 features from a folder of images into one .npz file.

    python -m slim_resnet.extract --depth 50 --checkpoint resnet_v2_50.ckpt --images photos/ \
        --end-point block4 global_pool --image-size 224 --output features.npz

`--images` is a flat folder of images, or one sub-folder per class (like Keras'
`image_dataset_from_directory`; class k is the k-th sub-folder in sorted order, images found
recursively inside it). JPEG, PNG, GIF and BMP files are read and decoded with tf.data; files that cannot
be decoded are skipped with a warning naming them and listed in the output.

The output .npz holds:
  <end point>      float32 features per end point, e.g. 'resnet_v2_50/block4' [N, 7, 7, 2048] or
                   'global_pool' [N, 1, 1, 2048], rows in the order of 'files'
  end_points       the end-point names stored
  files            image paths relative to --images, one per feature row
  labels           int64 class index per row (only with class sub-folders)
  class_names      the sub-folder names, index = label (only with class sub-folders)
  skipped_files    unreadable files (relative paths), not in 'files'
  depth, image_size, preprocessing, checkpoint   how the features were made
It is written to a temporary file in the same folder and renamed into place, so an interrupted run never
leaves a partial file.

Bad input (no such folder, no images, unknown end point, too small an image size, a checkpoint that
does not match) is one line on stderr and exit code 2.
"""

import argparse
import dataclasses
import os
import sys
import tempfile
import time
import warnings

if __name__ == '__main__':
  # Run as a command: drop TensorFlow's start-up log lines before anything imports it.
  from slim_resnet.quiet import quiet_tensorflow_import
  quiet_tensorflow_import(verbose='--verbose' in sys.argv[1:])

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_slim as slim  # noqa: E402

from slim_resnet import checkpoint as checkpoint_lib  # noqa: E402
from slim_resnet import preprocessing, quiet  # noqa: E402
from slim_resnet.resnet_utils import resnet_arg_scope  # noqa: E402
from slim_resnet.resnet_v2 import MIN_IMAGE_SIZE, VALID_DEPTHS, get_network  # noqa: E402

IMAGE_EXTENSIONS = ('.bmp', '.gif', '.jpeg', '.jpg', '.png')
CLASSIFIER_END_POINTS = ('logits', 'spatial_squeeze', 'predictions')
PROGRESS_INTERVAL_SECONDS = 5.0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
  """Bad input: reported as one line on stderr with exit code 2."""


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


def build_parser():
  """Returns the command-line parser."""
  parser = _Parser(prog='python -m slim_resnet.extract',
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
  parser.add_argument('--output', required=True, help='output .npz file')
  parser.add_argument('--verbose', action='store_true',
                      help="let TensorFlow's own log lines and Python warnings through")
  return parser


@dataclasses.dataclass
class ImageFolder:
  """The images found under a folder.

  Attributes:
    root: the folder.
    files: image paths relative to `root`, sorted (by class, then path).
    labels: class index per file, or None for a flat folder.
    class_names: sub-folder names in label order, or None for a flat folder.
  """
  root: str
  files: list
  labels: list = None
  class_names: list = None


def _is_image(name):
  return name.lower().endswith(IMAGE_EXTENSIONS)


def _visible(entries):
  return sorted((entry for entry in entries if not entry.name.startswith('.')),
                key=lambda entry: entry.name)


def _images_below(root, directory):
  """Image paths (relative to `root`) anywhere under `directory`, sorted."""
  found = []
  for current, subdirectories, names in os.walk(directory):
    subdirectories[:] = sorted(name for name in subdirectories if not name.startswith('.'))
    found.extend(os.path.relpath(os.path.join(current, name), root)
                 for name in sorted(names) if _is_image(name) and not name.startswith('.'))
  return found


def list_images(root):
  """Finds the images under `root`, flat or one sub-folder per class.

  Raises:
    UsageError: if `root` is not a folder, mixes top-level images with sub-folders, or holds no
      images.
  """
  if not os.path.isdir(root):
    raise UsageError(f'--images {root}: no such folder')
  with os.scandir(root) as scanned:
    entries = _visible(scanned)
  subdirectories = [entry for entry in entries if entry.is_dir()]
  top_images = [entry.name for entry in entries if entry.is_file() and _is_image(entry.name)]
  if subdirectories and top_images:
    raise UsageError(f'--images {root}: holds both images ({top_images[0]}, ...) and sub-folders '
                     f'({subdirectories[0].name}, ...); use a flat folder or one sub-folder per class')
  if subdirectories:
    files, labels = [], []
    for label, subdirectory in enumerate(subdirectories):
      found = _images_below(root, subdirectory.path)
      files.extend(found)
      labels.extend([label] * len(found))
    folder = ImageFolder(root, files, labels, [entry.name for entry in subdirectories])
  else:
    folder = ImageFolder(root, top_images)
  if not folder.files:
    raise UsageError(f'--images {root}: no images ({", ".join(IMAGE_EXTENSIONS)}) found')
  return folder


def _decode(path):
  """Reads and decodes one image file to uint8 [H, W, 3] (first frame of a GIF)."""
  return tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)


def build_dataset(folder, image_size, preprocessing_name, batch_size):
  """A dataset of (file index [B], images [B, size, size, 3]) batches over `folder.files`.

  Files that fail to read, decode or preprocess are dropped; the indices show which ones survived.
  """
  paths = [os.path.join(folder.root, name) for name in folder.files]
  dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(paths), dtype=np.int64), paths))

  def load(index, path):
    image = preprocessing.preprocess(_decode(path), image_size, preprocessing_name)
    return index, image

  dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  dataset = dataset.ignore_errors()
  return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def end_point_short_forms(end_points, scope):
  """{short or full name: full name} for every end point ('block4' -> 'resnet_v2_50/block4')."""
  forms = {}
  for name in end_points:
    forms[name] = name
    if name.startswith(scope + '/'):
      forms.setdefault(name[len(scope) + 1:], name)
  return forms


def resolve_end_points(requested, end_points, scope):
  """Maps requested names to end-point keys, in order, without repeats.

  Raises:
    UsageError: for a name that is not an end point, listing the main ones.
  """
  forms = end_point_short_forms(end_points, scope)
  resolved = []
  for name in requested:
    full_name = forms.get(name.strip('/'))
    if full_name is None:
      main = [form for form in forms if '/' not in form]
      raise UsageError(f'--end-point {name}: unknown end point; choose from {", ".join(main)} '
                       f'or a unit such as block1/unit_1/bottleneck_v2')
    if full_name not in resolved:
      resolved.append(full_name)
  return resolved


def _needs_classifier(requested):
  return any(name.strip('/').split('/')[-1] in CLASSIFIER_END_POINTS for name in requested)


def _checkpoint_classes(stored, scope):
  """The class count of the checkpoint's logits, or None if it has none."""
  biases = stored.get(f'{scope}/logits/biases')
  return biases.shape[-1] if biases is not None and biases.shape else None


def choose_num_classes(requested, given, stored, scope):
  """The logits' class count: --num-classes, else the checkpoint's, else None.

  Raises:
    UsageError: if a classifier end point is requested and no class count is known.
  """
  num_classes = given or (_checkpoint_classes(stored, scope) if stored else None)
  if num_classes is None and _needs_classifier(requested):
    raise UsageError('--end-point logits/predictions need --num-classes (or a checkpoint with '
                     'logits)')
  return num_classes


def check_output_path(path):
  """Raises UsageError unless `path` can be written: an existing, writable folder, not a folder."""
  directory = os.path.dirname(os.path.abspath(path))
  if os.path.isdir(path):
    raise UsageError(f'--output {path}: is a folder; give a file name such as features.npz')
  if not os.path.isdir(directory):
    raise UsageError(f'--output {path}: folder {directory} does not exist')
  if not os.access(directory, os.W_OK):
    raise UsageError(f'--output {path}: folder {directory} is not writable')


def write_npz_atomically(path, arrays):
  """Writes `arrays` ({key: array}) to `path` as .npz through a temporary file and a rename.

  An existing file at `path` stays untouched until the new one is complete; on any failure the
  temporary file is removed.
  """
  directory = os.path.dirname(os.path.abspath(path))
  descriptor, temporary = tempfile.mkstemp(
      prefix=f'.{os.path.basename(path)}.', suffix='.tmp', dir=directory)
  try:
    with os.fdopen(descriptor, 'wb') as stream:
      np.savez(stream, **arrays)
      stream.flush()
      os.fsync(stream.fileno())
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
  except BaseException:
    if os.path.exists(temporary):
      os.remove(temporary)
    raise


@dataclasses.dataclass
class Progress:
  """Raw progress samples of a run: (seconds since start, files done) after every batch."""
  total: int
  start: float = dataclasses.field(default_factory=time.perf_counter)
  samples: list = dataclasses.field(default_factory=list)

  def record(self, files_done):
    self.samples.append((time.perf_counter() - self.start, files_done))

  @property
  def files_done(self):
    return self.samples[-1][1] if self.samples else 0

  @property
  def elapsed_seconds(self):
    return self.samples[-1][0] if self.samples else 0.0

  @property
  def images_per_sec(self):
    return self.files_done / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


def format_progress(progress):
  """e.g. 'extract: 640/1000 images (64%), 31.2 images/sec, 20.5 s'."""
  percent = 100.0 * progress.files_done / progress.total
  return (f'extract: {progress.files_done}/{progress.total} images ({percent:.0f}%), '
          f'{progress.images_per_sec:.1f} images/sec, {progress.elapsed_seconds:.1f} s')


def _say(message):
  print(message, file=sys.stderr, flush=True)


@dataclasses.dataclass
class Extraction:
  """What a run produced: features per end point for the files that decoded, and the rest."""
  features: dict
  kept_indices: list
  skipped_indices: list
  progress: Progress


def _failure_reason(session, probe, path_placeholder, path):
  """Why `path` could not be used: the decoder's error, or a generic note."""
  try:
    session.run(probe, {path_placeholder: path})
  except tf.errors.OpError as error:
    return quiet.first_cause_line(error.message)
  return 'decoded, but preprocessing failed'


def run_extraction(session, fetches, folder, probe, path_placeholder):
  """Runs the input pipeline to its end, collecting features and noting skipped files.

  Args:
    session: session with the model restored.
    fetches: {'index': [B] int64, end-point name: [B, ...] tensor}.
    folder: the `ImageFolder`.
    probe, path_placeholder: a decode op for one path, to tell why a file was skipped.

  Returns:
    An `Extraction`.
  """
  features = {name: [] for name in fetches if name != 'index'}
  kept, skipped = [], []
  progress = Progress(len(folder.files))
  last_report = 0.0

  def note_skipped(indices):
    for index in indices:
      path = os.path.join(folder.root, folder.files[index])
      reason = _failure_reason(session, probe, path_placeholder, path)
      _say(f'warning: skipped unreadable file {folder.files[index]}: {reason}')
      skipped.append(index)

  while True:
    try:
      batch = session.run(fetches)
    except tf.errors.OutOfRangeError:
      break
    indices = batch['index'].tolist()
    expected_next = kept[-1] + 1 if kept else 0
    arrived = set(indices)
    note_skipped([i for i in range(expected_next, indices[-1] + 1) if i not in arrived])
    kept.extend(indices)
    for name in features:
      features[name].append(batch[name])
    progress.record(indices[-1] + 1)
    if progress.elapsed_seconds - last_report >= PROGRESS_INTERVAL_SECONDS:
      last_report = progress.elapsed_seconds
      _say(format_progress(progress))
  note_skipped(range(kept[-1] + 1 if kept else 0, len(folder.files)))
  progress.record(len(folder.files))
  return Extraction(features, kept, skipped, progress)


def _restore_or_warn(session, args, graph):
  """Restores --checkpoint into the graph, or warns loudly that the weights are random.

  Raises:
    UsageError: if the checkpoint is missing, unreadable or does not match the graph.
  """
  if not args.checkpoint:
    _say('WARNING: no --checkpoint given: the network has RANDOM weights, so these features mean '
         'nothing (use this only for testing)')
    return
  try:
    with warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter('always', checkpoint_lib.UnusedCheckpointVariablesWarning)
      restorer = checkpoint_lib.make_restorer(args.checkpoint, graph=graph)
  except checkpoint_lib.CheckpointMismatchError as error:
    raise UsageError(error.summary()) from error
  except checkpoint_lib.CheckpointError as error:
    raise UsageError(f'--checkpoint {args.checkpoint}: {error}') from error
  for warning in caught:
    _say(f'warning: {warning.message}')
  restorer(session)
  _say(f'extract: restored {len(restorer.comparison.restored)} variables from '
       f'{restorer.checkpoint}')


def _stored_variables(checkpoint):
  """{name: CheckpointVariable} of --checkpoint, or None without one.

  Raises:
    UsageError: if the checkpoint cannot be found or read.
  """
  if not checkpoint:
    return None
  try:
    return checkpoint_lib.list_checkpoint_variables(checkpoint)
  except checkpoint_lib.CheckpointError as error:
    raise UsageError(f'--checkpoint {checkpoint}: {error}') from error


def _build_model(args, images, num_classes, requested):
  """Builds the network on `images` and resolves the requested end points.

  Returns:
    {end-point name: tensor} for the requested end points.

  Raises:
    UsageError: for an unknown end point or an input the network refuses.
  """
  network = get_network(args.depth)
  scope = f'resnet_v2_{args.depth}'
  try:
    with slim.arg_scope(resnet_arg_scope()):
      _, end_points = network(images, num_classes=num_classes, is_training=False, scope=scope)
  except ValueError as error:
    raise UsageError(f'--image-size {args.image_size}: {error}') from error
  names = resolve_end_points(requested, end_points, scope)
  return {name: end_points[name] for name in names}


def _output_arrays(args, folder, extraction, end_point_names):
  """The arrays of the .npz file (see the module docstring)."""
  arrays = {name: np.concatenate(extraction.features[name]) for name in end_point_names}
  arrays['end_points'] = np.array(end_point_names)
  arrays['files'] = np.array([folder.files[i] for i in extraction.kept_indices], dtype=str)
  if folder.class_names is not None:
    arrays['labels'] = np.array([folder.labels[i] for i in extraction.kept_indices], np.int64)
    arrays['class_names'] = np.array(folder.class_names, dtype=str)
  arrays['skipped_files'] = np.array([folder.files[i] for i in extraction.skipped_indices],
                                     dtype=str)
  arrays['depth'] = np.array(args.depth)
  arrays['image_size'] = np.array(args.image_size)
  arrays['preprocessing'] = np.array(args.preprocessing)
  arrays['checkpoint'] = np.array(args.checkpoint or '')
  return arrays


def extract(args):
  """Runs the whole extraction described by parsed `args`; returns the written arrays.

  Raises:
    UsageError: for bad input (see the module docstring).
  """
  requested = args.end_points or ['global_pool']
  if args.image_size < MIN_IMAGE_SIZE:
    raise UsageError(f'--image-size {args.image_size}: too small for end point(s) '
                     f'{", ".join(requested)}; resnet_v2 needs at least {MIN_IMAGE_SIZE} pixels')
  check_output_path(args.output)
  folder = list_images(args.images)
  stored = _stored_variables(args.checkpoint)
  num_classes = choose_num_classes(requested, args.num_classes, stored, f'resnet_v2_{args.depth}')

  graph = tf.Graph()
  with graph.as_default():
    dataset = build_dataset(folder, args.image_size, args.preprocessing, args.batch)
    iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
    indices, images = iterator.get_next()  # [B], [B, size, size, 3]
    selected = _build_model(args, images, num_classes, requested)
    path_placeholder = tf.compat.v1.placeholder(tf.string, [])
    probe = _decode(path_placeholder)
    with tf.compat.v1.Session(graph=graph) as session:
      session.run(tf.compat.v1.global_variables_initializer())
      _restore_or_warn(session, args, graph)
      _say(f'extract: {len(folder.files)} images in {args.images}'
           + (f' ({len(folder.class_names)} class folders)' if folder.class_names else ''))
      session.run(iterator.initializer)
      extraction = run_extraction(session, dict(selected, index=indices), folder, probe,
                                  path_placeholder)

  if not extraction.kept_indices:
    raise UsageError(f'--images {args.images}: none of the {len(folder.files)} images could be '
                     'read')
  arrays = _output_arrays(args, folder, extraction, list(selected))
  write_npz_atomically(args.output, arrays)
  _say(format_progress(extraction.progress))
  _say(f'extract: wrote {len(extraction.kept_indices)} rows of {", ".join(selected)} to '
       f'{args.output} ({len(extraction.skipped_indices)} skipped)')
  return arrays


def main(argv=None):
  """Command-line entry point; returns the exit code."""
  args = build_parser().parse_args(argv)
  # tf-slim's layers call Keras' deprecated `layer.apply`; that warning is noise for users here.
  warnings.filterwarnings('ignore', message='`layer.apply` is deprecated')
  try:
    extract(args)
  except UsageError as error:
    _say(f'python -m slim_resnet.extract: error: {error}')
    return EXIT_USAGE
  except KeyboardInterrupt:
    # The output is only ever renamed into place once complete, so there is nothing to clean up.
    _say(f'python -m slim_resnet.extract: interrupted; {args.output} was not written')
    return EXIT_INTERRUPTED
  return 0


if __name__ == '__main__':
  sys.exit(main())
