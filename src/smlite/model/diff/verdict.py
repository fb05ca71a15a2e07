"""The one-line verdict: identical, new weights, new graph, or both.

TensorFlow fingerprints every export (``fingerprint.pb``, see
:mod:`smlite.model.fingerprint`): ``saved_model_checksum`` covers the whole
``saved_model.pb``; ``graph_def_program_hash``, ``signature_def_hash`` and
``saved_object_graph_hash`` are built to stay equal when the same program is
traced and exported again (function uids stripped, the function library
left out).  The verdict reads the stored values of both sides (no hash is
recomputed) and weighs them with the changes the diff found:

* the **program** is the same when the diff found no change to tag-sets,
  signatures, functions or ops, and the fingerprint's program hashes agree
  (or the whole file is the same).  Without ``fingerprint.pb`` on both sides
  (TF1 exports, older TensorFlow), the file contents decide instead;
* the **weights** are the same when no variable changed: keys, dtypes,
  shapes and the index's checksums (what ``checkpoint_hash`` hashes).
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import TYPE_CHECKING

from smlite.errors import NotASavedModelError, SmliteError
from smlite.formats import storage
from smlite.formats.storage import AnyPath
from smlite.model.diff.records import Change, Verdict
from smlite.model.saved_model import SavedModel

if TYPE_CHECKING:
    from smlite.model.fingerprint import StoredFingerprint

__all__ = ["model_verdict", "variables_verdict"]

_GRAPH_AREAS = ("meta_graph", "signature", "function", "op")
_PROGRAM_FIELDS = ("graph_def_program_hash", "signature_def_hash", "saved_object_graph_hash")
_BLOCK = 1 << 24


def _stored(sm: SavedModel, notes: list[str]) -> StoredFingerprint | None:
    # Only fingerprint.pb is read; the hashing code is not needed (nor imported).
    from smlite.model.fingerprint import read_stored

    try:
        return read_stored(sm.path)
    except SmliteError as e:
        notes.append(f"fingerprint.pb not used: {e}")
        return None


def same_bytes(a: AnyPath, b: AnyPath) -> bool:
    """Whether two files hold the same bytes (sizes first, then block by block).

    A file behind a URL is read whole, after the sizes (from the listings) agree.
    """
    if not isinstance(a, Path) or not isinstance(b, Path):
        try:
            if storage.size(a) != storage.size(b):
                return False
            return storage.read_bytes(a) == storage.read_bytes(b)
        except NotASavedModelError:
            return False
    try:
        if os.path.samefile(a, b):
            return True
        size = os.stat(a).st_size
        if size != os.stat(b).st_size:
            return False
        if size == 0:
            return True
        with (
            open(a, "rb") as fa,
            open(b, "rb") as fb,
            mmap.mmap(fa.fileno(), 0, access=mmap.ACCESS_READ) as ma,
            mmap.mmap(fb.fileno(), 0, access=mmap.ACCESS_READ) as mb,
        ):
            return all(ma[i : i + _BLOCK] == mb[i : i + _BLOCK] for i in range(0, size, _BLOCK))
    except OSError:
        return False


def model_verdict(
    old: SavedModel, new: SavedModel, changes: list[Change], notes: list[str]
) -> Verdict:
    graph_changed = any(c.area in _GRAPH_AREAS for c in changes)
    weights = any(c.area == "variable" for c in changes)
    assets = any(c.area == "asset" for c in changes)
    fa, fb = _stored(old, notes), _stored(new, notes)
    if fa is not None and fb is not None:
        same_file = fa.values.saved_model_checksum == fb.values.saved_model_checksum
        same_hashes = all(getattr(fa.values, n) == getattr(fb.values, n) for n in _PROGRAM_FIELDS)
        same_program = not graph_changed and (same_file or same_hashes)
        basis = "fingerprint.pb of both sides and the changes found"
    else:
        missing = " and ".join(side for side, f in (("old", fa), ("new", fb)) if f is None)
        same_file = not graph_changed and same_bytes(old.file, new.file)
        same_program = same_file
        basis = (
            f"the changes found and the model files' bytes (no fingerprint.pb on the "
            f"{missing} side)"
        )
    if same_program:
        if not weights and not assets:
            if same_file:
                return Verdict("identical", "identical", basis)
            return Verdict(
                "same-program-re-exported", "same program and weights, exported again", basis
            )
        if weights and assets:
            text = "same program, new weights and assets"
        elif weights:
            text = "same program, new weights"
        else:
            text = "same program and weights, new assets"
        return Verdict("new-weights", text, basis)
    if weights:
        return Verdict("new-graph-and-weights", "new graph and new weights", basis)
    return Verdict("new-graph", "same weights, new graph", basis)


def variables_verdict(changes: list[Change]) -> Verdict:
    basis = "the variables' keys, dtypes, shapes and index checksums"
    kinds = {c.kind for c in changes if c.area == "variable"}
    if not kinds:
        return Verdict("same-weights", "identical variables", basis)
    if kinds == {"variable-values-changed"}:
        return Verdict("new-weights", "same variables, new weights", basis)
    return Verdict("new-variables", "different variables", basis)
