"""A minimal protobuf wire-format scanner.

It walks the fields of a serialized message without materialising it, so that
smlite can find the signature map of a multi-GB ``saved_model.pb`` without
parsing its GraphDef, or list the ops of a graph without copying its constants.

Wire format: a message is a sequence of ``key value`` pairs where
``key = varint(field_number << 3 | wire_type)`` and the value is a varint
(type 0), 8 bytes (type 1), ``varint length`` + bytes (type 2) or 4 bytes
(type 5).  Groups (types 3 and 4) are obsolete and rejected.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from typing import NamedTuple, Union

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5

__all__ = [
    "I32",
    "I64",
    "LEN",
    "VARINT",
    "Buffer",
    "Field",
    "Occurrence",
    "WireError",
    "encode_key",
    "encode_len_header",
    "encode_varint",
    "read_string",
    "iter_fields",
    "occurrences",
    "read_varint",
]

#: Anything indexable as bytes: file contents, a slice view, a memory map.
Buffer = Union[bytes, bytearray, memoryview, mmap.mmap]  # noqa: UP007 (a runtime alias)


class WireError(ValueError):
    """Raised with the byte offset at which the data stopped making sense."""

    def __init__(self, message: str, offset: int, *, truncated: bool = False) -> None:
        super().__init__(f"{message} at offset {offset}")
        self.offset = offset
        #: True when the data ended before the value did (not: the value was malformed).
        self.truncated = truncated


class Field(NamedTuple):
    number: int
    wire_type: int
    #: Offset of the field's key: ``buf[key_start:end]`` is the whole field.
    key_start: int
    #: For LEN fields the payload span ``[start, end)``; for VARINT the value
    #: is in ``value`` and ``start == end`` is the offset after it.
    start: int
    end: int
    value: int


def encode_varint(value: int) -> bytes:
    """``value`` (0 <= value < 2**64) as a minimal base-128 varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_key(number: int, wire_type: int) -> bytes:
    """The key of field ``number`` with ``wire_type``, minimally encoded."""
    return encode_varint(number << 3 | wire_type)


def encode_len_header(number: int, length: int) -> bytes:
    """Key and length of a length-delimited field ``number`` whose payload is ``length`` bytes."""
    return encode_key(number, LEN) + encode_varint(length)


def read_varint(buf: Buffer, pos: int, end: int, max_bits: int = 70) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; return ``(value, next_pos)``.

    The one varint reader of smlite: protobuf fields (up to 10 bytes), and with
    ``max_bits`` the varints of SSTables, Snappy preambles (32) and string
    tensor lengths (64).  Raises :class:`WireError` (``truncated`` set when
    ``end`` came first).
    """
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated varint", pos, truncated=True)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= max_bits:
            raise WireError(f"varint longer than {-(-max_bits // 7)} bytes", pos)


def read_string(buf: Buffer, start: int, end: int) -> str:
    """The string field ``buf[start:end]``; bytes that are not UTF-8 kept as surrogates."""
    return bytes(buf[start:end]).decode("utf-8", "surrogateescape")


def iter_fields(buf: Buffer, start: int = 0, end: int | None = None) -> Iterator[Field]:
    """Yield the fields of the message stored in ``buf[start:end]``.

    Length fields are bounds-checked against ``end``: a length that points past
    the end of the message raises :class:`WireError` instead of being trusted.
    """
    if end is None:
        end = len(buf)
    pos = start
    while pos < end:
        key_pos = pos
        key, pos = read_varint(buf, pos, end)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0", key_pos)
        if wire_type == VARINT:
            value, pos = read_varint(buf, pos, end)
            yield Field(number, wire_type, key_pos, pos, pos, value)
        elif wire_type == LEN:
            length, pos = read_varint(buf, pos, end)
            if length > end - pos:
                raise WireError(
                    f"field {number} claims {length} bytes but only {end - pos} remain", pos
                )
            yield Field(number, wire_type, key_pos, pos, pos + length, length)
            pos += length
        elif wire_type == I64:
            if pos + 8 > end:
                raise WireError("truncated 64-bit field", pos)
            yield Field(number, wire_type, key_pos, pos, pos + 8, 0)
            pos += 8
        elif wire_type == I32:
            if pos + 4 > end:
                raise WireError("truncated 32-bit field", pos)
            yield Field(number, wire_type, key_pos, pos, pos + 4, 0)
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire_type} for field {number}", key_pos)


# One field occurrence: (number, wire_type, key_start, value_start, value_end, int value).
# For LEN fields value_start..value_end is the payload and the int is its length;
# for VARINT fields the span is the varint and the int its raw (unnormalized) value.
Occurrence = tuple[int, int, int, int, int, int]


def occurrences(buf: Buffer, pos: int, end: int) -> list[Occurrence]:
    """Every field of the message in ``buf[pos:end]``, as a list (faster than :func:`iter_fields`).

    Bounds-checked like :func:`iter_fields`; raises :class:`WireError`.
    """
    out: list[Occurrence] = []
    append = out.append
    while pos < end:
        key_start = pos
        # Keys of field numbers < 16 are one byte: the common case, inlined.
        b = buf[pos]
        if b < 0x80:
            key = b
            pos += 1
        else:
            key, pos = read_varint(buf, pos, end)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0", key_start)
        if wire_type == LEN:
            if pos < end and buf[pos] < 0x80:
                length = buf[pos]
                pos += 1
            else:
                length, pos = read_varint(buf, pos, end)
            if length > end - pos:
                raise WireError(
                    f"field {number} claims {length} bytes but only {end - pos} remain", pos
                )
            append((number, LEN, key_start, pos, pos + length, length))
            pos += length
        elif wire_type == VARINT:
            value_start = pos
            value, pos = read_varint(buf, pos, end)
            append((number, VARINT, key_start, value_start, pos, value))
        elif wire_type == I64:
            if pos + 8 > end:
                raise WireError("truncated 64-bit field", pos)
            append((number, I64, key_start, pos, pos + 8, 0))
            pos += 8
        elif wire_type == I32:
            if pos + 4 > end:
                raise WireError("truncated 32-bit field", pos)
            append((number, I32, key_start, pos, pos + 4, 0))
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire_type} for field {number}", key_start)
    return out
