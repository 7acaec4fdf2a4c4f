"""The two ways `python -m slim_resnet.extract` refuses or fails, each one line on stderr."""


class UsageError(Exception):
  """Bad input: reported as one line on stderr with exit code 2."""


class OutputError(Exception):
  """The features could not be written at the end: one line on stderr, exit code 1."""
