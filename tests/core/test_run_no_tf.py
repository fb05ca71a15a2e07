"""``smlite run`` without TensorFlow: a clear message and exit status 2, never a traceback.

The core tier's venv has no TensorFlow; where it is installed, importing it is made to
fail the same way (``sys.modules['tensorflow'] = None``) so these tests hold in every tier.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from smlite.cli import run as cli_run
from smlite.run.backend import INSTALL_HINT, TensorFlowUnavailableError, import_tensorflow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TF1 = FIXTURES / "models" / "tf1_multi_tag"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # type: ignore[arg-type]


def test_import_tensorflow_says_how_to_install(no_tensorflow: None) -> None:
    with pytest.raises(TensorFlowUnavailableError) as info:
        import_tensorflow()
    assert "pip install 'smlite[run]'" in str(info.value)
    assert INSTALL_HINT == "pip install 'smlite[run]'"


def test_cli_run_without_tensorflow_exits_2_with_the_install_hint(
    no_tensorflow: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_run(
        ["run", "--dir", str(TF1), "--tag_set", "serve,gpu", "--input_exprs", "x=[[1.0, 2.0]]"]
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == (
        "smlite: error: smlite run executes the model with TensorFlow, which is not installed "
        "in this environment; install it with: pip install 'smlite[run]'\n"
    )


def test_bad_inputs_are_reported_before_tensorflow_is_needed(
    no_tensorflow: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_run(["run", str(TF1), "--tag_set", "serve,gpu", "--input_exprs", "x=[['a']]"])
    err = capsys.readouterr().err
    assert code == 2
    assert "is a float32 input but the value holds strings" in err
    assert "smlite[run]" not in err


def test_outdir_conflicts_are_reported_before_tensorflow_is_needed(
    no_tensorflow: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "y.npy").write_bytes(b"old")
    argv = ["run", str(TF1), "--tag_set", "serve,gpu", "--input_exprs", "x=[[1, 2]]"]
    code = cli_run([*argv, "--outdir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"output file {tmp_path / 'y.npy'} already exists; add --overwrite" in err
    assert (tmp_path / "y.npy").read_bytes() == b"old"


def test_smlite_cli_does_not_import_tensorflow() -> None:
    """Neither ``smlite --help`` nor a failed ``smlite run`` loads TensorFlow."""
    code = (
        "import sys\n"
        "from smlite.cli import run\n"
        "run(['run', '--help'])\n"
        "run(['run', sys.argv[1], '--tag_set', 'serve,gpu', '--input_exprs', 'x=\"a\"'])\n"
        "import smlite.run, smlite.run.backend\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(TF1)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
