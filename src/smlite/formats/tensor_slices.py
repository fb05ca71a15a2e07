"""Slices of partitioned tensors in a TensorBundle: TensorSliceProto and slice keys.

A partitioned tensor has an entry with its full shape and ``slices``; each
slice is stored as an entry of its own under a key built by TensorFlow's
``EncodeTensorNameSlice`` (OrderedCode, see below).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from smlite import pb

__all__ = ["Extent", "TensorSlice", "decode_slice_key", "encode_slice_key"]


@dataclass(frozen=True, slots=True)
class Extent:
    """One dimension of a slice: ``length is None`` means the whole dimension."""

    start: int
    length: int | None


@dataclass(frozen=True, slots=True)
class TensorSlice:
    """A TensorSliceProto: one extent per dimension."""

    extents: tuple[Extent, ...]

    @classmethod
    def from_proto(cls, proto: pb.TensorSliceProto) -> TensorSlice:
        return cls(
            tuple(Extent(e.start, e.length if e.HasField("length") else None) for e in proto.extent)
        )

    def bounds(self, shape: Sequence[int]) -> tuple[tuple[int, int], ...] | None:
        """``(start, stop)`` per dimension of a tensor of ``shape``; None if out of range."""
        if len(self.extents) != len(shape):
            return None
        out = []
        for ext, dim in zip(self.extents, shape, strict=True):
            if ext.length is None:
                if ext.start != 0:
                    return None
                out.append((0, dim))
                continue
            if ext.start < 0 or ext.length < 0 or ext.start + ext.length > dim:
                return None
            out.append((ext.start, ext.start + ext.length))
        return tuple(out)

    def __str__(self) -> str:
        parts = ["-" if e.length is None else f"{e.start},{e.length}" for e in self.extents]
        return ":".join(parts)


# OrderedCode (tensorflow/core/lib/strings/ordered_code.cc) as used by
# EncodeTensorNameSlice: WriteNumIncreasing(0), WriteString(name),
# WriteNumIncreasing(rank), then per dimension WriteSignedNumIncreasing(start)
# and WriteSignedNumIncreasing(length) where a full dimension has length -1.


def _num_increasing(value: int) -> bytes:
    # One length byte, then the value big-endian without leading zero bytes.
    body = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return bytes([len(body)]) + body


_SPECIAL_BYTES = re.compile(rb"[\x00\xff]")
_ESCAPED = {b"\x00": b"\x00\xff", b"\xff": b"\xff\x00"}


def _string_increasing(value: bytes) -> bytes:
    # \x00 -> \x00\xff, \xff -> \xff\x00 (in one pass), terminated by \x00\x01.
    return _SPECIAL_BYTES.sub(lambda m: _ESCAPED[m.group()], value) + b"\x00\x01"


def _signed_num_increasing(value: int) -> bytes:
    # Sign bit (1 = non-negative), then as many bits equal to it as there are
    # extra bytes, a delimiter bit, then the value in two's complement,
    # big-endian: n bytes hold [-2**(7n-1), 2**(7n-1)).
    x = ~value if value < 0 else value
    if x < 64:
        return bytes([(0x80 ^ value) & 0xFF])
    length = next(n for n in range(2, 11) if x < 1 << (7 * n - 1))
    raw = bytearray((value & ((1 << 80) - 1)).to_bytes(10, "big")[-length:])
    if length <= 8:
        raw[0] ^= (0xFF << (8 - length)) & 0xFF
    else:
        raw[0] ^= 0xFF
        raw[1] ^= 0x80 if length == 9 else 0xC0
    return bytes(raw)


def _read_signed(code: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(code):
        raise ValueError("truncated number")
    negative = not code[pos] & 0x80
    flip = 0xFF if negative else 0
    first = code[pos] ^ flip
    if first != 0xFF:
        length = 8 - (first ^ 0xFF).bit_length()
    else:
        second = code[pos + 1] ^ flip if pos + 1 < len(code) else 0
        length = 8 if second < 0x80 else 9 if second < 0xC0 else 10
    if pos + length > len(code):
        raise ValueError("truncated number")
    raw = bytearray(b ^ flip for b in code[pos : pos + length])
    # Clear the sign, size and delimiter bits (length + 1 leading bits).
    bits = length + 1
    for i in range(len(raw)):
        if bits <= 0:
            break
        take = min(8, bits)
        raw[i] &= 0xFF >> take
        bits -= take
    magnitude = int.from_bytes(raw, "big")
    return (~magnitude if negative else magnitude), pos + length


def encode_slice_key(name: str, slc: TensorSlice) -> str:
    """The bundle key of one slice of the partitioned tensor ``name``."""
    out = bytearray(_num_increasing(0))
    out += _string_increasing(name.encode("utf-8", "surrogateescape"))
    out += _num_increasing(len(slc.extents))
    for ext in slc.extents:
        out += _signed_num_increasing(ext.start)
        out += _signed_num_increasing(-1 if ext.length is None else ext.length)
    return bytes(out).decode("utf-8", "surrogateescape")


def decode_slice_key(key: str) -> tuple[str, TensorSlice] | None:
    """The tensor name and slice of a slice key, or None if ``key`` is not one."""
    code = key.encode("utf-8", "surrogateescape")
    if not code.startswith(b"\x00"):
        return None
    try:
        pos = 1
        name = bytearray()
        while True:
            b = code[pos]
            if b == 0x00:
                nxt = code[pos + 1]
                pos += 2
                if nxt == 0x01:
                    break
                if nxt != 0xFF:
                    return None
                name.append(0)
            elif b == 0xFF:
                if code[pos + 1] != 0x00:
                    return None
                name.append(0xFF)
                pos += 2
            else:
                name.append(b)
                pos += 1
        width = code[pos]
        rank = int.from_bytes(code[pos + 1 : pos + 1 + width], "big")
        pos += 1 + width
        if rank > 64:
            return None
        extents = []
        for _ in range(rank):
            start, pos = _read_signed(code, pos)
            length, pos = _read_signed(code, pos)
            extents.append(Extent(start, None if length == -1 else length))
        if pos != len(code):
            return None
    except (IndexError, ValueError):
        return None
    return bytes(name).decode("utf-8", "surrogateescape"), TensorSlice(tuple(extents))
