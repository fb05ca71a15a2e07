"""Variables of a TensorBundle checkpoint as typed, lazily read values.

:class:`VariableSet` is a read-only mapping from checkpoint key (the keys
``tf.train.list_variables`` returns, ``_CHECKPOINTABLE_OBJECT_GRAPH``
excluded) to :class:`Variable`.  Metadata comes from the index alone; values
are read when asked for, as numpy arrays that are zero-copy read-only views
over a memory map of the data shard whenever the stored layout allows it.

What the object graphs say is attached to each variable: its object path
(``layer_with_weights-0.kernel``), its own name (``dense/kernel``), whether
it is trainable (see :mod:`smlite.model.variable_objects` for how the
checkpoint's object graph is matched with a SavedModel's).  TF1 bundles have
no object graph: keys are variable names and trainability comes from the
``trainable_variables`` collection of the meta graphs.

This module opens them (:func:`open_checkpoint`, :func:`open_variables`,
``SavedModel.variables``); the handle itself is :mod:`smlite.model.variable_set`.

>>> import smlite
>>> with smlite.open_checkpoint("training/ckpt-3") as ckpt:       # doctest: +SKIP
...     kernel = ckpt["model/kernel/.ATTRIBUTES/VARIABLE_VALUE"].read()
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from smlite import pb
from smlite.errors import CorruptFileError, SmliteError
from smlite.formats import bundle as bundle_format
from smlite.formats import storage
from smlite.formats.bundle import Bundle
from smlite.formats.storage import AnyPath
from smlite.model.dtypes import DType
from smlite.model.variable_objects import match_object_graphs, tf1_infos
from smlite.model.variable_set import OBJECT_GRAPH_KEY, Problem, Variable, VariableSet

if TYPE_CHECKING:
    from smlite.model.saved_model import SavedModel

__all__ = [
    "OBJECT_GRAPH_KEY",
    "Problem",
    "Variable",
    "VariableSet",
    "open_checkpoint",
    "open_variables",
]


# -- object graphs ----------------------------------------------------------------------------


def _read_object_graph(b: Bundle) -> tuple[pb.TrackableObjectGraph | None, list[str]]:
    entry = b.entries.get(OBJECT_GRAPH_KEY)
    if entry is None:
        return None, []
    try:
        if entry.dtype != bundle_format.DT_STRING or entry.num_elements != 1:
            raise CorruptFileError(
                f"entry {OBJECT_GRAPH_KEY!r} should be one string, found "
                f"{DType(entry.dtype).name}{list(entry.shape)}",
                path=b.index_path,
            )
        (raw,) = b.read_strings(entry, verify=True)
        try:
            return pb.TrackableObjectGraph.FromString(raw), []
        except pb.DecodeError as e:
            raise CorruptFileError(
                f"entry {OBJECT_GRAPH_KEY!r} does not parse as a TrackableObjectGraph: {e}",
                path=b.shard_path(entry.shard_id),
                offset=entry.offset,
            ) from e
    except SmliteError as e:
        return None, [f"object graph unreadable, object paths not shown: {e}"]


# -- opening --------------------------------------------------------------------------------------


def _open(
    prefix: AnyPath,
    *,
    kind: str,
    saved_graph: pb.SavedObjectGraph | None = None,
    meta_graph_defs: Sequence[pb.MetaGraphDef] = (),
    meta_beside: bool = False,
) -> VariableSet:
    b = Bundle.open(prefix)
    try:
        graph, warnings = _read_object_graph(b)
        if graph is not None:
            match = match_object_graphs(graph, saved_graph)
            infos, saved_variables = match.infos, match.saved_variables
            warnings += match.warnings
        else:
            if meta_beside:
                # A TF1 Saver writes the graph's MetaGraphDef beside the
                # checkpoint: its variable collections say what is trainable.
                try:
                    meta = bundle_format.read_meta_collections(prefix)
                except SmliteError as e:
                    meta = None
                    warnings.append(f"trainable flags unknown: {e}")
                if meta is not None:
                    meta_graph_defs = [meta]
            infos, saved_variables = tf1_infos(meta_graph_defs, b.listed_keys()), ()
        return VariableSet(
            b,
            prefix=prefix,
            kind=kind,
            object_infos=infos,
            saved_variables=saved_variables,
            object_graph=graph,
            warnings=warnings,
        )
    except BaseException:
        b.close()
        raise


def open_checkpoint(path: str | os.PathLike[str] | AnyPath) -> VariableSet:
    """Open any TensorBundle checkpoint and return its :class:`VariableSet`.

    ``path`` is a prefix (``ckpt-3``), its ``.index`` or data file, a
    directory with a ``checkpoint`` state file (its latest checkpoint), or a
    SavedModel's directory or ``variables`` folder (without the SavedObjectGraph
    information; use ``smlite.open(path).variables`` for that).  For a TF1
    checkpoint, trainable flags come from ``<prefix>.meta`` when it exists.
    """
    prefix = bundle_format.resolve_prefix(path)
    return _open(prefix, kind="checkpoint", meta_beside=True)


def saved_model_variables(sm: SavedModel) -> VariableSet:
    """The variables of a SavedModel (``<model>/variables/variables``)."""
    prefix = sm.path / "variables" / "variables"
    if not bundle_format.index_path(prefix).is_file():
        reason = (
            f"{sm.path} has no variables/variables.index (a model with no variables, or the "
            "variables directory is missing)"
        )
        return VariableSet.empty(prefix, kind="saved_model", reason=reason)
    saved_graph = None
    for mg in sm.meta_graphs:
        if mg.has_object_graph:
            saved_graph = mg.object_graph_def
            break
    return _open(
        prefix,
        kind="saved_model",
        saved_graph=saved_graph,
        meta_graph_defs=[mg.header for mg in sm.meta_graphs],
    )


def open_variables(
    path: str | os.PathLike[str] | AnyPath, *, version: int | None = None
) -> VariableSet:
    """Variables of a SavedModel directory, a TF Serving base path or a checkpoint.

    A SavedModel (or serving base path, resolved as every command resolves it:
    :func:`smlite.formats.saved_model.locate`) gives the object-graph information
    of ``SavedModel.variables``; anything else is opened with :func:`open_checkpoint`.
    The returned set owns what it opened: closing it closes everything.
    """
    from smlite.formats import saved_model as sm_format
    from smlite.model.saved_model import SavedModel

    p = storage.as_path(path)
    if version is None and not sm_format.is_model_path(p):
        return open_checkpoint(p)
    sm = SavedModel.open(p, version=version)
    try:
        return saved_model_variables(sm)
    finally:
        sm.close()
