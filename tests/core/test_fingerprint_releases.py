"""fingerprint.pb judged by the formula of the release that wrote it (issue 12, items 1, 3, 7).

The ``release_*`` fixtures are real exports by TensorFlow 2.12-2.20 (scripts/
make_release_fixtures.py) and two derived ones (scripts/derive_release_fixtures.py); their facts
(what TensorFlow wrote) are in ``tests/fixtures/releases``.  Every one must be judged clean, naming
the algorithm that matched, and a tampered copy of each must still fail.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import smlite
from smlite import pb
from smlite.cli import run
from smlite.model.fingerprint import FIELDS, Fingerprint, fingerprint
from smlite.model.fingerprint_releases import (
    ALGORITHMS,
    FORMULAS,
    formulas_for,
    not_comparable_reason,
)
from tests.support.samcli import FIXTURES

MODELS = FIXTURES / "models"
FACTS = {p.stem: json.loads(p.read_text()) for p in sorted((FIXTURES / "releases").glob("*.json"))}
WITH_FINGERPRINT = sorted(n for n, f in FACTS.items() if f["fingerprint"] is not None)
WITHOUT_FINGERPRINT = sorted(n for n, f in FACTS.items() if f["fingerprint"] is None)

# What each release computed, per field that ever changed (docs/fingerprint.md).
EXPECTED_FORMULA = {
    "2.11": ("TF 2.11", "graph-def-canonical", "signatures-unkeyed"),
    "2.12": ("TF 2.12-2.13", "saved-model-canonical", "signatures-unkeyed"),
    "2.13": ("TF 2.12-2.13", "saved-model-canonical", "signatures-unkeyed"),
    "2.14": ("TF 2.14-2.20", "saved-model-canonical", "signatures-keyed"),
    "2.15": ("TF 2.14-2.20", "saved-model-canonical", "signatures-keyed"),
    "2.16": ("TF 2.14-2.20", "saved-model-canonical", "signatures-keyed"),
    "2.17": ("TF 2.14-2.20", "saved-model-canonical", "signatures-keyed"),
    "2.18": ("TF 2.14-2.20", "saved-model-canonical", "signatures-keyed"),
    "2.19": ("TF 2.14-2.20", "saved-model-canonical", "signatures-keyed"),
    "2.20": ("TF 2.14-2.20", "saved-model-canonical", "signatures-keyed"),
}


def _minor(facts: dict[str, Any]) -> str:
    return ".".join(facts["tf_version"].split(".")[:2])


def _copy(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / "repo" / name
    shutil.copytree(MODELS / name, dst)
    (tmp_path / "repo" / ".git").mkdir(exist_ok=True)  # stops the policy search here
    return dst


def _judge(model: Path) -> Fingerprint:
    with smlite.open(model) as sm:
        return fingerprint(sm)


def _edit_fingerprint(model: Path, **values: int) -> None:
    path = model / "fingerprint.pb"
    fp = pb.FingerprintDef.FromString(path.read_bytes())
    for name, value in values.items():
        setattr(fp, name, value)
    path.write_bytes(fp.SerializeToString())


def _set_tensorflow_version(model: Path, version: str) -> None:
    path = model / "saved_model.pb"
    sm = pb.SavedModel.FromString(path.read_bytes())
    sm.meta_graphs[0].meta_info_def.tensorflow_version = version
    path.write_bytes(sm.SerializeToString())


def _check(model: Path, tmp_path: Path, *flags: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    code = run(["check", "--format", "json", "--output", str(out), *flags, str(model)])
    return code, json.loads(out.read_text())


def _findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for m in doc["models"] for f in m["findings"]]


def test_fixtures_cover_every_formula() -> None:
    assert len(WITH_FINGERPRINT) >= 10 and len(WITHOUT_FINGERPRINT) >= 5
    judged = {_judge(MODELS / n).formula for n in WITH_FINGERPRINT}
    assert {f.name for f in judged if f is not None} == {f.name for f in FORMULAS[:-1]}


@pytest.mark.parametrize("name", WITH_FINGERPRINT)
def test_release_export_matches_its_writers_formula(name: str) -> None:
    facts = FACTS[name]
    fp = _judge(MODELS / name)
    assert fp.status == "match", fp.mismatches
    assert fp.tensorflow_version == facts["tf_version"]
    assert fp.stored is not None and fp.stored.producer == facts["fingerprint"]["version_producer"]
    for field in fp.fields:
        assert field.stored == facts["fingerprint"][field.name]
        assert field.computed == field.stored
        assert field.algorithm in ALGORITHMS
    formula, checksum, signatures = EXPECTED_FORMULA[_minor(facts)]
    if name.endswith("_file_checksum"):
        checksum = "saved-model-file"
    assert fp.formula is not None and fp.formula.name == formula
    assert [f.algorithm for f in fp.fields] == [
        checksum,
        "simple-delete",
        signatures,
        "object-graph-by-uid",
        "checkpoint-index",
    ]
    assert fp.problems == ()


@pytest.mark.parametrize("name", WITHOUT_FINGERPRINT)
def test_tf1_builder_exports_expect_no_fingerprint(name: str, tmp_path: Path) -> None:
    fp = _judge(MODELS / name)
    assert fp.status == "absent" and fp.expected is False
    assert "TF1 SavedModelBuilder" in fp.reason
    code, doc = _check(MODELS / name, tmp_path, "--strict")
    assert code == 0, _findings(doc)


@pytest.mark.parametrize("name", WITH_FINGERPRINT)
@pytest.mark.parametrize("field", FIELDS)
def test_tampered_stored_hash_fails(name: str, field: str, tmp_path: Path) -> None:
    model = _copy(name, tmp_path)
    _edit_fingerprint(model, **{field: FACTS[name]["fingerprint"][field] ^ 1})
    fp = _judge(model)
    assert fp.status == "mismatch"
    assert fp.mismatches == (field,)
    assert [f for f, _ in fp.mismatch_messages()] == [field]


@pytest.mark.parametrize("name", WITH_FINGERPRINT)
def test_tampered_files_fail_check_and_fingerprint(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _copy(name, tmp_path)
    index = model / "variables" / "variables.index"
    data = bytearray(index.read_bytes())
    data[-1] ^= 0xFF  # the footer's magic: the hash changes, whatever else breaks
    index.write_bytes(bytes(data))
    code, doc = _check(model, tmp_path)
    assert code == 1
    sml402 = [f for f in _findings(doc) if f["rule"] == "SML402"]
    assert [f["detail"] for f in sml402] == ["checkpoint_hash"]
    formula = EXPECTED_FORMULA[_minor(FACTS[name])][0]
    assert (
        f"with the {formula} formula (written by TF {FACTS[name]['tf_version']})"
        in (sml402[0]["message"])
    )
    capsys.readouterr()
    assert run(["fingerprint", str(model)]) == 1
    assert f"differ from the {formula} formula" in capsys.readouterr().out


def test_newest_writer_is_held_to_its_own_formula(tmp_path: Path) -> None:
    # A TF 2.21 export must match the 2.21 formula: neither the keyless signature hash of
    # 2.11-2.13 nor the file-bytes checksum seen on older writers is accepted for it.
    model = _copy("module_one_signature", tmp_path)
    before = _judge(model)
    assert before.formula is not None and before.formula.name == "TF 2.21"
    unkeyed = _judge(MODELS / "release_2_12_module").fields[2]
    assert unkeyed.algorithm == "signatures-unkeyed"
    with smlite.open(model) as sm:
        from smlite.model.fingerprint_compute import signature_hash

        sigs = sm.meta_graphs[0].header.signature_def
        _edit_fingerprint(model, signature_def_hash=signature_hash(sigs, keyed=False))
    assert _judge(model).mismatches == ("signature_def_hash",)
    from smlite.formats.farmhash import fingerprint64

    model2 = _copy("module_multi_signature", tmp_path)
    raw = fingerprint64((model2 / "saved_model.pb").read_bytes())
    assert raw != _judge(model2).fields[0].stored
    _edit_fingerprint(model2, saved_model_checksum=raw)
    assert _judge(model2).mismatches == ("saved_model_checksum",)


def test_each_release_is_held_to_its_own_signature_formula(tmp_path: Path) -> None:
    # 2.14 hashed the keys: a keyless value is a mismatch there; 2.12 did not: a keyed one is.
    keyed = _judge(MODELS / "release_2_14_module").fields[2].stored
    unkeyed = _judge(MODELS / "release_2_12_module").fields[2].stored
    assert keyed != unkeyed  # the same module: only the formula differs
    m14 = _copy("release_2_14_module", tmp_path)
    _edit_fingerprint(m14, signature_def_hash=unkeyed)
    assert _judge(m14).mismatches == ("signature_def_hash",)
    m12 = _copy("release_2_12_module", tmp_path)
    _edit_fingerprint(m12, signature_def_hash=keyed)
    assert _judge(m12).mismatches == ("signature_def_hash",)


@pytest.mark.parametrize("version", ["2.3.0", "2.10.1"])
def test_writers_before_2_11_are_not_asked_for_a_fingerprint(version: str, tmp_path: Path) -> None:
    model = _copy("release_2_12_module", tmp_path)
    (model / "fingerprint.pb").unlink()
    _set_tensorflow_version(model, version)
    fp = _judge(model)
    assert fp.status == "absent" and fp.expected is False
    assert fp.reason == (
        f"no fingerprint.pb: TF {version} (the writer) predates it; TF 2.11 and later write one"
    )
    code, doc = _check(model, tmp_path, "--strict")
    assert code == 0, _findings(doc)
    assert not _findings(doc)


def test_missing_fingerprint_of_a_2_12_export_is_a_warning(tmp_path: Path) -> None:
    model = _copy("release_2_12_keras", tmp_path)
    (model / "fingerprint.pb").unlink()
    code, doc = _check(model, tmp_path)
    assert code == 0
    [finding] = [f for f in _findings(doc) if f["rule"] == "SML401"]
    assert finding["severity"] == "warning"
    assert finding["message"] == (
        "fingerprint.pb is missing; TF 2.12.1 (the writer) writes it next to saved_model.pb"
    )
    code, _ = _check(model, tmp_path, "--strict")
    assert code == 1


def test_unrecorded_writer_without_fingerprint_is_a_note(tmp_path: Path) -> None:
    model = _copy("release_2_12_module", tmp_path)
    (model / "fingerprint.pb").unlink()
    _set_tensorflow_version(model, "")
    fp = _judge(model)
    assert fp.status == "absent" and fp.expected is None
    code, doc = _check(model, tmp_path, "--strict")
    assert code == 0 and not _findings(doc)
    assert fp.reason in doc["models"][0]["skipped"]


@pytest.mark.parametrize(
    ("source", "formula"),
    [("release_2_12_module", "TF 2.12-2.13"), ("release_2_14_module", "TF 2.14-2.20")],
)
def test_unrecorded_writer_is_judged_by_its_producer(
    source: str, formula: str, tmp_path: Path
) -> None:
    model = _copy(source, tmp_path)
    _set_tensorflow_version(model, "")
    with smlite.open(model) as sm:
        checksum = fingerprint(sm).computed
    assert checksum is not None
    _edit_fingerprint(model, saved_model_checksum=checksum.saved_model_checksum)
    fp = _judge(model)
    assert fp.release is None and fp.writer == "an unrecorded TensorFlow release"
    assert fp.status == "match"
    assert fp.formula is not None and fp.formula.name == formula


def test_pbtxt_model_is_not_comparable_in_both_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from google.protobuf import text_format

    model = _copy("release_2_14_module", tmp_path)
    pb_file = model / "saved_model.pb"
    text = text_format.MessageToString(pb.SavedModel.FromString(pb_file.read_bytes()))
    (model / "saved_model.pbtxt").write_text(text)
    pb_file.unlink()
    fp = _judge(model)
    reason = not_comparable_reason("pbtxt", 1)
    assert fp.status == "not-comparable" and fp.reason == reason
    assert reason == (
        "fingerprint.pb hashes saved_model.pb, and this model has saved_model.pbtxt instead"
    )
    code, doc = _check(model, tmp_path, "--strict")
    assert code == 0 and not _findings(doc)
    assert doc["models"][0]["skipped"] == [f"fingerprint not recomputed: {reason}"]
    capsys.readouterr()
    assert run(["fingerprint", str(model), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "not-comparable" and out["reason"] == reason
    assert out["matches"] is None and out["fields"] == []


@pytest.mark.parametrize(
    ("producer", "phrase"),
    [(2, "chunked saved_model.cpb"), (5, "without a SavedModel file"), (3, "does not know")],
)
def test_other_producers_are_not_comparable(producer: int, phrase: str, tmp_path: Path) -> None:
    model = _copy("release_2_20_module", tmp_path)
    path = model / "fingerprint.pb"
    fp = pb.FingerprintDef.FromString(path.read_bytes())
    fp.version.producer = producer
    path.write_bytes(fp.SerializeToString())
    judged = _judge(model)
    assert judged.status == "not-comparable" and phrase in judged.reason


def test_json_and_text_name_the_formula_and_algorithms(capsys: pytest.CaptureFixture[str]) -> None:
    model = MODELS / "release_2_11_keras"
    assert run(["fingerprint", str(model), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "match" and doc["matches"] is True
    assert doc["formula"] == "TF 2.11"
    assert doc["writer"] == {"tensorflow_version": "2.11.0", "release": "2.11.0"}
    assert [f["algorithm"] for f in doc["fields"]][:3] == [
        "graph-def-canonical",
        "simple-delete",
        "signatures-unkeyed",
    ]
    assert all(f["stored"] == f["recomputed"] for f in doc["fields"])
    assert run(["fingerprint", str(model)]) == 0
    text = capsys.readouterr().out
    assert "written by TF 2.11.0" in text
    assert (
        "algorithms (TF 2.11 formula): graph-def-canonical, simple-delete, signatures-unkeyed, "
        "object-graph-by-uid, checkpoint-index"
    ) in text.replace("\n", " ")
    assert "all hashes match the TF 2.11 formula" in text


@pytest.mark.parametrize(
    ("release", "producer", "names"),
    [
        ((2, 11, 0), 0, ["TF 2.11"]),
        ((2, 13, 1), 1, ["TF 2.12-2.13"]),
        ((2, 14, 0), 1, ["TF 2.14-2.20"]),
        ((2, 20, 0), 1, ["TF 2.14-2.20"]),
        ((2, 21, 0), 4, ["TF 2.21"]),
        ((2, 25, 0), 4, ["TF 2.21"]),
        ((2, 21, 0), 1, ["TF 2.21"]),  # the recorded release decides, not the producer
        (None, 1, ["TF 2.14-2.20", "TF 2.12-2.13"]),
        (None, 0, ["TF 2.11"]),
        ((2, 10, 1), 4, ["TF 2.21"]),  # a release that never wrote one: by producer
        (None, 7, []),
    ],
)
def test_formulas_for(
    release: tuple[int, int, int] | None, producer: int, names: list[str]
) -> None:
    assert [f.name for f in formulas_for(release, producer)] == names
