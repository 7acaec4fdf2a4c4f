"""Decoding image files with a limit on their pixels, read from the header before decoding.

A 12000x12000 JPEG decodes to 432 MB, and the decoder needs several times that. `read_image` refuses
an image of more than `max_pixels` pixels (height x width): for JPEG, PNG and GIF on the size in the
file's header, before anything is decoded; a BMP, as large on disk as decoded, once decoded. (A GIF
is decoded whole, all its frames, to give its first one; the limit is per frame.) `ImageProbe` tells
why a file was refused: its size, or the decoder's error.
"""

import dataclasses

import tensorflow as tf

from slim_resnet.support import quiet

# The command line's default limit: 50 megapixels (e.g. 8660 x 5773), above any camera's photos and
# well below what exhausts memory when decoding.
DEFAULT_MAX_PIXELS = 50_000_000

_JPEG_MAGIC = b'\xff\xd8\xff'
_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
_GIF_MAGIC = b'GIF8'


def decode_image(path):
  """Reads and decodes one image file.

  Args:
    path: a string tensor.

  Returns:
    A uint8 tensor [height, width, 3] (the first frame of a GIF).
  """
  return _decode(tf.io.read_file(path))


def _decode(contents):
  return tf.io.decode_image(contents, channels=3, expand_animations=False)


def header_size(contents):
  """An image's (height, width) as its file's header gives them, without decoding it.

  Args:
    contents: a scalar string tensor, the file's bytes.

  Returns:
    An int64 tensor [height, width]: from the SOF marker of a JPEG, the IHDR chunk of a PNG, the
    logical screen of a GIF; [-1, -1] for other formats and too short a PNG or GIF header. A JPEG
    whose headers are broken is an error when run.
  """
  def jpeg():
    return tf.cast(tf.io.extract_jpeg_shape(contents)[:2], tf.int64)

  def png():  # IHDR: width, height as big-endian uint32 at bytes 16 to 24.
    width_height = tf.io.decode_raw(tf.strings.substr(contents, 16, 8), tf.int32, little_endian=False)
    return tf.cast(tf.reverse(width_height, [0]), tf.int64)

  def gif():  # Logical screen: width, height as little-endian uint16 at bytes 6 to 10.
    width_height = tf.io.decode_raw(tf.strings.substr(contents, 6, 4), tf.uint16, little_endian=True)
    return tf.cast(tf.reverse(width_height, [0]), tf.int64)

  def unknown():
    return tf.constant([-1, -1], tf.int64)

  length = tf.strings.length(contents)

  def starts_with(magic, header_length):
    # Too short a header is "unknown" (the decoder then says what is wrong), never an error here:
    # substr's error would quote the file's bytes, which the session cannot turn into a message.
    return tf.logical_and(tf.equal(tf.strings.substr(contents, 0, len(magic)), magic),
                          length >= header_length)

  return tf.case([(starts_with(_JPEG_MAGIC, 0), jpeg), (starts_with(_PNG_MAGIC, 24), png),
                  (starts_with(_GIF_MAGIC, 10), gif)], default=unknown, exclusive=False)


def _check_pixels(size, max_pixels):
  """An op failing when `size` ([height, width], int64) holds more than `max_pixels` pixels."""
  return tf.debugging.assert_less_equal(
      size[0] * size[1], tf.constant(max_pixels, tf.int64),
      message=f'the image has more than {max_pixels} pixels')


def read_image(path, max_pixels=None):
  """Reads and decodes one image file, refusing one of more than `max_pixels` pixels.

  Args:
    path: a string tensor.
    max_pixels: the largest height x width accepted, or None for no limit.

  Returns:
    A uint8 tensor [height, width, 3]. Running it fails for an unreadable file or too large an image;
    JPEG, PNG and GIF files are refused on their header's size before anything is decoded.
  """
  contents = tf.io.read_file(path)
  if max_pixels is None:
    return _decode(contents)
  with tf.control_dependencies([_check_pixels(header_size(contents), max_pixels)]):
    image = _decode(tf.identity(contents))
  with tf.control_dependencies([_check_pixels(tf.shape(image, out_type=tf.int64)[:2], max_pixels)]):
    return tf.identity(image)


@dataclasses.dataclass(frozen=True)
class SkipReason:
  """Why the dataset dropped a file.

  Attributes:
    size: (height, width) if the image was dropped for its size, else None.
    message: the reason in a few words: the decoder's error, or the size ('640x480 = 307200 pixels').
  """
  size: tuple
  message: str

  @property
  def too_large(self):
    return self.size is not None


class ImageProbe:
  """Ops, built in the current graph, that tell why the dataset dropped one file.

  Attributes:
    max_pixels: the limit the dataset was built with, or None.
  """

  def __init__(self, max_pixels=None):
    self.max_pixels = max_pixels
    self._path = tf.compat.v1.placeholder(tf.string, [])
    contents = tf.io.read_file(self._path)
    self._header_size = header_size(contents)
    self._decoded_size = tf.shape(_decode(contents), out_type=tf.int64)[:2]

  def _too_large(self, size):
    height, width = (int(value) for value in size)
    if self.max_pixels is None or height * width <= self.max_pixels:
      return None
    return SkipReason((height, width), f'{width}x{height} = {height * width} pixels')

  def why_dropped(self, session, path):
    """Why the dataset dropped the file at `path`.

    The size is read from the header first where the format has one, so that a too large image is
    not decoded here either; otherwise the file is decoded for its size or the decoder's error.

    Args:
      session: a session of the graph the probe was built in.
      path: the file.

    Returns:
      A `SkipReason`.
    """
    feed = {self._path: path}
    try:
      reason = self._too_large(session.run(self._header_size, feed))
    except (tf.errors.OpError, UnicodeDecodeError):
      reason = None  # No readable header: the decoder says what is wrong.
    if reason is not None:
      return reason
    try:
      reason = self._too_large(session.run(self._decoded_size, feed))
    except tf.errors.OpError as error:
      return SkipReason(None, quiet.first_cause_line(error.message))
    except UnicodeDecodeError:  # TensorFlow's message quoted the file's bytes.
      return SkipReason(None, 'cannot be decoded')
    return reason or SkipReason(None, 'decoded, but preprocessing failed')
