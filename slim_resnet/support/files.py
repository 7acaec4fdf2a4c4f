"""Output files: checking a path can be written before any work, and replacing a file atomically.

Command-line tools (`python -m bench`, `python -m slim_resnet.extract`) check their output paths
before they import TensorFlow, so a typo costs no time, and write finished results through a
temporary file in the target's directory and a rename, so a reader never sees half a file and an
older file of that name survives until the new one is complete.

No TensorFlow here.
"""

import contextlib
import os
import tempfile


def output_path_problem(path, example='results.json'):
  """Why `path` could not be written, or None if it can. Nothing is created.

  Args:
    path: the file to create, replace or append to.
    example: a file name shown in the hint when `path` is a directory.

  Returns:
    None, or a short reason such as 'directory /abs/out does not exist'. For a new file, one is
    created and removed in the directory to be sure (virtual and read-only file systems refuse
    what their modes allow).
  """
  directory = os.path.dirname(os.path.abspath(path))
  if os.path.isdir(path):
    return f'is a directory; give a file name, e.g. {example}'
  if not os.path.isdir(directory):
    return f'directory {directory} does not exist'
  if os.path.exists(path):
    if not os.access(path, os.W_OK):
      return 'is not writable; give a file you can write'
    return None
  if not os.access(directory, os.W_OK | os.X_OK):
    return f'cannot create a file in {directory} (not writable)'
  return _creation_problem(directory)


def _creation_problem(directory):
  """Why no file can be created in `directory` although its modes allow it (a read-only or
  virtual file system such as /proc), found by creating and removing a temporary file; or None."""
  try:
    descriptor, probe = tempfile.mkstemp(prefix='.write-check-', dir=directory)
  except OSError as error:
    return f'cannot create a file in {directory} ({error.strerror or error})'
  os.close(descriptor)
  os.remove(probe)
  return None


@contextlib.contextmanager
def atomic_output(path, binary=False):
  """Opens a temporary file beside `path`; on a clean exit it is synced and renamed to `path`.

  On any exception (Ctrl-C included) the temporary file is removed and `path` is untouched.

  Args:
    path: the file to create or replace.
    binary: open in binary mode instead of UTF-8 text.

  Yields:
    The open temporary file.
  """
  directory = os.path.dirname(os.path.abspath(path))
  descriptor, temporary = tempfile.mkstemp(
      prefix=f'.{os.path.basename(path)}.', suffix='.tmp', dir=directory)
  try:
    mode = 'wb' if binary else 'w'
    encoding = None if binary else 'utf-8'
    with os.fdopen(descriptor, mode, encoding=encoding) as stream:
      yield stream
      stream.flush()
      os.fsync(stream.fileno())
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.remove(temporary)
    raise
