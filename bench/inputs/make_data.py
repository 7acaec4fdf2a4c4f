"""Writing TFRecord shards in ImageNet's format (`example_format`) without ImageNet.

`write_random_shards` writes N random JPEGs of ImageNet-like sizes (each side drawn from
[0.6 * max_size, max_size], 300..500 px by default) with random labels 1..1000 and 0 to 3 random
boxes; the same seed writes the same bytes. `convert_folder` writes a folder of class sub-folders
(label = sorted class index + 1), shuffled with the seed; JPEGs are kept as they are, other formats
re-encoded as JPEG, files that do not decode are left out and reported. Both write one shard at
a time, holding no more than one image in memory. Shards are named
`PREFIX-00000-of-00004`, the images split evenly between them, and each is written to a hidden
temporary name in the output folder and then renamed, so a shard is never seen half-written.
"""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np
import tensorflow as tf

from bench.inputs import example_format
from bench.inputs.sources import DataError
from slim_resnet.images import folder as image_folder

tf1 = tf.compat.v1

DEFAULT_MAX_SIZE = 500
DEFAULT_SHARDS = 4
MIN_SIZE_RATIO = 0.6
NUM_IMAGENET_CLASSES = 1000
MAX_BOXES = 3
JPEG_QUALITY = 90
_JPEG_MAGIC = b"\xff\xd8\xff"


@dataclasses.dataclass(frozen=True)
class WrittenShards:
    """What was written.

    Attributes:
      paths: the shard files, in order.
      num_images: records written.
      skipped: files of the source folder left out because they did not decode (relative paths).
    """

    paths: tuple[str, ...]
    num_images: int
    skipped: tuple[str, ...] = ()


def shard_names(prefix: str, num_shards: int) -> list[str]:
    """['PREFIX-00000-of-0000K', ...] for K shards."""
    return [f"{prefix}-{index:05d}-of-{num_shards:05d}" for index in range(num_shards)]


class _Codec:
    """A private graph and session that encode and decode images, whatever the caller's mode."""

    def __init__(self):
        self._graph = tf.Graph()
        with self._graph.as_default():
            self._pixels = tf1.placeholder(tf.uint8, [None, None, 3])
            self._encoded = tf.io.encode_jpeg(self._pixels, quality=JPEG_QUALITY)
            self._coarse = tf1.placeholder(tf.float32, [None, None, 3])
            self._size = tf1.placeholder(tf.int32, [2])
            self._smooth = tf.image.resize(self._coarse[tf.newaxis], self._size, method="bilinear")[0]
            self._bytes = tf1.placeholder(tf.string, [])
            self._decoded = tf.io.decode_image(self._bytes, channels=3, expand_animations=False)
        self._session = tf1.Session(graph=self._graph)

    def encode(self, pixels: np.ndarray) -> bytes:
        return self._session.run(self._encoded, {self._pixels: pixels})

    def smooth(self, coarse: np.ndarray, height: int, width: int) -> np.ndarray:
        return self._session.run(self._smooth, {self._coarse: coarse, self._size: [height, width]})

    def decode(self, contents: bytes) -> np.ndarray:
        return self._session.run(self._decoded, {self._bytes: contents})

    def close(self):
        self._session.close()


def _random_image(codec: _Codec, rng: np.random.Generator, max_size: int) -> tuple[bytes, int, int]:
    """A JPEG of smooth colour fields and noise (compressing about as a photo does), and its size."""
    low = max(1, int(np.ceil(MIN_SIZE_RATIO * max_size)))
    height, width = (int(side) for side in rng.integers(low, max_size + 1, size=2))
    coarse = rng.uniform(0, 255, size=(int(rng.integers(2, 9)), int(rng.integers(2, 9)), 3))
    pixels = codec.smooth(coarse.astype(np.float32), height, width)
    pixels = pixels + rng.normal(0, 12, size=pixels.shape)
    return codec.encode(np.clip(pixels, 0, 255).astype(np.uint8)), height, width


def _random_boxes(rng: np.random.Generator) -> list[tuple[float, float, float, float]]:
    boxes = []
    for _ in range(int(rng.integers(0, MAX_BOXES + 1))):
        ymin, xmin = rng.uniform(0, 0.6, size=2)
        ymax = ymin + rng.uniform(0.2, 1 - ymin)
        xmax = xmin + rng.uniform(0.2, 1 - xmin)
        boxes.append((float(ymin), float(xmin), float(min(ymax, 1.0)), float(min(xmax, 1.0))))
    return boxes


def _check_output(out_dir: str, prefix: str, num_shards: int) -> list[str]:
    """The shard paths to write; creates the folder; refuses one holding other shards of `prefix`."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise DataError(f"{out_dir}: is a file; expected a folder for the shards")
    os.makedirs(out_dir, exist_ok=True)
    names = shard_names(prefix, num_shards)
    pattern = re.compile(rf"^{re.escape(prefix)}-\d+-of-\d+$")
    others = sorted(name for name in os.listdir(out_dir) if pattern.match(name) and name not in names)
    if others:
        raise DataError(f"{out_dir}: already holds {others[0]}, a shard of another set; "
                        "choose an empty folder or remove the old shards")
    return [os.path.join(out_dir, name) for name in names]


def _write_shards(paths: list[str], count: int, examples) -> int:
    """Writes `count` items of an iterator of serialized examples (None: left out) split evenly over
    `paths`, one shard at a time; returns how many were written."""
    examples = iter(examples)
    bounds = np.linspace(0, count, len(paths) + 1).round().astype(int)
    written = 0
    for path, start, stop in zip(paths, bounds[:-1], bounds[1:], strict=True):
        folder, name = os.path.split(path)
        temporary = os.path.join(folder, f".{name}.tmp-{os.getpid()}")
        try:
            with tf.io.TFRecordWriter(temporary) as writer:
                for _ in range(start, stop):
                    example = next(examples)
                    if example is not None:
                        writer.write(example)
                        written += 1
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    return written


def _check_counts(num_images: int, num_shards: int) -> None:
    if num_images < 1:
        raise DataError(f"{num_images} images: expected at least 1")
    if not 1 <= num_shards <= num_images:
        raise DataError(f"{num_shards} shards for {num_images} images: expected 1 to {num_images} "
                        "(every shard holds at least one image)")


def write_random_shards(out_dir: str, num_images: int, num_shards: int = DEFAULT_SHARDS,
                        max_size: int = DEFAULT_MAX_SIZE, seed: int = 0,
                        prefix: str = "train") -> WrittenShards:
    """Writes `num_images` random images as TFRecord shards.

    Args:
      out_dir: the folder to write to (created if missing).
      num_images: images to write.
      num_shards: shard files, 1..num_images.
      max_size: the largest side in pixels (each side is drawn from [0.6 * max_size, max_size]).
      seed: the random seed; the same seed writes the same bytes.
      prefix: the shards' set name.

    Returns:
      A `WrittenShards`.

    Raises:
      DataError: for counts out of range, a max_size below 1, or an output that is a file or already
        holds shards of another count.
    """
    _check_counts(num_images, num_shards)
    if max_size < 1:
        raise DataError(f"max size {max_size}: expected at least 1 pixel")
    paths = _check_output(out_dir, prefix, num_shards)
    rng = np.random.default_rng(seed)
    codec = _Codec()

    def examples():
        for index in range(num_images):
            jpeg, height, width = _random_image(codec, rng, max_size)
            label = int(rng.integers(1, NUM_IMAGENET_CLASSES + 1))
            yield example_format.make_example(
                jpeg, label, height, width, _random_boxes(rng), filename=f"random_{index:08d}.JPEG",
                synset=f"n{label:08d}", class_text=f"random class {label}")

    try:
        written = _write_shards(paths, num_images, examples())
    finally:
        codec.close()
    return WrittenShards(tuple(paths), written)


def convert_folder(folder: str, out_dir: str, num_shards: int | None = None, seed: int = 0,
                   prefix: str = "train") -> WrittenShards:
    """Writes the images of a folder of class sub-folders as TFRecord shards.

    Args:
      folder: one sub-folder of images per class (see `slim_resnet.images.folder.list_images`).
      out_dir: the folder to write to (created if missing).
      num_shards: shard files, 1..the number of images (a shard may end up with fewer images, or
        none, where files do not decode); None: 4, or one per image for fewer images.
      seed: the seed of the images' shuffled order.
      prefix: the shards' set name.

    Returns:
      A `WrittenShards`, `skipped` naming the files that did not decode.

    Raises:
      DataError: for a folder without class sub-folders of images, no image that decodes, too many
        shards, or an output that is a file or already holds shards of another count.
    """
    try:
        found = image_folder.list_images(folder)
    except image_folder.ImageFolderError as error:
        raise DataError(f"{folder}: {error}") from None
    if found.class_names is None:
        raise DataError(f"{folder}: holds images but no class sub-folders; put each class's images in a "
                        "sub-folder of its own")
    if num_shards is None:
        num_shards = min(DEFAULT_SHARDS, len(found.files))
    _check_counts(len(found.files), num_shards)
    paths = _check_output(out_dir, prefix, num_shards)
    order = np.random.default_rng(seed).permutation(len(found.files))
    skipped = []
    codec = _Codec()

    def examples():
        for index in order:
            name, label = found.files[index], found.labels[index] + 1
            with open(os.path.join(folder, name), "rb") as handle:
                contents = handle.read()
            try:
                pixels = codec.decode(contents)
            except tf.errors.OpError:
                skipped.append(name)
                yield None
                continue
            if not contents.startswith(_JPEG_MAGIC):
                contents = codec.encode(pixels)
            class_name = found.class_names[found.labels[index]]
            yield example_format.make_example(
                contents, label, pixels.shape[0], pixels.shape[1], filename=os.path.basename(name),
                synset=class_name, class_text=class_name)

    try:
        written = _write_shards(paths, len(found.files), examples())
    finally:
        codec.close()
    if not written:
        for path in paths:
            os.remove(path)
        raise DataError(f"{folder}: none of its {len(found.files)} images decodes")
    return WrittenShards(tuple(paths), written, tuple(sorted(skipped)))
