"""The fixture generator against live TensorFlow.

* ``scripts/make_fixtures.py`` records saved_model_cli's answers by calling its functions
  in-process; a sample of those answers is compared with the real ``saved_model_cli`` command run
  on the same freshly generated models (after ``normalize``, since sets print in hash order).
* The committed fixtures load in TensorFlow 2.21, and their recorded variable values are what
  ``tf.train.load_checkpoint`` reads.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support import samcli

tf = pytest.importorskip("tensorflow")

# The saved_model_cli fixture of conftest.py: argv -> CliResult(argv, stdout, stderr, returncode).
SavedModelCliRunner = Callable[[Sequence[str]], Any]

# (fixture, recorded argv) compared with a live saved_model_cli run.  Error cases are chosen whose
# message does not contain a set or map (those print in an order that differs between processes).
LIVE_CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tf1_multi_tag", ("show", "--dir", "{model}", "--all")),
    ("tf1_multi_tag", ("scan", "--dir", "{model}")),
    ("tf1_multi_tag", ("show", "--dir", "{model}", "--tag_set", "", "--list_ops")),
    ("polymorphic", ("show", "--dir", "{model}", "--all")),
    ("sparse_ragged", ("show", "--dir", "{model}", "--all")),
    ("custom_op", ("show", "--dir", "{model}", "--all")),
    ("serving_base", ("show", "--dir", "{model}")),
)
LIVE_RUN_CASES: tuple[tuple[str, int], ...] = (("tf1_multi_tag", 0),)


def _recorded(fixtures: Path, name: str, argv: tuple[str, ...]) -> samcli.Case:
    for case in samcli.load_cases(name, fixtures=fixtures):
        if case.argv == argv:
            return case
    raise AssertionError(f"{name}: no recorded case {argv}")


@pytest.fixture(scope="module")
def live(fresh_fixtures: Path, saved_model_cli: SavedModelCliRunner) -> dict[Any, Any]:
    """Every live saved_model_cli call of this module, two at a time (each one imports TF)."""
    jobs: dict[Any, list[str]] = {}
    for name, argv in LIVE_CASES:
        case = _recorded(fresh_fixtures, name, argv)
        jobs[(name, argv)] = case.argv_for(samcli.model_dir(name, fresh_fixtures))
    for name, index in LIVE_RUN_CASES:
        case = samcli.load_cases(name, run=True, fixtures=fresh_fixtures)[index]
        jobs[(name, index)] = case.argv_for(
            samcli.model_dir(name, fresh_fixtures), inputs=samcli.inputs_dir(name, fresh_fixtures)
        )
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(saved_model_cli, argv) for key, argv in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def test_fresh_fixtures_are_complete(fresh_fixtures: Path, live_subset: tuple[str, ...]) -> None:
    assert samcli.fixture_names(fresh_fixtures) == sorted(live_subset)
    for name in live_subset:
        doc = samcli.load_expected(name, fresh_fixtures)
        assert doc["tf_version"] == tf.__version__
        assert (fresh_fixtures / doc["model"]).is_dir()
        assert doc["cases"], name


@pytest.mark.parametrize(("name", "argv"), LIVE_CASES, ids=lambda v: str(v))
def test_recording_matches_live_saved_model_cli(
    fresh_fixtures: Path, live: dict[Any, Any], name: str, argv: tuple[str, ...]
) -> None:
    case = _recorded(fresh_fixtures, name, argv)
    result = live[(name, argv)]
    assert result.returncode == case.exit
    assert samcli.normalize(result.stdout) == case.normalized_stdout
    if case.error is not None:
        model = str(samcli.model_dir(name, fresh_fixtures))
        assert case.error.replace("{model}", model) in result.stderr


@pytest.mark.parametrize(("name", "index"), LIVE_RUN_CASES)
def test_run_recording_matches_live_saved_model_cli(
    fresh_fixtures: Path, live: dict[Any, Any], name: str, index: int
) -> None:
    case = samcli.load_cases(name, run=True, fixtures=fresh_fixtures)[index]
    result = live[(name, index)]
    assert result.returncode == case.exit
    assert result.stdout == case.stdout


# ------------------------------------------------------------------------------------------------
# The committed fixtures.
# ------------------------------------------------------------------------------------------------

COMMITTED = samcli.fixture_names()


def _saved_model_dirs(name: str) -> list[Path]:
    doc = samcli.load_expected(name)
    root = samcli.FIXTURES / doc["model"]
    if doc["kind"] == "serving_base":
        return sorted(p for p in root.iterdir() if p.is_dir())
    if doc["kind"] == "checkpoint":
        return []
    return [root]


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_fixture_loads_in_tensorflow(name: str) -> None:
    doc = samcli.load_expected(name)
    for model in _saved_model_dirs(name):
        for tags in doc["tag_sets"]:
            graph = tf.Graph()
            with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
                if name == "custom_op":
                    with pytest.raises(Exception, match="Op type not registered"):
                        tf.compat.v1.saved_model.load(sess, tags, str(model))
                else:
                    tf.compat.v1.saved_model.load(sess, tags, str(model))
        if doc["fingerprint"] is not None and name != "custom_op":
            # TF2 exports: the object graph restores too.
            tf.saved_model.load(str(model))


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_variables_match_tensorflow(name: str) -> None:
    doc = samcli.load_expected(name)
    values = samcli.load_variable_values(name)
    root = samcli.FIXTURES / doc["model"]
    for group in doc["variables"]:
        prefix = str(root / group["prefix"])
        listed = {key: list(shape) for key, shape in tf.train.list_variables(prefix)}
        assert listed == {e["key"]: e["shape"] for e in group["entries"]}
        reader = tf.train.load_checkpoint(prefix)
        for key, recorded in values[group["prefix"]].items():
            actual = np.asarray(reader.get_tensor(key))
            assert actual.shape == recorded.shape, key
            if recorded.dtype == object:
                assert actual.reshape(-1).tolist() == recorded.reshape(-1).tolist(), key
            else:
                assert actual.dtype == recorded.dtype, key
                assert actual.tobytes() == recorded.tobytes(), key
