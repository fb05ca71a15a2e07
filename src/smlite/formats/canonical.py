"""C++-canonical ("deterministic") serialization of protobuf messages.

TensorFlow's fingerprint hashes messages as the C++ runtime serializes them
with ``SetSerializationDeterministic(true)`` after parsing them from disk.
Those bytes are not the bytes in the file, and not what Python's protobuf
(upb) writes either: upb emits map entries in hash-table order (integer keys
descending, ``"ab"`` before ``"a"``), C++ sorts them.  So this module
re-encodes serialized bytes into the canonical form, driven by the message's
descriptor, without going through any runtime's in-memory message:

* known fields in field-number order, unknown fields after them in the order
  they were read;
* map entries sorted by key (strings bytewise, integers by value, signed
  types as signed), duplicate keys resolved last-wins, and every entry
  written with both its key (field 1) and its value (field 2);
* proto3 implicit-presence scalars dropped when zero (floats and doubles only
  when their bit pattern is +0.0), strings and bytes when empty; fields with
  presence (messages, oneof members, proto2 ``optional``) kept when set;
* repeated numeric fields packed when the field is packed (proto3 default),
  unpacked elements otherwise; several occurrences of a packed field merged;
* a singular scalar that occurs several times keeps its last value, a singular
  message merges all its occurrences, the last member set wins in a oneof;
* varints re-encoded minimally and normalized to their declared type
  (``int32`` truncated and sign-extended, ``bool`` to 0/1, ...).

Everything that already has its canonical form is passed through as a slice
of the input, so a multi-GB ``saved_model.pb`` whose bulk is tensor bytes is
re-encoded by walking its fields, not by copying its payloads: the result is a
list of chunks (:class:`Encoded`), joined only when the caller needs the bytes.

>>> from smlite import pb
>>> node = pb.NodeDef(name="n")
>>> node.attr["b"].i = 1
>>> node.attr["a"].i = 2
>>> keys = [k for k in pb.NodeDef.FromString(canonical_bytes(node)).attr]
>>> sorted(keys) == keys
True
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from smlite.formats.canonical_output import Encoded, RangeReader
from smlite.formats.canonical_tables import FAST_LIMIT, Field, MessageTable, fast_canonical, table
from smlite.formats.wire import (
    I32,
    I64,
    LEN,
    VARINT,
    Buffer,
    Occurrence,
    WireError,
    encode_key,
    encode_len_header,
    encode_varint,
    occurrences,
    read_varint,
)

__all__ = ["CanonicalError", "Encoded", "RangeReader", "canonical_bytes", "encode", "varint"]

_M64 = (1 << 64) - 1


#: The input is not a valid serialization of the message type (raised with
#: the offset, like every wire-level error).
CanonicalError = WireError


#: ``value`` (0 <= value < 2**64) as a minimal varint.
varint = encode_varint


# ---------------------------------------------------------------------------
# Reading fields.
# ---------------------------------------------------------------------------


def _normalize(vtype: str, raw: int) -> int:
    """The varint a C++ parse-then-serialize writes for ``raw`` read into ``vtype``."""
    if vtype == "int32":
        v = raw & 0xFFFFFFFF
        return (v - (1 << 32)) & _M64 if v >= 1 << 31 else v
    if vtype in ("uint32", "sint32"):
        return raw & 0xFFFFFFFF
    if vtype == "bool":
        return 1 if raw & _M64 else 0
    return raw & _M64


def _header_ok(number: int, wire_type: int, key_start: int, value_start: int) -> bool:
    """True when the key at ``key_start`` is minimally encoded (ends at ``value_start``)."""
    return value_start - key_start == len(encode_key(number, wire_type))


# ---------------------------------------------------------------------------
# Encoding.
# ---------------------------------------------------------------------------


def encode(buf: Buffer, descriptor: Any, start: int = 0, end: int | None = None) -> Encoded:
    """Re-encode the message of type ``descriptor`` in ``buf[start:end]`` canonically.

    ``descriptor`` is a message ``Descriptor`` (``pb.SavedModel.DESCRIPTOR``).
    Raises :class:`CanonicalError` when the bytes are not a valid serialization.
    """
    if end is None:
        end = len(buf)
    t = table(descriptor)
    if end - start <= FAST_LIMIT:
        fast = fast_canonical(t, buf[start:end])
        if fast is not None:
            out = Encoded(buf)
            if fast == buf[start:end]:
                out.add_range(start, end)
            else:
                out.add_bytes(fast)
            return out
    try:
        return _encode_message(buf, start, end, t)
    except RecursionError as e:
        # Protobuf parsers stop at 100 nested messages; TensorFlow could not
        # read such a file either.
        raise CanonicalError("messages nested too deeply to re-serialize", start) from e


def canonical_bytes(message: Message) -> bytes:
    """The C++ deterministic serialization of ``message``."""
    data = message.SerializeToString()
    return encode(data, message.DESCRIPTOR).tobytes()


def _encode_message(buf: Buffer, start: int, end: int, table: MessageTable) -> Encoded:
    out = Encoded(buf)
    found = occurrences(buf, start, end)
    fields = table.fields

    # Group occurrences by field, resolving oneofs (the last member set wins and
    # discards what came before it).
    by_number: dict[int, list[Occurrence]] = {}
    unknown: list[Occurrence] = []
    oneof_current: dict[int, int] = {}
    for occ in found:
        f = fields.get(occ[0])
        if f is None or not _wire_type_fits(f, occ[1]):
            unknown.append(occ)
            continue
        if f.oneof >= 0:
            current = oneof_current.get(f.oneof)
            if current is not None and current != f.number:
                by_number.pop(current, None)
            oneof_current[f.oneof] = f.number
        by_number.setdefault(occ[0], []).append(occ)

    for number in sorted(by_number):
        _encode_field(buf, fields[number], by_number[number], out)
    for occ in unknown:
        out.add_range(occ[2], occ[4])
    return out


def _wire_type_fits(f: Field, wire_type: int) -> bool:
    expected = f.wire_type
    if wire_type == expected:
        return True
    # Repeated numeric fields accept both packed and unpacked encodings.
    return f.repeated and f.kind in ("varint", "i64", "i32") and wire_type == LEN


def _encode_field(buf: Buffer, f: Field, occs: list[Occurrence], out: Encoded) -> None:
    kind = f.kind
    if kind == "message":
        assert f.message is not None
        if f.repeated:
            for occ in occs:
                _emit_message(buf, f.number, f.message, occ, out)
        elif len(occs) == 1:
            _emit_message(buf, f.number, f.message, occs[0], out)
        else:
            # A singular message read several times is the merge of all of
            # them, which is what their concatenated payloads parse to.
            merged = b"".join(bytes(buf[o[3] : o[4]]) for o in occs)
            child = _encode_message(merged, 0, len(merged), f.message)
            out.add_bytes(encode_len_header(f.number, child.size))
            out.extend(child)
    elif kind == "map":
        _encode_map(buf, f, occs, out)
    elif kind == "len":
        if f.repeated:
            for occ in occs:
                _emit_len(buf, f.number, occ, out)
        else:
            occ = occs[-1]
            if occ[5] or f.presence:
                _emit_len(buf, f.number, occ, out)
    elif f.repeated:
        _encode_repeated_scalar(buf, f, occs, out)
    else:
        _encode_scalar(buf, f, occs[-1], out)


def _emit_message(
    buf: Buffer, number: int, table: MessageTable, occ: Occurrence, out: Encoded
) -> None:
    _, _, key_start, start, end, _ = occ
    if end - start <= FAST_LIMIT:
        data = buf[start:end]
        fast = fast_canonical(table, data)
        if fast is not None:
            if fast == data and _len_header_ok(number, key_start, start, end - start):
                out.add_range(key_start, end)
            else:
                out.add_bytes(encode_len_header(number, len(fast)) + fast)
            return
    child = _encode_message(buf, start, end, table)
    if child.is_range(start, end) and _len_header_ok(number, key_start, start, end - start):
        out.add_range(key_start, end)
        return
    out.add_bytes(encode_len_header(number, child.size))
    out.extend(child)


def _varint_size(value: int) -> int:
    return 1 if value < 0x80 else (value.bit_length() + 6) // 7


def _len_header_ok(number: int, key_start: int, start: int, length: int) -> bool:
    """True when a LEN field's key and length are minimally encoded."""
    return start - key_start == _varint_size(number << 3 | LEN) + _varint_size(length)


def _emit_len(buf: Buffer, number: int, occ: Occurrence, out: Encoded) -> None:
    _, _, key_start, start, end, length = occ
    if _len_header_ok(number, key_start, start, length):
        out.add_range(key_start, end)
    else:
        out.add_bytes(encode_len_header(number, length))
        out.add_range(start, end)


def _encode_scalar(buf: Buffer, f: Field, occ: Occurrence, out: Encoded) -> None:
    number, wire_type, key_start, start, end, raw = occ
    if f.kind == "varint":
        value = _normalize(f.vtype, raw)
        if value == 0 and not f.presence:
            return
        encoded = varint(value)
        if _header_ok(number, wire_type, key_start, start) and end - start == len(encoded):
            out.add_range(key_start, end)
        else:
            out.add_bytes(encode_key(number, VARINT) + encoded)
        return
    # Fixed-width: zero means all bits zero (so -0.0 is kept, as C++ does).
    if not f.presence and not any(buf[start:end]):
        return
    if _header_ok(number, wire_type, key_start, start):
        out.add_range(key_start, end)
    else:
        out.add_bytes(encode_key(number, wire_type))
        out.add_range(start, end)


def _encode_repeated_scalar(buf: Buffer, f: Field, occs: list[Occurrence], out: Encoded) -> None:
    number = f.number
    if f.packed and len(occs) == 1 and occs[0][1] == LEN:
        occ = occs[0]
        _, _, key_start, start, end, length = occ
        if length == 0:
            return
        if _packed_is_canonical(buf, f, start, end) and _len_header_ok(
            number, key_start, start, length
        ):
            out.add_range(key_start, end)
            return
    elements = _elements(buf, f, occs)
    if not elements:
        return
    if f.packed:
        payload = b"".join(elements)
        out.add_bytes(encode_len_header(number, len(payload)) + payload)
    else:
        key = encode_key(number, f.wire_type)
        out.add_bytes(b"".join(key + e for e in elements))


def _packed_is_canonical(buf: Buffer, f: Field, start: int, end: int) -> bool:
    data = bytes(buf[start:end])
    if f.kind == "i64":
        return len(data) % 8 == 0
    if f.kind == "i32":
        return len(data) % 4 == 0
    if not data or data[-1] >= 0x80:
        return False
    if f.vtype == "bool":
        return not data.strip(b"\x00\x01")
    if max(data) < 0x80:
        return True
    # Some multi-byte varints: decode and compare with the re-encoding.
    return _packed_varints(data, f.vtype) == data


def _packed_varints(data: bytes, vtype: str) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(data):
        value, pos = read_varint(data, pos, len(data))
        out += varint(_normalize(vtype, value))
    return bytes(out)


def _elements(buf: Buffer, f: Field, occs: list[Occurrence]) -> list[bytes]:
    """Every element of a repeated numeric field, canonically encoded, in order."""
    elements: list[bytes] = []
    width = 8 if f.kind == "i64" else 4
    for _number, wire_type, _key_start, start, end, raw in occs:
        if wire_type == LEN:
            data = bytes(buf[start:end])
            if f.kind == "varint":
                pos = 0
                while pos < len(data):
                    value, pos = read_varint(data, pos, len(data))
                    elements.append(varint(_normalize(f.vtype, value)))
            else:
                if len(data) % width:
                    raise CanonicalError(
                        f"packed field {f.name} is {len(data)} bytes, not a multiple of {width}",
                        start,
                    )
                elements.extend(data[i : i + width] for i in range(0, len(data), width))
        elif wire_type == VARINT:
            elements.append(varint(_normalize(f.vtype, raw)))
        else:
            elements.append(bytes(buf[start:end]))
    return elements


# -- maps --------------------------------------------------------------------


def _map_sort_key(f: Field, raw_key: object) -> object:
    """How C++ orders map keys: strings bytewise, integers by (signed) value."""
    if isinstance(raw_key, int) and f.vtype in ("int32", "int64", "sint32", "sint64"):
        bits = 32 if f.vtype in ("int32", "sint32") else 64
        if f.vtype.startswith("sint"):
            return (raw_key >> 1) ^ -(raw_key & 1)
        v = raw_key & ((1 << bits) - 1)
        return v - (1 << bits) if v >= 1 << (bits - 1) else v
    return raw_key


def _encode_map(buf: Buffer, f: Field, occs: list[Occurrence], out: Encoded) -> None:
    key_f, value_f = f.map_key, f.map_value
    assert key_f is not None and value_f is not None
    # Duplicate keys: the last entry wins, as when the map is parsed.
    entries: dict[object, Encoded] = {}
    for occ in occs:
        map_key, encoded = _encode_entry(buf, key_f, value_f, occ)
        entries[map_key] = encoded
    for map_key in sorted(entries, key=lambda k: _map_sort_key(key_f, k)):  # type: ignore[arg-type,return-value]
        out.extend(entries[map_key])


def _encode_entry(
    buf: Buffer, key_f: Field, value_f: Field, occ: Occurrence
) -> tuple[object, Encoded]:
    """One map entry: its sort key and its canonical encoding as a whole field."""
    number, _, key_start, start, end, length = occ
    fields = occurrences(buf, start, end)
    key_occs = [o for o in fields if o[0] == 1 and o[1] == key_f.wire_type]
    value_occs = [o for o in fields if o[0] == 2 and _wire_type_fits(value_f, o[1])]
    body = Encoded(buf)

    # Key: always written, even when it is the default.
    if key_occs:
        k = key_occs[-1]
        if key_f.kind == "varint":
            raw_key: object = _normalize(key_f.vtype, k[5])
        else:
            raw_key = bytes(buf[k[3] : k[4]])
        _emit_entry_scalar(buf, key_f, k, raw_key, body)
    else:
        raw_key = 0 if key_f.kind == "varint" else b""
        body.add_bytes(_default_entry_field(key_f, 1))

    # Value: always written too; a message value is the merge of its occurrences.
    if value_f.kind == "message":
        assert value_f.message is not None
        if len(value_occs) == 1:
            _emit_message(buf, 2, value_f.message, value_occs[0], body)
        else:
            merged = b"".join(bytes(buf[o[3] : o[4]]) for o in value_occs)
            child = _encode_message(merged, 0, len(merged), value_f.message)
            body.add_bytes(encode_len_header(2, child.size))
            body.extend(child)
    elif value_occs:
        v = value_occs[-1]
        raw_value: object = (
            _normalize(value_f.vtype, v[5]) if value_f.kind == "varint" else bytes(buf[v[3] : v[4]])
        )
        _emit_entry_scalar(buf, value_f, v, raw_value, body)
    else:
        body.add_bytes(_default_entry_field(value_f, 2))

    entry = Encoded(buf)
    if body.is_range(start, end) and _len_header_ok(number, key_start, start, length):
        entry.add_range(key_start, end)
    else:
        entry.add_bytes(encode_len_header(number, body.size))
        entry.extend(body)
    return raw_key, entry


def _emit_entry_scalar(buf: Buffer, f: Field, occ: Occurrence, value: object, out: Encoded) -> None:
    number, wire_type, key_start, start, end, _raw = occ
    if f.kind == "varint":
        assert isinstance(value, int)
        encoded = varint(value)
        if _header_ok(number, wire_type, key_start, start) and end - start == len(encoded):
            out.add_range(key_start, end)
        else:
            out.add_bytes(encode_key(number, VARINT) + encoded)
    elif f.kind == "len":
        _emit_len(buf, number, occ, out)
    elif _header_ok(number, wire_type, key_start, start):
        out.add_range(key_start, end)
    else:
        out.add_bytes(encode_key(number, wire_type))
        out.add_range(start, end)


def _default_entry_field(f: Field, number: int) -> bytes:
    if f.kind == "varint":
        return encode_key(number, VARINT) + b"\x00"
    if f.kind == "i64":
        return encode_key(number, I64) + b"\x00" * 8
    if f.kind == "i32":
        return encode_key(number, I32) + b"\x00" * 4
    return encode_key(number, LEN) + b"\x00"
