"""docs/diff.md and the README: every change kind with its severity, and true examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smlite.cli import run
from smlite.model.diff import KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "diff.md"


def test_every_kind_is_documented_with_its_severity() -> None:
    section = DOC.read_text().split("## Change kinds", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| ([^|]+) \|", section, re.M))
    assert list(rows) == list(KINDS)
    for name, kind in KINDS.items():
        expected = kind.severity.value
        if kind.checkpoint_severity is not None:
            expected += f" ({kind.checkpoint_severity.value} in a variables-only diff)"
        assert rows[name].strip() == expected, name
        assert kind.why and kind.summary, name


def _console_examples(text: str) -> list[tuple[list[str], str]]:
    """``(argv, output)`` of each ``$ smlite diff tests/...`` block that shows its output."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.splitlines()
        if lines and lines[0].startswith("$ smlite diff tests/") and len(lines) > 1:
            found.append((lines[0].split()[3:], "\n".join(lines[1:]) + "\n"))
    return found


def test_console_examples_are_what_smlite_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(DOC.parents[1])
    examples = [
        e for doc in (DOC, DOC.parents[1] / "README.md") for e in _console_examples(doc.read_text())
    ]
    assert len(examples) == 2
    for argv, expected in examples:
        code = run(["diff", *argv])
        out, err = capsys.readouterr()
        assert (code, out) == (1, expected), err
