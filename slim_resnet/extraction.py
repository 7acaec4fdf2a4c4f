"""Running an image folder's dataset through a restored network: features, skipped files, progress.

`run_extraction` pulls batches until the dataset ends, keeps every requested end point's values in
memory, tells which files the dataset dropped (and why, by decoding each one again on its own), and
reports progress every `PROGRESS_INTERVAL_SECONDS`.
"""

import dataclasses
import os
import sys

import tensorflow as tf

from slim_resnet import quiet
from slim_resnet.progress import PROGRESS_INTERVAL_SECONDS, Progress, format_progress


def print_to_stderr(line):
  """Prints one line on stderr at once."""
  print(line, file=sys.stderr, flush=True)


@dataclasses.dataclass
class Extraction:
  """What a run produced: features per end point for the files that decoded, and the rest.

  Attributes:
    features: {end-point name: [batch arrays]}, in file order.
    kept_indices: indices into the folder's files, one per feature row.
    skipped_indices: indices of the files that could not be used.
    progress: the run's `Progress`.
  """
  features: dict
  kept_indices: list
  skipped_indices: list
  progress: Progress


def failure_reason(session, probe, path_placeholder, path):
  """Why `path` could not be used: the decoder's error, or a generic note.

  Args:
    session: a session of the probe's graph.
    probe: a decode op for the file at `path_placeholder`.
    path_placeholder: a string placeholder.
    path: the file.

  Returns:
    One line.
  """
  try:
    session.run(probe, {path_placeholder: path})
  except tf.errors.OpError as error:
    return quiet.first_cause_line(error.message)
  return 'decoded, but preprocessing failed'


def run_extraction(session, fetches, folder, probe, path_placeholder, report=print_to_stderr):
  """Runs the input pipeline to its end, collecting features and noting skipped files.

  Args:
    session: session with the model restored and the dataset's iterator initialised.
    fetches: {'index': [B] int64, end-point name: [B, ...] tensor}.
    folder: the `ImageFolder`.
    probe, path_placeholder: a decode op for one path, to tell why a file was skipped.
    report: called with each warning and progress line.

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
      reason = failure_reason(session, probe, path_placeholder, path)
      report(f'warning: skipped unreadable file {folder.files[index]}: {reason}')
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
      report(format_progress(progress))
  note_skipped(range(kept[-1] + 1 if kept else 0, len(folder.files)))
  progress.record(len(folder.files))
  return Extraction(features, kept, skipped, progress)
