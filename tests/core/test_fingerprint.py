"""Fingerprint recomputation (model/fingerprint.py) on the committed fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import smlite
from smlite import pb
from smlite.errors import CorruptFileError
from smlite.model.fingerprint import FIELDS, compute, fingerprint, read_stored
from tests.support.samcli import FIXTURES, fixture_names, load_expected

MODELS = FIXTURES / "models"
# serving_base records one fingerprint per version folder.
WITH_FINGERPRINT = [
    n
    for n in fixture_names()
    if load_expected(n).get("fingerprint") is not None and load_expected(n)["kind"] == "saved_model"
]
SERVING_VERSIONS = sorted(load_expected("serving_base").get("fingerprint") or {})
WITHOUT_FINGERPRINT = [
    n
    for n in fixture_names()
    if load_expected(n).get("fingerprint") is None and load_expected(n)["kind"] == "saved_model"
]


@pytest.mark.parametrize("name", WITH_FINGERPRINT)
def test_recomputed_equals_stored_and_recorded(name: str) -> None:
    recorded = load_expected(name)["fingerprint"]
    with smlite.open(MODELS / name) as sm:
        fp = fingerprint(sm)
    assert fp.stored is not None
    assert fp.mismatches == ()
    assert fp.matches
    assert fp.problems == ()
    for field in FIELDS:
        assert getattr(fp.stored.values, field) == recorded[field], field
        assert getattr(fp.computed, field) == recorded[field], field
    assert fp.computed.singleprint == recorded["singleprint"]
    assert fp.stored.producer == recorded["version_producer"]


@pytest.mark.parametrize("name", WITHOUT_FINGERPRINT)
def test_tf1_exports_get_computed_values(name: str) -> None:
    with smlite.open(MODELS / name) as sm:
        fp = fingerprint(sm)
        values = compute(sm)
    assert fp.stored is None
    assert not fp.matches
    assert fp.computed == values
    assert values.saved_object_graph_hash == 0  # no object graph in TF1
    assert values.checkpoint_hash != 0


@pytest.mark.parametrize("folder", SERVING_VERSIONS)
def test_serving_base_version_folders(folder: str) -> None:
    recorded = load_expected("serving_base")["fingerprint"][folder]
    with smlite.open(MODELS / "serving_base" / folder) as sm:
        fp = fingerprint(sm)
    assert fp.matches
    assert fp.computed.as_dict() == {f: recorded[f] for f in FIELDS}


def test_serving_base_uses_served_version() -> None:
    with smlite.open(MODELS / "serving_base") as sm:
        fp = fingerprint(sm)
    assert sm.path.name == "2"
    assert fp.matches


def _copy(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(MODELS / name, dst)
    return dst


def test_changed_index_changes_only_checkpoint_hash(tmp_path: Path) -> None:
    model = _copy("module_one_signature", tmp_path)
    index = model / "variables" / "variables.index"
    data = bytearray(index.read_bytes())
    data[10] ^= 0xFF
    index.write_bytes(bytes(data))
    with smlite.open(model) as sm:
        fp = fingerprint(sm)
    assert fp.mismatches == ("checkpoint_hash",)


def test_missing_index_hashes_zero(tmp_path: Path) -> None:
    model = _copy("module_one_signature", tmp_path)
    (model / "variables" / "variables.index").unlink()
    with smlite.open(model) as sm:
        assert compute(sm).checkpoint_hash == 0


def test_edited_signature_changes_signature_and_checksum(tmp_path: Path) -> None:
    model = _copy("module_one_signature", tmp_path)
    path = model / "saved_model.pb"
    sm_proto = pb.SavedModel.FromString(path.read_bytes())
    sig = sm_proto.meta_graphs[0].signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/classify"
    path.write_bytes(sm_proto.SerializeToString())
    with smlite.open(model) as sm:
        fp = fingerprint(sm)
    assert set(fp.mismatches) == {"saved_model_checksum", "signature_def_hash"}


def test_unparsable_fingerprint_file(tmp_path: Path) -> None:
    model = _copy("module_one_signature", tmp_path)
    (model / "fingerprint.pb").write_bytes(b"\xff\xff\xff")
    with pytest.raises(CorruptFileError, match="FingerprintDef"):
        read_stored(model)


def test_output_names_the_farmhash_that_ran(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from smlite.cli import run
    from smlite.formats import farmhash

    model = str(MODELS / "keras_model")
    with smlite.open(model) as sm:
        assert fingerprint(sm).farmhash == farmhash.IMPLEMENTATION == "cityhash"
    assert run(["fingerprint", model]) == 0
    assert "hashed with: cityhash (native)" in capsys.readouterr().out
    assert run(["fingerprint", model, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["farmhash"] == "cityhash"


def test_values_do_not_depend_on_the_fast_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """The protobuf fast path of the re-encoder and the native hash change no value."""
    from smlite.formats import canonical, farmhash

    model = MODELS / "polymorphic"
    with smlite.open(model) as sm:
        fast = compute(sm)
    monkeypatch.setattr(canonical, "FAST_LIMIT", -1)
    monkeypatch.setattr(farmhash, "_NATIVE", None)
    with smlite.open(model) as sm:
        assert compute(sm) == fast
