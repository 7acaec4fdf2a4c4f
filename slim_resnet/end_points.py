"""Naming the end points to extract: short forms, resolution to end-point keys, the logits' classes.

The network's end points are keyed by full names ('resnet_v2_50/block4', 'global_pool'); a request
may leave out the model scope ('block4', 'block4/unit_3/bottleneck_v2'). The classifier end points
('logits', 'spatial_squeeze', 'predictions') exist only when the network is built with a class
count, taken from the caller or from the checkpoint's logits.
"""

CLASSIFIER_END_POINTS = ('logits', 'spatial_squeeze', 'predictions')


class UnknownEndPointError(ValueError):
  """A requested name is not an end point of the network.

  Attributes:
    name: the name as requested.
    choices: the end points without a '/' in their short form (conv1, block1, ..., global_pool).
  """

  def __init__(self, name, choices):
    self.name = name
    self.choices = list(choices)
    super().__init__(f'unknown end point; choose from {", ".join(self.choices)} or a unit such as '
                     'block1/unit_1/bottleneck_v2')


class MissingClassCountError(ValueError):
  """A classifier end point is requested but no class count is known."""


def end_point_short_forms(end_points, scope):
  """{short or full name: full name} for every end point ('block4' -> 'resnet_v2_50/block4').

  Args:
    end_points: the network's end points (only the keys are used).
    scope: the model scope, e.g. 'resnet_v2_50'.
  """
  forms = {}
  for name in end_points:
    forms[name] = name
    if name.startswith(scope + '/'):
      forms.setdefault(name[len(scope) + 1:], name)
  return forms


def resolve_end_points(requested, end_points, scope):
  """Maps requested names to end-point keys, in order, without repeats.

  Args:
    requested: names, full or short, with or without surrounding slashes.
    end_points: the network's end points.
    scope: the model scope.

  Returns:
    A list of keys of `end_points`.

  Raises:
    UnknownEndPointError: for the first name that is not an end point.
  """
  forms = end_point_short_forms(end_points, scope)
  resolved = []
  for name in requested:
    full_name = forms.get(name.strip('/'))
    if full_name is None:
      raise UnknownEndPointError(name, [form for form in forms if '/' not in form])
    if full_name not in resolved:
      resolved.append(full_name)
  return resolved


def needs_classifier(requested):
  """True if any requested name is a classifier end point (logits, spatial_squeeze, predictions)."""
  return any(name.strip('/').split('/')[-1] in CLASSIFIER_END_POINTS for name in requested)


def checkpoint_classes(checkpoint_variables, scope):
  """The class count of a checkpoint's logits, or None if it has none.

  Args:
    checkpoint_variables: {name: CheckpointVariable}, from
      `slim_resnet.checkpoint.list_checkpoint_variables`.
    scope: the model scope the checkpoint was saved under.
  """
  biases = checkpoint_variables.get(f'{scope}/logits/biases')
  return biases.shape[-1] if biases is not None and biases.shape else None


def choose_num_classes(requested, given, checkpoint_variables, scope):
  """The logits' class count: `given`, else the checkpoint's, else None (no logits).

  Args:
    requested: the requested end-point names.
    given: a class count chosen by the caller, or None.
    checkpoint_variables: the checkpoint's variables, or None without a checkpoint.
    scope: the model scope.

  Raises:
    MissingClassCountError: if a classifier end point is requested and no class count is known.
  """
  num_classes = given or (checkpoint_classes(checkpoint_variables, scope)
                          if checkpoint_variables else None)
  if num_classes is None and needs_classifier(requested):
    raise MissingClassCountError('logits/predictions need a class count, and the checkpoint (if '
                                 'any) has no logits')
  return num_classes
