"""Fingerprint (SML401-SML403): fingerprint.pb is there for TF2 exports and matches the files.

Thin on purpose: reading and recomputing the hashes, and deciding which stored
values are comparable, belong to :mod:`smlite.model.fingerprint`.
"""

from __future__ import annotations

from smlite.errors import SmliteError
from smlite.model import fingerprint as fingerprint_model
from smlite.model.checks.base import CheckContext, Emit, Stage, check, message_at
from smlite.model.rules import Where

_HASHED = {
    "saved_model_checksum": "saved_model.pb",
    "graph_def_program_hash": "the graph",
    "signature_def_hash": "the signatures",
    "saved_object_graph_hash": "the object graph",
    "checkpoint_hash": "variables/variables.index",
}


@check("fingerprint", "SML401", "SML402", "SML403", stage=Stage.MODEL, order=50)
def fingerprint_file(ctx: CheckContext, emit: Emit) -> None:
    """fingerprint.pb parses and every hash in it is recomputed equal."""
    sm = ctx.sm
    assert sm is not None
    fp_path = sm.path / fingerprint_model.FINGERPRINT_FILENAME
    try:
        stored = fingerprint_model.read_stored(sm.path)
    except SmliteError as e:
        emit("SML403", message_at(e, fp_path), Where(fp_path))
        return
    if stored is None:
        if any(mg.has_object_graph for mg in sm.meta_graphs):
            emit(
                "SML401",
                "fingerprint.pb is missing; TF2 exports write it next to saved_model.pb",
                Where(fp_path),
            )
        return
    if sm.format != "pb" or stored.producer not in (0, 1, 4):
        ctx.skipped.append(
            f"fingerprint.pb (producer {stored.producer}) not recomputed: only "
            "saved_model.pb exports (producer 1 or 4) are comparable"
        )
        return
    try:
        fp = fingerprint_model.fingerprint(sm)
    except SmliteError as e:
        ctx.skipped.append(f"fingerprint not recomputed: {e}")
        return
    for name in fp.mismatches:
        emit(
            "SML402",
            f"{name} is {getattr(stored.values, name)} in fingerprint.pb but "
            f"{getattr(fp.computed, name)} recomputed from {_HASHED[name]}: the files "
            "changed after export or come from different exports",
            Where(fp_path, detail=name),
        )
