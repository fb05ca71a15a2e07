"""The read-only guarantee: no command changes a model or writes where it was not asked to.

Every command runs on a read-only copy of real models (``chmod -R a-w``).  The
tests may run as root, for whom permissions do not stop a write, so the bytes
and mtime of every file are compared before and after, and neither the model
directory nor the working directory may gain an entry.  Commands that write
by request (``variables --dump -o``, ``--export``, ``check -o``, ``run
--outdir``) write only the file they were given, outside the model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import smlite.run
from smlite.cli import run
from smlite.errors import SmliteError

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"
FIXTURES = ("keras_model", "tf1_multi_tag", "variables_sharded", "tf1_pbtxt", "composite_specs")

Snapshot = dict[str, tuple[int, int, str]]


def _snapshot(root: Path) -> Snapshot:
    """path -> (mode, mtime_ns, sha256) of every entry under ``root``, directories included."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
            out[str(p.relative_to(root))] = (st.st_mode, st.st_mtime_ns, digest)
    st = root.lstat()
    out["."] = (st.st_mode, st.st_mtime_ns, "")
    return out


def _make_read_only(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            p.chmod(stat.S_IMODE(p.lstat().st_mode) & ~0o222)
    root.chmod(stat.S_IMODE(root.stat().st_mode) & ~0o222)


def _make_writable(root: Path) -> None:
    root.chmod(0o755)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            (Path(dirpath) / name).chmod(0o755)
        for name in filenames:
            (Path(dirpath) / name).chmod(0o644)


@pytest.fixture
def read_only_models(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "models"
    root.mkdir()
    for name in FIXTURES:
        shutil.copytree(MODELS / name, root / name)
    _make_read_only(root)
    yield root
    _make_writable(root)


@pytest.fixture
def no_execute(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(plan: object) -> object:
        raise SmliteError("read-only test: not executing")

    monkeypatch.setattr(smlite.run, "execute", refuse)


RUN_ARGS = {
    "keras_model": ["--input_exprs", "inputs=np.zeros((1, 3));inputs_1=np.zeros((1, 2))"],
    "tf1_multi_tag": ["--tag_set", "serve", "--input_exprs", "x=np.zeros((1, 1))"],
    "variables_sharded": ["--input_exprs", "x=np.zeros(16, dtype='float32')"],
    "tf1_pbtxt": ["--input_exprs", "x=np.zeros((1, 3), dtype='float32')"],
    "composite_specs": [],
}


def _commands(m: str, fixture: str) -> list[list[str]]:
    return [
        ["show", m],
        ["show", m, "--all"],
        ["show", m, "--all", "--format", "json"],
        ["show", m, "--tag_set", "serve", "--list_ops"],
        ["summary", m],
        ["summary", m, "--format", "json"],
        ["variables", m],
        ["variables", m, "--verify", "--format", "json"],
        ["check", m, "--no-progress"],
        ["check", m, "--no-progress", "--format", "sarif"],
        ["scan", m, "--format", "json"],
        ["scan", "--dir", m],
        ["fingerprint", m],
        ["fingerprint", m, "--format", "json"],
        ["run", m, *RUN_ARGS[fixture]],
    ]


@pytest.mark.parametrize("fixture", FIXTURES)
def test_commands_change_nothing(
    fixture: str,
    read_only_models: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_execute: None,
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = _snapshot(read_only_models)
    for argv in _commands(str(read_only_models / fixture), fixture):
        code = run(argv)
        err = capsys.readouterr().err
        assert code in (0, 1, 2), (argv, err)
        if argv[0] != "run":
            # A read-only model is no reason to fail.
            assert code in (0, 1), (argv, err)
            assert "Permission denied" not in err, (argv, err)
        assert _snapshot(read_only_models) == before, f"{argv} changed the model"
        assert list(cwd.iterdir()) == [], f"{argv} wrote into the working directory"


def test_requested_outputs_go_only_where_asked(
    read_only_models: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    out = tmp_path / "out"
    out.mkdir()
    model = str(read_only_models / "keras_model")
    before = _snapshot(read_only_models)
    requests = [
        (["variables", model, "--export", str(out / "all.npz")], out / "all.npz"),
        (["check", model, "--no-progress", "-o", str(out / "report.txt")], out / "report.txt"),
        (["scan", model, "--format", "sarif", "-o", str(out / "scan.sarif")], out / "scan.sarif"),
    ]
    with smlite.open(model) as sm:
        key = next(iter(sm.variables))
    requests.append((["variables", model, "--dump", key, "-o", str(out / "v.npy")], out / "v.npy"))
    for argv, expected in requests:
        code = run(argv)
        assert code in (0, 1), (argv, capsys.readouterr().err)
        assert sorted(out.iterdir()) == sorted({*out.iterdir(), expected})
        assert expected.is_file(), argv
    assert sorted(p.name for p in out.iterdir()) == ["all.npz", "report.txt", "scan.sarif", "v.npy"]
    assert _snapshot(read_only_models) == before
    assert list(cwd.iterdir()) == []


def test_model_files_are_never_overwritten(
    read_only_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Even asked to (and with --overwrite), no command replaces a file of the model."""
    model = read_only_models / "keras_model"
    before = _snapshot(read_only_models)
    index = model / "variables" / "variables.index"
    with smlite.open(model) as sm:
        key = next(iter(sm.variables))
    for argv in (
        ["variables", str(model), "--export", str(index), "--overwrite"],
        [
            "variables",
            str(model),
            "--dump",
            key,
            "-o",
            str(model / "saved_model.pb"),
            "--overwrite",
        ],
        ["check", str(model), "--no-progress", "-o", str(model / "fingerprint.pb")],
        # New files inside the model directory are refused too.
        ["variables", str(model), "--export", str(model / "assets" / "all.npz")],
        ["variables", str(model), "--dump", key, "-o", str(model / "v.npy")],
        ["check", str(model), "--no-progress", "-o", str(model / "variables" / "r.txt")],
    ):
        code = run(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert "refusing to write" in err or "writes .npz or .safetensors" in err, (argv, err)
        assert _snapshot(read_only_models) == before, argv
