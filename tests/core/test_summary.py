"""``smlite summary``: the rich overview and its JSON document."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import smlite
from smlite import pb
from smlite.cli import run
from smlite.model.disk import DirUsage
from smlite.model.units import format_bytes
from tests.support import samcli

MODELS = samcli.FIXTURES / "models"
SAVED_MODEL_FIXTURES = [
    n for n in samcli.fixture_names() if samcli.load_expected(n)["kind"] != "checkpoint"
]
needs_fixtures = pytest.mark.skipif(not SAVED_MODEL_FIXTURES, reason="fixtures not generated")


def _summary(path: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str, str]:
    code = run(["summary", str(path), *flags])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(path: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, Any]:
    code, out, err = _summary(path, capsys, "--format", "json", *flags)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


@needs_fixtures
@pytest.mark.parametrize("name", SAVED_MODEL_FIXTURES)
def test_summary_of_every_fixture(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    model = samcli.model_dir(name)
    code, out, err = _summary(model, capsys)
    assert code == 0, err
    # Not a terminal: plain text, no colour or cursor codes.
    assert "\x1b" not in out
    assert out.startswith("SavedModel ")
    expected = samcli.load_expected(name)
    for tags in expected["tag_sets"]:
        assert f"tags: {', '.join(tags) if tags else '(no tags)'}" in out
    doc = _json(model, capsys)
    assert doc["smlite_json"] == 1
    assert doc["kind"] == "summary"
    assert [mg["tags"] for mg in doc["meta_graphs"]] == expected["tag_sets"]


@needs_fixtures
def test_summary_json_counts_match_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    model = MODELS / "tf1_multi_tag"
    doc = _json(model, capsys)
    with smlite.open(model) as sm:
        for mg, mg_doc in zip(sm.meta_graphs, doc["meta_graphs"], strict=True):
            graph = mg_doc["graph"]
            assert graph["nodes"] == mg.node_count
            assert graph["op_types"] == len(mg.ops_used)
            assert graph["op_types_all"] == len(mg.all_ops)
            assert graph["functions"] == len(mg.function_names)
            assert graph["bytes"] == mg.graph_size
            assert graph["error"] is None
            assert sorted(mg_doc["signatures"]) == sorted(mg.signatures)
    disk = doc["disk"]
    assert disk["saved_model_file"] == (model / "saved_model.pb").stat().st_size
    variables_dir = model / "variables"
    assert disk["variables"] == {
        "files": len(list(variables_dir.iterdir())),
        "bytes": sum(p.stat().st_size for p in variables_dir.iterdir()),
    }
    assert disk["assets"]["files"] == 1
    assert disk["assets_extra"]["files"] == 2
    assert disk["fingerprint"] is (model / "fingerprint.pb").exists()
    assets = doc["meta_graphs"][0]["assets"]
    assert [a["filename"] for a in assets] == ["classes.txt"]
    assert assets[0]["exists"] is True


@needs_fixtures
@pytest.mark.parametrize("name", SAVED_MODEL_FIXTURES)
def test_summary_variable_count(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected = samcli.load_expected(name)
    doc = _json(samcli.model_dir(name), capsys)
    if not hasattr(smlite.SavedModel, "variables"):
        assert doc["variables"]["count"] is None
        return
    keys = {
        e["key"]
        for group in expected["variables"]
        if group["prefix"] == "variables/variables"
        for e in group["entries"]
        if e["key"] != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }
    if name == "serving_base":
        pytest.skip("variables are recorded per version folder")
    assert doc["variables"]["error"] is None
    assert doc["variables"]["count"] == len(keys)


@needs_fixtures
def test_summary_tables(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _summary(MODELS / "tf1_multi_tag", capsys)
    assert code == 0
    assert "format:   saved_model.pb (binary), schema version 1, 3 meta graphs" in out
    assert "MetaGraph #1  tags: serve, gpu" in out
    assert "  signature 'sparse_loss'  tensorflow/serving/predict" in out
    lines = out.splitlines()
    sparse_row = next(line for line in lines if line.strip().startswith("in    sp "))
    assert sparse_row.split()[:5] == ["in", "sp", "SparseTensor", "float32", "(None,"]
    assert "values sp/values:0" in sparse_row
    assert any("indices sp/indices:0" in line for line in lines)
    assert "  assets: classes.txt" in out
    assert "assets.extra/ 231 B (2 files)" in out or "assets.extra/" in out


@needs_fixtures
def test_summary_composites_and_internal_signature(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _summary(MODELS / "sparse_ragged", capsys)
    assert code == 0
    doubled = next(line for line in out.splitlines() if " doubled " in line)
    assert doubled.split()[:5] == ["out", "doubled", "RaggedTensor", "int32", "(None,"]
    assert "PartitionedCall:0, PartitionedCall:1" in doubled
    # ... and spelled out from its TypeSpec, as TensorFlow prints it.
    assert (
        "out doubled: RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, tf.int64)"
    ) in out
    assert "(TF2 object graph)" in out
    # The init op is marked internal, never laid out as a broken signature.
    assert "signature '__saved_model_init_op'" not in out
    assert (
        "  internal __saved_model_init_op  (initializer, run once when the model is loaded: NoOp)"
    ) in out


@needs_fixtures
def test_summary_serving_base(capsys: pytest.CaptureFixture[str]) -> None:
    base = MODELS / "serving_base"
    code, out, err = _summary(base, capsys)
    assert code == 0
    assert err == f"smlite: serving version 2 of {base} (highest of 1, 2)\n"
    assert (
        f"serving:  TF Serving base {base}: version 2 is served (the highest; versions 1, 2)" in out
    )
    assert "ignored (not version folders): tmp-export-3" in out
    assert out.startswith(f"SavedModel {base / '2'}\n")
    doc = _json(base, capsys, "--version", "1")
    serving = doc["model"]["serving"]
    assert serving["served_version"] == 1
    assert serving["requested"] is True
    assert serving["ignored"] == ["tmp-export-3"]
    assert [v["version"] for v in serving["versions"]] == [1, 2]


@needs_fixtures
def test_summary_no_signatures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _summary(MODELS / "module_no_signature", capsys)
    assert code == 0
    assert "  no signatures\n" in out


@needs_fixtures
def test_no_colour_when_forced_but_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, _ = _summary(MODELS / "sparse_ragged", capsys)
    assert code == 0
    assert "\x1b" not in out


@needs_fixtures
def test_summary_errors_go_through_the_boundary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _summary(tmp_path / "missing", capsys)
    assert (code, out) == (2, "")
    assert err == f"smlite: error: {tmp_path / 'missing'}: no such file or directory\n"


def test_summary_of_a_damaged_graph_still_shows_signatures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.core.test_saved_model_reader import _meta_graph_with_raw_graph

    (tmp_path / "saved_model.pb").write_bytes(_meta_graph_with_raw_graph(b"\x0a\x7f\x01"))
    code, out, _ = _summary(tmp_path, capsys)
    assert code == 0
    assert "  graph: unreadable: " in out
    assert "signature 's'" in out
    doc = _json(tmp_path, capsys)
    assert doc["meta_graphs"][0]["graph"]["nodes"] is None
    assert "damaged" in doc["meta_graphs"][0]["graph"]["error"]


def test_format_bytes() -> None:
    assert format_bytes(0) == "0 B"
    assert format_bytes(1023) == "1023 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(5 * 1024**3) == "5.0 GiB"
    assert format_bytes(3 * 1024**5) == "3072.0 TiB"
    assert format_bytes(1536, exact=True) == "1.5 KiB (1536 bytes)"
    assert format_bytes(512, exact=True) == "512 bytes"


def test_dir_usage_value() -> None:
    assert DirUsage(2, 10) == DirUsage(files=2, bytes=10)


def test_wide_output_without_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (MODELS / "sparse_ragged").is_dir():
        pytest.skip("fixtures not generated")
    monkeypatch.delenv("COLUMNS", raising=False)
    code, out, _ = _summary(MODELS / "sparse_ragged", capsys)
    assert code == 0
    # The ragged row keeps both component names on one line in a pipe.
    assert any("PartitionedCall_1:1, PartitionedCall_1:2" in line for line in out.splitlines()), out
    assert os.environ.get("COLUMNS") is None


def _model_with_signatures(path: Path, keys: list[str]) -> Path:
    from smlite import pb

    sm = pb.SavedModel(saved_model_schema_version=1)
    mg = sm.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    for i, key in enumerate(keys):
        sig = mg.signature_def[key]
        sig.method_name = "tensorflow/serving/predict"
        for name in ("a", "b", "c", "d", "e")[: 1 + i % 5]:
            sig.inputs[name].name = f"{name}_{i}:0"
            sig.inputs[name].dtype = 1
        sig.outputs["y"].name = f"y_{i}:0"
        sig.outputs["y"].dtype = 1
    path.mkdir()
    (path / "saved_model.pb").write_bytes(sm.SerializeToString())
    return path


def test_many_signatures_are_listed_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smlite.render.summary import SIGNATURE_TABLES_LIMIT

    keys = [f"sig_{i:03d}" for i in range(SIGNATURE_TABLES_LIMIT + 10)] + ["zz_evil\x1b[2J\nkey"]
    code, out, _ = _summary(_model_with_signatures(tmp_path / "m", keys), capsys)
    assert code == 0
    assert f"{len(keys)} signatures, one line each" in out
    lines = out.splitlines()
    header = next(
        i
        for i, line in enumerate(lines)
        if line.split() == ["signature", "method", "inputs", "outputs"]
    )
    body = lines[header + 1 : header + 1 + len(keys)]
    assert [line.split()[0] for line in body[:-1]] == keys[:-1]
    assert body[0].split()[2:] == ["a", "y"]
    assert body[4].split()[2:] == ["a,", "b,", "c,", "d,", "...", "(1", "more)", "y"]
    assert body[-1].split()[0] == r"zz_evil\x1b[2J\nkey"  # escaped: one line, no control codes
    assert "\x1b" not in out
    assert all(not line.endswith(" ") for line in lines)


def test_few_signatures_get_a_table_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smlite.render.summary import SIGNATURE_TABLES_LIMIT

    keys = [f"sig_{i:03d}" for i in range(SIGNATURE_TABLES_LIMIT)]
    code, out, _ = _summary(_model_with_signatures(tmp_path / "m", keys), capsys)
    assert code == 0
    assert "one line each" not in out
    assert out.count("signature 'sig_") == len(keys)


def test_an_asset_listed_twice_is_shown_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A TF1 meta graph may hold two AssetFileDefs for one file (two tensors fed its path)."""
    model = tmp_path / "m"
    shutil.copytree(MODELS / "tf1_multi_tag", model)
    path = model / "saved_model.pb"
    message = pb.SavedModel.FromString(path.read_bytes())
    collection = message.meta_graphs[0].collection_def["saved_model_assets"].any_list
    second = pb.AssetFileDef(filename="classes.txt")
    second.tensor_info.name = "text_file_init/Identity:0"
    collection.value.append(pb.pack_any(second))
    path.write_bytes(message.SerializeToString())
    with smlite.open(model) as sm:
        (asset,) = sm.meta_graphs[0].assets
        assert asset.tensor_names == ("class_vocab_path:0", "text_file_init/Identity:0")
    code, out, _ = _summary(model, capsys)
    assert code == 0
    assert out.count("classes.txt") == 3  # once per meta graph
    doc = _json(model, capsys)
    assert [a["filename"] for a in doc["meta_graphs"][0]["assets"]] == ["classes.txt"]
