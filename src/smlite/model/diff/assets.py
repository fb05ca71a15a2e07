"""Asset files compared by name and content.

The assets are the files the meta graphs list (:attr:`MetaGraph.assets`,
which also reads TF1's assets collection), all under ``assets/``.  Two with
the same name are the same when their sizes and SHA-256 digests are equal;
files of different sizes are not read at all.  A listed file that is missing,
unreadable, or not inside the model's ``assets/`` folder (a name with
``..``) is compared by name only: ``smlite check`` reports it.  Behind a URL
the sizes come from the listing of ``assets/`` and the files are read whole.
"""

from __future__ import annotations

from smlite.errors import SmliteError
from smlite.formats import storage
from smlite.formats.storage import AnyPath, RemotePath
from smlite.model.diff.recorder import Recorder, location
from smlite.model.saved_model import SavedModel

__all__ = ["compare_assets"]

_BLOCK = 1 << 20


def _files(sm: SavedModel) -> dict[str, AnyPath | None]:
    """Asset name -> its file, or None when it cannot be read safely."""
    if isinstance(sm.path, RemotePath):
        return _remote_files(sm)
    root = (sm.path / "assets").resolve()
    found: dict[str, AnyPath | None] = {}
    for mg in sm.meta_graphs:
        for asset in mg.assets:
            if asset.filename in found or isinstance(asset.path, RemotePath):
                continue
            try:
                real = asset.path.resolve()
            except (OSError, ValueError):  # ValueError: a NUL in the name
                real = None
            inside = real is not None and real.is_relative_to(root) and real.is_file()
            found[asset.filename] = real if inside else None
    return found


def _remote_files(sm: SavedModel) -> dict[str, AnyPath | None]:
    """The same behind a URL: no symlinks there; a name with ``..`` is not followed."""
    found: dict[str, AnyPath | None] = {}
    for mg in sm.meta_graphs:
        for asset in mg.assets:
            name = asset.filename
            inside = ".." not in name.replace("\\", "/").split("/") and not name.startswith("/")
            if name not in found:
                found[name] = asset.path if inside and asset.path.is_file() else None
    return found


def _size(path: AnyPath | None) -> int | None:
    if path is None:
        return None
    try:
        return storage.size(path)
    except (SmliteError, ValueError):
        return None


def _sha256(path: AnyPath) -> str | None:
    import hashlib

    digest = hashlib.sha256()
    try:
        if isinstance(path, RemotePath):
            digest.update(storage.read_bytes(path))
            return digest.hexdigest()
        with open(path, "rb") as f:
            while block := f.read(_BLOCK):
                digest.update(block)
    except (OSError, SmliteError):
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
