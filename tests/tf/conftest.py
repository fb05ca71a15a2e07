"""Shared pytest fixtures of the TensorFlow tier (run in a venv with tensorflow-cpu==2.21.0)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE_FIXTURES = ROOT / "scripts" / "make_fixtures.py"

# Regenerated once per session by ``fresh_fixtures``: one fixture of each kind (TF1 multi-tag with
# assets and run cases, tf.Module, composite signatures, object-graph functions, a custom op, all
# dtypes, a serving base dir) keeps regeneration to ~30 s on a 2-core machine.
LIVE_SUBSET: tuple[str, ...] = (
    "tf1_multi_tag",
    "module_multi_signature",
    "sparse_ragged",
    "polymorphic",
    "custom_op",
    "dtype_zoo",
    "serving_base",
)


# What this tier compares with.  A missing one must fail the run, not skip the tests that
# need it: a skip looks green on a machine where a tier's install step was forgotten.
REQUIRED_MODULES = ("tensorflow", "tf_keras", "keras")


def pytest_sessionstart(session: pytest.Session) -> None:
    import importlib.util

    missing = [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        pytest.exit(
            f"the TensorFlow tier needs {', '.join(missing)}; `bash scripts/test.sh tf` "
            "installs tensorflow-cpu==2.21.0 and tf-keras==2.21.0",
            returncode=1,
        )


def quiet_tf_env() -> dict[str, str]:
    """The environment for TensorFlow subprocesses, without TensorFlow's C++ log chatter."""
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


@dataclass(frozen=True)
class CliResult:
    """What a real ``saved_model_cli`` process did."""

    argv: tuple[str, ...]
    stdout: str
    stderr: str
    returncode: int


SavedModelCliRunner = Callable[[Sequence[str]], CliResult]


@pytest.fixture(scope="session")
def live_subset() -> tuple[str, ...]:
    """The fixtures ``fresh_fixtures`` regenerates."""
    return LIVE_SUBSET


@pytest.fixture(scope="session")
def fresh_fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``scripts/make_fixtures.py --only LIVE_SUBSET`` run into a temporary directory, once."""
    pytest.importorskip("tensorflow")
    out = tmp_path_factory.mktemp("fixtures")
    cmd = [
        sys.executable,
        str(MAKE_FIXTURES),
        "--out",
        str(out),
        "--only",
        ",".join(LIVE_SUBSET),
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=quiet_tf_env(), timeout=900, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"make_fixtures.py failed ({proc.returncode}):\n{proc.stderr[-5000:]}")
    return out


@pytest.fixture(scope="session")
def saved_model_cli() -> SavedModelCliRunner:
    """Run the real ``saved_model_cli`` (a fresh process per call, ~3 s each: use sparingly)."""
    pytest.importorskip("tensorflow")

    def run(argv: Sequence[str]) -> CliResult:
        cmd = [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", *argv]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=quiet_tf_env(), timeout=300, check=False
        )
        return CliResult(tuple(argv), proc.stdout, proc.stderr, proc.returncode)

    return run
