"""``smlite diff`` on the command line: formats, exit codes, serving paths, damage, laziness."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest

import smlite
import smlite.formats.graph_index as graph_index
from smlite import pb
from smlite.cli import run
from smlite.formats.bundle import Bundle
from smlite.formats.saved_model import SavedModelFile
from smlite.model.diff import KINDS
from tests.core.test_hostile_names import EVIL, _ld
from tests.core.test_hostile_names import _build as build_hostile
from tests.support.bundle_writer import varint
from tests.support.diff_edit import MODELS, copy_model, edit_model, edited_pair, serve_signature

jsonschema = pytest.importorskip("jsonschema")
SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _drop_array_input(m: pb.SavedModel) -> None:
    del m.meta_graphs[0].signature_def["array_input"]


@pytest.fixture
def breaking_pair(tmp_path: Path) -> tuple[Path, Path]:
    return edited_pair(tmp_path, "module_multi_signature", _drop_array_input)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_identical_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    model = str(MODELS / "module_multi_signature")
    code, out, _ = _run(["diff", model, model], capsys)
    assert code == 0
    assert "verdict: identical" in out
    assert "0 breaking, 0 compatible, 0 info; passes --fail-on breaking" in out


def test_exit_codes_follow_fail_on(
    breaking_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = map(str, breaking_pair)
    assert _run(["diff", old, new], capsys)[0] == 1
    assert _run(["diff", old, new, "--fail-on", "never"], capsys)[0] == 0
    assert _run(["diff", new, old], capsys)[0] == 0  # the signature comes back: compatible
    assert _run(["diff", new, old, "--fail-on", "any"], capsys)[0] == 1
    code, _, err = _run(["diff", old, new, "--fail-on", "sometimes"], capsys)
    assert code == 2 and "sometimes" in err


def test_text_groups_breaking_first(
    breaking_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new = breaking_pair
    _add_tensor_rename(new)
    code, out, _ = _run(["diff", str(old), str(new)], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[2].startswith("verdict: same weights, new graph")
    headings = [line.strip() for line in lines if re.match(r"  \w+: ", line)]
    assert headings == ["breaking: signatures (1)", "info: signatures (1)"]
    assert "signature-removed  meta_graph[serve]/signature[array_input]" in out


def _add_tensor_rename(model: Path) -> None:
    def rename(m: pb.SavedModel) -> None:
        serve_signature()(m).inputs["x"].name = "renamed_x:0"

    edit_model(model, rename)


def test_json_document(
    breaking_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = map(str, breaking_pair)
    code, out, _ = _run(["diff", old, new, "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 1
    assert (doc["smlite_json"], doc["kind"]) == (1, "diff")
    assert doc["counts"] == {"breaking": 1, "compatible": 0, "info": 0}
    assert doc["failed"] is True and doc["fail_on"] == "breaking"
    assert doc["verdict"]["code"] == "new-graph"
    assert doc["new"]["kind"] == "saved_model" and doc["new"]["file"].endswith("saved_model.pb")
    (change,) = doc["changes"]
    assert change == {
        "kind": "signature-removed",
        "severity": "breaking",
        "area": "signature",
        "path": "meta_graph[serve]/signature[array_input]",
        "message": change["message"],
        "old": "tensorflow/serving/predict",
        "new": None,
        "values": None,
    }


def test_sarif_validates_and_has_one_result_per_breaking_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, new = edited_pair(tmp_path, "module_multi_signature", _drop_array_input)
    _add_tensor_rename(new)
    monkeypatch.chdir(tmp_path)
    out_file = tmp_path / "diff.sarif"
    code, _, _ = _run(["diff", "old", "new", "--format", "sarif", "-o", str(out_file)], capsys)
    doc = json.loads(out_file.read_text())
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert code == 1
    (run_,) = doc["runs"]
    rules = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert rules == list(KINDS)
    (result,) = run_["results"]
    assert result["ruleId"] == "signature-removed" and result["level"] == "error"
    assert rules[result["ruleIndex"]] == "signature-removed"
    (location,) = result["locations"]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "new/saved_model.pb",
        "uriBaseId": "%SRCROOT%",
    }
    logical = location["logicalLocations"][0]["fullyQualifiedName"]
    assert logical == "meta_graph[serve]/signature[array_input]"


def test_markdown_comment(
    breaking_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = breaking_pair
    _add_tensor_rename(new)
    code, out, _ = _run(["diff", str(old), str(new), "--format", "markdown"], capsys)
    assert code == 1
    assert out.startswith("### smlite diff: 1 breaking change(s)\n")
    assert "| signature\\-removed |" not in out  # '-' needs no escape
    assert "| signature-removed | meta\\_graph\\[serve\\]/signature\\[array\\_input\\] |" in out
    assert "<details>\n<summary>🔵 info (1)</summary>" in out


def test_output_file_never_inside_a_model(
    breaking_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = breaking_pair
    target = new / "report.json"
    code, _, err = _run(["diff", str(old), str(new), "--format", "json", "-o", str(target)], capsys)
    assert code == 2 and "refusing to write inside" in err
    assert not target.exists()


def test_serving_base_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = str(MODELS / "serving_base")
    code, out, _ = _run(["diff", base], capsys)
    assert code == 0
    assert "(version 1)" in out.splitlines()[0] and "(version 2)" in out.splitlines()[1]
    code, out, _ = _run(["diff", base, "--against", "2", "--format", "json"], capsys)
    doc = json.loads(out)
    assert (doc["old"]["version"], doc["new"]["version"], doc["changes"]) == (2, 2, [])
    code, _, err = _run(["diff", base, "--version", "1"], capsys)
    assert code == 2 and "version 1 has no earlier version" in err
    code, _, err = _run(["diff", base, "--version", "7"], capsys)
    assert code == 2 and "version '7' not found" in err
    code, _, err = _run(["diff", str(MODELS / "module_one_signature")], capsys)
    assert code == 2 and "compares two versions of a TF Serving base path" in err
    code, out, _ = _run(["diff", str(MODELS / "serving_base" / "1"), base], capsys)
    assert code == 0 and "variable-values-changed" in out


def test_policy_from_config(
    breaking_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new = map(str, breaking_pair)
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.smlite.diff]\nseverity = { signature-removed = "compatible" }\n')
    code, out, _ = _run(["diff", old, new, "--config", str(config)], capsys)
    assert code == 0 and "compatible: signatures (1)" in out


def test_checkpoint_against_saved_model(capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = str(MODELS.parent / "checkpoints" / "ckpt-1")
    code, out, _ = _run(["diff", ckpt, ckpt], capsys)
    assert code == 0 and "identical variables" in out
    code, out, _ = _run(["diff", ckpt, str(MODELS / "keras_model")], capsys)
    assert code == 1 and "(checkpoint)" in out and "variable-removed" in out


def test_missing_side_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(["diff", str(tmp_path / "nope"), str(MODELS / "keras_model")], capsys)
    assert (code, out) == (2, "")
    assert err == f"smlite: error: {tmp_path / 'nope'}: no such file or directory (the old side)\n"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate-pb", "not a valid SavedModel protocol buffer"),
        ("graph", "GraphDef of meta graph #0 is damaged"),
        ("index", "variables.index"),
    ],
)
def test_damaged_side_is_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, message: str
) -> None:
    old = copy_model("keras_model", tmp_path / "old")
    new = copy_model("keras_model", tmp_path / "new")
    pb_file = new / "saved_model.pb"
    if damage == "truncate-pb":
        pb_file.write_bytes(pb_file.read_bytes()[:-100])
    elif damage == "graph":
        edit_model(new, _add_abs)
        data = bytearray(pb_file.read_bytes())
        with smlite.open(new) as sm:
            start = sm.meta_graphs[0]._raw.graph_spans[0][0]
        data[start] = 0x0F  # field 1 with wire type 7, which does not exist
        pb_file.write_bytes(bytes(data))
    else:
        index = new / "variables" / "variables.index"
        index.write_bytes(b"\x00" * 64)
    code, out, err = _run(["diff", str(old), str(new)], capsys)
    assert (code, out) == (2, "")
    assert message in err


def test_damaged_copies_never_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Cuts and flips in every file of a model: exit 0, 1 or 2, never a traceback."""
    original = MODELS / "keras_model"
    rng = random.Random(15)
    files = sorted(p.relative_to(original) for p in original.rglob("*") if p.is_file())
    for i, rel in enumerate(files):
        data = (original / rel).read_bytes()
        for j, mutate in enumerate(("cut", "flip")):
            damaged = tmp_path / f"m{i}_{j}"
            shutil.copytree(original, damaged)
            blob = bytearray(data)
            if mutate == "cut":
                blob = blob[: rng.randrange(len(blob))]
            else:
                for _ in range(8):
                    blob[rng.randrange(len(blob))] ^= 0xFF
            (damaged / rel).write_bytes(bytes(blob))
            for extra in ([], ["--values"], ["--format", "json"]):
                code, _, err = _run(["diff", str(original), str(damaged), *extra], capsys)
                assert code in (0, 1, 2), (rel, mutate, err)
                assert code != 2 or err.startswith("smlite: error: "), err


def test_hostile_names_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old"
    build_hostile(old)
    new = copy_model(old, tmp_path / "new")
    # The hostile graph is not valid UTF-8 for protobuf: edit the header, keep the graph bytes.
    with smlite.open(old) as sm:
        header = pb.MetaGraphDef()
        header.CopyFrom(sm.meta_graphs[0].header)
        graph = bytes(sm.meta_graphs[0].graph_bytes())
    sig = header.signature_def[EVIL]
    sig.inputs[EVIL].dtype = 3
    sig.outputs[EVIL + "2"].name = EVIL + ":1"
    graph += _ld(1, _ld(1, EVIL.encode()) + _ld(2, EVIL.encode()))
    body = header.SerializeToString() + _ld(2, graph)
    (new / "saved_model.pb").write_bytes(varint(1 << 3) + varint(1) + _ld(2, body))
    for fmt in ("text", "markdown", "json", "sarif"):
        code, out, err = _run(["diff", str(old), str(new), "--format", fmt, "--values"], capsys)
        assert code == 1, err
        assert not _UNSAFE.search(err)
        if fmt in ("json", "sarif"):
            doc = json.loads(out)
            assert not re.search("[\x00-\x09\x0b-\x1f]", out)
            if fmt == "sarif":
                jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
            else:
                assert any(c["kind"] == "flagged-op-added" for c in doc["changes"])
        else:
            assert not _UNSAFE.search(out), repr(out[:2000])
            assert not any(line.startswith("line2") for line in out.splitlines())
            assert "RED" in out
        if fmt == "markdown":
            assert "<details>" in out and "</details>" in out
            assert out.count("<") == out.count("<details>") + out.count("<summary>") + out.count(
                "</details>"
            ) + out.count("</summary>")


def _add_abs(m: pb.SavedModel) -> None:
    m.meta_graphs[0].graph_def.node.add(name="n", op="Abs")


def test_reads_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --values: each graph is indexed once (for its ops), no variable data read."""
    old, new = edited_pair(tmp_path, "keras_model", _add_abs)
    scans: list[int] = []
    real_index_graph = graph_index.index_graph

    def counting(buf: object) -> object:
        scans.append(1)
        return real_index_graph(buf)  # type: ignore[arg-type]

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("read more than a diff needs")

    monkeypatch.setattr(graph_index, "index_graph", counting)
    monkeypatch.setattr(SavedModelFile, "graph_def", refuse)
    real_read_strings = Bundle.read_strings

    def object_graph_only(bundle: Bundle, entry: object, **kw: object) -> object:
        # Opening a variable set reads the checkpoint's object graph (object paths), no value.
        assert getattr(entry, "key", None) == "_CHECKPOINTABLE_OBJECT_GRAPH"
        return real_read_strings(bundle, entry, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Bundle, "read_bytes", refuse)
    monkeypatch.setattr(Bundle, "read_strings", object_graph_only)
    assert run(["diff", str(old), str(new), "--format", "json"]) == 0
    assert len(scans) == 2


def test_pre_commit_hook_runs_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The smlite-diff hook: its entry plus the args a config gives, on a serving base path."""
    yaml = pytest.importorskip("yaml")
    manifest = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
    (hook,) = [h for h in yaml.safe_load(manifest.read_text()) if h["id"] == "smlite-diff"]
    assert hook["pass_filenames"] is False
    program, *entry = hook["entry"].split()
    assert program == "smlite"
    base = tmp_path / "ranker"
    copy_model("module_multi_signature", base / "1")
    copy_model("module_multi_signature", base / "2")
    assert _run([*entry, str(base)], capsys)[0] == 0
    edit_model(base / "2", _drop_array_input)
    code, out, _ = _run([*entry, str(base)], capsys)
    assert code == 1 and "signature-removed" in out


def test_model_files_and_text_format(capsys: pytest.CaptureFixture[str]) -> None:
    text = MODELS / "tf1_pbtxt"
    code, out, _ = _run(
        ["diff", str(text / "saved_model.pbtxt"), str(text), "--format", "json"], capsys
    )
    doc = json.loads(out)
    assert code == 0 and doc["changes"] == [] and doc["verdict"]["code"] == "identical"
    assert doc["old"]["file"].endswith("saved_model.pbtxt")
    code, out, _ = _run(
        ["diff", str(text), str(MODELS / "tf1_multi_tag"), "--tag_set", "serve"], capsys
    )
    assert code == 1 and "  predict-method-name-changed  " in out
