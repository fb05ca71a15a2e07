"""``smlite check``: each check breaks a fixture copy in one way and finds exactly that."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from smlite import pb
from smlite.cli import run
from smlite.model.checks import check_path, model_root_for
from tests.support.samcli import FIXTURES

MODELS = FIXTURES / "models"
ALL_MODELS = sorted(p.name for p in MODELS.iterdir() if p.is_dir()) if MODELS.is_dir() else []
# Fixtures that are deliberately unsafe: their op findings are errors by design.
UNSAFE = {"custom_op", "denylisted_ops"}


def copy(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / "repo" / name
    shutil.copytree(MODELS / name, dst, symlinks=True)
    # A .git marker stops the policy search at the temp "repository".
    (tmp_path / "repo" / ".git").mkdir(exist_ok=True)
    return dst


def check(*args: str | Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    code = run(["check", "--format", "json", "--output", str(out), *map(str, args)])
    doc = json.loads(out.read_text()) if out.exists() else {}
    return code, doc


def findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for m in doc["models"] for f in m["findings"]]


def only(doc: dict[str, Any], rule: str) -> dict[str, Any]:
    found = [f for f in findings(doc) if f["rule"] == rule]
    assert len(found) == 1, (rule, findings(doc))
    return found[0]


def rules(doc: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in findings(doc)}


@pytest.mark.parametrize("name", ALL_MODELS)
def test_clean_fixtures_have_no_errors(name: str, tmp_path: Path) -> None:
    code, doc = check(MODELS / name, tmp_path=tmp_path)
    errors = [f for f in findings(doc) if f["severity"] == "error"]
    if name in UNSAFE:
        assert code == 1
        assert {f["rule"] for f in errors} <= {"SML601", "SML602", "SML603", "SML609"}
    else:
        assert code == 0, errors
        assert errors == []


def test_module_without_signatures_passes_with_a_warning(tmp_path: Path) -> None:
    code, doc = check(MODELS / "module_no_signature", tmp_path=tmp_path)
    assert code == 0
    f = only(doc, "SML104")
    assert f["severity"] == "warning"
    assert f["meta_graph"] == 0 and f["tags"] == ["serve"]
    assert f["file"].endswith("module_no_signature/saved_model.pb")
    code, _ = check("--strict", MODELS / "module_no_signature", tmp_path=tmp_path)
    assert code == 1


def test_policy_requires_signature(tmp_path: Path) -> None:
    model = copy("module_no_signature", tmp_path)
    (model.parent / "pyproject.toml").write_text(
        '[tool.smlite]\nrequired-signatures = ["serving_default"]\n'
        'required-tag-sets = ["serve", "serve,gpu"]\n'
    )
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert only(doc, "SML104")["severity"] == "error"
    missing = only(doc, "SML103")
    assert missing["severity"] == "error" and "'gpu,serve'" in missing["message"]


def test_policy_deny_allow_disable_severity_size(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    (model.parent / "pyproject.toml").write_text(
        "[tool.smlite]\n"
        'deny-ops = ["MatMul", "Mul"]\n'
        'disable = ["missing-signature"]\n'
        'severity = { SML610 = "warning" }\n'
        'max-model-size = "1kB"\n'
    )
    code, doc = check(model, tmp_path=tmp_path)
    denied = [f for f in findings(doc) if f["rule"] == "SML610"]
    assert denied and all(f["severity"] == "warning" for f in denied)
    assert only(doc, "SML701")["severity"] == "error"
    assert code == 1
    (model.parent / "pyproject.toml").write_text('[tool.smlite]\nallow-ops = ["Const"]\n')
    code, doc = check(model, tmp_path=tmp_path)
    assert "SML611" in rules(doc) and code == 1


def test_config_flag_and_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "smlite.toml"
    config.write_text("warnings-as-errors = true\n")
    code, _ = check("--config", config, MODELS / "module_no_signature", tmp_path=tmp_path)
    assert code == 1
    config.write_text("no-such-key = 1\n")
    code, _ = check("--config", config, MODELS / "module_no_signature", tmp_path=tmp_path)
    assert code == 2


def test_missing_path_is_exit_2(tmp_path: Path) -> None:
    code, _ = check(tmp_path / "nope", tmp_path=tmp_path)
    assert code == 2


def test_no_saved_model(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    (model / "saved_model.pb").unlink()
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert only(doc, "SML001")["severity"] == "error"


def test_lfs_pointer(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    shard = model / "variables" / "variables.data-00000-of-00001"
    shard.write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 1234\n"
    )
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML002")
    assert f["severity"] == "error" and f["file"].endswith("variables.data-00000-of-00001")
    assert "git lfs pull" in f["message"]


def test_lfs_pointer_saved_model(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    (model / "saved_model.pb").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "1" * 64 + "\nsize 99\n"
    )
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert only(doc, "SML002")["file"].endswith("saved_model.pb")
    assert "SML003" not in rules(doc)


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_saved_model(tmp_path: Path, keep: float) -> None:
    model = copy("module_one_signature", tmp_path)
    path = model / "saved_model.pb"
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML003")
    assert f["severity"] == "error" and f["file"].endswith("saved_model.pb")


def test_text_in_pb(tmp_path: Path) -> None:
    model = copy("tf1_pbtxt", tmp_path)
    (model / "saved_model.pbtxt").rename(model / "saved_model.pb")
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert only(doc, "SML004")["file"].endswith("saved_model.pb")


def test_pb_and_pbtxt(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    (model / "saved_model.pbtxt").write_text("saved_model_schema_version: 1\n")
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 0
    assert only(doc, "SML006")["severity"] == "warning"


def _edit_saved_model(model: Path, edit: Any) -> None:
    path = model / "saved_model.pb"
    message = pb.SavedModel.FromString(path.read_bytes())
    edit(message)
    path.write_bytes(message.SerializeToString())


def test_duplicate_tag_set(tmp_path: Path) -> None:
    model = copy("tf1_multi_tag", tmp_path)

    def edit(sm: pb.SavedModel) -> None:
        del sm.meta_graphs[2].meta_info_def.tags[:]
        sm.meta_graphs[2].meta_info_def.tags.append("serve")

    _edit_saved_model(model, edit)
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML102")
    assert f["meta_graph"] == 2 and f["severity"] == "error"


def test_unresolved_signature_tensor(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)

    def edit(sm: pb.SavedModel) -> None:
        outputs = sm.meta_graphs[0].signature_def["serving_default"].outputs
        next(iter(outputs.values())).name = "no_such_node:0"

    _edit_saved_model(model, edit)
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML105")
    assert f["detail"].startswith("signature_def[serving_default].outputs[")
    assert "no_such_node" in f["message"]
    # The edit also changed what fingerprint.pb hashed.
    assert "SML402" in rules(doc)


def test_missing_function(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)

    def edit(sm: pb.SavedModel) -> None:
        for node in sm.meta_graphs[0].graph_def.node:
            if node.op == "StatefulPartitionedCall":
                node.attr["f"].func.name = "__inference_gone_1"
                return

    _edit_saved_model(model, edit)
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML106")
    assert f["node"] and f["function"] is None and "__inference_gone_1" in f["message"]


def test_missing_variables_dir(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    shutil.rmtree(model / "variables")
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert only(doc, "SML201")["file"].endswith("variables/variables.index")


def test_corrupt_index(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    index = model / "variables" / "variables.index"
    data = bytearray(index.read_bytes())
    data[5] ^= 0x55
    index.write_bytes(bytes(data))
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert only(doc, "SML202")["severity"] == "error"
    assert only(doc, "SML402")["detail"] == "checkpoint_hash"


def test_missing_shard(tmp_path: Path) -> None:
    model = copy("variables_sharded", tmp_path)
    shards = sorted((model / "variables").glob("variables.data-*"))
    assert len(shards) > 1
    shards[-1].unlink()
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert only(doc, "SML203")["file"].endswith(shards[-1].name)


def test_stray_shard(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    (model / "variables" / "variables.data-00000-of-00002").write_bytes(b"x")
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 0
    assert only(doc, "SML207")["severity"] == "warning"


def test_truncated_shard(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    shard = model / "variables" / "variables.data-00000-of-00001"
    shard.write_bytes(shard.read_bytes()[:-3])
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = [f for f in findings(doc) if f["rule"] == "SML204"]
    assert f and f[0]["file"].endswith("variables.data-00000-of-00001")


def test_flipped_variable_byte(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    shard = model / "variables" / "variables.data-00000-of-00001"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x01
    shard.write_bytes(bytes(data))
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML205")
    assert f["detail"].startswith("entry[") and f["offset"] is not None
    # --fast skips data checksums.
    code, doc = check("--fast", model, tmp_path=tmp_path)
    assert code == 0 and "SML205" not in rules(doc)


def test_missing_asset(tmp_path: Path) -> None:
    model = copy("lookup_table", tmp_path)
    assets = sorted((model / "assets").iterdir())
    assets[0].unlink()
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML301")
    assert f["file"].endswith(f"assets/{assets[0].name}")


def test_asset_symlink_leaving_model(tmp_path: Path) -> None:
    model = copy("lookup_table", tmp_path)
    asset = sorted((model / "assets").iterdir())[0]
    outside = tmp_path / "outside.txt"
    outside.write_bytes(asset.read_bytes())
    asset.unlink()
    os.symlink(outside, asset)
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert only(doc, "SML302")["file"].endswith(asset.name)


def test_asset_name_escaping(tmp_path: Path) -> None:
    model = copy("lookup_table", tmp_path)

    def edit(sm: pb.SavedModel) -> None:
        sm.meta_graphs[0].asset_file_def[0].filename = "../../etc/passwd"

    _edit_saved_model(model, edit)
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert "passwd" in only(doc, "SML302")["message"]


def test_missing_fingerprint(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    (model / "fingerprint.pb").unlink()
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 0
    assert only(doc, "SML401")["severity"] == "warning"
    code, _ = check("--strict", model, tmp_path=tmp_path)
    assert code == 1


def test_tampered_fingerprint(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    path = model / "fingerprint.pb"
    fp = pb.FingerprintDef.FromString(path.read_bytes())
    fp.graph_def_program_hash ^= 1
    path.write_bytes(fp.SerializeToString())
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML402")
    assert f["detail"] == "graph_def_program_hash" and f["file"].endswith("fingerprint.pb")


def test_garbage_fingerprint(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)
    (model / "fingerprint.pb").write_bytes(b"\x0a\xff\xff")
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert only(doc, "SML403")["severity"] == "error"


def test_serving_duplicate_version(tmp_path: Path) -> None:
    base = copy("serving_base", tmp_path)
    shutil.copytree(base / "2", base / "002")
    code, doc = check(base, tmp_path=tmp_path)
    assert code == 1
    assert "version 2" in only(doc, "SML501")["message"]
    assert doc["models"][0]["served_version"] == 2


def test_serving_incomplete_highest_version(tmp_path: Path) -> None:
    base = copy("serving_base", tmp_path)
    (base / "3" / "variables").mkdir(parents=True)
    code, doc = check(base, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML503")
    assert "version 3" in f["message"]
    assert doc["models"][0]["served_version"] == 3
    assert only(doc, "SML502")["severity"] == "note"


def test_warmup_corrupt(tmp_path: Path) -> None:
    model = copy("tf1_multi_tag", tmp_path)
    warmup = model / "assets.extra" / "tf_serving_warmup_requests"
    data = bytearray(warmup.read_bytes())
    data[20] ^= 0xFF
    warmup.write_bytes(bytes(data))
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML504")
    assert f["file"].endswith("tf_serving_warmup_requests") and f["offset"] == 0


def test_warmup_truncated(tmp_path: Path) -> None:
    model = copy("tf1_multi_tag", tmp_path)
    warmup = model / "assets.extra" / "tf_serving_warmup_requests"
    warmup.write_bytes(warmup.read_bytes()[:-2])
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    assert "truncated" in only(doc, "SML504")["message"]


def test_op_findings_name_function_and_node(tmp_path: Path) -> None:
    code, doc = check(MODELS / "denylisted_ops", tmp_path=tmp_path)
    assert code == 1
    by_rule = {f["rule"]: f for f in findings(doc)}
    assert by_rule["SML601"]["node"] == "cond/ReadFile"
    assert by_rule["SML601"]["function"].startswith("cond_true")
    assert by_rule["SML602"]["function"].startswith("__inference_write")
    assert by_rule["SML603"]["node"] == "EagerPyFunc"
    assert all(f["meta_graph"] == 0 for f in by_rule.values())


def test_custom_ops_and_ops_from(tmp_path: Path) -> None:
    code, doc = check(MODELS / "custom_op", tmp_path=tmp_path)
    custom = [f for f in findings(doc) if f["rule"] == "SML609"]
    assert code == 1 and len(custom) == 2
    assert {f["function"] is None for f in custom} == {True, False}
    assert all("custom op library" in f["message"] for f in custom)
    ops = tmp_path / "ops.txt"
    ops.write_text("# my runtime\nSmliteTestCustomOp\n")
    code, doc = check("--ops-from", ops, MODELS / "custom_op", tmp_path=tmp_path)
    # Every stock op is now unknown, the custom one known.
    assert all("SmliteTestCustomOp" not in f["message"] for f in findings(doc))
    model = copy("custom_op", tmp_path)
    (model.parent / "pyproject.toml").write_text(
        '[tool.smlite]\nallowed-custom-ops = ["SmliteTestCustomOp"]\n'
    )
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 0 and "SML609" not in rules(doc)


def test_tf1_saver_ops_are_not_findings() -> None:
    report = check_path(MODELS / "tf1_multi_tag")
    assert not [f for f in report.findings if f.rule.id in ("SML606", "SML607")]


def test_model_root_for() -> None:
    assert model_root_for("m/saved_model.pb") == Path("m")
    assert model_root_for("a/m/variables/variables.index") == Path("a/m")
    assert model_root_for("m/assets/sub/vocab.txt") == Path("m")
    assert model_root_for("m/assets.extra/tf_serving_warmup_requests") == Path("m")
    assert model_root_for("variables/m/fingerprint.pb") == Path("variables/m")


def test_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["check", str(MODELS / "denylisted_ops"), str(MODELS / "module_one_signature")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL" in out and "3 errors:" in out and "SML601 file-read-op" in out
    assert "2 models checked: 3 errors" in out


def test_variable_without_checkpoint_value(tmp_path: Path) -> None:
    model = copy("module_one_signature", tmp_path)

    def edit(sm: pb.SavedModel) -> None:
        graph = sm.meta_graphs[0].object_graph_def
        ghost = graph.nodes.add()
        ghost.variable.name = "ghost"
        ghost.variable.dtype = 1
        ref = graph.nodes[0].children.add()
        ref.node_id = len(graph.nodes) - 1
        ref.local_name = "ghost"

    _edit_saved_model(model, edit)
    code, doc = check(model, tmp_path=tmp_path)
    assert code == 1
    f = only(doc, "SML206")
    assert "'ghost'" in f["message"] and f["file"].endswith("variables/variables.index")
