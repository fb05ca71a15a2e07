"""Walks over a scanned graph: what feeds what, what runs when the model is served.

Everything here reads the :class:`~smlite.formats.graph_index.GraphIndex` of a
meta graph (:attr:`MetaGraph.graph_index`) and the typed views of
:mod:`smlite.model.saved_model`; nothing parses bytes.

* :func:`serving_roots`, :func:`saver_roots` and :func:`closure`: the top-level
  nodes that run when the model is served, and those of its own saver;
* :func:`called_functions`: the library functions a set of nodes calls, directly
  or through other functions, through any function-valued attribute;
* :func:`consumers`: the nodes that read a tensor, looking through Identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from smlite.formats.graph_index import GraphIndex, Node
from smlite.model.saved_model import MetaGraph

__all__ = [
    "INIT_COLLECTIONS",
    "PASS_THROUGH_OPS",
    "called_functions",
    "closure",
    "consumers",
    "input_node",
    "saver_roots",
    "serving_roots",
]

#: TF1 collections naming ops that run when a SavedModel is loaded (main op, table inits).
INIT_COLLECTIONS = ("saved_model_main_op", "legacy_init_op", "main_op", "table_initializer")
#: Ops that hand their input on unchanged: a value read through them is read by their readers.
PASS_THROUGH_OPS = frozenset({"Identity", "IdentityN", "Snapshot"})


def input_node(ref: str) -> str:
    """The node an input reference names (``^x`` / ``x:1`` / ``x:output:0`` -> ``x``)."""
    return ref.lstrip("^").split(":", 1)[0]


def closure(by_name: Mapping[str, Node], roots: Iterable[str]) -> set[str]:
    """Top-level nodes ``roots`` depend on (data and control inputs), roots included."""
    seen: set[str] = set()
    pending = [r for r in roots if r in by_name]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(i for i in (input_node(x) for x in by_name[name].inputs) if i in by_name)
    return seen


def serving_roots(mg: MetaGraph) -> list[str]:
    """Top-level nodes that run when the model is served: signatures and init ops."""
    roots = [
        input_node(name)
        for sig in mg.signatures.values()
        for info in (*sig.inputs.values(), *sig.outputs.values())
        for name in info.tensor_names
    ]
    for key in INIT_COLLECTIONS:
        collection = mg.header.collection_def.get(key)
        if collection is not None and collection.WhichOneof("kind") == "node_list":
            roots.extend(input_node(n) for n in collection.node_list.value)
    return roots


def saver_roots(mg: MetaGraph) -> list[str]:
    """The nodes of the meta graph's own saver (``saver_def``)."""
    saver = mg.header.saver_def
    return [
        input_node(name)
        for name in (saver.save_tensor_name, saver.restore_op_name, saver.filename_tensor_name)
        if name
    ]


def called_functions(
    graph: GraphIndex, nodes: Iterable[Node], roots: Iterable[str] = ()
) -> set[str]:
    """Library functions ``nodes`` call (and ``roots``), and every function those call.

    A function is called when it is named by any function-valued attribute
    (``f`` of PartitionedCall, ``then_branch`` of If, ``body`` of While, ...)
    or used as a node's op.  Names the library lacks are left out.
    """
    functions = graph.functions
    found: set[str] = set()
    todo = [fn for node in nodes for fn in graph.callees(node)]
    todo.extend(roots)
    while todo:
        fn = todo.pop()
        if fn in found or fn not in functions:
            continue
        found.add(fn)
        for node in functions[fn].nodes:
            todo.extend(graph.callees(node))
    return found


def consumers(graph: GraphIndex, tensors: Iterable[str]) -> dict[str, list[Node]]:
    """For each tensor (``op:0``): the top-level nodes that read its value, through Identity.

    Control inputs (``^op``) order execution but read nothing, so they do not count.
    """
    readers: dict[tuple[str, str], list[Node]] = {}
    for node in graph.nodes:
        for ref in node.inputs:
            if not ref.startswith("^"):
                readers.setdefault(_data_ref(ref), []).append(node)
    result: dict[str, list[Node]] = {}
    for tensor in tensors:
        found: list[Node] = []
        seen: set[str] = set()
        pending = [_data_ref(tensor)]
        while pending:
            for node in readers.get(pending.pop(), ()):
                if node.name in seen:
                    continue
                seen.add(node.name)
                if node.op in PASS_THROUGH_OPS:
                    # IdentityN hands input i on as output i; the others have one output.
                    outputs = range(len(node.inputs)) if node.op == "IdentityN" else (0,)
                    pending.extend((node.name, str(i)) for i in outputs)
                else:
                    found.append(node)
        result[tensor] = found
    return result


def _data_ref(ref: str) -> tuple[str, str]:
    name, _, index = ref.partition(":")
    return name, index or "0"
