"""One NodeDef as the graph index keeps it: name, op, inputs, function references, attributes.

Wire layout read here::

    NodeDef      := { 1: string name, 2: string op, 3: string input*,
                      5: map<string, AttrValue> attr }
    map entry    := { 1: string key, 2: AttrValue value }
    AttrValue    := { 1: ListValue list, 2: bytes s, 3: int64 i, 5: bool b,
                      6: DataType type, 10: NameAttrList func }
    ListValue    := { 2: bytes s*, 6: DataType type* (packed or not),
                      9: NameAttrList func* }
    NameAttrList := { 1: string name }

NodeDefs up to :data:`FAST_NODE_LIMIT` bytes are decoded by protobuf's C
parser (upb), several times faster than a walk in Python; bigger ones
(constants holding tensors) and ones protobuf rejects (invalid UTF-8, damage)
are walked with the wire scanner, which skips payloads without copying them
and reports damage with its offset.  Both paths give equal nodes (tested on
every fixture).  :mod:`smlite.formats.graph_index` indexes whole graphs of them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from smlite.formats import wire

__all__ = [
    "FAST_NODE_LIMIT",
    "AttrKind",
    "Node",
    "func_name",
    "parse_or_none",
    "parsed_call_function",
    "parsed_node",
    "read_node",
]

FAST_NODE_LIMIT = 256 * 1024

#: An attribute value as kept by the index: ``s`` (bytes), ``list`` (its strings and
#: the number of its types), ``i`` (int), ``b`` (bool) or ``type`` (a DataType number).
AttrKind = str


class Node(NamedTuple):
    """One NodeDef of the graph or of a function body.

    A named tuple rather than a frozen dataclass: graphs have 10^5 nodes and
    a tuple is built in C.
    """

    name: str
    op: str
    #: Input references as written: ``"x:0"``, ``"^ctrl"``, in functions ``"n:output:0"``.
    inputs: tuple[str, ...]
    #: ``(attr name, function name)`` for every function-valued attribute (func and list(func)).
    function_attrs: tuple[tuple[str, str], ...]
    #: ``(attr name, kind, value)`` for the scalar and list attributes; see :data:`AttrKind`.
    attrs: tuple[tuple[str, AttrKind, Any], ...]
    #: Byte span of the serialized NodeDef in the indexed buffer.
    span: tuple[int, int]

    def _attr(self, name: str, kind: str) -> Any:
        for key, k, value in self.attrs:
            if key == name and k == kind:
                return value
        return None

    def attr_strings(self, name: str) -> tuple[bytes, ...] | None:
        """The strings of attribute ``name`` (``s`` or a non-empty ``list.s``), or None."""
        for key, kind, value in self.attrs:
            if key == name:
                if kind == "s":
                    return (value,)
                if kind == "list" and value[0]:
                    return value[0]
        return None

    def attr_bytes(self, name: str) -> bytes | None:
        """The ``s`` value of attribute ``name``, or None."""
        return self._attr(name, "s")

    def attr_int(self, name: str) -> int | None:
        return self._attr(name, "i")

    def attr_bool(self, name: str) -> bool | None:
        return self._attr(name, "b")

    def attr_type(self, name: str) -> int:
        """The DataType number of attribute ``name`` (0, DT_INVALID, when absent)."""
        return self._attr(name, "type") or 0

    def type_list_length(self, name: str) -> int | None:
        """How many types the list attribute ``name`` holds; None when it is not a list."""
        value = self._attr(name, "list")
        return None if value is None else value[1]

    def attr_function(self, name: str) -> str | None:
        """The first function attribute ``name`` names (``f`` of a call op), or None."""
        for key, fn in self.function_attrs:
            if key == name:
                return fn
        return None


def parsed_call_function(msg: Any) -> str | None:
    """The first function the ``f`` attribute of a decoded NodeDef names, as attr_function."""
    if "f" not in msg.attr:
        return None
    value = msg.attr["f"]
    kind = value.WhichOneof("value")
    if kind == "func":
        return str(value.func.name)
    if kind == "list" and len(value.list.func):
        return str(value.list.func[0].name)
    return None


def parse_or_none(message: Any, buf: wire.Buffer, start: int, end: int) -> Any:
    """``message`` decoded from ``buf[start:end]`` by protobuf, or None where it rejects them.

    Rejected bytes (invalid UTF-8 in a name, damage) are for the wire scanner,
    which reads what can be read and reports damage with its offset.
    """
    from google.protobuf.message import DecodeError

    try:
        return message.FromString(buf[start:end])
    except (DecodeError, ValueError, RecursionError):
        return None


def read_node(buf: wire.Buffer, start: int, end: int) -> Node:
    """The NodeDef serialized in ``buf[start:end]``.  Raises :class:`wire.WireError`."""
    if end - start <= FAST_NODE_LIMIT:
        from smlite import pb

        msg = parse_or_none(pb.NodeDef, buf, start, end)
        if msg is not None:
            return parsed_node(msg, (start, end))
    return _scanned_node(buf, start, end)


def parsed_node(msg: Any, span: tuple[int, int]) -> Node:
    """The index entry of a NodeDef decoded by protobuf, attributes in key order.

    Key order is the order in which TensorFlow serializes a map, so the wire
    scanner (which keeps file order, then sorts) gives the same tuples.
    """
    attr_map = msg.attr
    if not attr_map:
        return Node(msg.name, msg.op, tuple(msg.input), (), (), span)
    funcs: list[tuple[str, str]] = []
    attrs: list[tuple[str, str, Any]] = []
    for key in sorted(attr_map) if len(attr_map) > 1 else attr_map:
        value = attr_map[key]
        kind = value.WhichOneof("value")
        if kind in _SCALARS:
            attrs.append((key, kind, getattr(value, kind)))
        elif kind == "list":
            listed = value.list
            if listed.func:
                funcs.extend((key, f.name) for f in listed.func)
            attrs.append((key, "list", (tuple(listed.s), len(listed.type))))
        elif kind == "func":
            funcs.append((key, value.func.name))
    return Node(msg.name, msg.op, tuple(msg.input), tuple(funcs), tuple(attrs), span)


_SCALARS = frozenset({"s", "i", "b", "type"})


def func_name(buf: wire.Buffer, start: int, end: int) -> str:
    """The ``name`` (field 1) of a NameAttrList, or of an OpDef or ArgDef."""
    name = ""
    for f in wire.iter_fields(buf, start, end):
        if f.number == 1 and f.wire_type == wire.LEN:
            name = wire.read_string(buf, f.start, f.end)
    return name


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _count_varints(buf: wire.Buffer, start: int, end: int) -> int:
    # A packed varint run: one value per byte below 0x80.
    return sum(1 for b in bytes(buf[start:end]) if b < 0x80)


def _scanned_value(
    buf: wire.Buffer, key: str, start: int, end: int, funcs: list[tuple[str, str]]
) -> tuple[str, Any] | None:
    """One AttrValue read from the wire: its kept ``(kind, value)``; functions go to ``funcs``.

    Like protobuf, the last member of the ``value`` oneof read is the one set.
    """
    kept: tuple[str, Any] | None = None
    for a in wire.iter_fields(buf, start, end):
        number, wire_type = a.number, a.wire_type
        if wire_type == wire.LEN:
            if number == 10:
                funcs.append((key, func_name(buf, a.start, a.end)))
                kept = None
            elif number == 1:
                strings: list[bytes] = []
                types = 0
                if kept is not None and kept[0] == "list":  # a repeated list merges
                    strings, types = list(kept[1][0]), kept[1][1]
                for item in wire.iter_fields(buf, a.start, a.end):
                    if item.number == 2 and item.wire_type == wire.LEN:
                        strings.append(bytes(buf[item.start : item.end]))
                    elif item.number == 6:
                        if item.wire_type == wire.VARINT:
                            types += 1
                        elif item.wire_type == wire.LEN:
                            types += _count_varints(buf, item.start, item.end)
                    elif item.number == 9 and item.wire_type == wire.LEN:
                        funcs.append((key, func_name(buf, item.start, item.end)))
                kept = ("list", (tuple(strings), types))
            elif number == 2:
                kept = ("s", bytes(buf[a.start : a.end]))
            elif number in (7, 8, 9):  # shape, tensor, placeholder
                kept = None
        elif wire_type == wire.VARINT:
            if number == 3:
                kept = ("i", _signed(a.value))
            elif number == 5:
                kept = ("b", bool(a.value))
            elif number == 6:
                kept = ("type", _int32(a.value))
        elif wire_type == wire.I32 and number == 4:  # f
            kept = None
    return kept


def _scanned_node(buf: wire.Buffer, start: int, end: int) -> Node:
    name = op = ""
    inputs: list[str] = []
    funcs: list[tuple[str, str]] = []
    attrs: list[tuple[str, str, Any]] = []
    for f in wire.iter_fields(buf, start, end):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 1:
            name = wire.read_string(buf, f.start, f.end)
        elif f.number == 2:
            op = wire.read_string(buf, f.start, f.end)
        elif f.number == 3:
            inputs.append(wire.read_string(buf, f.start, f.end))
        elif f.number == 5:
            key = ""
            value: tuple[int, int] | None = None
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.wire_type != wire.LEN:
                    continue
                if g.number == 1:
                    key = wire.read_string(buf, g.start, g.end)
                elif g.number == 2:
                    value = (g.start, g.end)
            if value is None:
                continue
            kept = _scanned_value(buf, key, value[0], value[1], funcs)
            if kept is not None:
                attrs.append((key, *kept))
    # Key order, as the parsed path (files written by upb put "Tindices" before "T").
    funcs.sort(key=lambda pair: pair[0])
    attrs.sort(key=lambda item: item[0])
    return Node(name, op, tuple(inputs), tuple(funcs), tuple(attrs), (start, end))
