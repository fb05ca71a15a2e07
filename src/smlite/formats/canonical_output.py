"""The output of :mod:`smlite.formats.canonical`: ranges of the source and literal pieces.

A re-encoded message is mostly the input passed through (tensor payloads,
fields already in canonical form), so it is kept as a list of chunks -- a
``(start, end)`` range of the source buffer, or bytes written anew -- and
joined only when the caller needs one buffer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Union

from smlite.formats.wire import Buffer, encode_len_header

__all__ = ["Encoded", "RangeReader"]

# A piece of output: a (start, end) range of the source buffer, or literal bytes.
_Chunk = Union[tuple[int, int], bytes, memoryview]  # noqa: UP007
#: Fills a view with the source's bytes from an offset (see :meth:`Encoded.contiguous`).
RangeReader = Callable[[int, memoryview], None]
_READ_AT_LEAST = 64 * 1024


class Encoded:
    """Canonical bytes as chunks: ranges of a source buffer and literal pieces."""

    __slots__ = ("chunks", "size", "source")

    def __init__(self, source: Buffer) -> None:
        self.source = source
        self.chunks: list[_Chunk] = []
        self.size = 0

    def add_range(self, start: int, end: int) -> None:
        if end <= start:
            return
        chunks = self.chunks
        if chunks:
            last = chunks[-1]
            if isinstance(last, tuple) and last[1] == start:
                chunks[-1] = (last[0], end)
                self.size += end - start
                return
        chunks.append((start, end))
        self.size += end - start

    def add_bytes(self, data: bytes | memoryview) -> None:
        if data:
            self.chunks.append(data)
            self.size += len(data)

    def extend(self, other: Encoded) -> None:
        if other.source is self.source:
            for chunk in other.chunks:
                if isinstance(chunk, tuple):
                    self.add_range(*chunk)
                else:
                    self.add_bytes(chunk)
        else:
            self.chunks.extend(other._materialized_chunks())
            self.size += other.size

    def add_field(self, number: int, child: Encoded) -> None:
        """Append ``child`` as length-delimited field ``number``."""
        self.add_bytes(encode_len_header(number, child.size))
        self.extend(child)

    def is_range(self, start: int, end: int) -> bool:
        """True when the output is exactly ``source[start:end]`` (nothing changed)."""
        if start == end:
            return not self.chunks
        return len(self.chunks) == 1 and self.chunks[0] == (start, end)

    def _materialized_chunks(self) -> list[bytes | memoryview]:
        view = memoryview(self.source)
        return [view[c[0] : c[1]] if isinstance(c, tuple) else c for c in self.chunks]

    def pieces(self) -> list[bytes | memoryview]:
        """The output as buffers, in order (views into the source where unchanged)."""
        return self._materialized_chunks()

    def tobytes(self) -> bytes:
        return b"".join(self._materialized_chunks())

    def contiguous(
        self, read_range: RangeReader | None = None, scratch: bytearray | None = None
    ) -> memoryview:
        """The output as one buffer: a view of the source when it is one range of it.

        Otherwise the pieces are copied into ``scratch`` (when it is big enough:
        the caller reuses it for the next output) or a new buffer; ranges of at least
        :data:`_READ_AT_LEAST` bytes are filled by ``read_range(offset, dest)``
        when given (e.g. ``os.preadv`` on the file the source maps), so that a
        multi-GB output costs one copy in memory, not the mapped file's pages too.
        """
        chunks = self.chunks
        if len(chunks) == 1 and isinstance(chunks[0], tuple):
            start, end = chunks[0]
            return memoryview(self.source)[start:end]
        if scratch is None or len(scratch) < self.size:
            scratch = bytearray(self.size)
        dest = out = memoryview(scratch)[: self.size]
        source = memoryview(self.source)
        pos = 0
        for chunk in chunks:
            if isinstance(chunk, tuple):
                start, end = chunk
                n = end - start
                if read_range is not None and n >= _READ_AT_LEAST:
                    read_range(start, dest[pos : pos + n])
                else:
                    dest[pos : pos + n] = source[start:end]
            else:
                n = len(chunk)
                dest[pos : pos + n] = chunk
            pos += n
        return out
