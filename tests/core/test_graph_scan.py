"""The GraphDef scanners give the same answers on their fast and their streaming paths.

Small NodeDefs and GraphDefs are decoded by protobuf's C parser; large ones
(and ones protobuf rejects) are walked with the wire scanner.  Both paths must
agree on every fixture, so the size limits are forced to zero to compare.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import smlite
from smlite.formats import graph_scan, node_scan
from smlite.formats.graph_scan import scan_graph, scan_ops

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
    attrs = frozenset({"shared_name", "container", "_class"})
    fast = node_scan.scan_nodes(graph, string_attrs=attrs)
    monkeypatch.setattr(node_scan, "_FAST_NODE_LIMIT", -1)
    slow = node_scan.scan_nodes(graph, string_attrs=attrs)
    assert fast == slow
    assert fast.nodes, "every fixture graph has nodes"


@pytest.mark.parametrize(("name", "index"), GRAPHS)
def test_ops_scan_agrees_with_the_node_scan(
    name: str, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = _graph(name, index)
    full = scan_graph(graph)

    def expected(nodes: tuple[graph_scan.NodeInfo, ...]) -> graph_scan.OpCalls:
        calls = {n.attr_function("f") or "" for n in nodes if n.op in graph_scan.CALL_OPS}
        return graph_scan.OpCalls(frozenset(n.op for n in nodes), frozenset(calls))

    want = graph_scan.OpsScan(
        expected(full.nodes), {k: expected(v) for k, v in full.functions.items()}
    )
    assert scan_ops(graph) == want  # whole GraphDef parsed by protobuf
    monkeypatch.setattr(graph_scan, "_WHOLE_PARSE_LIMIT", -1)
    assert scan_ops(graph) == want  # node by node
    monkeypatch.setattr(node_scan, "_FAST_NODE_LIMIT", -1)
    assert scan_ops(graph) == want  # wire scanner only


def test_a_node_protobuf_rejects_is_read_by_the_scanner() -> None:
    # NodeDef {name: b"\xff" (not UTF-8), op: "Const"}: protobuf refuses the string.
    node = b"\x0a\x01\xff\x12\x05Const"
    graph = b"\x0a" + bytes([len(node)]) + node
    scanned = node_scan.scan_nodes(graph)
    assert [(n.name, n.op) for n in scanned.nodes] == [("\udcff", "Const")]
    assert scan_ops(graph).graph.ops == frozenset({"Const"})
