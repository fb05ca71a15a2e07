"""Release fixtures against TensorFlow 2.21 live: its exports stay clean, the old ones are genuine.

``scripts/make_release_fixtures.py`` run with this tier's TensorFlow (2.21) exports the same three
kinds of model it exported with 2.12-2.20; smlite must judge them by the 2.21 formula and find
nothing wrong.  The committed older exports must read the same through TensorFlow's own
``read_fingerprint`` and load in TensorFlow 2.21.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import smlite
from smlite.cli import run
from smlite.model.fingerprint import FIELDS, fingerprint
from tests.support.samcli import FIXTURES
from tests.tf.conftest import ROOT, quiet_tf_env

tf = pytest.importorskip("tensorflow")

RELEASES = sorted((FIXTURES / "releases").glob("*.json"))


@pytest.fixture(scope="module")
def exported_now(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("releases")
    kinds = "module,tf1" + (",keras" if importlib.util.find_spec("tf_keras") else "")
    script = ROOT / "scripts" / "make_release_fixtures.py"
    subprocess.run(
        [sys.executable, str(script), "--out", str(out), "--only", kinds],
        check=True,
        env=quiet_tf_env(),
        capture_output=True,
    )
    return out


def test_tf_2_21_exports_are_clean(exported_now: Path, tmp_path: Path) -> None:
    models = sorted((exported_now / "models").iterdir())
    assert {m.name for m in models} >= {"release_2_21_module", "release_2_21_tf1"}
    for model in models:
        facts = json.loads((exported_now / "releases" / f"{model.name}.json").read_text())
        with smlite.open(model) as sm:
            fp = fingerprint(sm)
        if facts["fingerprint"] is None:
            assert fp.status == "absent" and fp.expected is False, model
        else:
            assert fp.status == "match", (model, fp.mismatches)
            assert fp.formula is not None and fp.formula.name == "TF 2.21"
            assert fp.fields[2].algorithm == "signatures-keyed"
            assert fp.fields[0].algorithm == "saved-model-canonical"
            assert fp.stored is not None and fp.stored.producer == 4
        report = tmp_path / f"{model.name}.json"
        code = run(["check", "--strict", "--format", "json", "--output", str(report), str(model)])
        assert code == 0, json.loads(report.read_text())


@pytest.mark.parametrize("facts_file", RELEASES, ids=lambda p: p.stem)
def test_committed_release_exports_are_genuine(facts_file: Path) -> None:
    facts: dict[str, Any] = json.loads(facts_file.read_text())
    model = FIXTURES / "models" / facts["name"]
    if facts["fingerprint"] is not None:
        read = tf.saved_model.experimental.read_fingerprint(str(model))
        with smlite.open(model) as sm:
            fp = fingerprint(sm)
        assert fp.stored is not None
        for name in FIELDS:
            assert getattr(fp.stored.values, name) == facts["fingerprint"][name]
        assert fp.stored.values.singleprint == read.singleprint()
        assert read.version.producer == facts["fingerprint"]["version_producer"]
    loaded = tf.saved_model.load(str(model))
    assert "serving_default" in loaded.signatures
