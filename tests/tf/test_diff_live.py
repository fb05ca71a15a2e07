"""smlite diff on pairs exported afresh by TensorFlow 2.21, checked against TensorFlow itself.

``scripts/make_diff_fixtures.py`` exports the pairs into a temporary directory.
For each pair, smlite's classification must be what a person expects
(``tests/support/diff_pairs.py``), and TensorFlow must agree with it where it
can be asked: a request written for the old model is replayed on both models
with ``tf.saved_model.load``, and it fails on the new one exactly when smlite
says the change is breaking; ``--values`` statistics equal numpy's on the
values ``tf.train.load_checkpoint`` reads (within float32 summation tolerance).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smlite.model.diff import diff
from smlite.model.policy import Policy
from tests.support.diff_pairs import EXPECTED, check_pair, pair_paths
from tests.tf.conftest import ROOT, quiet_tf_env

tf = pytest.importorskip("tensorflow")

SCRIPT = ROOT / "scripts" / "make_diff_fixtures.py"


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("diff_pairs")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        capture_output=True,
        text=True,
        env=quiet_tf_env(),
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"make_diff_fixtures.py failed:\n{proc.stderr[-5000:]}")
    return out


# What a client of the old model sends: a call on the loaded model.
Request = Callable[[Any], Any]


def _keras_request(m: Any) -> Any:
    return m.signatures["serving_default"](inputs=tf.zeros([2, 4], tf.float32))


def _explain_request(m: Any) -> Any:
    return m.signatures["explain"](x=tf.ones([1, 3], tf.float32))


def _transform_request(m: Any) -> Any:
    return m.transform(tf.constant([1.0, 2.0]))


REQUESTS: dict[str, tuple[Request, ...]] = {
    "retrained": (_keras_request,),
    "added output": (_keras_request,),
    "input dtype": (_keras_request,),
    "input rank": (_keras_request,),
    "removed signature": (_explain_request,),
    "new trace": (_transform_request,),
}


def _works(request: Request, model: Any) -> bool:
    try:
        request(model)
    except (KeyError, TypeError, ValueError, tf.errors.InvalidArgumentError):
        return False
    return True


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_classification_agrees_with_tensorflow(case: str, pairs: Path) -> None:
    expected = EXPECTED[case]
    old, new = pair_paths(pairs, expected)
    d = diff(old, new, policy=Policy())
    check_pair(d, expected)
    old_model, new_model = tf.saved_model.load(str(old)), tf.saved_model.load(str(new))
    for request in REQUESTS[case]:
        assert _works(request, old_model), request.__name__
        assert _works(request, new_model) == (not d.breaking), (request.__name__, d.changes)


def test_new_trace_serves_a_new_call(pairs: Path) -> None:
    """The compatible side of 'new trace': only the new model takes int32 vectors."""
    old, new = pair_paths(pairs, EXPECTED["new trace"])
    call = lambda m: m.transform(tf.constant([1, 2], tf.int32))  # noqa: E731
    assert not _works(call, tf.saved_model.load(str(old)))
    assert _works(call, tf.saved_model.load(str(new)))


def test_added_output_is_an_extra_key(pairs: Path) -> None:
    old, new = pair_paths(pairs, EXPECTED["added output"])
    before = set(_keras_request(tf.saved_model.load(str(old))))
    after = set(_keras_request(tf.saved_model.load(str(new))))
    assert before < after
    d = diff(old, new, policy=Policy())
    added = {c.path.rsplit("[", 1)[1][:-1] for c in d.changes if c.kind == "output-added"}
    assert added == after - before


def test_values_match_numpy_on_tensorflows_reading(pairs: Path) -> None:
    old, new = pair_paths(pairs, EXPECTED["retrained"])
    d = diff(old, new, values=True, policy=Policy())
    readers = [tf.train.load_checkpoint(str(p / "variables" / "variables")) for p in (old, new)]
    assert d.changes
    for change in d.changes:
        key = change.path[len("variables[") : -1]
        a, b = (r.get_tensor(key).astype(np.float64) for r in readers)
        delta = b - a
        stats = change.values
        assert stats is not None
        assert stats.changed == int(np.count_nonzero(delta))
        assert stats.max_abs_diff == pytest.approx(np.abs(delta).max(), rel=1e-6)
        assert stats.relative_l2 == pytest.approx(
            np.linalg.norm(delta) / np.linalg.norm(a), rel=1e-4
        )


def test_committed_pairs_are_what_the_script_makes() -> None:
    """The script's model list and the committed fixtures name the same models."""
    spec = importlib.util.spec_from_file_location("make_diff_fixtures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = sorted(p.name for p in module.DEFAULT_OUT.iterdir())
    named = sorted({e.old for e in EXPECTED.values()} | {e.new for e in EXPECTED.values()})
    assert committed == named
