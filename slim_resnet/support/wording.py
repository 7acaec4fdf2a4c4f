"""Short English for one-line messages: name lists cut after a few entries, counted nouns.

No TensorFlow here.
"""

# How many names a one-line message lists before "and N more".
LISTED_NAMES = 8


def listing(names, limit=LISTED_NAMES, separator=', '):
  """Joins names, cutting the list after `limit` of them.

  Args:
    names: an iterable of strings.
    limit: how many to show.
    separator: what goes between two names.

  Returns:
    e.g. 'a, b, c' or 'a, b, ... and 7 more' (with `limit` names shown).
  """
  names = list(names)
  shown = separator.join(names[:limit])
  return shown if len(names) <= limit else f'{shown} and {len(names) - limit} more'


def plural(count, noun, plural_noun=None):
  """Returns e.g. '1 variable' or '3 variables' (`plural_noun` for irregular plurals)."""
  return f'{count} {noun}' if count == 1 else f'{count} {plural_noun or noun + "s"}'
