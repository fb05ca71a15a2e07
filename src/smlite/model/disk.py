"""The files of a model directory and what they weigh: stat calls only, nothing read or written.

Behind a URL the sizes come from the folders' listings (one per folder).

Two commands measure the directory, each in its own terms:

* :func:`disk_usage` (``summary``, ``report``): how much the parts a
  SavedModel is made of hold -- ``saved_model.pb``, ``variables/``,
  ``assets/``, ``assets.extra/`` -- counting what symbolic links point to;
* :func:`model_files` (``size``): every file below the directory, each with
  its role, by its own size (a link counts as a link: its target may lie
  anywhere).

Both walk with :func:`_walk`, which does not enter linked directories.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smlite.formats import storage
from smlite.formats.storage import AnyPath, RemotePath

if TYPE_CHECKING:
    from smlite.model.saved_model import SavedModel

__all__ = ["DirUsage", "DiskUsage", "FileSize", "disk_usage", "model_files"]


@dataclass(frozen=True, slots=True)
class DirUsage:
    """Files under a folder (recursively) and their total size in bytes."""

    files: int
    bytes: int


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """Sizes of a model directory's parts; ``None`` for a folder that is absent."""

    saved_model_file: int
    variables: DirUsage | None
    assets: DirUsage | None
    assets_extra: DirUsage | None
    fingerprint: bool


@dataclass(frozen=True, slots=True)
class FileSize:
    """A file of the model directory: its path relative to it, size and role."""

    path: str
    bytes: int
    #: ``saved_model``, ``variables``, ``asset``, ``assets_extra``, ``debug_info``,
    #: ``fingerprint`` or ``other``.
    kind: str


def _walk(folder: Path) -> Iterator[Path]:
    """Every file below ``folder``, in name order (linked directories are not entered)."""
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            yield Path(root, name)


def _dir_usage(folder: AnyPath) -> DirUsage | None:
    if not folder.is_dir():
        return None
    if isinstance(folder, RemotePath):  # a URL: one listing per folder, sizes included
        sizes = [storage.entry_size(e) for e in storage.walk(folder) if e.kind == "file"]
        return DirUsage(len(sizes), sum(sizes))
    files = size = 0
    for path in _walk(folder):
        try:
            st = path.stat()
        except OSError:
            continue
        files += 1
        size += st.st_size
    return DirUsage(files, size)


def disk_usage(sm: SavedModel) -> DiskUsage:
    """Measure the parts of the model directory (read-only: stat calls only)."""
    model_dir = sm.path
    return DiskUsage(
        saved_model_file=storage.size(sm.file),
        variables=_dir_usage(model_dir / "variables"),
        assets=_dir_usage(model_dir / "assets"),
        assets_extra=_dir_usage(model_dir / "assets.extra"),
        fingerprint=(model_dir / "fingerprint.pb").is_file(),
    )


def _file_kind(rel: str, saved_model_name: str) -> str:
    if rel == saved_model_name:
        return "saved_model"
    first = rel.split("/", 1)[0]
    return {
        "variables": "variables",
        "assets": "asset",
        "assets.extra": "assets_extra",
        "fingerprint.pb": "fingerprint",
    }.get(first, "debug_info" if rel == "debug/saved_model_debug_info.pb" else "other")


def model_files(model_dir: AnyPath, saved_model_name: str) -> tuple[FileSize, ...]:
    """Every file under the model directory (symlinks not followed), by path."""
    if isinstance(model_dir, RemotePath):  # one listing per folder, sizes included
        return tuple(
            FileSize(rel, storage.entry_size(e), _file_kind(rel, saved_model_name))
            for e in storage.walk(model_dir)
            if e.kind == "file"
            for rel in (storage.relative(e.path, model_dir),)
        )
    found: list[FileSize] = []
    for full in _walk(model_dir):
        try:
            size = full.lstat().st_size
        except OSError:
            continue
        rel = full.relative_to(model_dir).as_posix()
        found.append(FileSize(rel, size, _file_kind(rel, saved_model_name)))
    return tuple(found)
