"""Fingerprint (SML401-SML403): fingerprint.pb is there when expected and matches the files.

Thin on purpose: reading fingerprint.pb, recomputing the hashes by the formula
of the release that wrote it, and deciding what is comparable are
:func:`smlite.model.fingerprint.fingerprint`'s judgement, shared with ``smlite fingerprint``.
"""

from __future__ import annotations

from smlite.errors import SmliteError
from smlite.model import fingerprint as fingerprint_model
from smlite.model.checks.base import CheckContext, Emit, Stage, check, message_at
from smlite.model.rules import Where


@check("fingerprint", "SML401", "SML402", "SML403", stage=Stage.MODEL, order=50)
def fingerprint_file(ctx: CheckContext, emit: Emit) -> None:
    """fingerprint.pb parses, is there when the writing release writes it, and matches."""
    sm = ctx.sm
    assert sm is not None
    fp_path = sm.path / fingerprint_model.FINGERPRINT_FILENAME
    try:
        fp = fingerprint_model.fingerprint(sm, compute_all=False)
    except SmliteError as e:
        if e.path == str(fp_path):
            emit("SML403", message_at(e, fp_path), Where(fp_path))
        else:
            ctx.skipped.append(f"fingerprint not recomputed: {e}")
        return
    if fp.status == "absent":
        if fp.expected:
            emit("SML401", fp.reason, Where(fp_path))
        elif fp.expected is None:
            ctx.skipped.append(fp.reason)
    elif fp.status == "not-comparable":
        ctx.skipped.append(f"fingerprint not recomputed: {fp.reason}")
    for name, message in fp.mismatch_messages():
        emit("SML402", message, Where(fp_path, detail=name))
