"""The graph index gives the same answers on its protobuf fast path and its wire scanner.

Small NodeDefs are decoded by protobuf's C parser; large ones (and ones
protobuf rejects) are walked with the wire scanner (smlite.formats.node_def).
Both paths must agree on every fixture, so the size limit is forced to zero
to compare.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import smlite
from smlite import pb
from smlite.formats import graph_index, node_def
from smlite.formats.graph_index import CALL_OPS, index_graph
from smlite.formats.wire import WireError

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def _meta_graph_count(model: Path) -> int:
    with smlite.open(model) as sm:
        return len(sm.meta_graphs)


GRAPHS = [
    (model.name, i)
    for model in sorted(MODELS.iterdir())
    if (model / "saved_model.pb").exists()
    for i in range(_meta_graph_count(model))
]


def _graph(name: str, index: int) -> bytes:
    with smlite.open(MODELS / name) as sm:
        return bytes(sm.meta_graphs[index].graph_bytes())


@pytest.mark.parametrize(("name", "index"), GRAPHS)
def test_parsed_and_scanned_nodes_agree(
    name: str, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = _graph(name, index)
    whole = index_graph(graph)  # the GraphDef decoded by protobuf in one call
    monkeypatch.setattr(graph_index, "_WHOLE_PARSE_LIMIT", -1)
    assert index_graph(graph) == whole  # node by node
    monkeypatch.setattr(node_def, "FAST_NODE_LIMIT", -1)
    assert index_graph(graph) == whole  # the wire scanner only
    assert whole.nodes, "every fixture graph has nodes"


@pytest.mark.parametrize(("name", "index"), GRAPHS)
def test_the_index_agrees_with_a_full_parse(name: str, index: int) -> None:
    graph = _graph(name, index)
    found = index_graph(graph)
    parsed = pb.GraphDef.FromString(graph)
    assert [(n.name, n.op, n.inputs) for n in found.nodes] == [
        (n.name, n.op, tuple(n.input)) for n in parsed.node
    ]
    assert [f.name for f in found.library] == [f.signature.name for f in parsed.library.function]
    for fn, fdef in zip(found.library, parsed.library.function, strict=True):
        assert fn.args == tuple(a.name for a in fdef.signature.input_arg)
        assert fn.num_outputs == len(fdef.signature.output_arg)
        for node, ndef in zip(fn.nodes, fdef.node_def, strict=True):
            assert (node.name, node.op) == (ndef.name, ndef.op)
            assert pb.NodeDef.FromString(graph[node.span[0] : node.span[1]]) == ndef
            if node.op in CALL_OPS:
                assert node.attr_function("f") == ndef.attr["f"].func.name
    for node, ndef in zip(found.nodes, parsed.node, strict=True):
        assert pb.NodeDef.FromString(graph[node.span[0] : node.span[1]]) == ndef
        if "dtype" in ndef.attr and ndef.attr["dtype"].WhichOneof("value") == "type":
            assert node.attr_type("dtype") == ndef.attr["dtype"].type


def _attr_node() -> pb.NodeDef:
    node = pb.NodeDef(name="n", op="PrintV2", input=["x", "^c"])
    node.attr["output_stream"].s = b"file:///tmp/x"
    node.attr["urls"].list.s.extend([b"a", b"b"])
    node.attr["empty_list"].list.SetInParent()
    node.attr["types"].list.type.extend([1, 2, 3])
    node.attr["n"].i = -5
    node.attr["flag"].b = True
    node.attr["dtype"].type = pb.DataType.DT_STRING
    node.attr["shape"].shape.dim.add(size=3)
    node.attr["then"].func.name = "f1"
    node.attr["branches"].list.func.add(name="f2")
    node.attr["branches"].list.func.add(name="f3")
    return node


@pytest.mark.parametrize(("whole", "node"), [(2**25, 2**18), (-1, 2**18), (-1, -1)])
def test_every_kept_attribute(whole: int, node: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_index, "_WHOLE_PARSE_LIMIT", whole)
    monkeypatch.setattr(node_def, "FAST_NODE_LIMIT", node)
    graph = pb.GraphDef(node=[_attr_node()]).SerializeToString()
    (node,) = index_graph(graph).nodes
    assert node.inputs == ("x", "^c")
    assert node.attr_strings("output_stream") == (b"file:///tmp/x",)
    assert node.attr_bytes("output_stream") == b"file:///tmp/x"
    assert node.attr_strings("urls") == (b"a", b"b")
    assert node.attr_strings("empty_list") is None
    assert node.type_list_length("empty_list") == 0
    assert node.type_list_length("types") == 3
    assert node.type_list_length("n") is None
    assert node.attr_int("n") == -5
    assert node.attr_bool("flag") is True
    assert node.attr_type("dtype") == pb.DataType.DT_STRING
    assert node.attr_type("missing") == 0
    assert node.function_attrs == (("branches", "f2"), ("branches", "f3"), ("then", "f1"))
    assert node.attr_function("then") == "f1"


def test_call_edges_include_ops_that_name_functions() -> None:
    graph = pb.GraphDef()
    graph.library.function.add().signature.name = "f"
    graph.library.function.add().signature.name = "g"
    call = graph.node.add(name="c", op="StatefulPartitionedCall")
    call.attr["f"].func.name = "g"
    graph.node.add(name="direct", op="f")
    index = index_graph(graph.SerializeToString())
    assert [list(index.callees(n)) for n in index.nodes] == [["g"], ["f"]]
    assert list(index.functions) == ["f", "g"]


def test_gradients_and_other_fields() -> None:
    graph = pb.GraphDef()
    graph.library.gradient.add(function_name="f", gradient_func="df")
    graph.versions.producer = 7
    graph.version = 3
    data = graph.SerializeToString()
    index = index_graph(data)
    assert index.gradients == (("f", "df"),)
    assert [n for n, _, _ in index.other_fields] == [3, 4]
    for _, start, end in index.other_fields:
        assert data[start:end] in data


def test_a_node_protobuf_rejects_is_read_by_the_scanner() -> None:
    # NodeDef {name: b"\xff" (not UTF-8), op: "Const"}: protobuf refuses the string.
    node = b"\x0a\x01\xff\x12\x05Const"
    graph = b"\x0a" + bytes([len(node)]) + node
    index = index_graph(graph)
    assert [(n.name, n.op) for n in index.nodes] == [("\udcff", "Const")]
    assert index.nodes[0].span == (2, 2 + len(node))


@pytest.mark.parametrize("cut", [1, 3, 5])
def test_damage_raises_with_offset(cut: int) -> None:
    graph = pb.GraphDef(node=[_attr_node()]).SerializeToString()
    with pytest.raises(WireError) as info:
        index_graph(graph[:-cut])
    assert 0 <= info.value.offset <= len(graph)
