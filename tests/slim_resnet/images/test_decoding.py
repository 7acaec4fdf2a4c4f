"""slim_resnet.images.decoding: sizes from the files' headers, decoding under a pixel limit, and why a
file was refused."""

import io
import struct

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from slim_resnet.images import decoding as image_decoding


def test_decode_image_gives_rgb_uint8(tmp_path):
  Image.fromarray(np.full((5, 7), 200, np.uint8)).save(tmp_path / 'gray.png')  # One channel.
  decoded = image_decoding.decode_image(tf.constant(str(tmp_path / 'gray.png'))).numpy()
  assert decoded.shape == (5, 7, 3) and decoded.dtype == np.uint8
  assert (decoded == 200).all()


def _encoded(image_format, width, height):
  """The bytes of a random RGB image of `width` x `height` pixels in `image_format` (PIL's name)."""
  pixels = np.random.default_rng(5).integers(0, 256, (height, width, 3), dtype=np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, format=image_format)
  return buffer.getvalue()


def _huge_headers(side):
  """{file name: bytes} of files whose headers claim side x side pixels, with no image data."""
  jpeg = bytearray(_encoded('JPEG', 8, 8))
  sof = jpeg.index(b'\xff\xc0')  # Baseline frame header: length, precision, height, width.
  jpeg[sof + 5:sof + 9] = struct.pack('>HH', side, side)
  png_header = struct.pack('>IIBBBBB', side, side, 8, 2, 0, 0, 0)
  scan = jpeg.index(b'\xff\xda')  # Start of scan: the headers end here.
  return {
      'huge.jpg': bytes(jpeg[:scan + 16]),  # Cut at the start of the image data: not decodable.
      'huge.png': b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR' + png_header + b'\0' * 4,
      'huge.gif': b'GIF89a' + struct.pack('<HH', side, side) + b'\0' * 8,
  }


@pytest.mark.parametrize('image_format, expected', [
    ('JPEG', [20, 30]), ('PNG', [20, 30]), ('GIF', [20, 30]), ('BMP', [-1, -1])])
def test_header_size_reads_height_and_width(image_format, expected):
  contents = tf.constant(_encoded(image_format, width=30, height=20))
  assert image_decoding.header_size(contents).numpy().tolist() == expected


def test_header_size_needs_no_image_data():
  for name, contents in _huge_headers(20000).items():
    assert image_decoding.header_size(tf.constant(contents)).numpy().tolist() == [20000, 20000], name
  assert image_decoding.header_size(tf.constant(b'\x89PNG\r\n\x1a\n')).numpy().tolist() == [-1, -1]


def test_read_image_refuses_too_many_pixels_and_the_probe_tells_the_size(tmp_path):
  files = {'small.png': _encoded('PNG', 30, 20), 'wide.jpg': _encoded('JPEG', 31, 20),
           'wide.bmp': _encoded('BMP', 20, 31), 'wide.gif': _encoded('GIF', 40, 40),
           'broken.png': b'\x89PNG\r\n\x1a\n', **_huge_headers(20000)}
  for name, contents in files.items():
    (tmp_path / name).write_bytes(contents)
  with tf.Graph().as_default():
    path = tf.compat.v1.placeholder(tf.string, [])
    image = image_decoding.read_image(path, max_pixels=600)
    probe = image_decoding.ImageProbe(max_pixels=600)
    with tf.compat.v1.Session() as session:
      assert session.run(image, {path: str(tmp_path / 'small.png')}).shape == (20, 30, 3)  # 600.
      reasons = {}
      for name in sorted(set(files) - {'small.png'}):
        with pytest.raises(tf.errors.OpError):
          session.run(image, {path: str(tmp_path / name)})
        reasons[name] = probe.why_dropped(session, str(tmp_path / name))
  assert {name: reason.size for name, reason in reasons.items()} == {
      'broken.png': None, 'huge.gif': (20000, 20000), 'huge.jpg': (20000, 20000),
      'huge.png': (20000, 20000), 'wide.bmp': (31, 20), 'wide.gif': (40, 40), 'wide.jpg': (20, 31)}
  # The huge files hold no image data: decoding them would fail, so their size came from the header.
  assert reasons['huge.jpg'].message == '20000x20000 = 400000000 pixels'
  assert reasons['wide.bmp'].message == '20x31 = 620 pixels' and reasons['wide.bmp'].too_large
  assert not reasons['broken.png'].too_large and reasons['broken.png'].message


def test_without_a_limit_every_decodable_image_is_read(tmp_path):
  (tmp_path / 'big.png').write_bytes(_encoded('PNG', 300, 200))
  with tf.Graph().as_default():
    image = image_decoding.read_image(tf.constant(str(tmp_path / 'big.png')))
    probe = image_decoding.ImageProbe()
    with tf.compat.v1.Session() as session:
      assert session.run(image).shape == (200, 300, 3)
      reason = probe.why_dropped(session, str(tmp_path / 'big.png'))
  assert reason == image_decoding.SkipReason(None, 'decoded, but preprocessing failed')
