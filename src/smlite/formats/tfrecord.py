"""TFRecord framing: walk the records of a TFRecord file and verify their checksums.

smlite reads TFRecord files only to check them (TF Serving's warmup file
``assets.extra/tf_serving_warmup_requests`` is one), so this module verifies
the framing and hands out record spans; it never parses the payloads.

Record layout (tsl ``RecordWriter``, uncompressed)::

    uint64  length                      little-endian
    uint32  masked crc32c of the 8 length bytes
    byte    data[length]
    uint32  masked crc32c of data

(masked as in :func:`smlite.formats.crc32c.mask`).  A file is a plain
concatenation of records; an empty file holds zero records.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from smlite.errors import ChecksumError, CorruptFileError, PathOrUrl
from smlite.formats import crc32c, storage
from smlite.formats.storage import AnyPath

__all__ = ["HEADER_SIZE", "FOOTER_SIZE", "Record", "count_records", "iter_records"]

HEADER_SIZE = 12
FOOTER_SIZE = 4


@dataclass(frozen=True, slots=True)
class Record:
    """One record: where it starts and where its payload is."""

    index: int
    offset: int
    data_start: int
    length: int

    @property
    def data_end(self) -> int:
        return self.data_start + self.length


def iter_records(
    buf: bytes | memoryview | mmap.mmap, *, path: PathOrUrl | None = None
) -> Iterator[Record]:
    """Yield every record of a TFRecord file held in ``buf``, checking the framing.

    Raises :class:`CorruptFileError` for a truncated record and
    :class:`ChecksumError` for a checksum mismatch, with the record's offset.
    """
    size = len(buf)
    pos = 0
    index = 0
    while pos < size:
        if size - pos < HEADER_SIZE:
            raise CorruptFileError(
                f"record #{index}: header needs {HEADER_SIZE} bytes but only "
                f"{size - pos} remain (truncated file)",
                path=path,
                offset=pos,
            )
        length_bytes = bytes(buf[pos : pos + 8])
        (length,) = struct.unpack("<Q", length_bytes)
        (stored,) = struct.unpack("<I", bytes(buf[pos + 8 : pos + 12]))
        actual = crc32c.mask(crc32c.value(length_bytes))
        if stored != actual:
            raise ChecksumError(
                f"record #{index}: the checksum of the length field is wrong "
                f"(stored 0x{stored:08x}, computed 0x{actual:08x}); this is not a TFRecord "
                "file or it is damaged",
                path=path,
                offset=pos,
            )
        data_start = pos + HEADER_SIZE
        if length > size - data_start - FOOTER_SIZE:
            raise CorruptFileError(
                f"record #{index}: claims {length} data bytes but only "
                f"{max(size - data_start - FOOTER_SIZE, 0)} remain (truncated file)",
                path=path,
                offset=pos,
            )
        data_end = data_start + length
        (stored,) = struct.unpack("<I", bytes(buf[data_end : data_end + 4]))
        actual = crc32c.mask(crc32c.value(buf[data_start:data_end]))
        if stored != actual:
            raise ChecksumError(
                f"record #{index}: data checksum mismatch (stored 0x{stored:08x}, "
                f"computed 0x{actual:08x})",
                path=path,
                offset=pos,
            )
        yield Record(index, pos, data_start, length)
        pos = data_end + FOOTER_SIZE
        index += 1


def count_records(path: str | os.PathLike[str] | AnyPath) -> int:
    """Verify a TFRecord file (local, or behind a URL) and return its number of records."""
    p = storage.as_path(path)
    with storage.open_source(p) as source:
        data = source.whole()
        return sum(1 for _ in iter_records(data, path=p)) if source.size else 0
