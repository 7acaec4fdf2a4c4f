"""The TFRecord file format, read without TensorFlow: record framing, checksums, counting, reading.

A TFRecord file is a sequence of records, each: uint64 length (little-endian), the masked CRC32C of
those 8 bytes, `length` bytes of data, the masked CRC32C of the data. The data check
(`bench.inputs.sources`) and the search for a bad record (`bench.inputs.bad_records`) read shards
this way before (or without) importing TensorFlow.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

from bench.core.errors import DataError

HEADER_BYTES = 12  # uint64 length + masked CRC32C of the length
FOOTER_BYTES = 4  # masked CRC32C of the data


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC32C (Castagnoli) of `data`."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _read_length(handle, path: str, offset: int) -> int | None:
    """The data length of the record whose header starts at `offset`, None at the end of the file."""
    header = handle.read(HEADER_BYTES)
    if not header:
        return None
    if len(header) < HEADER_BYTES:
        raise DataError(f"{path}: truncated TFRecord file (a record header at byte {offset} is cut off)")
    length_bytes, crc = header[:8], struct.unpack("<I", header[8:])[0]
    if masked_crc32c(length_bytes) != crc:
        what = "not a TFRecord file" if offset == 0 else "corrupt TFRecord file"
        raise DataError(f"{path}: {what} (the record header at byte {offset} fails its checksum)")
    return struct.unpack("<Q", length_bytes)[0]


def count_records(path: str) -> int:
    """Counts a shard's records by walking their headers (the data is skipped, not read).

    Args:
      path: a TFRecord file.

    Returns:
      The number of records.

    Raises:
      DataError: for a file that is not TFRecord, or is corrupt or truncated.
    """
    size = os.path.getsize(path)
    count, offset = 0, 0
    with open(path, "rb") as handle:
        while True:
            length = _read_length(handle, path, offset)
            if length is None:
                return count
            offset += HEADER_BYTES + length + FOOTER_BYTES
            if offset > size:
                raise DataError(f"{path}: truncated TFRecord file (record {count} ends past the "
                                f"file's {size} bytes)")
            handle.seek(offset)
            count += 1


def read_records(path: str) -> Iterator[bytes]:
    """Each record's data, in order (the data's own CRC is not checked: the pipeline checks it).

    Args:
      path: a TFRecord file.

    Yields:
      The bytes of each record.

    Raises:
      DataError: for a file that is not TFRecord, or is corrupt or truncated.
    """
    with open(path, "rb") as handle:
        index, offset = 0, 0
        while (length := _read_length(handle, path, offset)) is not None:
            data = handle.read(length)
            if len(data) < length:
                what = "the first record" if index == 0 else f"record {index}"
                raise DataError(f"{path}: truncated TFRecord file ({what} is cut off)")
            handle.seek(FOOTER_BYTES, os.SEEK_CUR)
            offset += HEADER_BYTES + length + FOOTER_BYTES
            index += 1
            yield data
