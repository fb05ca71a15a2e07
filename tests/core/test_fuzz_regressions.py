"""Regression tests for the crashes the fuzzers and the robustness tests found.

Each test builds its crashing input by hand and names where it was found
(``fuzz/README.md`` lists the harnesses).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import smlite
from smlite import pb
from smlite.cli import run
from smlite.errors import CorruptFileError
from smlite.formats import canonical
from smlite.model.fingerprint import fingerprint
from tests.support.bundle_writer import varint

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def _ld(field: int, payload: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def _saved_model(graph: bytes) -> bytes:
    meta = _ld(1, _ld(4, b"serve")) + _ld(2, graph)  # meta_info_def.tags, graph_def
    return varint(1 << 3) + varint(1) + _ld(2, meta)


def test_fingerprint_of_a_call_node_with_bad_utf8(tmp_path: Path) -> None:
    """fuzz_fingerprint: a StatefulPartitionedCall node whose name is not UTF-8.

    Regularization parses such nodes with protobuf; its DecodeError escaped.
    """
    node = _ld(1, b"call\xff") + _ld(2, b"StatefulPartitionedCall")
    (tmp_path / "saved_model.pb").write_bytes(_saved_model(_ld(1, node)))
    with (
        smlite.open(tmp_path) as sm,
        pytest.raises(CorruptFileError, match="NodeDef does not parse"),
    ):
        fingerprint(sm)
    assert run(["fingerprint", str(tmp_path)]) == 2


def test_canonical_encoding_of_nesting_beyond_recursion(tmp_path: Path) -> None:
    """test_resource_bounds: nested func attrs deeper than Python's recursion limit.

    The canonical re-encoder (fingerprint) recursed into RecursionError.
    """
    attr = _ld(1, b"leaf")  # NameAttrList.name
    for _ in range(3000):
        # NameAttrList.attr {key: "a", value: AttrValue.func {...}}
        attr = _ld(1, b"f") + _ld(2, _ld(1, b"a") + _ld(2, _ld(10, attr)))
    with pytest.raises(canonical.CanonicalError, match="nested too deeply"):
        canonical.encode(attr, pb.NameAttrList.DESCRIPTOR)
    node = _ld(1, b"n") + _ld(2, b"Identity") + _ld(5, _ld(1, b"f") + _ld(2, _ld(10, attr)))
    (tmp_path / "saved_model.pb").write_bytes(_saved_model(_ld(1, node)))
    with smlite.open(tmp_path) as sm, pytest.raises(CorruptFileError, match="nested too deeply"):
        fingerprint(sm)


def test_dump_never_overwrites_saved_model_pb(tmp_path: Path) -> None:
    """test_read_only: `variables --dump K -o <model>/saved_model.pb --overwrite` replaced it."""
    model = tmp_path / "m"
    shutil.copytree(MODELS / "keras_model", model)
    original = (model / "saved_model.pb").read_bytes()
    with smlite.open(model) as sm:
        key = next(iter(sm.variables))
    argv = ["variables", str(model), "--dump", key, "-o", str(model / "saved_model.pb")]
    assert run([*argv, "--overwrite"]) == 2
    assert (model / "saved_model.pb").read_bytes() == original


def test_check_report_never_written_into_the_model(tmp_path: Path) -> None:
    """test_read_only: `check -o <model>/fingerprint.pb` wrote the report over it."""
    model = tmp_path / "m"
    shutil.copytree(MODELS / "keras_model", model)
    original = (model / "fingerprint.pb").read_bytes()
    assert run(["check", str(model), "--no-progress", "-o", str(model / "fingerprint.pb")]) == 2
    assert run(["scan", str(model), "-o", str(model / "report.txt")]) == 2
    assert (model / "fingerprint.pb").read_bytes() == original
    assert not (model / "report.txt").exists()
