"""The layers import one way only: formats -> model -> render -> cli.

Also: nothing but ``smlite.pb`` imports the generated ``smlite._proto``
modules, and the core package never imports TensorFlow at module level.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "smlite"

# layer -> the smlite subpackages it must not import
FORBIDDEN = {
    "formats": ("smlite.model", "smlite.render", "smlite.cli", "smlite.run"),
    "model": ("smlite.render", "smlite.cli"),
    "render": ("smlite.cli", "smlite.formats"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "_proto" not in p.parts)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_one_way(layer: str) -> None:
    bad = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for line, name in _imports(path):
            if name.startswith(FORBIDDEN[layer]):
                bad.append(f"{path.relative_to(SRC)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_generated_code_only_behind_the_facade() -> None:
    bad = [
        f"{path.relative_to(SRC)}:{line} imports {name}"
        for path in _modules()
        if path.name != "pb.py"
        for line, name in _imports(path)
        if name.startswith("smlite._proto")
    ]
    assert not bad, "\n".join(bad)


def test_tensorflow_is_imported_only_by_the_run_backend() -> None:
    bad = [
        f"{path.relative_to(SRC)}:{line} imports {name}"
        for path in _modules()
        if path.relative_to(SRC).parts[:1] != ("run",)
        for line, name in _imports(path)
        if name == "tensorflow" or name.startswith("tensorflow.")
    ]
    assert not bad, "\n".join(bad)
