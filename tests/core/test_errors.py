"""Errors carry a machine-readable reason and their message without the location prefix.

Callers decide by ``reason`` and build their own text from ``detail``; nothing
in smlite reads an error's message to decide what it means.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import smlite
from smlite.errors import (
    ChecksumError,
    CorruptFileError,
    NotASavedModelError,
    NotFoundError,
    Reason,
    SmliteError,
    UnsupportedError,
)
from smlite.formats.bundle import Bundle

SRC = Path(__file__).resolve().parents[2] / "src" / "smlite"
MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def test_default_reasons() -> None:
    assert SmliteError("x").reason is Reason.OTHER
    assert CorruptFileError("x").reason is Reason.DAMAGED
    assert ChecksumError("x").reason is Reason.CHECKSUM
    assert UnsupportedError("x").reason is Reason.UNSUPPORTED
    assert NotASavedModelError("x").reason is Reason.NO_SAVED_MODEL
    assert NotFoundError("a", ["b"]).reason is Reason.NOT_FOUND
    assert CorruptFileError("x", reason=Reason.TRUNCATED).reason is Reason.TRUNCATED


def test_location_prefix_and_detail() -> None:
    e = CorruptFileError("bad block", path="/m/v.index", offset=12)
    assert str(e) == "/m/v.index at offset 12: bad block"
    assert (e.detail, e.path, e.offset) == ("bad block", "/m/v.index", 12)
    assert str(UnsupportedError("packed", path="/m/v.index")) == "/m/v.index: packed"
    plain = SmliteError("/m: refusing to write", path="/m")
    assert plain.detail == str(plain) == "/m: refusing to write"


def _model(tmp_path: Path, name: str, data: bytes) -> Path:
    model = tmp_path / "m"
    model.mkdir()
    (model / name).write_bytes(data)
    return model


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("saved_model.pb", b"", Reason.EMPTY),
        (
            "saved_model.pb",
            b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n",
            Reason.LFS_POINTER,
        ),
        ("saved_model.pbtxt", b"version https://git-lfs.github.com/spec/v1\n", Reason.LFS_POINTER),
        ("saved_model.pb", b"saved_model_schema_version: 1\n", Reason.TEXT_IN_BINARY),
        ("saved_model.pb", b"just some notes\n", Reason.TEXT_FILE),
        ("saved_model.pbtxt", b"\xff\xfe\x00", Reason.NOT_TEXT),
        ("saved_model.pb", b"\x08\x01\x12\x40\x0a", Reason.DAMAGED),
        ("saved_model.cpb", b"\x00", Reason.CHUNKED),
    ],
)
def test_saved_model_reasons(name: str, data: bytes, reason: Reason, tmp_path: Path) -> None:
    with pytest.raises(SmliteError) as info:
        smlite.open(_model(tmp_path, name, data))
    assert info.value.reason is reason
    assert str(info.value).endswith(info.value.detail)


def test_missing_path_and_missing_model() -> None:
    with pytest.raises(NotASavedModelError) as info:
        smlite.open(MODELS / "no_such_model")
    assert info.value.reason is Reason.NOT_FOUND
    with pytest.raises(NotASavedModelError) as info:
        smlite.open(MODELS.parent)
    assert info.value.reason is Reason.NO_SAVED_MODEL


def test_bundle_reasons(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(MODELS / "variables_sharded", model)
    shards = sorted((model / "variables").glob("variables.data-*"))
    shards[-1].unlink()
    shards[0].write_bytes(shards[0].read_bytes()[:-1])
    shard = shards[1]
    data = bytearray(shard.read_bytes())
    data[0] ^= 1
    shard.write_bytes(bytes(data))
    with Bundle.open(model / "variables" / "variables") as bundle:
        reasons = {error.reason for _, error in bundle.iter_problems()}
    assert {Reason.MISSING_SHARD, Reason.TRUNCATED, Reason.CHECKSUM} <= reasons


# What must never come back: deciding by an error's text.  (Iterating over the parts of a
# diff record's message, ``for part in change.message``, is not a test on an error's text.)
_MESSAGE_MATCHING = re.compile(
    r"""in\s+str\(\w+\)|(?<!part )in\s+\w+\.(message|detail)\b|_strip_path"""
    r"""|["']\s+in\s+(message|problem)\b"""
    r"""|def\s+_strip\w*\(\w+:\s*SmliteError|startswith\(f["']\{\w+\.path\}"""
)


def test_nothing_matches_error_message_text() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if "_proto" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _MESSAGE_MATCHING.search(line)
    ]
    assert offenders == []
