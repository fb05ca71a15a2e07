"""Asset files compared by name and content.

The assets are the files the meta graphs list (:attr:`MetaGraph.assets`,
which also reads TF1's assets collection), all under ``assets/``.  Two with
the same name are the same when their sizes and SHA-256 digests are equal;
files of different sizes are not read at all.  A listed file that is missing,
unreadable, or not inside the model's ``assets/`` folder (a name with
``..``) is compared by name only: ``smlite check`` reports it.
"""

from __future__ import annotations

import os
from pathlib import Path

from smlite.model.diff.recorder import Recorder, location
from smlite.model.saved_model import SavedModel

__all__ = ["compare_assets"]

_BLOCK = 1 << 20


def _files(sm: SavedModel) -> dict[str, Path | None]:
    """Asset name -> its file, or None when it cannot be read safely."""
    root = (sm.path / "assets").resolve()
    found: dict[str, Path | None] = {}
    for mg in sm.meta_graphs:
        for asset in mg.assets:
            if asset.filename in found:
                continue
            try:
                real = asset.path.resolve()
            except (OSError, ValueError):  # ValueError: a NUL in the name
                real = None
            inside = real is not None and real.is_relative_to(root) and real.is_file()
            found[asset.filename] = real if inside else None
    return found


def _size(path: Path | None) -> int | None:
    if path is None:
        return None
    try:
        return os.stat(path).st_size
    except (OSError, ValueError):
        return None


def _sha256(path: Path) -> str | None:
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while block := f.read(_BLOCK):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _text(size: int | None, digest: str | None) -> str:
    if size is None:
        return "missing"
    return f"{size} bytes" + (f", sha256 {digest[:16]}" if digest else "")


def compare_assets(old: SavedModel, new: SavedModel, rec: Recorder) -> None:
    a, b = _files(old), _files(new)
    for name in sorted(set(a) | set(b)):
        path = location(("assets", name))
        if name not in b:
            rec.add("asset-removed", path, f"asset {name!r} is no longer listed", old=name)
            continue
        if name not in a:
            rec.add("asset-added", path, f"asset {name!r} was added", new=name)
            continue
        x, y = a[name], b[name]
        size_x, size_y = _size(x), _size(y)
        if size_x is None and size_y is None:
            continue
        digest_x = digest_y = None
        if size_x == size_y and x is not None and y is not None:
            digest_x, digest_y = _sha256(x), _sha256(y)
            if digest_x is not None and digest_x == digest_y:
                continue
        rec.add(
            "asset-changed",
            path,
            f"asset {name!r} has other content",
            old=_text(size_x, digest_x),
            new=_text(size_y, digest_y),
        )
