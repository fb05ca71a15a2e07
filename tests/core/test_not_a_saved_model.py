"""Other messages saved as saved_model.pb are refused at the format boundary, in every command.

A frozen GraphDef, a bare MetaGraphDef or TF-Hub's ``tfhub_module.pb`` parse as
a SavedModel without meta graphs (protobuf keeps what does not fit as unknown
fields); smlite compares their top-level fields with the schemas and says what
the file is: :class:`NotASavedModelError` with a machine-readable reason, exit 2
from the commands that read the model, SML007 from ``check``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import smlite
from smlite import pb
from smlite.cli import run
from smlite.errors import NotASavedModelError, Reason
from smlite.model.checks import check_path

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def _graph_def() -> pb.GraphDef:
    graph = pb.GraphDef()
    graph.node.add(name="input", op="Placeholder")
    graph.node.add(name="output", op="Identity", input=["input"])
    graph.versions.producer = 2107
    return graph


def _meta_graph_def() -> pb.MetaGraphDef:
    mgd = pb.MetaGraphDef()
    mgd.meta_info_def.tags.append("serve")
    mgd.meta_info_def.stripped_op_list.op.add(name="Placeholder")
    mgd.meta_info_def.tensorflow_version = "1.15.0"
    mgd.graph_def.CopyFrom(_graph_def())
    mgd.saver_def.filename_tensor_name = "save/Const:0"
    return mgd


def _one_node_graph() -> bytes:
    graph = pb.GraphDef()
    graph.node.add(name="c", op="Const")
    return graph.SerializeToString()


def _meta_graph_without_info() -> bytes:
    mgd = _meta_graph_def()
    mgd.ClearField("meta_info_def")
    return mgd.SerializeToString()


# What each file is, its bytes, and the words the message uses for it.
CASES = {
    "frozen graph": (Reason.GRAPH_DEF, _graph_def().SerializeToString(), "a GraphDef"),
    "one-node graph": (Reason.GRAPH_DEF, _one_node_graph(), "a GraphDef"),
    "meta graph": (
        Reason.META_GRAPH_DEF,
        _meta_graph_def().SerializeToString(),
        "a bare MetaGraphDef",
    ),
    "meta graph without info": (
        Reason.META_GRAPH_DEF,
        _meta_graph_without_info(),
        "a bare MetaGraphDef",
    ),
    # tfhub_module.pb: ModuleDef { format: FORMAT_V3 (3) }
    "hub module": (Reason.HUB_MODULE, b"\x08\x03", "a TF-Hub module descriptor"),
}


def _model(root: Path, data: bytes, name: str = "saved_model.pb") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(data)
    return root


@pytest.mark.parametrize("kind", sorted(CASES))
def test_open_says_what_the_file_is(kind: str, tmp_path: Path) -> None:
    reason, data, words = CASES[kind]
    model = _model(tmp_path / "m", data)
    with pytest.raises(NotASavedModelError) as info:
        smlite.open(model)
    assert info.value.reason is reason
    assert info.value.path == str(model / "saved_model.pb")
    assert f"this is not a SavedModel but {words}" in info.value.message
    assert info.value.detail.startswith("this is not a SavedModel")


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "{m}", "--all"],
        ["summary", "{m}"],
        ["variables", "{m}"],
        ["fingerprint", "{m}"],
        ["scan", "--dir", "{m}"],
    ],
)
def test_every_command_refuses_a_frozen_graph(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model(tmp_path / "m", _graph_def().SerializeToString())
    code = run([a.replace("{m}", str(model)) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "this is not a SavedModel but a GraphDef (a frozen graph" in err
    assert "Traceback" not in err


def test_check_reports_sml007(tmp_path: Path) -> None:
    model = _model(tmp_path / "m", _graph_def().SerializeToString())
    report = check_path(model)
    assert [f.rule.id for f in report.findings] == ["SML007"]
    assert report.failed()
    out = tmp_path / "r.json"
    assert run(["check", str(model), "--format", "json", "-o", str(out)]) == 1
    (finding,) = json.loads(out.read_text())["models"][0]["findings"]
    assert finding["rule"] == "SML007" and finding["severity"] == "error"
    assert finding["file"].endswith("saved_model.pb")


def test_text_graph_def_in_either_file(tmp_path: Path) -> None:
    text = 'node {\n  name: "x"\n  op: "Placeholder"\n}\nversions {\n  producer: 27\n}\n'
    for name in ("saved_model.pbtxt", "saved_model.pb"):
        model = _model(tmp_path / name, text.encode(), name)
        with pytest.raises(NotASavedModelError) as info:
            smlite.open(model)
        assert info.value.reason is Reason.GRAPH_DEF
        assert "a GraphDef (a frozen graph, as tf.io.write_graph" in str(info.value)
        assert "in text format" in str(info.value)


@pytest.mark.parametrize("name", sorted(p.name for p in MODELS.iterdir() if p.is_dir()))
def test_real_saved_models_are_not_mistaken(name: str) -> None:
    # A TF Serving base path opens its served version.
    with smlite.open(MODELS / name) as sm:
        assert sm.meta_graphs


def test_saved_model_without_schema_version_still_opens(tmp_path: Path) -> None:
    # Only field 2 (meta graphs): fits SavedModel's schema, so it is one.
    message = pb.SavedModel()
    message.meta_graphs.add().meta_info_def.tags.append("serve")
    model = _model(tmp_path / "m", message.SerializeToString())
    with smlite.open(model) as sm:
        assert sm.schema_version == 0 and sm.meta_graphs[0].tags == ("serve",)
