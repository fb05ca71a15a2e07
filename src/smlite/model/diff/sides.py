"""Opening the two sides of a diff: SavedModels, checkpoints, TF Serving versions.

Each side is a SavedModel (directory, ``saved_model.pb``/``.pbtxt``, or a TF
Serving base path with a version) or a checkpoint prefix, in which case
only variables are compared.  One TF Serving base path alone compares the
version TF Serving serves (the highest, or ``version``) with the one
before it (or ``against``).  Opening reads headers only, as ``smlite show``
does: graphs and variable data are read when a comparison asks for them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from smlite.errors import (
    CheckpointNotFoundError,
    NotASavedModelError,
    Reason,
    SmliteError,
    VersionNotFoundError,
)
from smlite.formats import bundle as bundle_format
from smlite.formats import saved_model as sm_format
from smlite.formats import storage
from smlite.formats.storage import AnyPath
from smlite.model.diff.records import SideInfo
from smlite.model.saved_model import SavedModel
from smlite.model.variables import VariableSet, open_checkpoint

__all__ = ["Side", "open_pair", "open_side"]


@dataclass(slots=True)
class Side:
    """One opened side: a SavedModel (with its variables) or a checkpoint's variables."""

    info: SideInfo
    model: SavedModel | None
    _variables: VariableSet | None = None

    @property
    def variables(self) -> VariableSet:
        if self.model is not None:
            return self.model.variables
        assert self._variables is not None
        return self._variables

    def close(self) -> None:
        if self.model is not None:
            self.model.close()
        if self._variables is not None:
            self._variables.close()


def open_side(
    path: str | os.PathLike[str] | AnyPath, *, version: int | None = None, role: str
) -> Side:
    """Open ``path`` as a SavedModel, else (without ``version``) as a checkpoint."""
    given = storage.as_path(path)
    storage.list_ahead(given)
    if not given.exists() and not bundle_format.index_path(given).is_file():
        raise NotASavedModelError(
            f"no such file or directory (the {role} side)", path=given, reason=Reason.NOT_FOUND
        )
    try:
        sm = SavedModel.open(given, version=version)
    except NotASavedModelError as e:
        if version is not None:
            raise
        try:
            ckpt = open_checkpoint(given)
        except CheckpointNotFoundError as c:
            raise NotASavedModelError(
                f"{role} side: {e}; nor is it a checkpoint ({c})", path=given
            ) from e
        info = SideInfo(given, "checkpoint", file=bundle_format.index_path(ckpt.prefix))
        return Side(info, None, ckpt)
    serving = sm.serving
    info = SideInfo(
        given,
        "saved_model",
        model_dir=sm.path,
        file=sm.file,
        version=serving.chosen if serving is not None else None,
    )
    return Side(info, sm)


def _versions(base: AnyPath) -> tuple[int, ...]:
    location = sm_format.locate(base)
    if location.serving is None:
        raise SmliteError(
            f"{base}: smlite diff with one path compares two versions of a TF Serving base "
            "path (a folder of numbered version folders), but this is a SavedModel "
            "directory; give the old and the new model",
            path=base,
        )
    return tuple(sorted({v for v, _ in location.serving.versions}))


def open_pair(
    old: str | os.PathLike[str] | AnyPath,
    new: str | os.PathLike[str] | AnyPath | None,
    *,
    version: int | None = None,
    against: int | None = None,
) -> tuple[Side, Side]:
    """The (old, new) sides; ``against`` picks the old side's version, ``version`` the new one's."""
    if new is None:
        base = storage.as_path(old)
        numbers = _versions(base)
        served = numbers[-1] if version is None else version
        if served not in numbers:
            raise VersionNotFoundError(str(served), [str(n) for n in numbers], path=base)
        if against is None:
            earlier = [n for n in numbers if n < served]
            if not earlier:
                raise SmliteError(
                    f"{base}: version {served} has no earlier version to compare with "
                    f"(versions: {', '.join(map(str, numbers))}); give --against N",
                    path=base,
                )
            against = earlier[-1]
        new, version = base, served
    old_side = open_side(old, version=against, role="old")
    try:
        new_side = open_side(new, version=version, role="new")
    except BaseException:
        old_side.close()
        raise
    return old_side, new_side
