"""Names from a hostile SavedModel never reach the terminal as control sequences."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from smlite import pb
from smlite.cli import run
from smlite.render.escape import escape, escape_text

# Anything a terminal could act on: C0 (but newline), DEL, C1, bidi controls, lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)

ESC_TAG = "serve\x1b]0;pwned\x07"
EVIL_SIG = "sig\x1b[2J\x1b[H"
EVIL_INPUT = "in\nfake line"
EVIL_TENSOR = "x\r\x1b[31m:0"
EVIL_METHOD = "tensorflow/serving/predict\u202e\x9b31m"
EVIL_OP = "Op\x1b[5m"


def _hostile_model(root: Path) -> Path:
    sm = pb.SavedModel(saved_model_schema_version=1)
    mg = sm.meta_graphs.add()
    mg.meta_info_def.tags.extend([ESC_TAG, "gpu"])
    mg.meta_info_def.tensorflow_version = "2.21\x1b[0m"
    node = mg.graph_def.node.add()
    node.name = "n\x1b"
    node.op = EVIL_OP
    sig = mg.signature_def[EVIL_SIG]
    sig.method_name = EVIL_METHOD
    x = sig.inputs[EVIL_INPUT]
    x.name = EVIL_TENSOR
    x.dtype = 1  # DT_FLOAT
    x.tensor_shape.dim.add().size = -1
    y = sig.outputs["y\x00"]
    y.coo_sparse.values_tensor_name = "v\x1b:0"
    y.coo_sparse.indices_tensor_name = "i:0"
    y.coo_sparse.dense_shape_tensor_name = "s:0"
    y.dtype = 9  # DT_INT64
    mg.asset_file_def.add(filename="vocab\x1b.txt").tensor_info.name = "asset\x1b:0"
    model = root / "hostile"
    model.mkdir()
    (model / "saved_model.pb").write_bytes(sm.SerializeToString())
    return model


@pytest.fixture()
def hostile(tmp_path: Path) -> Path:
    return _hostile_model(tmp_path)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_clean(text: str) -> None:
    found = _UNSAFE.findall(text)
    assert not found, f"unescaped characters {found!r} in {text!r}"


TAGS = f"{ESC_TAG},gpu"
SHOW_FORMS = [
    [],
    ["--all"],
    ["--list_ops"],
    ["--tag_set", TAGS],
    ["--tag_set", TAGS, "--list_ops"],
    ["--tag_set", TAGS, "--signature_def", EVIL_SIG],
    ["--format", "json"],
    ["--all", "--format", "json"],
    ["--tag_set", TAGS, "--signature_def", EVIL_SIG, "--format", "json"],
]


@pytest.mark.parametrize(
    "flags", SHOW_FORMS, ids=lambda f: " ".join(f).encode("unicode_escape").decode() or "tag-sets"
)
def test_show_escapes_every_name(
    hostile: Path, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["show", str(hostile), *flags], capsys)
    assert code == 0, err
    _assert_clean(out)
    _assert_clean(err)
    assert out.count("\n") >= 1


def test_show_text_spells_escapes(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(["show", str(hostile), "--tag_set", TAGS, "--signature_def", EVIL_SIG], capsys)
    assert out == (
        "The given SavedModel SignatureDef contains the following input(s):\n"
        "  inputs['in\\nfake line'] tensor_info:\n"
        "      dtype: DT_FLOAT\n"
        "      shape: (-1)\n"
        "      name: x\\r\\x1b[31m:0\n"
        "The given SavedModel SignatureDef contains the following output(s):\n"
        "  outputs['y\\x00'] tensor_info:\n"
        "      dtype: DT_INT64\n"
        "      shape: ()\n"
        "      name: \n"
        "Method name is: tensorflow/serving/predict\\u202e\\x9b31m\n"
    )


def test_show_all_header_and_ops(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(["show", str(hostile), "--all"], capsys)
    assert "\nMetaGraphDef with tag-set: 'serve\\x1b]0;pwned\\x07, gpu' contains" in out
    assert "signature_def['sig\\x1b[2J\\x1b[H']:" in out
    assert (
        "The MetaGraph with tag set ['serve\\x1b]0;pwned\\x07', 'gpu'] contains the following "
        "ops: {'Op\\x1b[5m'}\n"
    ) in out


def test_show_json_keeps_true_values(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(["show", str(hostile), "--all", "--format", "json"], capsys)
    assert out.isascii()
    doc = json.loads(out)
    (mg,) = doc["meta_graphs"]
    assert mg["tags"] == [ESC_TAG, "gpu"]
    sig = mg["signatures"][EVIL_SIG]
    assert sig["method_name"] == EVIL_METHOD
    assert sig["inputs"][EVIL_INPUT]["tensor_name"] == EVIL_TENSOR
    assert sig["outputs"]["y\x00"]["sparse"]["values_tensor_name"] == "v\x1b:0"
    assert mg["ops"] == [EVIL_OP]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_summary_escapes_every_name(
    hostile: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["summary", str(hostile), "--format", fmt], capsys)
    assert code == 0, err
    _assert_clean(out)
    if fmt == "text":
        assert "sig\\x1b[2J\\x1b[H" in out
        assert "vocab\\x1b.txt (missing)" in out


def test_rich_markup_in_names_is_not_interpreted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sm = pb.SavedModel(saved_model_schema_version=1)
    mg = sm.meta_graphs.add()
    mg.meta_info_def.tags.append("[bold red]serve[/]")
    sig = mg.signature_def["[link=http://x]k[/link]"]
    sig.inputs["[blink]i"].name = "x:0"
    (tmp_path / "saved_model.pb").write_bytes(sm.SerializeToString())
    code, out, _ = _run(["summary", str(tmp_path)], capsys)
    assert code == 0
    assert "[bold red]serve[/]" in out
    assert "[link=http://x]k[/link]" in out
    assert "[blink]i" in out


def test_error_messages_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _hostile_model(tmp_path)
    code, out, err = _run(["show", str(model), "--tag_set", "nope\x1b[2J"], capsys)
    assert code == 2
    assert out == ""
    _assert_clean(err)
    assert "nope\\x1b[2J" in err
    assert "serve\\x1b]0;pwned\\x07" in err


def test_escape_leaves_normal_names_alone() -> None:
    for name in ("serving_default", "StatefulPartitionedCall:0", "dense/kernel", "ünïcödé", "名前"):
        assert escape(name) == name
    assert escape(b"a\xffb") == "a\\xffb"
    assert escape_text("two\nlines\x1b") == "two\nlines\\x1b"


def test_invalid_utf8_op_name_from_the_wire_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Op names come from a wire scan of the GraphDef, which keeps bad bytes
    # (surrogateescape) instead of failing like a full proto parse would.
    sm = pb.SavedModel(saved_model_schema_version=1)
    mg = sm.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    mg.graph_def.node.add(name="n", op="OpXX")
    data = sm.SerializeToString().replace(b"OpXX", b"Op\xff\x1b")
    (tmp_path / "saved_model.pb").write_bytes(data)
    code, out, err = _run(["show", str(tmp_path), "--tag_set", "serve", "--list_ops"], capsys)
    assert code == 0, err
    _assert_clean(out)
    assert out.startswith(
        "The MetaGraph with tag set ['serve'] contains the following ops: {'Op\\udcff\\x1b'}\n"
    )
    code, out, _ = _run(["show", str(tmp_path), "--all", "--format", "json"], capsys)
    assert code == 0
    assert json.loads(out)["meta_graphs"][0]["ops"] == ["Op\udcff\x1b"]
    code, out, _ = _run(["summary", str(tmp_path)], capsys)
    assert code == 0
    _assert_clean(out)
