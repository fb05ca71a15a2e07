"""List the nodes of a serialized GraphDef without parsing it.

The scanning itself is :func:`smlite.formats.node_scan.scan_nodes`; this module
keeps the smaller view (name, op, function references) that ``MetaGraph`` uses.

Scanning touches only node names, op types and function references and skips
every tensor payload in O(1), so ops can be listed from a memory-mapped file
with no copy of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from smlite import pb
from smlite.formats import node_scan, wire
from smlite.formats.node_scan import Node, scan_nodes

#: Ops that call the function named by their ``f`` attribute.
CALL_OPS = frozenset({"PartitionedCall", "StatefulPartitionedCall"})

# A GraphDef (or a library FunctionDef) up to this size is decoded whole by protobuf's
# C parser: listing the ops of a 17,000-node function then takes tens of milliseconds
# instead of most of a second.  Bigger ones are mostly constant payload and are walked
# node by node, so memory stays bounded by the largest small node, not by the file.
_WHOLE_PARSE_LIMIT = 32 * 2**20

__all__ = ["CALL_OPS", "GraphScan", "NodeInfo", "OpCalls", "OpsScan", "scan_graph", "scan_ops"]


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One node: its name, op type and the functions its attributes name."""

    name: str
    op: str
    #: ``(attr name, function name)`` for every function-valued attribute.
    function_attrs: tuple[tuple[str, str], ...] = ()

    def attr_function(self, attr: str) -> str | None:
        for key, fn in self.function_attrs:
            if key == attr:
                return fn
        return None


@dataclass(frozen=True, slots=True)
class GraphScan:
    """The nodes of a graph and of every function in its library."""

    nodes: tuple[NodeInfo, ...]
    #: Function name to its body's nodes, in library order.
    functions: Mapping[str, tuple[NodeInfo, ...]]


def scan_graph(buf: wire.Buffer) -> GraphScan:
    """Scan a serialized GraphDef.  Raises :class:`wire.WireError` on bad bytes."""
    graph = scan_nodes(buf)

    def info(nodes: tuple[Node, ...]) -> tuple[NodeInfo, ...]:
        return tuple(NodeInfo(n.name, n.op, n.function_attrs) for n in nodes)

    functions = {name: info(fn.nodes) for name, fn in graph.functions.items()}
    return GraphScan(info(graph.nodes), functions)


@dataclass(frozen=True, slots=True)
class OpCalls:
    """What a list of nodes needs: its op types and the functions its call ops name."""

    ops: frozenset[str]
    #: The ``f`` function of every (Stateful)PartitionedCall (``""`` when it names none).
    calls: frozenset[str]


@dataclass(frozen=True, slots=True)
class OpsScan:
    """Op types and calls of a graph and of every function of its library."""

    graph: OpCalls
    #: Function name to what its body uses, in library order.
    functions: Mapping[str, OpCalls]


def scan_ops(buf: wire.Buffer) -> OpsScan:
    """Op types and function calls of a serialized GraphDef, without per-node objects.

    Gives the same answers as :func:`scan_graph` (``ops_used`` and ``all_ops``
    need no more), several times faster.  Raises :class:`wire.WireError` on bad bytes.
    """
    if len(buf) <= _WHOLE_PARSE_LIMIT:
        graph_def = node_scan.parse_or_none(pb.GraphDef, buf, 0, len(buf))
        if graph_def is not None:
            return OpsScan(
                _parsed_op_calls(graph_def.node),
                {
                    f.signature.name: _parsed_op_calls(f.node_def)
                    for f in graph_def.library.function
                },
            )
    nodes: list[Node] = []
    functions: dict[str, OpCalls] = {}
    for f in wire.iter_fields(buf):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 1:
            nodes.append(node_scan.scan_node(buf, f.start, f.end))
        elif f.number == 2:
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.number != 1 or g.wire_type != wire.LEN:
                    continue
                parsed = None
                if g.end - g.start <= _WHOLE_PARSE_LIMIT:
                    parsed = node_scan.parse_or_none(pb.FunctionDef, buf, g.start, g.end)
                if parsed is not None:
                    functions[parsed.signature.name] = _parsed_op_calls(parsed.node_def)
                else:
                    fn = node_scan.scan_function(buf, g.start, g.end)
                    functions[fn.name] = _node_op_calls(fn.nodes)
    return OpsScan(_node_op_calls(nodes), functions)


def _parsed_op_calls(nodes: Iterable[Any]) -> OpCalls:
    ops: set[str] = set()
    calls: set[str] = set()
    for node in nodes:
        op = node.op
        ops.add(op)
        if op in CALL_OPS:
            calls.add(_parsed_f(node))
    return OpCalls(frozenset(ops), frozenset(calls))


def _parsed_f(node: Any) -> str:
    """The function an ``f`` attribute names, as ``NodeInfo.attr_function('f') or ''``."""
    if "f" not in node.attr:
        return ""
    value = node.attr["f"]
    kind = value.WhichOneof("value")
    if kind == "func":
        return str(value.func.name)
    if kind == "list" and len(value.list.func):
        return str(value.list.func[0].name)
    return ""


def _node_op_calls(nodes: Iterable[Node]) -> OpCalls:
    ops: set[str] = set()
    calls: set[str] = set()
    for node in nodes:
        ops.add(node.op)
        if node.op in CALL_OPS:
            calls.add(next((fn for key, fn in node.function_attrs if key == "f"), ""))
    return OpCalls(frozenset(ops), frozenset(calls))
