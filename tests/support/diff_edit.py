"""Pairs of models for ``smlite diff`` tests: a fixture and a copy whose protos were edited.

Every change a diff rule is about is made here by editing a proto of a real
fixture (the SavedModel message, or a variables bundle written by hand), so
that each rule can be tested in both directions: ``edited_pair`` gives
(original, edited), and swapping the two gives the reverse change.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from smlite import pb
from smlite.model.diff import Diff, Severity

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"
PAIRS = Path(__file__).resolve().parents[1] / "fixtures" / "diff"

Edit = Callable[[pb.SavedModel], None]


def copy_model(name: str | Path, dest: Path) -> Path:
    src = name if isinstance(name, Path) else MODELS / name
    shutil.copytree(src, dest)
    return dest


def edit_model(model: Path, edit: Edit) -> Path:
    """Parse ``model/saved_model.pb``, apply ``edit``, write it back."""
    path = model / "saved_model.pb"
    message = pb.SavedModel.FromString(path.read_bytes())
    edit(message)
    path.write_bytes(message.SerializeToString())
    return model


def edited_pair(tmp: Path, name: str, edit: Edit) -> tuple[Path, Path]:
    """``(original copy, edited copy)`` of fixture ``name`` under ``tmp``."""
    old = copy_model(name, tmp / "old")
    new = edit_model(copy_model(name, tmp / "new"), edit)
    return old, new


def serve_signature(key: str = "serving_default") -> Callable[[pb.SavedModel], pb.SignatureDef]:
    def get(message: pb.SavedModel) -> pb.SignatureDef:
        return message.meta_graphs[0].signature_def[key]

    return get


def kinds(d: Diff, severity: Severity | None = None) -> list[str]:
    """The kinds of ``d``'s changes (of one severity), in report order."""
    return [c.kind for c in d.changes if severity is None or c.severity is severity]


def only(d: Diff) -> tuple[str, Severity, str]:
    """``(kind, severity, path)`` of the one change ``d`` has."""
    assert len(d.changes) == 1, d.changes
    (c,) = d.changes
    return c.kind, c.severity, c.path
