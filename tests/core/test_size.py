"""``smlite size``: every byte of saved_model.pb attributed once, and the 2 GiB rules.

The attribution is checked on every fixture and on models laid down byte by
byte (repeated singular fields, unknown fields, gradients, traced variants,
constants of known size).  The limits are checked on sparse files that really
are over 1.5 and 2 GiB on disk without allocating them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import smlite
from smlite.cli import run
from smlite.errors import CorruptFileError
from smlite.formats import layout as layout_format
from smlite.formats import node_def
from smlite.model.checks import check_path
from smlite.model.size import (
    PROTOBUF_LIMIT,
    SizePart,
    layer_of,
    python_function_name,
    size_findings,
    size_report,
)
from tests.support import saved_model_bytes as smb
from tests.support.samcli import FIXTURES

MODELS = FIXTURES / "models"
ALL_MODELS = sorted(p.name for p in MODELS.iterdir() if p.is_dir())


def _assert_exact(part: SizePart) -> None:
    """Every part with children is exactly the sum of them, down to the leaves."""
    if part.children:
        assert part.bytes == sum(c.bytes for c in part.children), part
        for child in part.children:
            assert child.bytes > 0, (part, child)
            _assert_exact(child)


def _encoded(sm: smlite.SavedModel) -> int:
    if sm.format == "pb":
        return sm.file.stat().st_size
    return len(sm.proto.SerializeToString())


@pytest.mark.parametrize("name", ALL_MODELS)
def test_every_fixture_adds_up_to_its_file_size(name: str) -> None:
    for top in (0, 3, 1000):
        with smlite.open(MODELS / name) as sm:
            report = size_report(sm, top=top)
            assert report.tree.bytes == report.encoded_bytes == _encoded(sm)
            _assert_exact(report.tree)
            assert sum(m.bytes for m in report.meta_graphs) <= report.encoded_bytes
            for m in report.meta_graphs:
                assert m.part.bytes == m.bytes
                assert len(m.functions) <= top and len(m.largest_consts) <= top
                assert m.const_bytes >= sum(c.bytes for c in m.largest_consts)
            assert report.directory_bytes == sum(
                p.lstat().st_size for p in report.model_dir.rglob("*") if not p.is_dir()
            )
            assert not size_findings(report), "no size finding on a small genuine export"


@pytest.mark.parametrize("name", ALL_MODELS)
def test_parsed_and_scanned_nodes_give_one_layout(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nodes decoded by protobuf and nodes walked on the wire attribute every byte alike."""
    with smlite.open(MODELS / name) as sm:
        if sm.format != "pb":
            return
        data = sm.file.read_bytes()
    parsed = layout_format.layout(data, top=1000)
    monkeypatch.setattr(node_def, "FAST_NODE_LIMIT", -1)
    assert layout_format.layout(data, top=1000) == parsed


def test_json_document_adds_up(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["size", str(MODELS / "polymorphic"), "--format", "json", "--top", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["smlite_json"] == 1 and doc["kind"] == "size"
    saved = doc["saved_model"]
    assert saved["encoded_bytes"] == (MODELS / "polymorphic" / "saved_model.pb").stat().st_size
    assert saved["headroom_bytes"] == PROTOBUF_LIMIT - saved["encoded_bytes"]

    def check(part: dict[str, Any]) -> None:
        if "children" in part:
            assert part["bytes"] == sum(c["bytes"] for c in part["children"])
            for c in part["children"]:
                check(c)

    check(saved["parts"])
    meta = doc["meta_graphs"][0]
    assert meta["functions"]["count"] == 24 and len(meta["functions"]["largest"]) == 2
    # The library part shows the two largest functions and one part for the other 22.
    library = next(
        c for c in saved["parts"]["children"][0]["children"] if c["kind"] == "function_library"
    )
    kinds = [c["kind"] for c in library["children"]]
    assert kinds.count("function") == 2 and kinds.count("more") == 1
    more = next(c for c in library["children"] if c["kind"] == "more")
    assert more["name"] == "22 more functions"
    # polymorphic's tf.function f is traced 12 times (see scripts/make_fixtures.py).
    assert {"python_name": "f", "traces": 12, "bytes": meta["traced"][0]["bytes"]} in meta["traced"]
    assert doc["variables"]["count"] == 1 and doc["findings"] == []


def test_text_output_shows_tree_and_headroom(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["size", str(MODELS / "keras_model"), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "saved_model.pb: 27.1 KiB (27776 bytes), 0.0% of protobuf's 2 GiB limit" in out
    assert "meta graph #0 [serve]" in out and "function library (4 functions)" in out
    assert "_operations.3" in out  # a layer of the variables
    assert "1 more functions" in out


def _byte_model(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A model whose parts have sizes known from the bytes written."""
    big = smb.const_node("big", 1, (64, 64), b"\x01" * 16384)
    small = smb.const_node("small", 3, (2,), b"\x00" * 8)
    names = smb.const_node("names", 7, (), b"")
    calls = [
        smb.function("__inference_call_12", [smb.node("x", "Identity"), big]),
        smb.function("__inference_call_345", [smb.node("y", "Identity")]),
        smb.function("MyTf1Function", [small]),
    ]
    gradient = smb.ld(1, b"MyTf1Function") + smb.ld(2, b"MyGrad")
    graph = smb.graph([smb.node("in", "Placeholder"), names], calls, [gradient])
    unknown = smb.ld(99, b"future field")
    stripped = smb.ld(1, smb.ld(1, b"Const"))
    # The graph_def field twice: protobuf merges the occurrences; both count.
    meta = smb.meta_graph(["serve"], graph, stripped_ops=stripped) + smb.ld(2, smb.ld(1, small))
    meta += smb.ld(5, smb.ld(1, b"serving_default")) + unknown
    data = smb.saved_model([meta, smb.meta_graph(["train"], None)], extra=unknown)
    model = tmp_path / "model"
    model.mkdir()
    (model / "saved_model.pb").write_bytes(data)
    (model / "debug").mkdir()
    (model / "debug" / "saved_model_debug_info.pb").write_bytes(b"\0" * 123)
    expected = {
        "file": len(data),
        "function call_12": len(smb.ld(1, calls[0])),
        "big": len(smb.ld(3, big)),
        "small": len(smb.ld(3, small)),
        "graph nodes": len(smb.ld(1, smb.node("in", "Placeholder")))
        + len(smb.ld(1, names))
        + len(smb.ld(1, small)),
        "gradients": len(smb.ld(2, gradient)),
        "stripped": len(smb.ld(2, stripped)),
        "unknown": len(unknown),
    }
    return model, expected


def test_byte_built_model_is_attributed_exactly(tmp_path: Path) -> None:
    model, expected = _byte_model(tmp_path)
    with smlite.open(model) as sm:
        report = size_report(sm, top=5)
    _assert_exact(report.tree)
    assert report.tree.bytes == expected["file"]
    first, second = report.meta_graphs
    assert second.graph_bytes == 0 and second.tags == ("train",)
    parts = {c.kind: c for c in first.part.children}
    assert parts["graph_nodes"].bytes == expected["graph nodes"]
    assert parts["graph_nodes"].name == "graph nodes (3 nodes)"
    assert parts["stripped_op_list"].bytes == expected["stripped"]
    library = parts["function_library"]
    by_name = {c.name: c for c in library.children}
    assert by_name["__inference_call_12"].bytes == expected["function call_12"]
    assert by_name["gradients"].bytes == expected["gradients"]
    unknown = [c for c in parts["other"].children if c.name == "unknown fields"]
    assert unknown[0].bytes == expected["unknown"]
    assert report.tree.children[-1].bytes == 2 + expected["unknown"]  # schema version + unknown

    functions = {f.name: f for f in first.functions}
    assert functions["__inference_call_12"].variants == 2
    assert functions["__inference_call_12"].python_name == "call"
    assert functions["MyTf1Function"].python_name is None
    assert functions["MyTf1Function"].variants == 1
    assert [(t.python_name, t.variants) for t in first.traced] == [("call", 2)]

    consts = first.largest_consts
    assert [c.node for c in consts] == ["big", "small", "small", "names"]
    assert consts[0].bytes == expected["big"] and consts[0].function == "__inference_call_12"
    assert consts[0].dtype.name == "float32" and consts[0].shape == (64, 64)
    assert consts[0].path == "function[__inference_call_12]/node[big]"
    assert consts[1].function == "MyTf1Function" and consts[2].function is None
    assert consts[3].dtype.name == "string" and consts[3].shape == ()
    assert first.const_count == 4
    assert first.weight_const_bytes == first.const_bytes - len(
        smb.ld(1, smb.const_node("names", 7, (), b""))
    )

    kinds = {f.path: f.kind for f in report.files}
    assert kinds == {
        "saved_model.pb": "saved_model",
        "debug/saved_model_debug_info.pb": "debug_info",
    }


def test_top_zero_keeps_totals(tmp_path: Path) -> None:
    model, _ = _byte_model(tmp_path)
    with smlite.open(model) as sm:
        report = size_report(sm, top=0)
    _assert_exact(report.tree)
    first = report.meta_graphs[0]
    assert first.functions == () and first.largest_consts == ()
    assert first.const_count == 4
    library = next(c for c in first.part.children if c.kind == "function_library")
    assert library.children[0].name == "3 more functions"


def test_damaged_node_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A NodeDef whose name claims more bytes than the node holds.
    bad = smb.key(1, 2) + smb.varint(50) + b"abc"
    data = smb.saved_model([smb.meta_graph(["serve"], smb.ld(1, bad))])
    model = tmp_path / "model"
    model.mkdir()
    (model / "saved_model.pb").write_bytes(data)
    with smlite.open(model) as sm, pytest.raises(CorruptFileError) as info:
        size_report(sm)
    assert info.value.offset is not None and 0 < info.value.offset < len(data)
    assert "cannot attribute the bytes of saved_model.pb" in str(info.value)
    assert run(["size", str(model)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_layer_of() -> None:
    assert layer_of("_operations.3._kernel") == "_operations.3"
    assert layer_of("optimizer.m[dense.kernel]") == "optimizer"
    assert layer_of("dense/kernel/.ATTRIBUTES/VARIABLE_VALUE") == "dense"
    assert layer_of("model/dense_1/kernel") == "model/dense_1"
    assert layer_of("w") == "(root)"


def test_python_function_name() -> None:
    assert python_function_name("__inference_call_123") == "call"
    assert (
        python_function_name("__inference_signature_wrapper_serve_4900")
        == "signature_wrapper_serve"
    )
    assert python_function_name("__inference__traced_save_11") == "_traced_save"
    assert python_function_name("__inference_dense_1_call_7") == "dense_1_call"
    assert python_function_name("my_function") is None


# -- limits -------------------------------------------------------------------------------


def _sparse(tmp_path: Path, content: int) -> Path:
    model = tmp_path / "model"
    size = smb.write_sparse_const_model(model, content)
    st = os.stat(model / "saved_model.pb")
    assert st.st_size == size
    if st.st_blocks * 512 > 2**24:
        shutil.rmtree(model)
        pytest.skip("this file system does not keep sparse files sparse")
    return model


def test_two_gib_is_an_error_located_at_the_graph_def(tmp_path: Path) -> None:
    model = _sparse(tmp_path, PROTOBUF_LIMIT)
    with smlite.open(model) as sm:
        report = size_report(sm)
    assert report.encoded_bytes > PROTOBUF_LIMIT and report.headroom < 0
    _assert_exact(report.tree)
    found = {f.rule.id: f for f in size_findings(report)}
    assert set(found) == {"SML702", "SML704"}
    error = found["SML702"]
    assert error.where.meta_graph == 0 and error.where.detail == "graph_def"
    assert "the GraphDef of meta graph #0 alone is over it" in error.message
    note = found["SML704"]
    assert note.where.node == "weights" and note.where.function is None
    assert "would live in variables/" in note.message
    # check fails on it, and nothing reads the 2 GiB hole to say so.
    report_check = check_path(model)
    assert "SML702" in {f.rule.id for f in report_check.findings}
    assert report_check.failed()


def test_exactly_at_the_limit_is_an_error_and_one_byte_below_a_warning(tmp_path: Path) -> None:
    model = _sparse(tmp_path, PROTOBUF_LIMIT)
    overhead = (model / "saved_model.pb").stat().st_size - PROTOBUF_LIMIT
    shutil.rmtree(model)
    model = _sparse(tmp_path, PROTOBUF_LIMIT - overhead)
    with smlite.open(model) as sm:
        assert (model / "saved_model.pb").stat().st_size == PROTOBUF_LIMIT
        assert {f.rule.id for f in size_findings(size_report(sm))} == {"SML702", "SML704"}
    shutil.rmtree(model)
    model = _sparse(tmp_path, PROTOBUF_LIMIT - overhead - 1)
    with smlite.open(model) as sm:
        report = size_report(sm)
    assert report.encoded_bytes == PROTOBUF_LIMIT - 1
    assert {f.rule.id for f in size_findings(report)} == {"SML703", "SML704"}


def test_warning_above_one_and_a_half_gib(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _sparse(tmp_path, 3 * 2**29 + 1)
    assert run(["size", str(model), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in doc["findings"]] == ["SML703", "SML704"]
    assert doc["findings"][0]["severity"] == "warning"
    shutil.rmtree(model)
    model = _sparse(tmp_path, 3 * 2**29 - 200)
    with smlite.open(model) as sm:
        assert [f.rule.id for f in size_findings(size_report(sm))] == ["SML704"]


def test_constants_note_needs_half_the_file_and_a_mebibyte(tmp_path: Path) -> None:
    def model_with(const_bytes: int, padding: int) -> Path:
        model = tmp_path / f"m{const_bytes}_{padding}"
        model.mkdir()
        nodes = [smb.const_node("w", 1, (const_bytes // 4,), b"\0" * const_bytes)]
        nodes.append(smb.const_node("vocab", 7, (1,), b"x" * padding))  # strings are not weights
        data = smb.saved_model([smb.meta_graph(["serve"], smb.graph(nodes))])
        (model / "saved_model.pb").write_bytes(data)
        return model

    def rules(model: Path) -> list[str]:
        with smlite.open(model) as sm:
            return [f.rule.id for f in size_findings(size_report(sm))]

    assert rules(model_with(2**20 + 4096, 2**20)) == ["SML704"]
    assert rules(model_with(2**20 + 4096, 2**20 + 8192)) == []  # not more than half
    assert rules(model_with(2**19, 0)) == []  # all constants, but too small to matter
    # The note reaches check through its hook, as a note: check still passes.
    model = model_with(2**21, 0)
    report = check_path(model)
    notes = [f for f in report.findings if f.rule.id == "SML704"]
    assert len(notes) == 1 and notes[0].level.label == "note"
    assert not report.failed()


def test_text_format_model_attributes_its_binary_encoding(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["size", str(MODELS / "tf1_pbtxt"), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)["saved_model"]
    assert doc["format"] == "pbtxt"
    assert doc["file_bytes"] == (MODELS / "tf1_pbtxt" / "saved_model.pbtxt").stat().st_size
    assert doc["encoded_bytes"] == doc["parts"]["bytes"] < doc["file_bytes"]


def test_layout_reads_no_constant_payload() -> None:
    """The walk never looks inside a tensor's content: poisoned content changes nothing."""
    node = smb.const_node("c", 1, (4,), b"\xff" * 16)
    data = smb.saved_model([smb.meta_graph(["serve"], smb.graph([node]))])
    poisoned = data.replace(
        b"\xff" * 16, b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00\x00"
    )
    assert len(poisoned) == len(data)
    assert layout_format.layout(poisoned) == layout_format.layout(data)
