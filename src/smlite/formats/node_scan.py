"""Every node of a serialized GraphDef with its inputs, function references and string attributes.

:mod:`smlite.formats.graph_scan` lists ops; auditing a graph needs a little
more of each node -- where its inputs come from (to follow a filename back to
a constant or a function argument, or to find a saver's nodes) and a few
string-valued attributes (``PrintV2.output_stream``, ``debug_urls``, ...) --
still without parsing the graph or copying its constants.  Each node keeps
its byte span so that the few nodes that need a full look can be parsed on
their own.

Wire layout read here::

    GraphDef           := { 1: NodeDef node*, 2: FunctionDefLibrary library }
    FunctionDefLibrary := { 1: FunctionDef function*, 2: GradientDef gradient* }
    GradientDef        := { 1: string function_name, 2: string gradient_func }
    FunctionDef        := { 1: OpDef signature, 3: NodeDef node_def* }
    OpDef              := { 1: string name, 2: ArgDef input_arg* }
    ArgDef             := { 1: string name }
    NodeDef            := { 1: string name, 2: string op, 3: string input*,
                            5: map<string, AttrValue> attr }
    map entry          := { 1: string key, 2: AttrValue value }
    AttrValue          := { 1: ListValue list { 2: bytes s*, 9: NameAttrList func* },
                            2: bytes s, 10: NameAttrList func }
    NameAttrList       := { 1: string name }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smlite.formats import wire

# NodeDefs up to this size are decoded by protobuf's C parser (upb), several times faster
# than walking them in Python; bigger ones (constants holding tensors) are walked with
# the wire scanner, which skips their payload without copying it.
_FAST_NODE_LIMIT = 256 * 1024

__all__ = [
    "FunctionNodes",
    "GraphNodes",
    "Node",
    "parse_or_none",
    "scan_function",
    "scan_node",
    "scan_nodes",
]


@dataclass(frozen=True, slots=True)
class Node:
    """One NodeDef of the graph or of a function body."""

    name: str
    op: str
    #: Input references as written: ``"x:0"``, ``"^ctrl"``, in functions ``"n:output:0"``.
    inputs: tuple[str, ...]
    #: ``(attr name, function name)`` for every function-valued attribute (single or list).
    function_attrs: tuple[tuple[str, str], ...]
    #: ``(attr name, values)`` for the string-valued attributes asked for.
    string_attrs: tuple[tuple[str, tuple[bytes, ...]], ...]
    #: Byte span of the serialized NodeDef in the scanned buffer.
    span: tuple[int, int]

    def attr_strings(self, name: str) -> tuple[bytes, ...] | None:
        for key, values in self.string_attrs:
            if key == name:
                return values
        return None


@dataclass(frozen=True, slots=True)
class FunctionNodes:
    """A library function: its argument names and its body."""

    name: str
    args: tuple[str, ...]
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class GraphNodes:
    nodes: tuple[Node, ...]
    functions: Mapping[str, FunctionNodes]
    #: ``(function name, gradient function name)`` pairs of the library.
    gradients: tuple[tuple[str, str], ...]


def _text(buf: wire.Buffer, start: int, end: int) -> str:
    return bytes(buf[start:end]).decode("utf-8", "surrogateescape")


def _func_name(buf: wire.Buffer, start: int, end: int) -> str:
    name = ""
    for f in wire.iter_fields(buf, start, end):
        if f.number == 1 and f.wire_type == wire.LEN:
            name = _text(buf, f.start, f.end)
    return name


def _attr_value(
    buf: wire.Buffer, start: int, end: int, want_strings: bool
) -> tuple[list[str], list[bytes], bool]:
    """Functions and (if wanted) strings of an AttrValue; the flag says it held strings."""
    funcs: list[str] = []
    strings: list[bytes] = []
    has_strings = False
    for f in wire.iter_fields(buf, start, end):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 10:
            funcs.append(_func_name(buf, f.start, f.end))
        elif f.number == 2 and want_strings:
            strings.append(bytes(buf[f.start : f.end]))
            has_strings = True
        elif f.number == 1:
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.wire_type != wire.LEN:
                    continue
                if g.number == 9:
                    funcs.append(_func_name(buf, g.start, g.end))
                elif g.number == 2 and want_strings:
                    strings.append(bytes(buf[g.start : g.end]))
                    has_strings = True
    return funcs, strings, has_strings


def _node(buf: wire.Buffer, start: int, end: int, string_attrs: frozenset[str]) -> Node:
    if end - start <= _FAST_NODE_LIMIT:
        node = _parsed_node(buf, start, end, string_attrs)
        if node is not None:
            return node
    return _scanned_node(buf, start, end, string_attrs)


def parse_or_none(message: Any, buf: wire.Buffer, start: int, end: int) -> Any:
    """``message`` decoded from ``buf[start:end]`` by protobuf, or None where it rejects them.

    Rejected bytes (invalid UTF-8 in a name, damage) are for the wire scanner,
    which reads what can be read and reports damage with its offset.
    """
    from google.protobuf.message import DecodeError

    try:
        return message.FromString(buf[start:end])
    except (DecodeError, ValueError):
        return None


def _parsed_node(
    buf: wire.Buffer, start: int, end: int, string_attrs: frozenset[str]
) -> Node | None:
    """The node decoded by protobuf, or None if protobuf rejects it.

    Rejected nodes (invalid UTF-8 in a name, a damaged field anywhere in the
    node) go through :func:`_scanned_node`, which reads what can be read and
    reports damage with its offset, so both paths give the same answers.
    Attributes are visited in key order: the order in which TensorFlow
    serializes a map.
    """
    from smlite import pb

    msg = parse_or_none(pb.NodeDef, buf, start, end)
    if msg is None:
        return None
    funcs: list[tuple[str, str]] = []
    strings: list[tuple[str, tuple[bytes, ...]]] = []
    attrs = msg.attr
    for key in sorted(attrs):
        value = attrs[key]
        kind = value.WhichOneof("value")
        if kind == "func":
            funcs.append((key, value.func.name))
        elif kind == "list":
            listed = value.list
            funcs.extend((key, f.name) for f in listed.func)
            if key in string_attrs and len(listed.s):
                strings.append((key, tuple(listed.s)))
        elif kind == "s" and key in string_attrs:
            strings.append((key, (value.s,)))
    return Node(msg.name, msg.op, tuple(msg.input), tuple(funcs), tuple(strings), (start, end))


def _scanned_node(buf: wire.Buffer, start: int, end: int, string_attrs: frozenset[str]) -> Node:
    name = op = ""
    inputs: list[str] = []
    funcs: list[tuple[str, str]] = []
    strings: list[tuple[str, tuple[bytes, ...]]] = []
    for f in wire.iter_fields(buf, start, end):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 1:
            name = _text(buf, f.start, f.end)
        elif f.number == 2:
            op = _text(buf, f.start, f.end)
        elif f.number == 3:
            inputs.append(_text(buf, f.start, f.end))
        elif f.number == 5:
            key = ""
            value: tuple[int, int] | None = None
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.wire_type != wire.LEN:
                    continue
                if g.number == 1:
                    key = _text(buf, g.start, g.end)
                elif g.number == 2:
                    value = (g.start, g.end)
            if value is None:
                continue
            fns, strs, has_strings = _attr_value(buf, value[0], value[1], key in string_attrs)
            funcs.extend((key, fn) for fn in fns)
            if has_strings:
                strings.append((key, tuple(strs)))
    return Node(name, op, tuple(inputs), tuple(funcs), tuple(strings), (start, end))


def scan_node(
    buf: wire.Buffer, start: int, end: int, string_attrs: frozenset[str] = frozenset()
) -> Node:
    """The NodeDef serialized in ``buf[start:end]``.  Raises :class:`wire.WireError`."""
    return _node(buf, start, end, string_attrs)


def scan_function(
    buf: wire.Buffer, start: int, end: int, string_attrs: frozenset[str] = frozenset()
) -> FunctionNodes:
    """The FunctionDef serialized in ``buf[start:end]``.  Raises :class:`wire.WireError`."""
    return _function(buf, start, end, string_attrs)


def _function(
    buf: wire.Buffer, start: int, end: int, string_attrs: frozenset[str]
) -> FunctionNodes:
    name = ""
    args: list[str] = []
    nodes: list[Node] = []
    for f in wire.iter_fields(buf, start, end):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 1:
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.wire_type != wire.LEN:
                    continue
                if g.number == 1:
                    name = _text(buf, g.start, g.end)
                elif g.number == 2:
                    args.append(_func_name(buf, g.start, g.end))
        elif f.number == 3:
            nodes.append(_node(buf, f.start, f.end, string_attrs))
    return FunctionNodes(name, tuple(args), tuple(nodes))


def scan_nodes(buf: wire.Buffer, *, string_attrs: frozenset[str] = frozenset()) -> GraphNodes:
    """Scan a serialized GraphDef.  Raises :class:`wire.WireError` on bad bytes.

    ``string_attrs`` names the attributes whose string values (``s`` or
    ``list.s``) are collected.
    """
    nodes: list[Node] = []
    functions: dict[str, FunctionNodes] = {}
    gradients: list[tuple[str, str]] = []
    for f in wire.iter_fields(buf):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 1:
            nodes.append(_node(buf, f.start, f.end, string_attrs))
        elif f.number == 2:
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.wire_type != wire.LEN:
                    continue
                if g.number == 1:
                    fn = _function(buf, g.start, g.end, string_attrs)
                    functions[fn.name] = fn
                elif g.number == 2:
                    pair = ["", ""]
                    for h in wire.iter_fields(buf, g.start, g.end):
                        if h.wire_type == wire.LEN and h.number in (1, 2):
                            pair[h.number - 1] = _text(buf, h.start, h.end)
                    gradients.append((pair[0], pair[1]))
    return GraphNodes(tuple(nodes), functions, tuple(gradients))
