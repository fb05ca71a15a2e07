"""Files and parsing (SML001-SML007, SML302 for symlinks): is there a SavedModel, does it open."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from smlite.errors import (
    CorruptFileError,
    NotASavedModelError,
    Reason,
    SmliteError,
    UnsupportedError,
)
from smlite.formats import lfs, storage
from smlite.formats import saved_model as sm_format
from smlite.formats.storage import AnyPath, DirEntry
from smlite.model.checks.base import CheckContext, Emit, Stage, check
from smlite.model.rules import Where

__all__ = ["MODEL_FILES", "walk"]

MODEL_FILES = (sm_format.PB_NAME, sm_format.PBTXT_NAME, sm_format.CPB_NAME)
#: What saved_model.pb was found to hold instead of a SavedModel.
_FOREIGN = frozenset({Reason.GRAPH_DEF, Reason.META_GRAPH_DEF, Reason.HUB_MODULE})


def walk(root: AnyPath) -> Iterator[DirEntry]:
    """Every file and symlink under ``root`` (symlinks not followed), as listed.

    One listing per folder (:func:`smlite.formats.storage.walk`); a listing
    gives each file's size, so nothing is opened to learn it.
    """
    return (e for e in storage.walk(root) if e.kind != "dir")


def escapes(path: AnyPath, root: AnyPath) -> str | None:
    """Where a symlink leads when that is outside ``root``; None when it stays inside.

    Object stores and web servers have no symlinks: nothing behind a URL escapes.
    """
    if not isinstance(path, Path) or not isinstance(root, Path):
        return None
    real_root = os.path.realpath(root)
    target = os.path.realpath(path)
    return None if os.path.commonpath([real_root, target]) == real_root else target


@check("files", "SML001", stage=Stage.LOCATE, order=0, in_scan=True)
def model_present(ctx: CheckContext, emit: Emit) -> None:
    """The path is a SavedModel directory or a TF Serving base path."""
    p = ctx.path
    if not p.is_dir():
        emit("SML001", f"{p} is not a directory holding a SavedModel", Where(p))
    elif ctx.model_dir is None and ctx.layout is None:
        emit(
            "SML001",
            f"no {sm_format.PB_NAME} or {sm_format.PBTXT_NAME} in {p}, and no numbered "
            "version folders",
            Where(p / sm_format.PB_NAME),
        )


@check("files", "SML002", "SML302", stage=Stage.FILES, order=0)
def file_walk(ctx: CheckContext, emit: Emit) -> None:
    """Git LFS pointers anywhere, symlinks leaving the model directory."""
    model_dir = ctx.model_dir
    assert model_dir is not None
    for entry in walk(model_dir):
        path = entry.path
        if entry.kind == "symlink":
            target = escapes(path, model_dir)
            if target is not None:
                emit(
                    "SML302",
                    f"{storage.relative(path, model_dir)} is a symlink to {target}, "
                    "outside the model directory",
                    Where(path),
                )
                continue
        if lfs.file_is_pointer(path, size=entry.size if entry.kind == "file" else None):
            emit(
                "SML002",
                f"{storage.relative(path, model_dir)} is a Git LFS pointer, "
                f"not the file itself; {lfs.HINT}",
                Where(path),
            )


@check("files", "SML006", stage=Stage.FILES, order=10)
def pb_and_pbtxt(ctx: CheckContext, emit: Emit) -> None:
    """Both saved_model.pb and saved_model.pbtxt: loaders read the first."""
    model_dir = ctx.model_dir
    assert model_dir is not None
    if (model_dir / sm_format.PB_NAME).is_file() and (model_dir / sm_format.PBTXT_NAME).is_file():
        emit(
            "SML006",
            f"both {sm_format.PB_NAME} and {sm_format.PBTXT_NAME} exist; loaders read "
            f"{sm_format.PB_NAME} and ignore the other",
            Where(model_dir / sm_format.PBTXT_NAME),
        )


@check(
    "files",
    "SML001",
    "SML002",
    "SML003",
    "SML004",
    "SML005",
    "SML007",
    stage=Stage.FILES,
    order=20,
    in_scan=True,
)
def opens(ctx: CheckContext, emit: Emit) -> None:
    """The SavedModel file opens; if not, why (by the error's reason, never its text)."""
    if ctx.sm is not None:
        # What opening leaves for later: the Any-packed AssetFileDefs of TF1 exports.
        for mg in ctx.sm.meta_graphs:
            try:
                _ = mg.assets
            except SmliteError as unparsed:
                where = _error_file(unparsed, ctx.sm.file)
                emit("SML003", str(unparsed), Where(where))
        return
    if ctx.open_error is None:
        return
    e = ctx.open_error
    assert ctx.model_dir is not None
    pb_path = ctx.model_dir / sm_format.PB_NAME
    file = _error_file(e, pb_path)
    if isinstance(e, UnsupportedError):
        emit("SML005", str(e), Where(ctx.model_dir / sm_format.CPB_NAME))
    elif isinstance(e, NotASavedModelError):
        if e.reason in _FOREIGN:
            emit("SML007", str(e), Where(file))
        else:
            emit("SML001", str(e), Where(pb_path))
    elif isinstance(e, CorruptFileError) and e.reason is Reason.LFS_POINTER:
        # Already reported by the file walk, unless the walk could not tell.
        if not any(f.rule.id == "SML002" and f.where.file == file for f in ctx.findings):
            emit("SML002", str(e), Where(file))
    elif e.reason is Reason.TEXT_IN_BINARY and file.name == sm_format.PB_NAME:
        emit("SML004", str(e), Where(file))
    else:
        emit("SML003", str(e), Where(file, offset=e.offset))


def _error_file(error: SmliteError, default: AnyPath) -> AnyPath:
    """The file an error names (a URL stays a URL), or ``default``."""
    if not error.path:
        return default
    return storage.named(error.path) if storage.is_url(error.path) else Path(error.path)
