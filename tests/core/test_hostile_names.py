"""Hostile names: terminal escapes, newlines, NUL, bidi overrides and invalid UTF-8.

A model is built whose tag, signature, input/output, node, op, asset and
variable names carry them.  Every command prints it in every output format:
text output must show them escaped (no raw control character reaches the
terminal, each name stays on its line), JSON must stay valid and hold each
name either faithfully or escaped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import smlite.run
from smlite import pb
from smlite.cli import run
from smlite.errors import SmliteError
from tests.support.bundle_writer import BundleWriter, varint

#: A name protobuf accepts (valid UTF-8) with everything a terminal would obey.
EVIL = "ev\x1b[31mRED\x1b]0;pwned\x07il\nline2\x00nul\r\u202emoc.exe\x9b2J"
#: Bytes that are not UTF-8 at all (graph op names and checkpoint keys are raw bytes).
EVIL_BYTES = b"op\x1b[2J\xff\xfe\x00end"
EVIL_KEY = b"var\x1b[1m\n\xc3(\x00"

# Raw characters that must never reach a terminal (newline and tab are the output's own).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _ld(field: int, payload: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def _graph() -> bytes:
    """A GraphDef written by hand: its strings need not be UTF-8 for the wire scanner."""
    name = EVIL.encode()
    nodes = [
        _ld(1, name) + _ld(2, b"Placeholder"),
        _ld(1, b"y\x1b[0m") + _ld(2, EVIL_BYTES) + _ld(3, name),
        _ld(1, b"c") + _ld(2, b"Const"),
    ]
    return b"".join(_ld(1, n) for n in nodes)


def _build(model: Path) -> None:
    model.mkdir()
    meta = pb.MetaGraphDef()
    meta.meta_info_def.tags.extend(["serve", EVIL])
    meta.meta_info_def.tensorflow_version = EVIL
    sig = meta.signature_def[EVIL]
    sig.method_name = EVIL
    for where in (sig.inputs, sig.outputs):
        info = where[EVIL]
        info.name = EVIL + ":0"
        info.dtype = 1
        info.tensor_shape.dim.add(size=-1)
    meta.signature_def["serving_default"].CopyFrom(sig)
    asset = meta.asset_file_def.add()
    asset.filename = EVIL
    asset.tensor_info.name = EVIL + "_asset:0"
    body = meta.SerializeToString() + _ld(2, _graph())
    (model / "saved_model.pb").write_bytes(varint(1 << 3) + varint(1) + _ld(2, body))
    w = BundleWriter(model / "variables" / "variables")
    w.add(EVIL_KEY, np.zeros(3, "float32"))
    w.add(EVIL.encode(), np.ones(2, "int32"))
    w.finish()


@pytest.fixture(scope="module")
def hostile_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = tmp_path_factory.mktemp("hostile") / "model"
    _build(model)
    return model


@pytest.fixture
def no_execute(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(plan: object) -> object:
        raise SmliteError("hostile names test: not executing")

    monkeypatch.setattr(smlite.run, "execute", refuse)


def _commands(m: str) -> list[list[str]]:
    return [
        ["show", m],
        ["show", m, "--all"],
        ["show", m, "--all", "--format", "json"],
        ["show", m, "--tag_set", f"serve,{EVIL}", "--list_ops"],
        ["show", m, "--tag_set", f"serve,{EVIL}", "--list_ops", "--format", "json"],
        ["show", m, "--tag_set", f"serve,{EVIL}", "--signature_def", EVIL],
        ["show", m, "--tag_set", "nope", "--signature_def", EVIL],
        ["summary", m],
        ["summary", m, "--format", "json"],
        ["variables", m],
        ["variables", m, "--keys"],
        ["variables", m, "--verify", "--format", "json"],
        ["variables", m, "--dump", "nope"],
        ["check", m, "--no-progress"],
        ["check", m, "--no-progress", "--format", "json"],
        ["check", m, "--no-progress", "--format", "sarif"],
        ["scan", m],
        ["scan", m, "--format", "json"],
        ["scan", m, "--format", "sarif"],
        ["scan", "--dir", m],
        ["fingerprint", m],
        ["fingerprint", m, "--format", "json"],
        ["size", m],
        ["size", m, "--format", "json"],
        ["run", m, "--tag_set", f"serve,{EVIL}", "--input_exprs", "x=[1.0]"],
        ["run", m, "--tag_set", f"serve,{EVIL}", "--signature_def", EVIL + "?"],
    ]


def _strings(doc: object) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for k, v in doc.items() for s in _strings(k) + _strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in _strings(v)]
    return []


@pytest.mark.parametrize("argv", _commands("M"), ids=lambda a: " ".join(a[:1] + a[2:])[:60])
def test_names_are_escaped(
    argv: list[str],
    hostile_model: Path,
    capsys: pytest.CaptureFixture[str],
    no_execute: None,
) -> None:
    argv = [str(hostile_model) if a == "M" else a for a in argv]
    code = run(argv)
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    # stderr is always text, even when stdout is JSON.
    assert not _UNSAFE.search(err), repr(err)
    if "json" in argv or "sarif" in argv:
        if code == 2:
            assert out == ""
            return
        doc = json.loads(out)
        assert not re.search("[\x00-\x09\x0b-\x1f]", out), "JSON must escape control characters"
        strings = "\n".join(_strings(doc))
        # Each hostile name is there, raw (JSON escapes it) or shown escaped.
        assert "RED" in strings or argv[0] in ("check", "scan", "fingerprint"), out[:2000]
        # Undecodable bytes are lone surrogates \udc80-\udcff (docs/json-schema.md): they
        # must give back the file's exact bytes.
        strings.encode("utf-8", "surrogateescape")
        if argv[0] == "show" and "--list_ops" in argv:
            assert EVIL_BYTES.decode("utf-8", "surrogateescape") in strings
    else:
        assert not _UNSAFE.search(out), repr(out[:3000])
        if code == 0 and argv[0] in ("show", "summary", "size") and "--list_ops" not in argv:
            assert "RED" in out, out[:2000]


def test_names_survive_in_json(hostile_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON holds the names faithfully: decoding gives back the file's own strings."""
    assert run(["show", str(hostile_model), "--all", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    strings = set(_strings(doc))
    assert (
        EVIL in strings
        or "ev\\x1b[31mRED\\x1b]0;pwned\\x07il\\nline2\\x00nul\\r\\u202emoc.exe\\x9b2J" in strings
    )

    assert run(["variables", str(hostile_model), "--format", "json", "--keys"]) == 0
    doc = json.loads(capsys.readouterr().out)
    keys = {v["key"] for v in doc["variables"]}
    assert len(keys) == 2
    assert EVIL in keys or any("RED" in k for k in keys)


def test_text_keeps_one_name_per_line(
    hostile_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A newline inside a name must not start a new, forged output line."""
    assert run(["show", str(hostile_model), "--tag_set", f"serve,{EVIL}"]) == 0
    out = capsys.readouterr().out
    assert not any(line.startswith("line2") for line in out.splitlines()), out
    assert run(["variables", str(hostile_model)]) == 0
    out = capsys.readouterr().out
    assert not any(line.startswith(("line2", "(", "\x00")) for line in out.splitlines()), out
