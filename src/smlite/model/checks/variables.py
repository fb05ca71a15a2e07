"""Variables (SML201-SML207): the checkpoint under variables/ reads and holds every variable.

Everything comes from ``SavedModel.variables`` (:class:`~smlite.model.variables.VariableSet`):
the bundle's own verification (:meth:`Bundle.iter_problems`), the object paths and
keys of the one object-graph walk (so a path named here is the one ``smlite
variables`` prints) and the TF1 variable keys of :mod:`smlite.model.variable_objects`.
"""

from __future__ import annotations

from smlite.errors import CorruptFileError, Reason, SmliteError, UnsupportedError
from smlite.formats import bundle as bundle_format
from smlite.formats.bundle import Entry
from smlite.model.checks.base import CheckContext, Emit, Stage, check, message_at
from smlite.model.rules import Where
from smlite.model.saved_model import SavedModel
from smlite.model.variable_objects import tf1_variable_defs
from smlite.model.variables import OBJECT_GRAPH_KEY, VariableSet

_VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp", "AutoReloadVariable"})


def _tf1_needed(sm: SavedModel) -> dict[str, str]:
    """Checkpoint keys of the TF1 ``variables`` collections -> a description for messages."""
    keys = tf1_variable_defs(mg.header for mg in sm.meta_graphs if not mg.has_object_graph)
    return {key: f"variable {key!r} (TF1 variables collection)" for key in keys}


def _has_saved_variables(sm: SavedModel) -> bool:
    return any(
        n.WhichOneof("kind") == "variable"
        for mg in sm.meta_graphs
        if mg.has_object_graph
        for n in mg.object_graph_def.nodes
    )


def _graph_restores_variables(ctx: CheckContext) -> bool:
    """A TF1 graph with a saver restore op and variable ops."""
    assert ctx.sm is not None
    for mg in ctx.sm.meta_graphs:
        if not mg.header.saver_def.restore_op_name:
            continue
        graph = ctx.graph(mg)
        if graph is not None and any(n.op in _VARIABLE_OPS for n in graph.nodes):
            return True
    return False


def _object_graph_needed(sm: SavedModel, variables: VariableSet) -> dict[str, str]:
    """Checkpoint keys the SavedObjectGraph's variables need -> a description for messages."""
    if not _has_saved_variables(sm):
        return {}
    if OBJECT_GRAPH_KEY not in variables.bundle.entries:
        return {OBJECT_GRAPH_KEY: "the checkpoint's object graph"}
    needed: dict[str, str] = {}
    for saved in variables.saved_variables:
        if saved.key:
            needed[saved.key] = f"variable {saved.object_path!r}"
        else:
            needed[f"<{saved.object_path}>"] = (
                f"variable {saved.object_path!r} (not in the checkpoint's object graph)"
            )
    return needed


@check(
    "variables",
    *(f"SML20{n}" for n in range(1, 8)),
    stage=Stage.MODEL,
    order=40,
)
def checkpoint(ctx: CheckContext, emit: Emit) -> None:
    """variables/ reads, its shards match the index, every variable has a verified value."""
    sm = ctx.sm
    assert sm is not None
    variables_dir = sm.path / "variables"
    index = bundle_format.index_path(variables_dir / "variables")
    needed = _tf1_needed(sm)
    if not index.is_file():
        if needed or _has_saved_variables(sm) or _graph_restores_variables(ctx):
            what = "is empty" if variables_dir.is_dir() else "is missing"
            emit(
                "SML201",
                f"variables/ {what} (no variables/variables.index), but the model has "
                "variables to restore",
                Where(index),
            )
        return
    try:
        variables = ctx.variables
    except (CorruptFileError, UnsupportedError) as e:
        emit("SML202", message_at(e, index), Where(index, offset=e.offset))
        return
    except SmliteError as e:
        emit("SML202", str(e), Where(index))
        return
    needed.update(_object_graph_needed(sm, variables))
    _shards(ctx, emit, variables.bundle)
    keys = set(variables.bundle.entries)
    for key, what in sorted(needed.items()):
        if key not in keys:
            emit(
                "SML206",
                f"{what} has no value in the checkpoint (key {key!r} is not in "
                "variables/variables.index)",
                Where(index, detail=f"entry[{key}]"),
            )


def _shards(ctx: CheckContext, emit: Emit, bundle: bundle_format.Bundle) -> None:
    index = bundle.index_path
    missing = bundle.missing_shards()
    for path in missing:
        emit(
            "SML203",
            f"data shard {path.name} is missing; the index declares {bundle.num_shards} "
            f"shard(s) and {bundle.num_shards - len(missing)} of them are present",
            Where(path),
        )
    stray = bundle.stray_shards()
    if stray:
        emit(
            "SML207",
            "variables/ holds data shard(s) the index does not use: "
            f"{', '.join(p.name for p in stray)} (the index declares {bundle.num_shards} "
            "shard(s))",
            Where(stray[0]),
        )
    present = set(bundle.shard_paths()) - set(missing)
    total = sum(
        e.size
        for e in bundle.entries.values()
        if not e.is_sliced and bundle.shard_path(e.shard_id) in present
    )
    done = 0

    def advance(entry: Entry) -> None:
        nonlocal done
        if ctx.progress is not None and bundle.shard_path(entry.shard_id) in present:
            done += entry.size
            ctx.progress(done, total)

    for entry, error in bundle.iter_problems(
        checksums=not ctx.fast, progress=None if ctx.fast else advance
    ):
        detail = f"entry[{entry.key}]"
        if error.reason is Reason.MISSING_SHARD:
            continue  # the missing shard is reported once
        if error.reason is Reason.SHARD_OUT_OF_RANGE:
            emit("SML203", message_at(error, index), Where(index, detail=detail))
            continue
        where = Where(bundle.shard_path(entry.shard_id), detail=detail, offset=entry.offset)
        rule_id = "SML205" if error.reason is Reason.CHECKSUM else "SML204"
        emit(rule_id, message_at(error, where.file), where)
