"""ImageNet's record fields by name, and reading them back from a serialized `tf.train.Example`
without TensorFlow, so that the data check (`bench.inputs.sources`) refuses a bad --data path before
the command line imports TensorFlow. `bench.inputs.example_format` writes and parses records with
TensorFlow under the same names.

The reader decodes protocol buffers' wire format for the messages of
tensorflow/core/example/{example,feature}.proto: Example {Features features = 1}; Features
{map<string, Feature> feature = 1}; Feature {oneof: BytesList bytes_list = 1, FloatList float_list
= 2, Int64List int64_list = 3}; each list {repeated value = 1}, packed or not. Unknown fields are
skipped, as protocol buffers do.
"""

from __future__ import annotations

import struct

ENCODED = "image/encoded"
LABEL = "image/class/label"
BOX_KEYS = ("image/object/bbox/ymin", "image/object/bbox/xmin",
            "image/object/bbox/ymax", "image/object/bbox/xmax")

# The label `example_format.parse_example` gives a record without `image/class/label`.
MISSING_LABEL = -1

_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
_FIXED_SIZES = {_FIXED64: 8, _FIXED32: 4}


class NotAnExample(ValueError):
    """The bytes are not a serialized tf.train.Example."""


def _varint(data: bytes, position: int) -> tuple[int, int]:
    """The unsigned varint at `position`, and the position after it."""
    value = shift = 0
    while True:
        if position >= len(data):
            raise NotAnExample("a varint runs past the end")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise NotAnExample("a varint longer than 10 bytes")


def _fields(data: bytes) -> list[tuple[int, int, int | bytes]]:
    """A message's (field number, wire type, value): an int for a varint, bytes otherwise."""
    found = []
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise NotAnExample("field number 0")
        if wire_type == _VARINT:
            value, position = _varint(data, position)
        elif wire_type in (_LENGTH_DELIMITED, *_FIXED_SIZES):
            if wire_type == _LENGTH_DELIMITED:
                size, position = _varint(data, position)
            else:
                size = _FIXED_SIZES[wire_type]
            value, position = data[position:position + size], position + size
            if position > len(data):
                raise NotAnExample(f"field {number} runs past the end")
        else:
            raise NotAnExample(f"wire type {wire_type} of field {number}")
        found.append((number, wire_type, value))
    return found


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _values(kind: int, list_bytes: bytes) -> list:
    """The `value` entries of a BytesList (kind 1), FloatList (2) or Int64List (3)."""
    values: list = []
    for number, wire_type, value in _fields(list_bytes):
        if number != 1:
            continue
        if kind == 1 and wire_type == _LENGTH_DELIMITED:
            values.append(value)
        elif kind == 2 and wire_type == _FIXED32:
            values.append(struct.unpack("<f", value)[0])
        elif kind == 2 and wire_type == _LENGTH_DELIMITED and len(value) % 4 == 0:  # packed
            values.extend(struct.unpack(f"<{len(value) // 4}f", value))
        elif kind == 3 and wire_type == _VARINT:
            values.append(_signed(value))
        elif kind == 3 and wire_type == _LENGTH_DELIMITED:  # packed
            position = 0
            while position < len(value):
                item, position = _varint(value, position)
                values.append(_signed(item))
        else:
            raise NotAnExample(f"a list value of wire type {wire_type}")
    return values


def _feature(feature_bytes: bytes) -> list:
    """A Feature's values (the last of its lists, as protocol buffers keep the last of a oneof)."""
    values: list = []
    for number, wire_type, value in _fields(feature_bytes):
        if number in (1, 2, 3):
            if wire_type != _LENGTH_DELIMITED:
                raise NotAnExample(f"a feature list of wire type {wire_type}")
            values = _values(number, value)
    return values


def read_features(serialized: bytes) -> dict[str, list]:
    """The features of a serialized tf.train.Example.

    Args:
      serialized: the record's bytes.

    Returns:
      {name: values}: bytes for a BytesList, floats for a FloatList, ints for an Int64List.

    Raises:
      NotAnExample: for bytes that are not a well-formed Example.
    """
    features: dict[str, list] = {}
    for number, wire_type, value in _fields(serialized):
        if number != 1:
            continue
        if wire_type != _LENGTH_DELIMITED:
            raise NotAnExample(f"Example.features of wire type {wire_type}")
        for entry_number, entry_type, entry in _fields(value):
            if entry_number != 1:
                continue
            if entry_type != _LENGTH_DELIMITED:
                raise NotAnExample(f"a feature map entry of wire type {entry_type}")
            name, values = "", []
            for part, part_type, part_value in _fields(entry):
                if part_type != _LENGTH_DELIMITED and part in (1, 2):
                    raise NotAnExample(f"a feature map entry's field {part} of wire type {part_type}")
                if part == 1:
                    try:
                        name = part_value.decode("utf-8")
                    except UnicodeDecodeError:
                        raise NotAnExample("a feature name that is not UTF-8") from None
                elif part == 2:
                    values = _feature(part_value)
            features[name] = values
    return features
