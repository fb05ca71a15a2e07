"""One pass over a serialized GraphDef: every node of the graph and of its function library.

Every reader of a graph asks this index (built once per meta graph):
``show --list_ops`` (op types and calls), ``scan`` (inputs, string
attributes, function references), the loaded-function naming of
:mod:`smlite.model.functions` (int and type-list attributes, gradients) and
the fingerprint's regularization (op, ``dtype`` and each node's byte span) --
without parsing the graph as a whole or copying its constants.

Wire layout read here::

    GraphDef           := { 1: NodeDef node*, 2: FunctionDefLibrary library }
    FunctionDefLibrary := { 1: FunctionDef function*, 2: GradientDef gradient*,
                            3: RegisteredGradient registered_gradients* }
    GradientDef        := { 1: string function_name, 2: string gradient_func }
    RegisteredGradient := { 1: string gradient_func, 2: string registered_op_type }
    FunctionDef        := { 1: OpDef signature, 3: NodeDef node_def* }
    OpDef              := { 1: string name, 2: ArgDef input_arg*, 3: ArgDef output_arg* }
    ArgDef             := { 1: string name }
    NodeDef            := { 1: string name, 2: string op, 3: string input*,
                            5: map<string, AttrValue> attr }
    map entry          := { 1: string key, 2: AttrValue value }
    AttrValue          := { 1: ListValue list, 2: bytes s, 3: int64 i, 5: bool b,
                            6: DataType type, 10: NameAttrList func }
    ListValue          := { 2: bytes s*, 6: DataType type* (packed or not),
                            9: NameAttrList func* }
    NameAttrList       := { 1: string name }

NodeDefs up to :data:`_FAST_NODE_LIMIT` bytes are decoded by protobuf's C
parser (upb), several times faster than a walk in Python; bigger ones
(constants holding tensors) and ones protobuf rejects (invalid UTF-8, damage)
are walked with the wire scanner, which skips payloads without copying them
and reports damage with its offset.  Both paths give equal nodes (tested on
every fixture).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from smlite.formats import wire

__all__ = [
    "CALL_OPS",
    "Function",
    "GraphIndex",
    "Node",
    "NodeList",
    "index_graph",
    "parse_or_none",
    "read_node",
]

#: Ops that call the function named by their ``f`` attribute.
CALL_OPS = frozenset({"PartitionedCall", "StatefulPartitionedCall"})

_FAST_NODE_LIMIT = 256 * 1024
# A GraphDef (or a library FunctionDef) up to this size is decoded whole by protobuf's
# C parser: tens of milliseconds for a function of 17,500 nodes.
_WHOLE_PARSE_LIMIT = 32 * 2**20

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


class NodeList(Sequence[Node]):
    """The nodes of the graph or of a function body, made into :class:`Node` on first use.

    Op types and calls (``--list_ops``) are read from protobuf's decoding
    directly; building a Node per NodeDef costs several microseconds, which a
    17,500-node function only pays when a reader asks for the nodes.
    """

    __slots__ = ("_entries", "_nodes")

    def __init__(self, entries: Iterable[Node | tuple[Any, tuple[int, int]]] = ()) -> None:
        self._entries: list[Node | tuple[Any, tuple[int, int]]] | None = list(entries)
        self._nodes: tuple[Node, ...] | None = None

    def _all(self) -> tuple[Node, ...]:
        if self._nodes is None:
            entries = self._entries or []
            self._nodes = tuple(
                e if isinstance(e, Node) else _parsed_node(e[0], e[1]) for e in entries
            )
            self._entries = None  # the decoded messages can go
        return self._nodes

    def op_calls(self) -> tuple[set[str], set[str]]:
        """The op types, and the function the ``f`` attribute of each call op names."""
        ops: set[str] = set()
        calls: set[str] = set()
        if self._entries is None:
            for node in self._all():
                ops.add(node.op)
                if node.op in CALL_OPS:
                    calls.add(node.attr_function("f") or "")
            return ops, calls
        for entry in self._entries:
            if isinstance(entry, Node):
                op = entry.op
                f = entry.attr_function("f") if op in CALL_OPS else None
            else:
                msg = entry[0]
                op = msg.op
                f = _parsed_f(msg) if op in CALL_OPS else None
            ops.add(op)
            if op in CALL_OPS:
                calls.add(f or "")
        return ops, calls

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, i: Any) -> Any:
        return self._all()[i]

    def __iter__(self) -> Iterator[Node]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._all() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"NodeList({list(self._all())!r})"


def _parsed_f(msg: Any) -> str | None:
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


class Function(NamedTuple):
    """A FunctionDef of the library: its signature's shape and its body."""

    name: str
    #: Input argument names.
    args: tuple[str, ...]
    num_outputs: int
    nodes: Sequence[Node]


@dataclass(frozen=True, slots=True)
class GraphIndex:
    """The nodes of a graph and of every function in its library."""

    nodes: Sequence[Node]
    #: Every FunctionDef, in file order.
    library: tuple[Function, ...]
    #: Functions by name, in library order (a later duplicate name wins).
    functions: Mapping[str, Function]
    #: ``(function name, gradient function name)`` of each GradientDef.
    gradients: tuple[tuple[str, str], ...] = ()
    #: ``(registered_op_type, gradient_func)`` of each ``registered_gradients`` entry.
    registered_gradients: tuple[tuple[bytes, str], ...] = ()
    #: ``(field number, key start, end)`` of every other GraphDef field (versions,
    #: debug_info, unknown fields), for re-encoding the graph without its nodes.
    other_fields: tuple[tuple[int, int, int], ...] = ()

    def callees(self, node: Node) -> Iterator[str]:
        """The functions ``node`` calls: its op when that names a library function, then
        every function its attributes name (func and list(func))."""
        if node.op in self.functions:
            yield node.op
        for _, fn in node.function_attrs:
            yield fn

    def __repr__(self) -> str:
        return f"GraphIndex(nodes={len(self.nodes)}, functions={len(self.library)})"


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


# ---------------------------------------------------------------------------
# One node.
# ---------------------------------------------------------------------------


def _text(buf: wire.Buffer, start: int, end: int) -> str:
    return bytes(buf[start:end]).decode("utf-8", "surrogateescape")


def read_node(buf: wire.Buffer, start: int, end: int) -> Node:
    """The NodeDef serialized in ``buf[start:end]``.  Raises :class:`wire.WireError`."""
    if end - start <= _FAST_NODE_LIMIT:
        from smlite import pb

        msg = parse_or_none(pb.NodeDef, buf, start, end)
        if msg is not None:
            return _parsed_node(msg, (start, end))
    return _scanned_node(buf, start, end)


def _parsed_node(msg: Any, span: tuple[int, int]) -> Node:
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


def _func_name(buf: wire.Buffer, start: int, end: int) -> str:
    name = ""
    for f in wire.iter_fields(buf, start, end):
        if f.number == 1 and f.wire_type == wire.LEN:
            name = _text(buf, f.start, f.end)
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
                funcs.append((key, _func_name(buf, a.start, a.end)))
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
                        funcs.append((key, _func_name(buf, item.start, item.end)))
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
            kept = _scanned_value(buf, key, value[0], value[1], funcs)
            if kept is not None:
                attrs.append((key, *kept))
    # Key order, as the parsed path (files written by upb put "Tindices" before "T").
    funcs.sort(key=lambda pair: pair[0])
    attrs.sort(key=lambda item: item[0])
    return Node(name, op, tuple(inputs), tuple(funcs), tuple(attrs), (start, end))


# ---------------------------------------------------------------------------
# Functions and the graph.
# ---------------------------------------------------------------------------


def _function(buf: wire.Buffer, start: int, end: int, parsed: Any) -> Function:
    """One FunctionDef; ``parsed`` is protobuf's decoding of it (or None: nodes one by one)."""
    name = ""
    args: list[str] = []
    outputs = 0
    nodes: list[Node | tuple[Any, tuple[int, int]]] = []
    node_defs = None
    if parsed is not None:
        signature = parsed.signature
        name, outputs = signature.name, len(signature.output_arg)
        args = [arg.name for arg in signature.input_arg]
        node_defs = parsed.node_def
    for number, wire_type, _, s, e, _ in wire.occurrences(buf, start, end):
        if wire_type != wire.LEN:
            continue
        if number == 1 and parsed is None:
            for g in wire.iter_fields(buf, s, e):
                if g.wire_type != wire.LEN:
                    continue
                if g.number == 1:
                    name = _text(buf, g.start, g.end)
                elif g.number == 2:
                    args.append(_func_name(buf, g.start, g.end))
                elif g.number == 3:
                    outputs += 1
        elif number == 3:
            if node_defs is not None:
                nodes.append((node_defs[len(nodes)], (s, e)))
            else:
                nodes.append(read_node(buf, s, e))
    return Function(name, tuple(args), outputs, NodeList(nodes))


def index_graph(buf: wire.Buffer) -> GraphIndex:
    """Index a serialized GraphDef.  Raises :class:`wire.WireError` on bad bytes.

    A graph up to :data:`_WHOLE_PARSE_LIMIT` bytes is decoded by protobuf in
    one call (a function body likewise); the wire walk then only finds each
    node's span.  Bigger ones (mostly constant payload) go node by node, so
    memory stays bounded by the largest small node, not by the file.
    """
    # 10^5 nodes make 10^6 small tuples; the cyclic collector would walk them again
    # and again while they are built (about a fifth of the time), and none is cyclic.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _index(buf)
    finally:
        if enabled:
            gc.enable()


def _index(buf: wire.Buffer) -> GraphIndex:
    from smlite import pb

    whole = None
    if len(buf) <= _WHOLE_PARSE_LIMIT:
        whole = parse_or_none(pb.GraphDef, buf, 0, len(buf))
    node_msgs = whole.node if whole is not None else None
    nodes: list[Node | tuple[Any, tuple[int, int]]] = []
    library: list[Function] = []
    gradients: list[tuple[str, str]] = []
    registered: list[tuple[bytes, str]] = []
    other: list[tuple[int, int, int]] = []
    for number, wire_type, key_start, start, end, _ in wire.occurrences(buf, 0, len(buf)):
        if wire_type != wire.LEN or number not in (1, 2):
            other.append((number, key_start, end))
        elif number == 1:
            if node_msgs is not None:
                nodes.append((node_msgs[len(nodes)], (start, end)))
            else:
                nodes.append(read_node(buf, start, end))
        else:
            for g in wire.iter_fields(buf, start, end):
                if g.wire_type != wire.LEN:
                    continue
                if g.number == 1:
                    parsed = None
                    if whole is not None:
                        # Several library fields merge: count the functions seen so far.
                        parsed = whole.library.function[len(library)]
                    elif g.end - g.start <= _WHOLE_PARSE_LIMIT:
                        parsed = parse_or_none(pb.FunctionDef, buf, g.start, g.end)
                    library.append(_function(buf, g.start, g.end, parsed))
                elif g.number in (2, 3):
                    pair = [b"", b""]
                    for h in wire.iter_fields(buf, g.start, g.end):
                        if h.wire_type == wire.LEN and h.number in (1, 2):
                            pair[h.number - 1] = bytes(buf[h.start : h.end])
                    first, second = pair
                    if g.number == 2:
                        gradients.append((_str(first), _str(second)))
                    else:
                        registered.append((second, _str(first)))
    functions = MappingProxyType({f.name: f for f in library})
    return GraphIndex(
        NodeList(nodes),
        tuple(library),
        functions,
        tuple(gradients),
        tuple(registered),
        tuple(other),
    )


def _str(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")
