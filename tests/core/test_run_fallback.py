"""``smlite run --backend auto``: the Session loader when ``tf.saved_model.load`` cannot load.

TensorFlow itself is replaced by a stand-in for :func:`smlite.run.backend.execute_signature`
(the TF tier runs the real thing on the same fixture, ``tests/tf/test_run_live.py``).  The
fixture ``derived/optimizer_slots`` (``scripts/make_run_fallback_fixture.py``) is a TF 2.21
export whose object graph holds an optimizer with slot variables, which TF 2.21's
``tf.saved_model.load`` cannot revive.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import smlite.run
from smlite.cli import run as cli_run
from smlite.model.saved_model import Signature
from smlite.run import execute, prepare
from smlite.run.backend import TensorFlowLoadError

SLOTS = Path(__file__).resolve().parents[1] / "fixtures" / "derived" / "optimizer_slots"
ADD_SLOT = "AttributeError: '_UserObject' object has no attribute 'add_slot'"


@pytest.fixture
def backends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The backends run, in order; ``function`` fails to load, as on the real model."""
    calls: list[str] = []

    def fake(
        model_dir: Path,
        tags: Sequence[str],
        sig: Signature,
        feeds: Mapping[str, np.ndarray],
        *,
        backend: str,
    ) -> dict[str, Any]:
        calls.append(backend)
        if backend == "function":
            raise TensorFlowLoadError(
                f"TensorFlow could not load signature {sig.key!r}: {ADD_SLOT}",
                cause=ADD_SLOT,
                path=model_dir,
            )
        return {"y": feeds["x"] @ np.array([[1.5], [-2.0]], np.float32)}

    monkeypatch.setattr(smlite.run, "execute_signature", fake)
    return calls


def test_auto_falls_back_to_the_session_loader(backends: list[str]) -> None:
    plan = prepare(SLOTS, input_exprs="x=[[1.0, 2.0]]")
    assert (plan.backend, plan.fallback) == ("function", "session")
    result = execute(plan)
    assert backends == ["function", "session"]
    assert result.backend == "session"
    np.testing.assert_array_equal(result.outputs["y"], [[-2.5]])
    (note,) = result.notes
    assert note.startswith(f"tf.saved_model.load could not load the model ({ADD_SLOT})")


@pytest.mark.parametrize("backend", ["function", "session"])
def test_an_explicit_backend_has_no_fallback(backend: str, backends: list[str]) -> None:
    plan = prepare(SLOTS, input_exprs="x=[[1.0, 2.0]]", backend=backend)
    assert plan.fallback is None
    if backend == "function":
        with pytest.raises(TensorFlowLoadError, match="add_slot"):
            execute(plan)
    else:
        assert execute(plan).notes == ()
    assert backends == [backend]


def test_the_cli_says_so_on_stderr(backends: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_run(["run", str(SLOTS), "--input_exprs", "x=[[1.0, 2.0]]"]) == 0
    out, err = capsys.readouterr()
    assert out == "Result for output key y:\n[[-2.5]]\n"
    assert err == (
        f"smlite: note: tf.saved_model.load could not load the model ({ADD_SLOT}); running it "
        "with a TF1 Session and the SavedModel loader instead, as saved_model_cli run does\n"
    )
    assert cli_run(["run", str(SLOTS), "--input_exprs", "x=[[1.0, 2.0]]", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "session"
