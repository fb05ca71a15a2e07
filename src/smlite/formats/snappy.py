"""A bounded decompressor for Snappy's raw block format.

Old TensorBundle index files (TensorFlow < 1.2) may hold Snappy-compressed
SSTable blocks.  Those blocks are small, so a pure-Python decoder is enough;
it never allocates more than the caller allows and never trusts a length or an
offset it has not checked.

Raw block format::

    block    := varint32 uncompressed_length, element*
    element  := tag byte; its low 2 bits select the kind:
      00 literal   length-1 in the upper 6 bits; values 60..63 mean the
                   length-1 follows as 1..4 little-endian bytes; then the bytes
      01 copy      length 4 + bits 2..4, offset = bits 5..7 << 8 | next byte
      10 copy      length 1 + upper 6 bits, offset = next 2 bytes LE
      11 copy      length 1 + upper 6 bits, offset = next 4 bytes LE

A copy repeats ``length`` bytes starting ``offset`` bytes back in the output
(it may overlap what it writes, repeating a short pattern).
"""

from __future__ import annotations

from smlite.formats.wire import WireError, read_varint

__all__ = ["SnappyError", "decompress", "uncompressed_length"]


class SnappyError(ValueError):
    """The data is not a valid Snappy block; ``offset`` is where decoding failed."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at byte {offset} of the compressed block)")
        self.offset = offset


def uncompressed_length(data: bytes | memoryview) -> tuple[int, int]:
    """The declared uncompressed length and the offset just after it."""
    try:
        return read_varint(data, 0, len(data), 32)
    except WireError as e:
        if e.truncated:
            raise SnappyError("truncated length preamble", e.offset) from None
        raise SnappyError("length preamble longer than 5 bytes", e.offset) from None


def decompress(data: bytes | memoryview, *, max_size: int) -> bytes:
    """Decompress one raw Snappy block whose output may be at most ``max_size`` bytes."""
    src = bytes(data)
    n = len(src)
    size, pos = uncompressed_length(src)
    if size > max_size:
        raise SnappyError(
            f"declared uncompressed length {size} exceeds the allowed {max_size} bytes", 0
        )
    out = bytearray()
    while pos < n:
        tag_pos = pos
        tag = src[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:
            length = (tag >> 2) + 1
            if length > 60:
                extra = length - 60
                if pos + extra > n:
                    raise SnappyError("truncated literal length", tag_pos)
                length = int.from_bytes(src[pos : pos + extra], "little") + 1
                pos += extra
            if pos + length > n:
                raise SnappyError(
                    f"literal of {length} bytes runs past the end of the block", tag_pos
                )
            if len(out) + length > size:
                raise SnappyError("output longer than the declared length", tag_pos)
            out += src[pos : pos + length]
            pos += length
            continue
        if kind == 1:
            if pos + 1 > n:
                raise SnappyError("truncated copy", tag_pos)
            length = 4 + ((tag >> 2) & 7)
            offset = ((tag >> 5) << 8) | src[pos]
            pos += 1
        else:
            width = 2 if kind == 2 else 4
            if pos + width > n:
                raise SnappyError("truncated copy", tag_pos)
            length = (tag >> 2) + 1
            offset = int.from_bytes(src[pos : pos + width], "little")
            pos += width
        if offset == 0 or offset > len(out):
            raise SnappyError(
                f"copy offset {offset} points outside the {len(out)} bytes decoded so far",
                tag_pos,
            )
        if len(out) + length > size:
            raise SnappyError("output longer than the declared length", tag_pos)
        start = len(out) - offset
        if length <= offset:
            out += out[start : start + length]
        else:
            # Overlapping copy: the pattern of ``offset`` bytes repeats.
            pattern = bytes(out[start:])
            reps, rest = divmod(length, offset)
            out += pattern * reps + pattern[:rest]
    if len(out) != size:
        raise SnappyError(f"decoded {len(out)} bytes but the block declares {size}", n)
    return bytes(out)
