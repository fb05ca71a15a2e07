"""Every command against s3:// (moto) and http:// gives what it gives for the local copy.

Each command runs in process (``smlite.cli.run``) on a fixture model served
by the test's own servers on 127.0.0.1 and on the same files on disk; the
outputs must be equal once the location is written the same way.  Nothing
is ever written to the remote side (moto's log has no PUT, POST or DELETE
after the upload), and ``-o`` files land on local disk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from smlite.cli import ExitCode, run
from tests.remote.conftest import BUCKET, MODELS
from tests.support.http_server import ModelServer
from tests.support.s3_server import LoggedMotoServer

ROOT = Path(__file__).resolve().parents[2]

#: (arguments after the model, the model) for commands compared with the local run.
CASES = [
    ("show", ["show", "--dir", "{m}"], "module_multi_signature"),
    ("show --all", ["show", "--dir", "{m}", "--all"], "module_multi_signature"),
    ("show json", ["show", "--dir", "{m}", "--all", "--format", "json"], "variables_sharded"),
    ("show base", ["show", "--dir", "{m}", "--tag_set", "serve"], "serving_base"),
    ("show pbtxt", ["show", "--dir", "{m}", "--all"], "tf1_pbtxt"),
    ("summary", ["summary", "{m}", "--format", "json"], "variables_sharded"),
    ("variables", ["variables", "{m}", "--verify"], "variables_sharded"),
    ("variables json", ["variables", "{m}", "--format", "json"], "module_multi_signature"),
    ("check", ["check", "{m}", "--format", "json"], "variables_sharded"),
    ("check base", ["check", "{m}", "--format", "json"], "serving_base"),
    ("check sarif", ["check", "{m}", "--format", "sarif"], "module_multi_signature"),
    ("scan", ["scan", "{m}", "--format", "json"], "module_multi_signature"),
    ("scan --dir", ["scan", "--dir", "{m}"], "module_multi_signature"),
    ("fingerprint", ["fingerprint", "{m}", "--format", "json"], "variables_sharded"),
    ("size", ["size", "{m}", "--format", "json"], "module_multi_signature"),
    (
        "diff",
        ["diff", "{m}", "{m2}", "--format", "json"],
        ("module_one_signature", "module_multi_signature"),
    ),
]


@pytest.fixture(params=["s3", "http"])
def remote(
    request: pytest.FixtureRequest, moto: LoggedMotoServer
) -> Iterator[tuple[str, list[str], Callable[[], int]]]:
    """(URL of the models folder, the storage options to pass, a count of write requests)."""
    if request.param == "s3":
        options = moto.storage_options()
        flags = [
            "--storage-option=key=testing",
            "--storage-option=secret=testing",
            f"--storage-option=client_kwargs.endpoint_url={moto.endpoint}",
            "--storage-option=client_kwargs.region_name=us-east-1",
            "--storage-option=skip_instance_cache=true",
        ]
        assert options["client_kwargs"]["endpoint_url"] == moto.endpoint
        writes = len(moto.writes())
        yield f"s3://{BUCKET}/models", flags, lambda: len(moto.writes()) - writes
    else:
        with ModelServer(MODELS) as server:
            yield server.url, [], lambda: sum(r.method not in ("GET", "HEAD") for r in server.log)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(args)
    out, err = capsys.readouterr()
    return code, out, err


def _same_text(text: str, *names: str) -> str:
    """``text`` with every spelling of the models' locations replaced by a name."""
    for name in names:
        text = re.sub(
            r"(?:s3://[^\"\s]*?/models|http://127\.0\.0\.1:\d+|"
            + re.escape(str(MODELS))
            + r"|tests/fixtures/models)/"
            + re.escape(name),
            f"<{name}>",
            text,
        )
    return text


def _normalized(text: str, *names: str) -> object:
    """A JSON document without what differs by where the bytes come from."""
    text = _same_text(text, *names)
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    return _drop(doc, {"fetched", "file_uri", "uri"})


def _drop(value: object, keys: set[str]) -> object:
    if isinstance(value, dict):
        return {k: _drop(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_drop(v, keys) for v in value]
    return value


@pytest.mark.parametrize(("label", "argv", "model"), CASES, ids=[c[0] for c in CASES])
def test_command_on_a_url_matches_the_local_run(
    label: str,
    argv: list[str],
    model: str | tuple[str, str],
    remote: tuple[str, list[str], Callable[[], int]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    base, flags, writes = remote
    names = (model,) if isinstance(model, str) else model

    def args(where: str) -> list[str]:
        values = {"{m}": f"{where}/{names[0]}", "{m2}": f"{where}/{names[-1]}"}
        return [values.get(a, a) for a in argv]

    local = _run(args(str(MODELS)), capsys)
    remote_run = _run([*args(base), *flags], capsys)
    assert remote_run[0] == local[0], remote_run[2]
    assert _normalized(remote_run[1], *names) == _normalized(local[1], *names)
    assert writes() == 0


def test_report_writes_a_local_file_and_nothing_remote(
    remote: tuple[str, list[str], Callable[[], int]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    base, flags, writes = remote
    page = tmp_path / "report.html"
    code, _, err = _run(
        ["report", f"{base}/module_multi_signature", "-o", str(page), *flags], capsys
    )
    assert code == ExitCode.OK, err
    assert "module_multi_signature" in page.read_text(encoding="utf-8")
    assert writes() == 0


def test_run_refuses_a_url_it_cannot_give_tensorflow(
    remote: tuple[str, list[str], Callable[[], int]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, flags, _ = remote
    argv = ["run", "--dir", f"{base}/module_one_signature", "--tag_set", "serve"]
    argv += ["--signature_def", "serving_default", "--input_exprs", "x=[[1.0]]", *flags]
    code, _, err = _run(argv, capsys)
    assert code == ExitCode.ERROR
    assert "copy the model to this machine first" in err


def test_verbose_says_what_a_command_read(
    remote: tuple[str, list[str], Callable[[], int]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, flags, _ = remote
    code, _, err = _run(
        ["show", "--dir", f"{base}/module_one_signature", "--verbose", *flags], capsys
    )
    assert code == ExitCode.OK
    found = re.search(r"read ([\d,]+) bytes in (\d+) read requests, (\d+) listing", err)
    assert found is not None, err
    size = (MODELS / "module_one_signature" / "saved_model.pb").stat().st_size
    # A small saved_model.pb is fetched whole, in one request.
    assert int(found.group(1).replace(",", "")) == size and found.group(2) == "1"


def test_local_models_never_import_fsspec() -> None:
    """With smlite[remote] installed, every command on local paths stays on memory maps."""
    import subprocess
    import sys

    model, other = MODELS / "variables_sharded", MODELS / "module_multi_signature"
    commands = [
        ["show", "--dir", str(model), "--all"],
        ["check", str(model)],
        ["scan", str(model)],
        ["variables", str(model), "--verify"],
        ["fingerprint", str(model)],
        ["size", str(model)],
        ["diff", str(other), str(model)],
    ]
    code = f"""
import contextlib, io, sys
from smlite.cli import run
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    codes = [run(args) for args in {commands!r}]
assert "fsspec" not in sys.modules, "fsspec was imported for a local path"
print(codes)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "2" not in out.stdout, out.stdout
