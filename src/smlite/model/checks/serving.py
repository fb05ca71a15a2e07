"""TF Serving (SML501-SML504): the version that will be served, duplicates, the warmup file.

The base path's version folders are read once, by
:func:`smlite.formats.saved_model.serving_layout` (the reading every command uses).
"""

from __future__ import annotations

from smlite.errors import SmliteError
from smlite.formats import saved_model as sm_format
from smlite.formats import tfrecord
from smlite.model.checks.base import CheckContext, Emit, Stage, check, message_at
from smlite.model.rules import Severity, Where

__all__ = ["WARMUP_FILE"]

WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"


@check("serving", "SML501", "SML502", "SML503", stage=Stage.SERVING, order=0)
def version_folders(ctx: CheckContext, emit: Emit) -> None:
    """Ignored entries, duplicate version numbers, a served version without a model file."""
    layout = ctx.layout
    assert layout is not None
    for name in layout.ignored:
        emit(
            "SML502",
            f"{name!r} is not a version folder (not a number); TF Serving ignores it",
            Where(layout.base_path / name),
        )
    for version, dirs in sorted(layout.duplicates.items()):
        names = ", ".join(d.name for d in dirs)
        emit(
            "SML501",
            f"folders {names} all are version {version}; which one TF Serving loads is undefined",
            Where(dirs[-1]),
        )
    served_dir = layout.chosen_path
    if ctx.model_dir is None:
        emit(
            "SML503",
            f"TF Serving will serve version {layout.chosen} ({served_dir.name}/), which holds "
            f"no {sm_format.PB_NAME}: loading fails (an export still being copied?)",
            Where(served_dir / sm_format.PB_NAME),
        )


@check("serving", "SML504", stage=Stage.MODEL, order=70)
def warmup_file(ctx: CheckContext, emit: Emit) -> None:
    """assets.extra/tf_serving_warmup_requests is a well-framed TFRecord file."""
    assert ctx.model_dir is not None
    path = ctx.model_dir / WARMUP_FILE
    if not path.is_file():
        return
    try:
        tfrecord.count_records(path)
    except SmliteError as e:
        emit("SML504", message_at(e, path), Where(path, offset=e.offset))


@check("serving", "SML503", stage=Stage.VERDICT, order=0)
def served_version(ctx: CheckContext, emit: Emit) -> None:
    """The version TF Serving will serve has no errors."""
    layout = ctx.layout
    assert layout is not None
    if any(f.level == Severity.ERROR for f in ctx.findings[ctx.model_findings_start :]):
        served_dir = layout.chosen_path
        emit(
            "SML503",
            f"TF Serving will serve version {layout.chosen} ({served_dir.name}/), which has "
            "errors (listed above)",
            Where(served_dir),
        )
