"""Per-message-type field tables for the canonical re-encoder, and its protobuf fast path.

:mod:`smlite.formats.canonical` re-encodes serialized messages driven by a
table per message type (built once from the descriptor).  Walking every field
in Python costs about a microsecond per field, so small submessages are first
offered to protobuf's C parser (upb): parsed, and serialized with
``deterministic=True``.  upb's deterministic output is the C++ canonical form
(fields in number order, packed, minimal varints, zero scalars dropped, unknown
fields last) in every respect but one: it orders map keys differently when a
string key is a prefix of another (``"ab"`` before ``"a"``) and puts integer
keys in descending order (formats.md 5.4).  So the fast path is taken only
when every map in the submessage has at most one entry or string keys none of
which is a prefix of another -- then every sorted order is the same -- and the
Python walk handles the rest.  tests/core/test_canonical.py checks that both
paths give the same bytes on every fixture.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from smlite.formats.wire import (
    I32,
    I64,
    LEN,
    VARINT,
    encode_key,
    encode_len_header,
    encode_varint,
    occurrences,
)

__all__ = ["FAST_LIMIT", "Field", "MessageTable", "fast_canonical", "table"]

_M64 = (1 << 64) - 1
#: Submessages up to this size take the protobuf fast path (bigger ones are mostly
#: tensor payload, which the Python walk passes through without copying).
FAST_LIMIT = 4 << 20

VARINT_TYPES = {
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_ENUM: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_SINT32: "sint32",
    FieldDescriptor.TYPE_SINT64: "sint64",
    FieldDescriptor.TYPE_BOOL: "bool",
}
I64_TYPES = (
    FieldDescriptor.TYPE_DOUBLE,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
)
I32_TYPES = (
    FieldDescriptor.TYPE_FLOAT,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_SFIXED32,
)


@dataclass(slots=True)
class Field:
    number: int
    name: str
    #: "message", "map", "len" (string/bytes), "varint", "i64" or "i32".
    kind: str
    repeated: bool
    packed: bool
    presence: bool
    #: Normalization of varints ("int32", "uint64", "bool", ...).
    vtype: str
    #: Oneof index within the message, or -1.
    oneof: int
    message: MessageTable | None = None
    map_key: Field | None = None
    map_value: Field | None = None

    @property
    def wire_type(self) -> int:
        return {"varint": VARINT, "i64": I64, "i32": I32}.get(self.kind, LEN)


@dataclass(slots=True)
class MessageTable:
    name: str
    fields: dict[int, Field]
    descriptor: Descriptor
    #: The fields through which a map can be reached, as (name, kind, value table):
    #: kind is "map", "int_map" (non-string keys), "repeated" or "message".
    map_paths: tuple[tuple[str, str, MessageTable | None], ...] | None = None
    #: The oneof that holds every field of ``map_paths``, if there is one.
    map_oneof: str | None = None
    map_names: frozenset[str] = frozenset()
    message_class: Any = field(default=None, repr=False)


_TABLES: dict[str, MessageTable] = {}


def table(desc: Descriptor) -> MessageTable:
    table = _TABLES.get(desc.full_name)
    if table is not None:
        return table
    table = MessageTable(desc.full_name, {}, desc)
    # Registered before the fields are filled in: messages may be recursive.
    _TABLES[desc.full_name] = table
    oneofs = {o.full_name: i for i, o in enumerate(desc.oneofs)}
    for fd in desc.fields:
        table.fields[fd.number] = _field(fd, oneofs)
    return table


def _field(fd: FieldDescriptor, oneofs: dict[str, int]) -> Field:
    repeated = bool(fd.is_repeated)
    oneof = oneofs.get(fd.containing_oneof.full_name, -1) if fd.containing_oneof else -1
    base = Field(
        number=fd.number,
        name=fd.name,
        kind="len",
        repeated=repeated,
        packed=bool(fd.is_packed),
        presence=bool(fd.has_presence),
        vtype="",
        oneof=oneof,
    )
    if fd.type == FieldDescriptor.TYPE_GROUP:
        raise NotImplementedError(f"group field {fd.full_name} is not supported")
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        sub = fd.message_type
        assert sub is not None
        if sub.GetOptions().map_entry:
            base.kind = "map"
            base.map_key = _field(sub.fields_by_number[1], {})
            base.map_value = _field(sub.fields_by_number[2], {})
        else:
            base.kind = "message"
            base.message = table(sub)
    elif fd.type in VARINT_TYPES:
        base.kind = "varint"
        base.vtype = VARINT_TYPES[fd.type]
    elif fd.type in I64_TYPES:
        base.kind = "i64"
    elif fd.type in I32_TYPES:
        base.kind = "i32"
    return base


# ---------------------------------------------------------------------------
# The protobuf fast path.
# ---------------------------------------------------------------------------


def _reachable(desc: Descriptor) -> list[Descriptor]:
    """Every message type reachable from ``desc`` through its fields, ``desc`` included."""
    seen = {desc.full_name: desc}
    todo = [desc]
    while todo:
        for fd in todo.pop().fields:
            sub = fd.message_type
            if sub is not None and sub.full_name not in seen:
                seen[sub.full_name] = sub
                todo.append(sub)
    return list(seen.values())


def _has_map(desc: Descriptor) -> bool:
    return any(
        fd.message_type is not None and fd.message_type.GetOptions().map_entry for fd in desc.fields
    )


def _has_int_map(desc: Descriptor) -> bool:
    return any(
        fd.message_type is not None
        and fd.message_type.GetOptions().map_entry
        and fd.message_type.fields_by_number[1].type != FieldDescriptor.TYPE_STRING
        for fd in desc.fields
    )


def _map_paths(t: MessageTable) -> tuple[tuple[str, str, MessageTable | None], ...]:
    if t.map_paths is None:
        reaches = {d.full_name for d in _reachable(t.descriptor) if _has_map(d)}
        paths: list[tuple[str, str, MessageTable | None]] = []
        for f in sorted(t.fields.values(), key=lambda f: f.number):
            if f.kind == "map":
                assert f.map_key is not None and f.map_value is not None
                value = f.map_value.message
                if value is not None and not _reaches_map(value):
                    value = None
                paths.append((f.name, "map" if f.map_key.kind == "len" else "int_map", value))
            elif f.kind == "message" and f.message is not None:
                sub = f.message.descriptor
                if any(d.full_name in reaches for d in _reachable(sub)):
                    paths.append((f.name, "repeated" if f.repeated else "message", f.message))
        # Fail fast: this message's own maps first, then the fields that lead to integer-keyed
        # maps (FunctionDef.arg_attr: the usual disorder), then the rest.
        int_maps = {d.full_name for d in _reachable(t.descriptor) if _has_int_map(d)}

        def rank(path: tuple[str, str, MessageTable | None]) -> int:
            if path[1] in ("map", "int_map"):
                return 0
            sub = path[2]
            assert sub is not None
            return 1 if any(d.full_name in int_maps for d in _reachable(sub.descriptor)) else 2

        t.map_paths = tuple(sorted(paths, key=rank))
        oneofs = {t.descriptor.fields_by_name[name].containing_oneof for name, _, _ in paths}
        if len(oneofs) == 1 and None not in oneofs:
            t.map_oneof = next(iter(oneofs)).name  # type: ignore[union-attr]
            t.map_names = frozenset(name for name, _, _ in paths)
    return t.map_paths


def _reaches_map(t: MessageTable) -> bool:
    return any(_has_map(d) for d in _reachable(t.descriptor))


def _maps_sort_alike(message: Any, t: MessageTable, own_maps: bool = True) -> bool:
    """True when every map in ``message`` has one order under any bytewise-consistent sort.

    ``own_maps=False`` leaves out the key order of ``message``'s own maps (their
    values are still checked): :func:`_own_maps_encoded_here` writes those.
    """
    paths = t.map_paths if t.map_paths is not None else _map_paths(t)
    if t.map_oneof is not None:
        # All the ways to a map are members of one oneof (AttrValue: list, func).
        chosen = message.WhichOneof(t.map_oneof)
        if chosen is None:
            return True
        paths = tuple(p for p in paths if p[0] == chosen)
    for name, kind, sub in paths:
        if kind == "message":
            assert sub is not None
            if message.HasField(name) and not _maps_sort_alike(getattr(message, name), sub):
                return False
            continue
        value = getattr(message, name)
        if kind == "repeated":
            assert sub is not None
            for item in value:
                if not _maps_sort_alike(item, sub):
                    return False
            continue
        if own_maps and len(value) > 1:
            if kind == "int_map":
                return False
            keys = sorted(value)  # code-point order is UTF-8 byte order
            for a, b in itertools.pairwise(keys):
                if b.startswith(a):
                    return False
        if sub is None:
            continue
        oneof = sub.map_oneof
        if oneof is None:
            for key in value:
                if not _maps_sort_alike(value[key], sub):
                    return False
            continue
        # The common case, inlined: map values (AttrValue) that hold no map at all.
        names = sub.map_names
        for key in value:
            item = value[key]
            if item.WhichOneof(oneof) in names and not _maps_sort_alike(item, sub):
                return False
    return True


def fast_canonical(t: MessageTable, data: Any) -> bytes | None:
    """The canonical bytes of the message ``data`` holds, by protobuf; None if not applicable.

    None when protobuf rejects the bytes (damage, invalid UTF-8, too deep) or a
    map in it would sort differently in upb than in C++: the caller's Python
    walk then decides, and locates any damage.
    """
    from google.protobuf.message import DecodeError

    cls = t.message_class
    if cls is None:
        from google.protobuf.message_factory import GetMessageClass

        cls = t.message_class = GetMessageClass(t.descriptor)
    try:
        message = cls.FromString(data)
    except (DecodeError, ValueError, RecursionError):
        return None
    if _maps_sort_alike(message, t):
        return bytes(message.SerializeToString(deterministic=True))
    return _own_maps_encoded_here(message, t)


def _own_maps_encoded_here(message: Any, t: MessageTable) -> bytes | None:
    """Canonical bytes when only ``message``'s own maps are in the wrong order for upb.

    FunctionDef's ``arg_attr`` (integer keys) and ``ret`` (``"x"``, ``"x_1"``)
    are the usual case: the maps are encoded here in C++ key order, cleared, and
    spliced by field number into upb's deterministic serialization of the rest.
    None when a nested map is the problem, or the message holds unknown fields
    (which both runtimes write last, after the maps).
    """
    from google.protobuf.unknown_fields import UnknownFieldSet

    if not _maps_sort_alike(message, t, own_maps=False) or len(UnknownFieldSet(message)):
        return None
    maps: list[tuple[int, bytes]] = []
    for f in sorted(t.fields.values(), key=lambda f: f.number):
        if f.kind != "map":
            continue
        container = getattr(message, f.name)
        if not len(container):
            continue
        encoded = _map_bytes(f, container)
        if encoded is None:
            return None
        maps.append((f.number, encoded))
        message.ClearField(f.name)
    rest = bytes(message.SerializeToString(deterministic=True))
    fields = occurrences(rest, 0, len(rest))
    out = bytearray()
    pos = i = 0
    for number, encoded in maps:
        while i < len(fields) and fields[i][0] < number:
            i += 1
        cut = fields[i][2] if i < len(fields) else len(rest)
        out += rest[pos:cut]
        out += encoded
        pos = cut
    out += rest[pos:]
    return bytes(out)


def _map_bytes(f: Field, container: Any) -> bytes | None:
    """Every entry of a parsed map, key and value always written, keys in C++ order."""
    key_f, value_f = f.map_key, f.map_value
    assert key_f is not None and value_f is not None
    parts: list[bytes] = []
    # Strings sort by code point, which is their UTF-8 byte order; numbers by value.
    for key in sorted(container):
        key_bytes = _scalar(key_f, 1, key)
        value = container[key]
        if value_f.kind == "message":
            data = value.SerializeToString(deterministic=True)
            value_bytes: bytes | None = encode_len_header(2, len(data)) + data
        else:
            value_bytes = _scalar(value_f, 2, value)
        if key_bytes is None or value_bytes is None:
            return None
        entry = key_bytes + value_bytes
        parts.append(encode_len_header(f.number, len(entry)) + entry)
    return b"".join(parts)


def _scalar(f: Field, number: int, value: Any) -> bytes | None:
    """One string or integer map key/value as a field; None for the kinds left to the walk."""
    if f.kind == "len":
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return encode_len_header(number, len(data)) + data
    if f.kind != "varint":
        return None  # float, double and fixed-width keys or values: rare, the walk writes them
    if f.vtype in ("sint32", "sint64"):
        bits = 32 if f.vtype == "sint32" else 64
        raw = ((value << 1) ^ (value >> (bits - 1))) & ((1 << bits) - 1)
    else:
        raw = int(value) & _M64  # negative int32/int64 as their 10-byte two's complement
    return encode_key(number, VARINT) + encode_varint(raw)
