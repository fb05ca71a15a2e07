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
    NodeDef            := see :mod:`smlite.formats.node_def`, which reads one

A graph up to :data:`_WHOLE_PARSE_LIMIT` bytes is decoded by protobuf in one
call; the wire walk then only finds each node's span.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from smlite.formats import wire
from smlite.formats.node_def import (
    Node,
    func_name,
    parse_or_none,
    parsed_call_function,
    parsed_node,
    read_node,
)

__all__ = [
    "CALL_OPS",
    "Function",
    "GraphIndex",
    "Node",
    "NodeList",
    "index_graph",
    "op_calls",
    "parse_or_none",
    "read_node",
]

#: Ops that call the function named by their ``f`` attribute.
CALL_OPS = frozenset({"PartitionedCall", "StatefulPartitionedCall"})

# A GraphDef (or a library FunctionDef) up to this size is decoded whole by protobuf's
# C parser: tens of milliseconds for a function of 17,500 nodes.
_WHOLE_PARSE_LIMIT = 32 * 2**20


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
                e if isinstance(e, Node) else parsed_node(e[0], e[1]) for e in entries
            )
            self._entries = None  # the decoded messages can go
        return self._nodes

    def op_calls(self) -> tuple[set[str], set[str]]:
        """The op types, and the function the ``f`` attribute of each call op names."""
        if self._entries is None:
            return _built_op_calls(self._all())
        ops: set[str] = set()
        calls: set[str] = set()
        for entry in self._entries:
            if isinstance(entry, Node):
                op = entry.op
                f = entry.attr_function("f") if op in CALL_OPS else None
            else:
                msg = entry[0]
                op = msg.op
                f = parsed_call_function(msg) if op in CALL_OPS else None
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


def op_calls(nodes: Sequence[Node]) -> tuple[set[str], set[str]]:
    """The op types of ``nodes``, and the function the ``f`` attribute of each call op names.

    A :class:`NodeList` answers without building its nodes when they are not built yet.
    """
    if isinstance(nodes, NodeList):
        return nodes.op_calls()
    return _built_op_calls(nodes)


def _built_op_calls(nodes: Iterable[Node]) -> tuple[set[str], set[str]]:
    ops: set[str] = set()
    calls: set[str] = set()
    for node in nodes:
        ops.add(node.op)
        if node.op in CALL_OPS:
            calls.add(node.attr_function("f") or "")
    return ops, calls


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
                    name = wire.read_string(buf, g.start, g.end)
                elif g.number == 2:
                    args.append(func_name(buf, g.start, g.end))
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
                    spans = [(0, 0), (0, 0)]
                    for h in wire.iter_fields(buf, g.start, g.end):
                        if h.wire_type == wire.LEN and h.number in (1, 2):
                            spans[h.number - 1] = (h.start, h.end)
                    first, second = (wire.read_string(buf, *span) for span in spans)
                    if g.number == 2:
                        gradients.append((first, second))
                    else:
                        registered.append((bytes(buf[slice(*spans[1])]), first))
    functions = MappingProxyType({f.name: f for f in library})
    return GraphIndex(
        NodeList(nodes),
        tuple(library),
        functions,
        tuple(gradients),
        tuple(registered),
        tuple(other),
    )
