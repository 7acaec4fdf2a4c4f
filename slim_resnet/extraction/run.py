"""Running an image folder's dataset through a restored network: features, skipped files, progress.

`run_extraction` pulls batches until the dataset ends, keeps every requested end point's values in
memory, tells which files the dataset dropped (and why: too many pixels, or the decoder's error for
that file on its own), and reports progress every `PROGRESS_INTERVAL_SECONDS`.
"""

import dataclasses
import os
import sys

import tensorflow as tf

from slim_resnet.extraction.progress import PROGRESS_INTERVAL_SECONDS, Progress, format_progress


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


def run_extraction(session, fetches, folder, probe, report=print_to_stderr):
  """Runs the input pipeline to its end, collecting features and noting skipped files.

  Args:
    session: session with the model restored and the dataset's iterator initialised.
    fetches: {'index': [B] int64, end-point name: [B, ...] tensor}.
    folder: the `ImageFolder`.
    probe: an `ImageProbe` in the session's graph, built with the dataset's `max_pixels`, to tell
      why a file was skipped.
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
      reason = probe.why_dropped(session, os.path.join(folder.root, folder.files[index]))
      if reason.too_large:
        report(f'warning: skipped large image {folder.files[index]}: {reason.message}, more than '
               f'--max-pixels {probe.max_pixels}')
      else:
        report(f'warning: skipped unreadable file {folder.files[index]}: {reason.message}')
      skipped.append(index)
    progress.skipped = len(skipped)

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
