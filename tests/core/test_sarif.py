"""SARIF 2.1.0 output, validated against the OASIS schema shipped under tests/data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smlite.cli import run
from smlite.model.rules import RULES

jsonschema = pytest.importorskip("jsonschema")

DATA = Path(__file__).resolve().parents[1] / "data"
MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def _sarif(tmp_path: Path, *paths: Path) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "out.sarif"
    code = run(["check", "--format", "sarif", "--output", str(out), *map(str, paths)])
    return code, json.loads(out.read_text())


def test_validates_against_schema(tmp_path: Path) -> None:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    code, doc = _sarif(
        tmp_path,
        MODELS / "denylisted_ops",
        MODELS / "custom_op",
        MODELS / "serving_base",
        MODELS / "module_no_signature",
    )
    assert code == 1
    jsonschema.validate(doc, schema)
    assert doc["version"] == "2.1.0"


def test_rules_results_and_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(MODELS.parents[2])
    _, doc = _sarif(tmp_path, MODELS / "denylisted_ops")
    (run_,) = doc["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "smlite"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == list(RULES)
    assert all(
        r["shortDescription"]["text"] and r["defaultConfiguration"]["level"]
        for r in driver["rules"]
    )
    results = run_["results"]
    assert {r["ruleId"] for r in results} == {"SML601", "SML602", "SML603"}
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == "error"
        (loc,) = r["locations"]
        artifact = loc["physicalLocation"]["artifactLocation"]
        assert artifact == {
            "uri": "tests/fixtures/models/denylisted_ops/saved_model.pb",
            "uriBaseId": "%SRCROOT%",
        }
        logical = loc["logicalLocations"][0]["fullyQualifiedName"]
        assert logical.startswith("meta_graph[serve]/function[")
        assert "/node[" in logical
        assert r["partialFingerprints"]["smliteFinding/v1"]


def test_warning_and_note_levels(tmp_path: Path) -> None:
    _, doc = _sarif(tmp_path, MODELS / "module_no_signature", MODELS / "serving_base")
    levels = {r["ruleId"]: r["level"] for r in doc["runs"][0]["results"]}
    assert levels == {"SML104": "warning", "SML502": "note"}
