"""Finding and checking the data on disk: TFRecord shards or a folder of class sub-folders.

The format rule (`inspect_source`):

- PATH is a TFRecord source when it is a file (one shard), a prefix `DIR/NAME` of shard files
  `DIR/NAME-NNNNN-of-MMMMM` (`/data/imagenet/train` for build_imagenet_data.py's output), or a folder
  holding shards: non-hidden files named `NAME-NNNNN-of-MMMMM` (digits, any count) or ending in
  `.tfrecord` / `.tfrecords`. Other files and sub-folders beside the shards are ignored (the ImageNet
  scripts leave `raw-data/` there). A folder with shards of more than one set (`train-*-of-01024` and
  `validation-*-of-00128`) is refused: name the set with the prefix form.
- Otherwise PATH must be a folder with one sub-folder of images per class, read with
  `slim_resnet.images.listing.list_images`; class k in sorted order has the stored label k + 1, as
  `make_data.convert_folder` writes it.

A process checks a set of shards once: the same path, unchanged (each shard's inode, size and
modification time), is not read again. Checks are cheap: every shard's first record header (its
length's CRC) is checked and the record parsed as an Example holding `image/encoded` and a label;
counting the images walks the record headers only (seeking over the data), which also finds a
truncated shard. Record data CRCs and every label are checked when the pipeline reads them.
"""

from __future__ import annotations

import dataclasses
import os
import re

from bench.core.errors import DataError
from bench.inputs import example_fields, tfrecord_files
from bench.inputs.tfrecord_files import count_records
from slim_resnet.images import listing as image_listing

FORMAT_TFRECORD = "tfrecord"
FORMAT_IMAGE_FOLDER = "image-folder"
FORMATS = (FORMAT_TFRECORD, FORMAT_IMAGE_FOLDER)

_SHARD_NAME = re.compile(r"^(?P<set>.+)-(?P<index>\d+)-of-(?P<total>\d+)$")
_SHARD_SUFFIXES = (".tfrecord", ".tfrecords")


@dataclasses.dataclass(frozen=True)
class DataSource:
    """A checked data source.

    Attributes:
      path: the path as given.
      format: FORMAT_TFRECORD or FORMAT_IMAGE_FOLDER.
      files: the shards or image files, absolute paths, sorted.
      num_files: len(files).
      num_images: records in the shards (None when not counted) or image files.
      classes: an image folder's class sub-folder names in label order (label k + 1 for the k-th),
        None for TFRecords (their classes are in the records).
      labels: an image folder's stored label per file (1-based), None for TFRecords.
    """

    path: str
    format: str
    files: tuple[str, ...]
    num_files: int
    num_images: int | None
    classes: tuple[str, ...] | None = None
    labels: tuple[int, ...] | None = None

    def to_dict(self) -> dict:
        """Every field, JSON-ready (how a child process receives the source its parent checked)."""
        return {field.name: (list(value) if isinstance(value := getattr(self, field.name), tuple) else value)
                for field in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict) -> DataSource:
        """The source `to_dict` wrote."""
        return cls(**{name: tuple(value) if isinstance(value, list) else value
                      for name, value in values.items()})

    def to_record(self) -> dict:
        """What a result record keeps of the source: path, format, numbers of files and images."""
        return {"path": self.path, "format": self.format, "num_files": self.num_files,
                "num_images": self.num_images,
                "num_classes": None if self.classes is None else len(self.classes)}


def label_range(num_classes: int, background: bool = True) -> tuple[int, int]:
    """The stored labels (`image/class/label`) a model of `num_classes` classes accepts.

    Args:
      num_classes: the model's output classes.
      background: True when class 0 is the background class (1001 for ImageNet, as TF-Slim's
        checkpoints): labels are used as stored; False: stored label - 1 is the class (1000).

    Returns:
      (lowest, highest), inclusive: (1, num_classes - 1) with background, else (1, num_classes).

    Raises:
      ValueError: when no label fits.
    """
    highest = num_classes - 1 if background else num_classes
    if highest < 1:
        raise ValueError(f"num_classes {num_classes}: too few classes for any label")
    return 1, highest


def is_shard_name(name: str) -> bool:
    """Whether a file name is a TFRecord shard's by the module's rule."""
    return bool(_SHARD_NAME.match(name)) or name.endswith(_SHARD_SUFFIXES)


def check_first_record(path: str, label_bounds: tuple[int, int] | None = None) -> bool:
    """Checks a shard's first record: a TFRecord header, an Example with an image and a label.

    Args:
      path: a TFRecord file.
      label_bounds: (lowest, highest) stored label allowed, or None not to check it.

    Returns:
      False for an empty file (no records), else True.

    Raises:
      DataError: naming the file and what is wrong.
    """
    data = next(tfrecord_files.read_records(path), None)
    if data is None:
        return False
    try:
        features = example_fields.read_features(data)
    except example_fields.NotAnExample:
        raise DataError(f"{path}: the first record is not a tf.train.Example") from None
    images = features.get(example_fields.ENCODED, [])
    if not images or not isinstance(images[0], bytes):
        raise DataError(f"{path}: the first record has no {example_fields.ENCODED}; "
                        "expected ImageNet's format (JPEG bytes and a label)")
    labels = features.get(example_fields.LABEL, [])
    if not labels or not isinstance(labels[0], int):
        raise DataError(f"{path}: the first record has no {example_fields.LABEL}")
    if label_bounds is not None and not label_bounds[0] <= labels[0] <= label_bounds[1]:
        raise DataError(f"{path}: label {labels[0]} is outside the model's {label_bounds[0]}.."
                        f"{label_bounds[1]}")
    return True


def _shard_set(name: str) -> str:
    match = _SHARD_NAME.match(name)
    return f"{match['set']}-*-of-{match['total']}" if match else "*" + os.path.splitext(name)[1]


def _find_shards(path: str) -> list[str] | None:
    """The shard files PATH names (sorted, absolute), [] for a folder without, None if no such path."""
    if os.path.isfile(path):
        return [os.path.abspath(path)]
    if os.path.isdir(path):
        with os.scandir(path) as entries:
            names = [entry.name for entry in entries
                     if entry.is_file() and not entry.name.startswith(".") and is_shard_name(entry.name)]
        sets = sorted({_shard_set(name) for name in names})
        if len(sets) > 1:
            raise DataError(f"{path}: holds several sets of shards ({', '.join(sets)}); name one as "
                            f"{os.path.join(path, sets[0].split('-*')[0])}")
        return sorted(os.path.abspath(os.path.join(path, name)) for name in names)
    folder, prefix = os.path.split(path)
    if prefix and os.path.isdir(folder or "."):
        with os.scandir(folder or ".") as entries:
            names = [entry.name for entry in entries if entry.is_file()
                     and (match := _SHARD_NAME.match(entry.name)) and match["set"] == prefix]
        if names:
            return sorted(os.path.abspath(os.path.join(folder or ".", name)) for name in names)
    return None


# Shard sources already checked by this process, by (path, label bounds, count, each shard's inode,
# size and modification time): a sweep checks a path once however many configurations read it.
_checked_shards: dict[tuple, DataSource] = {}


def _inspect_shards(path: str, shards: list[str], bounds, count: bool) -> DataSource:
    signature = tuple((shard, (stat := os.stat(shard)).st_ino, stat.st_size, stat.st_mtime_ns)
                      for shard in shards)
    key = (path, bounds, count, signature)
    if key not in _checked_shards:
        _checked_shards[key] = _check_shards(path, shards, bounds, count)
    return _checked_shards[key]


def _check_shards(path: str, shards: list[str], bounds, count: bool) -> DataSource:
    non_empty = [check_first_record(shard, bounds) for shard in shards]
    if not any(non_empty):
        raise DataError(f"{path}: every shard is empty; expected records in ImageNet's format")
    num_images = sum(count_records(shard) for shard in shards) if count else None
    return DataSource(path, FORMAT_TFRECORD, tuple(shards), len(shards), num_images)


def _inspect_folder(path: str, bounds) -> DataSource:
    try:
        found = image_listing.list_images(path)
    except image_listing.ImageFolderError as error:
        with os.scandir(path) as entries:
            empty = not any(not entry.name.startswith(".") for entry in entries)
        if empty:
            raise DataError(f"{path}: empty folder; expected TFRecord shards or one sub-folder of "
                            "images per class") from None
        if "no images" in str(error):
            raise DataError(f"{path}: no TFRecord shards (NAME-00000-of-00004, *.tfrecord) and no "
                            "images in class sub-folders") from None
        raise DataError(f"{path}: {error}") from None
    if found.class_names is None:
        raise DataError(f"{path}: holds images but no class sub-folders; put each class's images "
                        "in a sub-folder of its own")
    labels = tuple(label + 1 for label in found.labels)
    num_classes = len(found.class_names)
    if bounds is not None and num_classes > bounds[1]:
        raise DataError(f"{path}: {num_classes} class sub-folders give labels 1..{num_classes}, "
                        f"outside the model's {bounds[0]}..{bounds[1]}")
    files = tuple(os.path.abspath(os.path.join(path, name)) for name in found.files)
    return DataSource(path, FORMAT_IMAGE_FOLDER, files, len(files), len(files),
                      tuple(found.class_names), labels)


def inspect_source(path: str, num_classes: int | None = None, background: bool = True,
                   count: bool = True) -> DataSource:
    """Decides a data path's format (see the module docstring) and checks it.

    Args:
      path: a folder, a shard file or a shard prefix `DIR/NAME`.
      num_classes: the model's classes, to check the labels against (see `label_range`), or None.
      background: whether the model's class 0 is the background class.
      count: whether to count the records of TFRecord shards (walks every record header once).

    Returns:
      A `DataSource`.

    Raises:
      DataError: for a missing path, an empty folder, a folder with neither shards nor class
        sub-folders of images, a shard that is not TFRecord, is truncated or does not hold ImageNet's
        Examples, or labels outside `label_range(num_classes, background)`.
    """
    bounds = None if num_classes is None else label_range(num_classes, background)
    shards = _find_shards(path)
    if shards is None:
        raise DataError(f"{path}: no such file or folder; expected a folder of TFRecord shards or of "
                        "class sub-folders of images")
    if shards:
        return _inspect_shards(path, shards, bounds, count)
    return _inspect_folder(path, bounds)
