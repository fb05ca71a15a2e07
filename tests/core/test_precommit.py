"""The pre-commit hooks, run by the real ``pre-commit try-repo`` against a temporary repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smlite.cli.precommit import model_roots

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "fixtures" / "models"


def test_model_roots_dedupes_in_order() -> None:
    files = [
        "a/variables/variables.index",
        "a/saved_model.pb",
        "b/assets/vocab.txt",
        "a/variables/variables.data-00000-of-00001",
        "b/fingerprint.pb",
    ]
    assert model_roots(files) == ["a", "b"]


def _pre_commit() -> list[str]:
    exe = shutil.which("pre-commit", path=os.path.dirname(sys.executable))
    if exe:
        return [exe]
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.skip("pre-commit is not installed (pip install -e .[dev])")
    return [sys.executable, "-m", "pre_commit"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _hook_repo(tmp_path: Path) -> Path:
    """The working tree's installable files in a git repository of their own.

    ``try-repo`` on the working tree itself would see only tracked files, so uncommitted
    new files (such as a freshly added hook manifest) are copied and committed here.
    """
    repo = tmp_path / "smlite-src"
    repo.mkdir()
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, repo / name)
    shutil.copytree(
        ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "hook repo")
    return repo


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_try_repo_good_and_broken_model(tmp_path: Path) -> None:
    pre_commit = _pre_commit()
    hook_repo = _hook_repo(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copytree(MODELS / "module_one_signature", repo / "models" / "good")
    broken = repo / "models" / "broken"
    shutil.copytree(MODELS / "module_one_signature", broken)
    shard = broken / "variables" / "variables.data-00000-of-00001"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x01
    shard.write_bytes(bytes(data))
    _git(repo, "add", "-A")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *pre_commit,
                "try-repo",
                str(hook_repo),
                "smlite-check",
                "--verbose",
                "--files",
                *files,
            ],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    # One run (installing the hook's environment dominates the time): every file of the good
    # model plus two files of the broken one, whose model must be checked once.
    good_files = [
        str(p.relative_to(repo)) for p in (repo / "models/good").rglob("*") if p.is_file()
    ]
    proc = try_repo(*good_files, str(shard.relative_to(repo)), "models/broken/saved_model.pb")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "ok  models/good" in proc.stdout
    assert proc.stdout.count("FAIL  models/broken") == 1
    assert proc.stdout.count("ok  models/good") == 1
    assert "SML205" in proc.stdout
