"""List the nodes of a serialized GraphDef without parsing it.

A GraphDef of a large model is mostly constant tensors.  Scanning the wire
format touches only node names, op types and function references and skips
every tensor payload in O(1), so ops can be listed from a memory-mapped file
with no copy of the graph.

Wire layout read here::

    GraphDef           := { 1: NodeDef node*, 2: FunctionDefLibrary library }
    FunctionDefLibrary := { 1: FunctionDef function* }
    FunctionDef        := { 1: OpDef signature { 1: string name }, 3: NodeDef node_def* }
    NodeDef            := { 1: string name, 2: string op, 5: map<string, AttrValue> attr }
    map entry          := { 1: string key, 2: AttrValue value }
    AttrValue          := { 1: ListValue list { 9: NameAttrList func* }, 10: NameAttrList func }
    NameAttrList       := { 1: string name }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from smlite.formats import wire

__all__ = ["GraphScan", "NodeInfo", "scan_graph"]


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


def _text(buf: wire.Buffer, start: int, end: int) -> str:
    return bytes(buf[start:end]).decode("utf-8", "surrogateescape")


def _name_attr_list(buf: wire.Buffer, start: int, end: int) -> str:
    name = ""
    for f in wire.iter_fields(buf, start, end):
        if f.number == 1 and f.wire_type == wire.LEN:
            name = _text(buf, f.start, f.end)
    return name


def _attr_functions(buf: wire.Buffer, start: int, end: int) -> list[str]:
    found: list[str] = []
    for f in wire.iter_fields(buf, start, end):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 10:
            found.append(_name_attr_list(buf, f.start, f.end))
        elif f.number == 1:
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.number == 9 and g.wire_type == wire.LEN:
                    found.append(_name_attr_list(buf, g.start, g.end))
    return found


def _node(buf: wire.Buffer, start: int, end: int) -> NodeInfo:
    name = op = ""
    funcs: list[tuple[str, str]] = []
    for f in wire.iter_fields(buf, start, end):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 1:
            name = _text(buf, f.start, f.end)
        elif f.number == 2:
            op = _text(buf, f.start, f.end)
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
            if value is not None:
                funcs.extend((key, fn) for fn in _attr_functions(buf, *value))
    return NodeInfo(name, op, tuple(funcs))


def _function(buf: wire.Buffer, start: int, end: int) -> tuple[str, tuple[NodeInfo, ...]]:
    name = ""
    nodes: list[NodeInfo] = []
    for f in wire.iter_fields(buf, start, end):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 1:
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.number == 1 and g.wire_type == wire.LEN:
                    name = _text(buf, g.start, g.end)
        elif f.number == 3:
            nodes.append(_node(buf, f.start, f.end))
    return name, tuple(nodes)


def scan_graph(buf: wire.Buffer) -> GraphScan:
    """Scan a serialized GraphDef.  Raises :class:`wire.WireError` on bad bytes."""
    nodes: list[NodeInfo] = []
    functions: dict[str, tuple[NodeInfo, ...]] = {}
    for f in wire.iter_fields(buf):
        if f.wire_type != wire.LEN:
            continue
        if f.number == 1:
            nodes.append(_node(buf, f.start, f.end))
        elif f.number == 2:
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.number == 1 and g.wire_type == wire.LEN:
                    name, body = _function(buf, g.start, g.end)
                    functions[name] = body
    return GraphScan(tuple(nodes), functions)
