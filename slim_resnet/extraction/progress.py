"""Progress of an extraction run: files done over time, and the line that reports it.

No TensorFlow here.
"""

import dataclasses
import time

# How often a run reports its progress on stderr.
PROGRESS_INTERVAL_SECONDS = 5.0


@dataclasses.dataclass
class Progress:
  """Raw progress samples of a run: (seconds since start, files done) after every batch.

  Attributes:
    total: the number of files the run goes through.
    start: `time.perf_counter()` at the start.
    samples: (seconds since `start`, files done) pairs, in order.
    skipped: files done so far that were skipped (not read or not decoded): no row.
  """
  total: int
  start: float = dataclasses.field(default_factory=time.perf_counter)
  samples: list = dataclasses.field(default_factory=list)
  skipped: int = 0

  def record(self, files_done):
    """Notes that `files_done` files (decoded or skipped) are done by now."""
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
  """Returns e.g. 'extract: 640/1000 files (64%): 638 images, 2 skipped; 31.2 files/sec, 20.5 s'
  (images: the rows the output will have)."""
  done = progress.files_done
  percent = 100.0 * done / progress.total
  return (f'extract: {done}/{progress.total} files ({percent:.0f}%): {done - progress.skipped} images, '
          f'{progress.skipped} skipped; {progress.images_per_sec:.1f} files/sec, '
          f'{progress.elapsed_seconds:.1f} s')
