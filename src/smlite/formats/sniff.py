"""What a file given as a SavedModel is when it is not one: sniffed from its bytes.

The SavedModel reader asks here before and after parsing: a Git LFS pointer, a
text-format file in ``saved_model.pb``, or another TensorFlow message saved
under the SavedModel's name -- a frozen GraphDef, a bare MetaGraphDef, TF-Hub's
``tfhub_module.pb`` -- each gets an error that names it, with a machine-readable
:class:`~smlite.errors.Reason`.
"""

from __future__ import annotations

import re

from smlite.errors import NotASavedModelError, PathOrUrl, Reason
from smlite.formats import lfs, wire

__all__ = [
    "HUB_MODULE_FORMAT",
    "foreign_message",
    "foreign_text",
    "not_a_saved_model",
    "sniff_problem",
]


def sniff_problem(head: bytes) -> tuple[Reason, str] | None:
    """Explain a file that is obviously not a binary proto, from its first bytes."""
    if lfs.is_pointer(head):
        return Reason.LFS_POINTER, (
            f"this is a Git LFS pointer file, not the real file; {lfs.HINT} in the "
            "repository to fetch the content"
        )
    sample = head[:256]
    if sample and all(32 <= b < 127 or b in (9, 10, 13) for b in sample):
        stripped = sample.lstrip()
        if re.match(rb"(saved_model_schema_version|meta_graphs)\s*[:{]", stripped):
            return Reason.TEXT_IN_BINARY, (
                "this is a text-format SavedModel; text belongs in saved_model.pbtxt, "
                "rename the file"
            )
        return Reason.TEXT_FILE, "this is a text file, not a binary protocol buffer"
    return None


# What else gets saved as saved_model.pb, by the top-level fields of its schema
# (field number -> wire type):
#
#   SavedModel    := { 1: int64 saved_model_schema_version, 2: MetaGraphDef meta_graphs* }
#   GraphDef      := { 1: NodeDef node*, 2: FunctionDefLibrary library, 3: int32 version,
#                      4: VersionDef versions, 5: GraphDebugInfo debug_info }
#   MetaGraphDef  := { 1: MetaInfoDef, 2: GraphDef, 3: SaverDef, 4: collection_def*,
#                      5: signature_def*, 6: AssetFileDef*, 7: SavedObjectGraph }
#   NodeDef       := { 1: string name, 2: string op, 3: string input*, 4: device, 5: attr* }
#   MetaInfoDef   := { 1: string version, 2: OpList stripped_op_list, ..., 4: tags* }
#   ModuleDef     := { 1: Format format (FORMAT_V3 = 3), 2: string required_features* }
#                    (TF-Hub's tfhub_module.pb)
#
# TensorFlow always writes the schema version (1) first, so only a file that
# does not start with it is looked at; a GraphDef's repeated node field (1,
# length-delimited) is the usual tell.
_GRAPH_DEF_FIELDS = {1: wire.LEN, 2: wire.LEN, 3: wire.VARINT, 4: wire.LEN, 5: wire.LEN}
_META_GRAPH_FIELDS = dict.fromkeys(range(1, 8), wire.LEN)
_OP_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_>./-]*")
#: ModuleDef.FORMAT_V3, read as a SavedModel's schema version.
HUB_MODULE_FORMAT = 3
_LOOKS_LIKE = {
    Reason.GRAPH_DEF: "a GraphDef (a frozen graph, as tf.io.write_graph or a freezing "
    "script writes it)",
    Reason.META_GRAPH_DEF: "a bare MetaGraphDef (as tf.compat.v1.train.export_meta_graph "
    "writes it)",
    Reason.HUB_MODULE: "a TF-Hub module descriptor (the content of tfhub_module.pb)",
}


def _looks_like_node(buf: wire.Buffer, start: int, end: int) -> bool:
    """True when ``buf[start:end]`` reads as a NodeDef: a name, and an op that is an identifier."""
    has_op = False
    try:
        for f in wire.iter_fields(buf, start, end):
            if f.wire_type != wire.LEN or not 1 <= f.number <= 7:
                return False
            if f.number == 2:
                has_op = _OP_NAME.fullmatch(bytes(buf[f.start : f.end])) is not None
    except wire.WireError:
        return False
    return has_op


def foreign_message(buf: wire.Buffer) -> Reason | None:
    """What a binary file that does not start like a SavedModel is, when that is clear."""
    kinds: set[tuple[int, int]] = set()
    nodes = 0
    first: tuple[int, int] | None = None
    try:
        for f in wire.iter_fields(buf):
            kinds.add((f.number, f.wire_type))
            if f.number == 1 and f.wire_type == wire.LEN:
                nodes += 1
                first = first or (f.start, f.end)
    except wire.WireError:
        return None  # damage, reported as such by the SavedModel parse
    if (1, wire.VARINT) in kinds:
        return None
    fits_graph = all(_GRAPH_DEF_FIELDS.get(n) == t for n, t in kinds)
    fits_meta = all(_META_GRAPH_FIELDS.get(n) == t for n, t in kinds)
    is_node = first is not None and _looks_like_node(buf, *first)
    if fits_graph and (nodes > 1 or (3, wire.VARINT) in kinds or is_node):
        return Reason.GRAPH_DEF
    if fits_meta and first is not None and not is_node:
        return Reason.META_GRAPH_DEF
    if fits_meta and any(n >= 3 for n, _ in kinds):
        return Reason.META_GRAPH_DEF
    return None


def not_a_saved_model(path: PathOrUrl, reason: Reason, extra: str = "") -> NotASavedModelError:
    return NotASavedModelError(
        f"this is not a SavedModel but {_LOOKS_LIKE[reason]}{extra}; loaders find "
        "no meta graph in it. Export a SavedModel (tf.saved_model.save, or "
        "SavedModelBuilder in TF1) to serve it",
        path=path,
        reason=reason,
    )


_FIRST_NAME = re.compile(r"\s*(?:#[^\n]*\n\s*)*([A-Za-z_][A-Za-z0-9_]*)")
_TEXT_FIELDS = {
    **dict.fromkeys(("node", "library", "versions", "version"), Reason.GRAPH_DEF),
    **dict.fromkeys(
        (
            "meta_info_def",
            "graph_def",
            "saver_def",
            "collection_def",
            "signature_def",
            "asset_file_def",
            "object_graph_def",
        ),
        Reason.META_GRAPH_DEF,
    ),
}


def foreign_text(text: str) -> Reason | None:
    """What a text-format file that is not a SavedModel is, from its first field name."""
    m = _FIRST_NAME.match(text)
    return _TEXT_FIELDS.get(m.group(1)) if m else None
