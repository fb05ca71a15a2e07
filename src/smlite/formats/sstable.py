"""A reader for the LevelDB-style SSTable ("TSL table") behind ``*.index`` files.

File layout::

    [data block 0][trailer] ... [data block N][trailer]
    [metaindex block][trailer] [index block][trailer] [footer]

Footer (the last 48 bytes)::

    BlockHandle metaindex, BlockHandle index    each = varint64 offset, varint64 size
    zero padding up to byte 40
    fixed64 magic 0xdb4775248b80fb57           as two LE fixed32, low word first

Block trailer (5 bytes after every block; ``BlockHandle.size`` excludes it)::

    uint8 compression (0 = none, 1 = Snappy raw block)
    fixed32 masked crc32c over block contents + the compression byte

Block contents (data, index and metaindex blocks alike)::

    entry*: varint32 shared, varint32 non_shared, varint32 value_length,
            key_delta[non_shared], value[value_length]
            (key = previous key[:shared] + key_delta)
    fixed32 restarts[num_restarts]    offsets of entries with shared == 0
    fixed32 num_restarts

The index block has one entry per data block whose value is that block's
encoded BlockHandle; its keys are separators, not real keys, so reading every
key means walking the index and reading each data block in order.  Keys are
byte strings in strictly increasing memcmp order.

Every length, offset and count read from the file is checked against the real
sizes before it is used; every problem is a :class:`~smlite.errors.CorruptFileError`
(:class:`~smlite.errors.ChecksumError` for a checksum mismatch) naming the file
and the byte offset.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from smlite.errors import ChecksumError, CorruptFileError, SmliteError, UnsupportedError
from smlite.formats import crc32c, snappy, storage
from smlite.formats.storage import AnyPath
from smlite.formats.wire import WireError, read_varint

__all__ = [
    "BLOCK_TRAILER_SIZE",
    "FOOTER_SIZE",
    "MAGIC",
    "BlockHandle",
    "SSTable",
    "has_magic",
]

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
NO_COMPRESSION = 0
SNAPPY_COMPRESSION = 1
# Snappy cannot expand data by more than this factor (a 2-byte copy yields at
# most 64 bytes), which bounds what a compressed block may decode to.
_SNAPPY_MAX_RATIO = 64

_U32 = struct.Struct("<I")


def has_magic(path: AnyPath) -> bool:
    """True when the file at ``path`` ends with the SSTable footer magic (False if unreadable)."""
    try:
        with storage.open_source(path) as source:
            if source.size < FOOTER_SIZE:
                return False
            lo, hi = struct.unpack("<II", source.read(source.size - 8, source.size))
    except (SmliteError, struct.error):
        return False
    return (hi << 32) | lo == MAGIC


@dataclass(frozen=True, slots=True)
class BlockHandle:
    """Where a block is: ``size`` bytes at ``offset`` (its trailer follows)."""

    offset: int
    size: int


def _varint(buf: bytes, pos: int, end: int, limit_bits: int) -> tuple[int, int] | None:
    """Decode a varint in ``buf[pos:end]``; ``None`` if truncated or too long."""
    try:
        return read_varint(buf, pos, end, limit_bits)
    except WireError:
        return None


@dataclass(frozen=True, slots=True)
class _Block:
    """Decoded block contents and how to turn positions in them into file offsets."""

    data: bytes
    handle: BlockHandle
    what: str
    compressed: bool

    def where(self, pos: int) -> int:
        # For a Snappy block the best file offset is the block's start.
        return self.handle.offset if self.compressed else self.handle.offset + pos


class SSTable:
    """An SSTable file held in memory (index files are small next to their data).

    >>> table = SSTable.open("variables/variables.index")   # doctest: +SKIP
    >>> for key, value in table.items(): ...                 # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str] | AnyPath, data: bytes) -> None:
        self.path = storage.as_path(path)
        self._data = data
        self.metaindex_handle, self.index_handle = self._read_footer()

    @classmethod
    def open(cls, path: str | os.PathLike[str] | AnyPath) -> SSTable:
        """Read the whole table (one request behind a URL)."""
        p = storage.as_path(path)
        return cls(p, storage.read_bytes(p))

    @property
    def size(self) -> int:
        return len(self._data)

    # -- footer ------------------------------------------------------------------
    def _corrupt(self, message: str, offset: int | None) -> CorruptFileError:
        return CorruptFileError(message, path=self.path, offset=offset)

    def _read_footer(self) -> tuple[BlockHandle, BlockHandle]:
        data = self._data
        if len(data) < FOOTER_SIZE:
            raise self._corrupt(
                f"not an SSTable index file: {len(data)} bytes is shorter than the "
                f"{FOOTER_SIZE}-byte footer (the file is truncated)",
                0,
            )
        start = len(data) - FOOTER_SIZE
        lo, hi = struct.unpack_from("<II", data, len(data) - 8)
        magic = (hi << 32) | lo
        if magic != MAGIC:
            raise self._corrupt(
                f"bad SSTable magic number 0x{magic:016x} (expected 0x{MAGIC:016x}); "
                "the file is truncated or is not a TensorFlow checkpoint index",
                len(data) - 8,
            )
        handles = []
        pos = start
        for name in ("metaindex", "index"):
            offset = _varint(data, pos, start + 40, 64)
            size = None if offset is None else _varint(data, offset[1], start + 40, 64)
            if offset is None or size is None:
                raise self._corrupt(f"footer: unreadable {name} block handle", pos)
            handle = BlockHandle(offset[0], size[0])
            self._check_handle(handle, name, pos)
            handles.append(handle)
            pos = size[1]
        return handles[0], handles[1]

    def _check_handle(self, handle: BlockHandle, what: str, where: int | None) -> None:
        end = handle.offset + handle.size + BLOCK_TRAILER_SIZE
        limit = len(self._data) - FOOTER_SIZE
        if end > limit:
            raise self._corrupt(
                f"the {what} block handle (offset {handle.offset}, size {handle.size}) points "
                f"past the end of the block area ({limit} bytes); the file is truncated",
                where,
            )

    # -- blocks --------------------------------------------------------------------
    def _read_block(self, handle: BlockHandle, what: str) -> _Block:
        data = self._data
        n = handle.size
        body = data[handle.offset : handle.offset + n + 1]
        (stored,) = _U32.unpack_from(data, handle.offset + n + 1)
        actual = crc32c.value(body)
        if crc32c.unmask(stored) != actual:
            raise ChecksumError(
                f"{what} block (offset {handle.offset}, {n} bytes): checksum mismatch: "
                f"stored 0x{crc32c.unmask(stored):08x}, computed 0x{actual:08x}",
                path=self.path,
                offset=handle.offset,
            )
        kind = body[n]
        if kind == NO_COMPRESSION:
            return _Block(body[:n], handle, what, False)
        if kind == SNAPPY_COMPRESSION:
            try:
                plain = snappy.decompress(memoryview(body)[:n], max_size=n * _SNAPPY_MAX_RATIO + 64)
            except snappy.SnappyError as e:
                raise self._corrupt(
                    f"{what} block (offset {handle.offset}): bad Snappy data: {e}",
                    handle.offset,
                ) from e
            return _Block(plain, handle, what, True)
        raise UnsupportedError(
            f"{what} block at offset {handle.offset} uses compression type "
            f"{kind}; smlite reads 0 (none) and 1 (Snappy)",
            path=self.path,
        )

    def _iter_block(self, block: _Block) -> Iterator[tuple[bytes, bytes]]:
        data = block.data
        size = len(data)
        what = block.what
        if size < 4:
            raise self._corrupt(
                f"{what} block at offset {block.handle.offset} is {size} bytes, too short "
                "for its restart count",
                block.where(0),
            )
        (num_restarts,) = _U32.unpack_from(data, size - 4)
        if num_restarts > (size - 4) // 4:
            raise self._corrupt(
                f"{what} block claims {num_restarts} restart points but holds only {size} bytes",
                block.where(size - 4),
            )
        limit = size - 4 - 4 * num_restarts
        restarts = set(struct.unpack_from(f"<{num_restarts}I", data, limit))
        pending = set(restarts) - {0} if limit == 0 else set(restarts)
        pos = 0
        key = b""
        while pos < limit:
            entry_pos = pos
            shared = _varint(data, pos, limit, 35)
            non_shared = None if shared is None else _varint(data, shared[1], limit, 35)
            value_len = None if non_shared is None else _varint(data, non_shared[1], limit, 35)
            if shared is None or non_shared is None or value_len is None:
                raise self._corrupt(f"{what} block: truncated entry header", block.where(entry_pos))
            pos = value_len[1]
            if shared[0] > len(key):
                raise self._corrupt(
                    f"{what} block: entry shares {shared[0]} bytes with a previous key of "
                    f"{len(key)} bytes",
                    block.where(entry_pos),
                )
            if entry_pos in restarts and shared[0] != 0:
                raise self._corrupt(
                    f"{what} block: the entry at restart point {entry_pos} shares "
                    f"{shared[0]} key bytes (a restart entry must share none)",
                    block.where(entry_pos),
                )
            pending.discard(entry_pos)
            end = pos + non_shared[0] + value_len[0]
            if end > limit:
                raise self._corrupt(
                    f"{what} block: entry of {non_shared[0]} key and {value_len[0]} value "
                    f"bytes runs past the end of the entries ({limit - pos} bytes left)",
                    block.where(entry_pos),
                )
            new_key = key[: shared[0]] + data[pos : pos + non_shared[0]]
            pos += non_shared[0]
            if entry_pos and new_key <= key:
                raise self._corrupt(
                    f"{what} block: keys out of order ({new_key!r} after {key!r})",
                    block.where(entry_pos),
                )
            key = new_key
            yield key, data[pos:end]
            pos = end
        if pending:
            r = min(pending)
            raise self._corrupt(
                f"{what} block has a restart point at {r}, which is not the start of an entry "
                f"(the entries take {limit} bytes)",
                block.where(limit),
            )

    # -- public ----------------------------------------------------------------------
    def data_handles(self) -> list[BlockHandle]:
        """The handles of the data blocks, in key order (from the index block)."""
        index = self._read_block(self.index_handle, "index")
        handles = []
        for key, value in self._iter_block(index):
            offset = _varint(value, 0, len(value), 64)
            size = None if offset is None else _varint(value, offset[1], len(value), 64)
            if offset is None or size is None:
                raise self._corrupt(
                    f"index block: unreadable block handle for separator key {key!r}",
                    self.index_handle.offset,
                )
            handle = BlockHandle(offset[0], size[0])
            self._check_handle(handle, "data", self.index_handle.offset)
            handles.append(handle)
        return handles

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every ``(key, value)`` in key order; block checksums are verified on the way."""
        last: bytes | None = None
        for handle in self.data_handles():
            block = self._read_block(handle, "data")
            for key, value in self._iter_block(block):
                if last is not None and key <= last:
                    raise self._corrupt(
                        f"data block at offset {handle.offset}: keys out of order across "
                        f"blocks ({key!r} after {last!r})",
                        handle.offset,
                    )
                last = key
                yield key, value
