"""smlite's Keras reading against tf-keras 2.21 and the live functions, on fresh exports.

``scripts/make_keras_fixtures.py`` exports its models into a temporary directory; smlite
reads them and must report what tf-keras built: layers, training configuration, and for
every Lambda the names its code references, equal to ``co_names`` and to the names
``dis`` shows for the original function (the one place where a test runs the code it
compares with: it built that code itself).  The committed fixtures must still match a
fresh export.
"""

from __future__ import annotations

import dis
import importlib.util
import json
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import smlite
from smlite.model.checks import check_path
from smlite.model.keras_objects import KERAS_REGISTERED_NAMES
from tests.tf.conftest import quiet_tf_env

pytest.importorskip("tf_keras")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_keras_fixtures.py"
COMMITTED = ROOT / "tests" / "fixtures" / "keras"


def _script() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("make_keras_fixtures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("keras")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        capture_output=True,
        text=True,
        env=quiet_tf_env(),
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    return out


def _functions() -> dict[str, Callable[..., Any]]:
    script = _script()
    helpers = script.load_helpers()
    return {
        "lam_expr": script.lambda_expression(),
        "lam_named": helpers.scale,
        "lam_os": helpers.sneaky,
    }


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _dis_names(code: types.CodeType) -> set[str]:
    """Names the instructions of ``code`` and its nested code look up, as ``dis`` shows them."""
    found = set()
    for c in _codes(code):
        for ins in dis.get_instructions(c):
            if ins.opcode in dis.hasname and isinstance(ins.argval, str):
                found.add(ins.argval)
    return found


MODELS = {
    "lambda_expr": ["lam_expr"],
    "lambda_named": ["lam_named"],
    "lambda_os_system": ["lam_os"],
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_decoded_names_equal_the_live_code(fresh: Path, name: str) -> None:
    live = _functions()
    with smlite.open(fresh / name) as sm:
        assert sm.keras is not None
        layers = {layer.name: layer for layer in sm.keras.layers}
    for layer_name in MODELS[name]:
        original = live[layer_name].__code__
        (fn,) = layers[layer_name].functions
        assert fn.code is not None, fn.error
        assert fn.code.names == original.co_names
        assert set(fn.code.all_names) == {n for c in _codes(original) for n in c.co_names}
        assert set(fn.code.all_names) == _dis_names(original)
        assert fn.code.varnames == original.co_varnames
        assert fn.code.argcount == original.co_argcount
        assert fn.code.filename == original.co_filename
        consts = [c for c in original.co_consts if isinstance(c, str)]
        assert [s for s in fn.code.consts if isinstance(s, str)] == consts


EXPECTED_RULES = {
    "lambda_expr": {"SML801"},
    "lambda_named": {"SML801", "SML804"},
    "lambda_os_system": {"SML801", "SML802"},
    "custom_layer": {"SML805"},
    "compiled": set(),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_RULES))
def test_findings_on_fresh_exports(fresh: Path, name: str) -> None:
    report = check_path(fresh / name, fast=True)
    keras = {f.rule.id for f in report.findings if f.rule.id.startswith("SML8")}
    assert keras == EXPECTED_RULES[name]
    others = [f for f in report.findings if not f.rule.id.startswith("SML8")]
    assert not others, others


@pytest.mark.parametrize("name", sorted(EXPECTED_RULES))
def test_view_matches_tf_keras(fresh: Path, name: str) -> None:
    facts = json.loads((fresh / f"{name}.json").read_text())
    with smlite.open(fresh / name) as sm:
        model = sm.keras
    assert model is not None
    assert (model.name, model.class_name) == (facts["name"], facts["class_name"])
    assert model.keras_version == facts["tf_keras"]
    assert sorted([layer.name, layer.class_name] for layer in model.layers) == facts["layers"]
    training = facts["training_config"]
    if training is not None:
        assert model.training_config is not None
        assert model.training_config.optimizer == training["optimizer"]
        assert model.training_config.loss == training["loss"]


@pytest.mark.parametrize("name", sorted(EXPECTED_RULES))
def test_committed_fixtures_match_a_fresh_export(fresh: Path, name: str) -> None:
    committed = json.loads((COMMITTED / f"{name}.json").read_text())
    now = json.loads((fresh / f"{name}.json").read_text())
    if committed["python"].rsplit(".", 1)[0] != now["python"].rsplit(".", 1)[0]:
        pytest.skip(f"fixtures written by Python {committed['python']}, this is {now['python']}")
    assert committed == now


def test_keras_own_registered_names() -> None:
    import tf_keras  # noqa: F401 (registers Keras' own classes)
    from tf_keras.src.saving import object_registration

    own = {
        name
        for name, obj in object_registration._GLOBAL_CUSTOM_OBJECTS.items()
        if getattr(obj, "__module__", "").startswith("tf_keras")
    }
    assert own == set(KERAS_REGISTERED_NAMES)


def test_keras3_export_is_recognised(tmp_path: Path) -> None:
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.export(str(tmp_path / "k3"), format="tf_saved_model")
    with smlite.open(tmp_path / "k3") as sm:
        view = sm.keras
    assert view is not None and view.source == "keras3_export"
    assert view.note == "exported by Keras 3 ExportArchive: no layer metadata"
