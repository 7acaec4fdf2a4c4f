"""slim_resnet.extraction.progress: samples of files done, and the progress line."""

from slim_resnet.extraction import progress


def test_progress_line():
  run = progress.Progress(total=1000, start=0.0, samples=[(10.0, 300), (20.0, 640)], skipped=2)
  assert run.files_done == 640 and run.elapsed_seconds == 20.0
  # The files done are the images (the output's rows) and the skipped files: the counts add up.
  assert progress.format_progress(run) == (
      'extract: 640/1000 files (64%): 638 images, 2 skipped; 32.0 files/sec, 20.0 s')


def test_no_samples_yet():
  run = progress.Progress(total=4)
  assert (run.files_done, run.elapsed_seconds, run.images_per_sec) == (0, 0.0, 0.0)
  run.record(2)
  assert run.files_done == 2 and run.elapsed_seconds >= 0.0
