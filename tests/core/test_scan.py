"""``smlite scan``: saved_model_cli-compatible text, and the extended op audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smlite.cli import run
from smlite.model.scan import OP_RISKS, OpRegistry
from tests.support.samcli import Case, fixture_names, load_cases, model_dir

CASES = [
    (name, case) for name in fixture_names() for case in load_cases(name) if case.command == "scan"
]


@pytest.mark.parametrize(
    ("name", "case"), CASES, ids=[f"{n}:{' '.join(c.argv[1:])}" for n, c in CASES]
)
def test_compatible_text_equals_saved_model_cli(
    name: str, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = case.argv_for(model_dir(name))
    code = run(argv)
    captured = capsys.readouterr()
    if name == "serving_base" and case.argv[2] == "{model}" and case.exit != 0:
        # saved_model_cli cannot read a TF Serving base path; smlite scans the served version.
        assert code == 0
        assert captured.out.startswith("MetaGraph with tag set ['serve']")
        assert "version 2" in captured.err
        return
    if case.exit != 0:
        # saved_model_cli raised (unknown tag-set): smlite reports an error, exit 2.
        assert code == 2
        assert captured.out == ""
        assert "smlite: error:" in captured.err
        return
    assert captured.out == case.normalized_stdout
    expected_exit = 1 if "contains the following denylisted ops" in case.stdout else 0
    assert code == expected_exit


def test_compatible_mode_misses_what_the_audit_finds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = model_dir("denylisted_ops") if "denylisted_ops" in fixture_names() else None
    model = model or Path(__file__).resolve().parents[1] / "fixtures/models/denylisted_ops"
    code = run(["scan", "--dir", str(model)])
    text = capsys.readouterr().out
    assert code == 1 and "{'PrintV2'}" in text
    out = tmp_path / "scan.json"
    code = run(["scan", str(model), "--format", "json", "--output", str(out)])
    doc = json.loads(out.read_text())
    assert doc["kind"] == "scan" and code == 1
    found = {(f["rule"], f["node"]) for m in doc["models"] for f in m["findings"]}
    assert ("SML601", "cond/ReadFile") in found
    assert ("SML602", "WriteFile") in found
    assert ("SML603", "EagerPyFunc") in found
    # scan runs only the op audit: no fingerprint or variables checks.
    assert all(r.startswith("SML6") for r, _ in found)


def test_flag_conflicts_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    model = str(Path(__file__).resolve().parents[1] / "fixtures/models/module_one_signature")
    assert run(["scan", model, "--dir", model]) == 2
    assert run(["scan", model, "--tag_set", "serve"]) == 2
    assert run(["scan", "--dir", model, "--format", "sarif"]) == 2
    assert run(["scan"]) == 2
    capsys.readouterr()


def test_registry_snapshot_has_tf_version_and_core_ops() -> None:
    registry = OpRegistry.default()
    assert "2.21" in registry.source
    assert {"MatMul", "Const", "SaveV2", "StatefulPartitionedCall"} <= registry.names
    assert "SmliteTestCustomOp" not in registry
    # Every op the policy names is a real TensorFlow 2.21 op.
    assert set(OP_RISKS) <= registry.names
