"""The damage matrix: damaged copies of real models through every CLI command.

Every file of four fixtures (a TF1 multi-tag model, a Keras/TF2 model with
variables, a model with sharded variables, a text-format model) is cut at
several lengths, has bytes flipped, gets a huge varint written over a length
field and has regions zeroed.  Every command then runs in-process on the
damaged copy and must end with exit status 0, 1 or 2 and no traceback: a
damaged file is bad input, never a crash.  Seeds are fixed, so a failure
names a reproducible mutant.

``smlite run`` takes its inputs from the undamaged signature and stops before
executing (``execute`` is replaced): what is tested is the model reading and
input validation, never TensorFlow running a damaged graph.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import smlite.run
from smlite.cli import run
from smlite.errors import SmliteError

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"

#: fixture -> the ``smlite run`` arguments that pass validation on the undamaged model.
RUN_ARGS = {
    "tf1_multi_tag": [
        "--tag_set",
        "serve",
        "--signature_def",
        "predict_y",
        "--input_examples",
        "examples=[{'x': [1.0]}]",
    ],
    "keras_model": ["--input_exprs", "inputs=np.zeros((1, 3));inputs_1=np.zeros((1, 2))"],
    "variables_sharded": ["--input_exprs", "x=np.zeros(16, dtype='float32')"],
    "tf1_pbtxt": ["--input_exprs", "x=np.zeros((1, 3), dtype='float32')"],
}
FIXTURES = tuple(RUN_ARGS)

#: A 10-byte varint of 2**64 - 1: the largest length a protobuf or SSTable field can claim.
HUGE_VARINT = b"\xff" * 9 + b"\x01"


def _commands(model: str, fixture: str) -> dict[str, list[list[str]]]:
    """Command lines by the kind of file damaged (data files feed fewer commands)."""
    everything = [
        ["show", model, "--all"],
        ["show", model, "--all", "--format", "json"],
        ["show", model, "--tag_set", "serve", "--list_ops"],
        ["summary", model],
        ["summary", model, "--format", "json"],
        ["variables", model, "--verify"],
        ["variables", model, "--format", "json", "--keys"],
        ["check", model, "--no-progress"],
        ["check", model, "--no-progress", "--format", "sarif"],
        ["scan", model, "--format", "json"],
        ["scan", "--dir", model],
        ["fingerprint", model, "--format", "json"],
        ["run", model, *RUN_ARGS[fixture]],
    ]
    variables = [
        ["summary", model, "--format", "json"],
        ["variables", model, "--verify"],
        ["variables", model, "--verify", "--format", "json"],
        ["check", model, "--no-progress", "--format", "json"],
        ["fingerprint", model],
    ]
    return {
        "model": everything,
        "variables": variables,
        "fingerprint": [["fingerprint", model], ["check", model, "--no-progress"]],
        "other": [["show", model, "--all"], ["check", model, "--no-progress", "--format", "json"]],
    }


def _kind(rel: str) -> str:
    if rel.startswith("saved_model."):
        return "model"
    if rel.startswith("variables/"):
        return "variables"
    if rel == "fingerprint.pb":
        return "fingerprint"
    return "other"


def _mutants(data: bytes, seed: str) -> Iterator[tuple[str, bytes]]:
    """Deterministic damaged versions of ``data``: (description, bytes)."""
    rng = random.Random(seed)
    n = len(data)
    for cut in sorted({0, 1, n // 3, n // 2, n - 1, rng.randrange(1, max(n, 2))}):
        if 0 <= cut < n:
            yield f"truncated to {cut} bytes", data[:cut]
    if n == 0:
        return
    for _ in range(2):
        flipped = bytearray(data)
        spots = sorted(rng.sample(range(n), min(4, n)))
        for i in spots:
            flipped[i] ^= 1 << rng.randrange(8)
        yield f"bits flipped at {spots}", bytes(flipped)
    # A huge varint over the first length field of a protobuf (byte 1 follows the
    # first tag), over an SSTable footer's block handles, and at a random spot.
    for at in sorted({1, max(n - 48, 0), rng.randrange(n)}):
        yield f"huge varint at {at}", data[:at] + HUGE_VARINT + data[at + len(HUGE_VARINT) :]
    for start, length in ((0, 16), (rng.randrange(n), 64), (n // 2, max(n // 4, 1))):
        zeroed = data[:start] + bytes(min(length, n - start)) + data[start + length :]
        yield f"zeroed {length} bytes at {start}", zeroed


def _files(fixture: str) -> list[str]:
    root = MODELS / fixture
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


CASES = [(fixture, rel) for fixture in FIXTURES for rel in _files(fixture)]


@pytest.fixture
def no_execute(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(plan: object) -> object:
        raise SmliteError("damage matrix: not executing")

    monkeypatch.setattr(smlite.run, "execute", refuse)


def _run_checked(argv: list[str], capsys: pytest.CaptureFixture[str], what: str) -> None:
    try:
        code = run(argv)
    except Exception as e:
        raise AssertionError(f"{what}: {argv[0]} raised {type(e).__name__}: {e}") from e
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), f"{what}: exit status {code}"
    assert "Traceback" not in out + err, f"{what}: traceback printed\n{err[-2000:]}"
    if code == 2:
        assert "smlite: error: " in err, f"{what}: {err[:500]!r}"
    if code in (0, 1) and out and ("json" in argv or "sarif" in argv):
        json.loads(out)


def test_undamaged_fixtures_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_execute: None
) -> None:
    """The baseline: on the intact copies every command gets past reading."""
    for fixture in FIXTURES:
        model = tmp_path / fixture
        shutil.copytree(MODELS / fixture, model)
        for argv in _commands(str(model), fixture)["model"]:
            code = run(argv)
            err = capsys.readouterr().err
            expected = (2,) if argv[0] == "run" else (0, 1)
            assert code in expected, (fixture, argv, err)
            if argv[0] == "run":
                assert "damage matrix: not executing" in err, (fixture, err)


@pytest.mark.parametrize(("fixture", "rel"), CASES, ids=[f"{f}/{r}" for f, r in CASES])
def test_damaged_file(
    fixture: str,
    rel: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_execute: None,
) -> None:
    model = tmp_path / fixture
    shutil.copytree(MODELS / fixture, model)
    target = model / rel
    original = target.read_bytes()
    commands = _commands(str(model), fixture)[_kind(rel)]
    for description, damaged in _mutants(original, f"{fixture}/{rel}"):
        target.write_bytes(damaged)
        for argv in commands:
            _run_checked(argv, capsys, f"{fixture}/{rel} {description}")
    target.write_bytes(original)
