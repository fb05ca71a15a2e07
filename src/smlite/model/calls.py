"""The call structure of a meta graph: signatures -> graph -> functions -> functions.

Read from the graph index (:attr:`MetaGraph.graph_index`): a node calls a library
function when an attribute names it (``f`` of ``StatefulPartitionedCall``,
the branches of ``If``/``While``, ...) or when its op *is* the function's name.
A signature calls what the nodes of its tensors call; a TF1 signature, whose
tensors are plain graph nodes, calls the graph itself.  The concrete functions
of a TF2 object graph that nothing else calls hang from one ``objects`` node:
they are what ``tf.saved_model.load`` gives Python callers.

Large libraries are cut to ``limit`` functions, nearest to a signature first,
and the graph says how many were left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smlite.formats.graph_index import GraphIndex, Node
from smlite.model.saved_model import MetaGraph

__all__ = ["CallGraph", "CallNode", "GRAPH_ID", "OBJECTS_ID", "call_graph"]

#: The id of the node standing for the GraphDef's own nodes.
GRAPH_ID = "graph"
#: The id of the node standing for the TF2 object graph (functions callable from Python).
OBJECTS_ID = "objects"


@dataclass(frozen=True, slots=True)
class CallNode:
    """A signature, the graph, the object graph, or a library function."""

    #: ``signature:<key>``, ``graph``, ``objects`` or ``function:<name>``.
    id: str
    kind: str
    name: str
    #: Nodes of the body (0 for a signature).
    nodes: int = 0
    #: Distinct op types of the body.
    op_types: int = 0


@dataclass(frozen=True, slots=True)
class CallGraph:
    nodes: tuple[CallNode, ...]
    #: ``(caller id, callee id)``, each once.
    edges: tuple[tuple[str, str], ...]
    #: Library functions not included (over the limit).
    functions_left_out: int
    functions_total: int


def _callees(nodes: Iterable[Node], index: GraphIndex) -> list[str]:
    """The library functions ``nodes`` call, in first-call order (the index's one reading)."""
    found: dict[str, None] = {}
    for node in nodes:
        for fn in index.callees(node):
            if fn in index.functions:
                found[fn] = None
    return list(found)


def _tensor_node(name: str) -> str:
    return name.lstrip("^").split(":", 1)[0]


def call_graph(mg: MetaGraph, *, limit: int = 150) -> CallGraph:
    """The call structure of ``mg``, with at most ``limit`` library functions.

    Raises :class:`~smlite.errors.CorruptFileError` when the GraphDef is damaged.
    """
    scan = mg.graph_index
    library = scan.functions
    by_name = {n.name: n for n in scan.nodes}
    edges: dict[tuple[str, str], None] = {}
    nodes: list[CallNode] = []
    reached: dict[str, None] = {}  # functions in the order they are first reached
    owned: set[str] = set()  # graph nodes whose calls a signature shows
    for key, sig in mg.signatures.items():
        sid = f"signature:{key}"
        nodes.append(CallNode(sid, "signature", key))
        names = [t.name for t in (*sig.inputs.values(), *sig.outputs.values()) if t.name]
        tensor_nodes = [by_name[n] for n in map(_tensor_node, names) if n in by_name]
        called = _callees(tensor_nodes, scan)
        owned.update(n.name for n in tensor_nodes)
        for fn in called:
            edges[(sid, f"function:{fn}")] = None
            reached.setdefault(fn, None)
        if not called:  # served by the graph's own nodes (TF1, the init op)
            edges[(sid, GRAPH_ID)] = None
    graph_ops = {n.op for n in scan.nodes}
    nodes.append(CallNode(GRAPH_ID, "graph", "graph", len(scan.nodes), len(graph_ops)))
    rest = [n for n in scan.nodes if n.name not in owned]
    for fn in _callees(rest, scan):
        edges[(GRAPH_ID, f"function:{fn}")] = None
        reached.setdefault(fn, None)
    # The saved tf.functions a Python caller gets from tf.saved_model.load, not yet reached.
    og = mg.object_graph
    saved = [fn for fn in (og.concrete_functions if og is not None else ()) if fn in library]
    loose = [fn for fn in saved if fn not in reached]
    if loose:
        nodes.append(CallNode(OBJECTS_ID, "objects", "object graph (Python callers)"))
        for fn in loose:
            edges[(OBJECTS_ID, f"function:{fn}")] = None
            reached.setdefault(fn, None)
    # Breadth first from what signatures and the graph call, then the unreached rest.
    order = list(reached)
    i = 0
    while i < len(order):
        for callee in _callees(library[order[i]].nodes, scan):
            if callee not in reached:
                reached[callee] = None
                order.append(callee)
        i += 1
    order.extend(fn for fn in library if fn not in reached)
    kept = order[: max(0, limit)]
    kept_set = set(kept)
    for fn in kept:
        body = library[fn].nodes
        nodes.append(
            CallNode(f"function:{fn}", "function", fn, len(body), len({n.op for n in body}))
        )
        for callee in _callees(body, scan):
            if callee in kept_set:
                edges[(f"function:{fn}", f"function:{callee}")] = None
    kept_ids = {n.id for n in nodes}
    return CallGraph(
        tuple(nodes),
        tuple(e for e in edges if e[0] in kept_ids and e[1] in kept_ids),
        len(library) - len(kept),
        len(library),
    )
