"""``smlite report`` without a browser: the page is written, self-contained and escaped.

What the page looks like and that its script runs without errors is tested in
tests/report (a real Chromium); here: every fixture renders, nothing points off
the page, hostile names stay text, the model directory is never written, the
vendored dagre is the registry's file, and the picture's caps.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from markupsafe import escape

import smlite
from smlite.cli import run
from smlite.model.calls import call_graph
from tests.support.report_models import (
    HOSTILE_FUNCTION,
    HOSTILE_SIGNATURE,
    HOSTILE_VARIABLE,
    build_hostile,
    build_model,
)
from tests.support.samcli import FIXTURES

MODELS = FIXTURES / "models"
ALL_MODELS = sorted(p.name for p in MODELS.iterdir() if p.is_dir())
VENDOR = Path(__file__).resolve().parents[2] / "src" / "smlite" / "render" / "report" / "vendor"
# The only URL a page may contain: the SVG namespace its script creates elements in.
ALLOWED_URLS = {"http://www.w3.org/2000/svg"}


def _report(model: Path, out: Path, *args: str) -> str:
    assert run(["report", str(model), "-o", str(out), *args]) == 0
    return out.read_text(encoding="utf-8")


def _json_blocks(page: str) -> list[dict[str, object]]:
    blocks = re.findall(
        r'<script type="application/json" class="callgraph-data"[^>]*>(.*?)</script>', page, re.S
    )
    return [json.loads(b) for b in blocks]


@pytest.mark.parametrize("name", ALL_MODELS)
def test_every_fixture_renders_a_self_contained_page(name: str, tmp_path: Path) -> None:
    page = _report(MODELS / name, tmp_path / "r.html")
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= ALLOWED_URLS, urls
    # Nothing to load: no linked files, no imports; url() only for same-page references.
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\((?!#)", page)
    with smlite.open(MODELS / name) as sm:
        for mg in sm.meta_graphs:
            for key in mg.signatures:
                assert f'data-signature="{escape(key)}"' in page
        blocks = _json_blocks(page)
        assert len(blocks) == len(sm.meta_graphs)
        for mg, block in zip(sm.meta_graphs, blocks, strict=True):
            expected = call_graph(mg)
            assert [n["id"] for n in block["nodes"]] == [n.id for n in expected.nodes]  # type: ignore[index]
    assert '<svg class="treemap"' in page and page.count("<rect ") >= 3


def test_custom_and_risky_functions_are_flagged(tmp_path: Path) -> None:
    custom = _json_blocks(_report(MODELS / "custom_op", tmp_path / "c.html"))[0]
    flagged = {n["id"] for n in custom["nodes"] if n["custom"]}  # type: ignore[index,union-attr]
    # scan finds the custom op in one function and in a node of the graph itself.
    assert flagged == {"graph", "function:__inference___call___4080"}
    risky = _json_blocks(_report(MODELS / "denylisted_ops", tmp_path / "d.html"))[0]
    assert any(n["risky"] for n in risky["nodes"])  # type: ignore[index,union-attr]
    clean = _json_blocks(_report(MODELS / "keras_model", tmp_path / "k.html"))[0]
    assert not any(n["risky"] or n["custom"] for n in clean["nodes"])  # type: ignore[index,union-attr]


def test_hostile_names_are_text(tmp_path: Path) -> None:
    model = tmp_path / "model"
    build_hostile(model)
    page = _report(model, tmp_path / "r.html")
    for name in (HOSTILE_SIGNATURE, HOSTILE_FUNCTION, HOSTILE_VARIABLE):
        assert name not in page
    assert str(escape(HOSTILE_SIGNATURE)) in page
    assert str(escape(HOSTILE_VARIABLE)) in page
    assert "<script>window" not in page and "<b>bold" not in page
    # In the call-graph JSON the name is intact once decoded, and no "<" is left raw.
    block = re.search(r'class="callgraph-data"[^>]*>(.*?)</script>', page, re.S)
    assert block is not None and "<" not in block.group(1)
    names = {n["name"] for n in json.loads(block.group(1))["nodes"]}
    assert HOSTILE_FUNCTION in names and HOSTILE_SIGNATURE in names


def test_large_library_is_capped_and_says_so(tmp_path: Path) -> None:
    model = tmp_path / "model"
    build_model(model, functions=400)
    page = _report(model, tmp_path / "r.html")
    block = _json_blocks(page)[0]
    functions = [n for n in block["nodes"] if n["kind"] == "function"]  # type: ignore[index,union-attr]
    assert len(functions) == 150 and block["left_out"] == 250 and block["total"] == 400
    assert "250 of 400 functions are not drawn" in page
    # The nearest to the signature are kept: the chain's first 150 links.
    assert functions[0]["name"] == "__inference_serve_1"


def test_never_writes_into_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "model"
    build_model(model)
    before = sorted(p.name for p in model.rglob("*"))
    assert run(["report", str(model), "-o", str(model / "report.html")]) == 2
    assert run(["report", str(model), "-o", str(model / "variables" / "r.html")]) == 2
    assert "refusing to write inside the SavedModel directory" in capsys.readouterr().err
    assert sorted(p.name for p in model.rglob("*")) == before


def test_unwritable_output_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["report", str(MODELS / "keras_model"), "-o", str(tmp_path / "no" / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "Traceback" not in err


def test_vendored_dagre_is_what_the_script_recorded() -> None:
    record = json.loads((VENDOR / "VENDOR.json").read_text())
    assert record["package"] == "@dagrejs/dagre" and record["license"] == "MIT"
    for name, digest in record["files"].items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert "sourceMappingURL" not in (VENDOR / "dagre.min.js").read_text()
    assert "Permission is hereby granted" in (VENDOR / "dagre.LICENSE").read_text()
