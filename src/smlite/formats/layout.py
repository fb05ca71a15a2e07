"""Where the bytes of a serialized SavedModel go: an exact attribution by byte spans.

The file is walked with :func:`smlite.formats.wire.iter_fields` over a memory
map; nothing is parsed into a message and no tensor payload is read, so a
1 GB ``saved_model.pb`` costs no more memory than a small one.  Every byte is
counted exactly once: a field's span runs from its key to the end of its
payload, and the few bytes a nested message spends on its own key and length
prefix are counted as that message's ``framing``.

Wire layout walked (field numbers)::

    SavedModel        := { 1: int64 schema_version, 2: MetaGraphDef meta_graphs* }
    MetaGraphDef      := { 1: MetaInfoDef { 2: OpList stripped_op_list, ... },
                           2: GraphDef graph_def, 3: SaverDef saver_def,
                           4: map collection_def, 5: map signature_def,
                           6: AssetFileDef asset_file_def*, 7: SavedObjectGraph object_graph_def }
    GraphDef          := { 1: NodeDef node*, 2: FunctionDefLibrary library,
                           3: int32 version, 4: VersionDef versions, 5: GraphDebugInfo debug_info }
    FunctionDefLibrary:= { 1: FunctionDef function*, 2: GradientDef gradient*,
                           3: RegisteredGradient registered_gradients* }
    FunctionDef       := { 1: OpDef signature { 1: string name }, 3: NodeDef node_def*, ... }
    NodeDef           := { 1: name, 2: op, 5: map<string, AttrValue> attr }
    AttrValue         := { 8: TensorProto tensor }
    TensorProto       := { 1: DataType dtype, 2: TensorShapeProto tensor_shape,
                           4: bytes tensor_content, 5..18: repeated *_val }
    TensorShapeProto  := { 2: Dim { 1: int64 size } dim*, 3: bool unknown_rank }

A singular message field may occur more than once (protobuf merges the
occurrences); every occurrence is counted.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smlite import pb
from smlite.formats import node_def, wire

__all__ = [
    "CONST_OPS",
    "ConstSpan",
    "FileLayout",
    "FunctionSpan",
    "GraphLayout",
    "MetaGraphLayout",
    "layout",
]

#: Ops whose ``value`` attribute holds a tensor folded into the graph.
CONST_OPS = frozenset({"Const", "HostConst"})

# MetaGraphDef field -> section name.  meta_info_def is split further (its
# stripped_op_list is a section of its own), graph_def is walked.
_META_SECTIONS = {
    1: "meta_info_def",
    3: "saver_def",
    4: "collection_def",
    5: "signature_def",
    6: "asset_file_def",
    7: "object_graph_def",
}
_GRAPH_OTHER = {3: "version", 4: "versions", 5: "debug_info"}


@dataclass(frozen=True, slots=True)
class ConstSpan:
    """A constant node: where it is, what it holds and what it costs."""

    #: The library function holding it, None for a node of the graph itself.
    function: str | None
    node: str
    #: ``DataType`` enum value of the tensor (0 when it names none).
    dtype: int
    #: Dimensions, or None for an unknown rank or a tensor without a shape.
    shape: tuple[int, ...] | None
    #: Bytes of the NodeDef in the file, its field key and length included.
    bytes: int


@dataclass(frozen=True, slots=True)
class FunctionSpan:
    """One FunctionDef of the library."""

    name: str
    #: Bytes of the ``function`` field, key and length included.
    bytes: int
    nodes: int
    #: Bytes of its constant nodes (included in ``bytes``).
    const_bytes: int


@dataclass(frozen=True, slots=True)
class GraphLayout:
    """A GraphDef: the sections below add up to ``bytes``."""

    #: Every ``graph_def`` field of the meta graph, keys and lengths included.
    bytes: int
    nodes: int
    node_bytes: int
    #: Every ``library`` field, keys and lengths included.
    library_bytes: int
    functions: tuple[FunctionSpan, ...]
    #: ``gradient`` and ``registered_gradients`` entries of the library.
    gradient_bytes: int
    #: Key and length prefixes of the library fields and unknown library fields.
    library_framing: int
    #: ``version``, ``versions``, ``debug_info`` and unknown GraphDef fields, by name.
    other: Mapping[str, int]
    #: Key and length prefixes of the ``graph_def`` fields.
    framing: int


@dataclass(frozen=True, slots=True)
class MetaGraphLayout:
    """One MetaGraphDef: ``sections`` plus ``graph`` plus ``framing`` add up to ``bytes``."""

    index: int
    #: The ``meta_graphs`` field, key and length included.
    bytes: int
    #: Section name (``signature_def``, ``stripped_op_list``, ...) to bytes.
    sections: Mapping[str, int]
    graph: GraphLayout | None
    #: Bytes of every constant node, graph and functions.
    const_bytes: int
    const_count: int
    #: ``DataType`` enum value to the bytes of the constant nodes of that dtype.
    const_bytes_by_dtype: Mapping[int, int]
    #: The largest constants, largest first (as many as asked for).
    largest_consts: tuple[ConstSpan, ...]
    framing: int


@dataclass(frozen=True, slots=True)
class FileLayout:
    """A whole serialized SavedModel: every byte in exactly one place."""

    size: int
    meta_graphs: tuple[MetaGraphLayout, ...]
    #: ``saved_model_schema_version`` and unknown top-level fields.
    other: int

    @property
    def attributed(self) -> int:
        """The sum of the parts; equals ``size`` (a test asserts it on every model)."""
        return self.other + sum(m.bytes for m in self.meta_graphs)


def _tensor_header(buf: wire.Buffer, start: int, end: int) -> tuple[int, tuple[int, ...] | None]:
    """Dtype and shape of a TensorProto, reading neither its content nor its values."""
    dtype = 0
    dims: list[int] = []
    unknown_rank = False
    for f in wire.iter_fields(buf, start, end):
        if f.number == 1 and f.wire_type == wire.VARINT:
            dtype = f.value
        elif f.number == 2 and f.wire_type == wire.LEN:
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.number == 2 and g.wire_type == wire.LEN:
                    size = 0
                    for h in wire.iter_fields(buf, g.start, g.end):
                        if h.number == 1 and h.wire_type == wire.VARINT:
                            size = h.value - (1 << 64) if h.value >= 1 << 63 else h.value
                    dims.append(size)
                elif g.number == 3 and g.wire_type == wire.VARINT and g.value:
                    unknown_rank = True
    # No tensor_shape at all is a scalar, as in TensorFlow.
    return dtype, None if unknown_rank else tuple(dims)


def _const_tensor(buf: wire.Buffer, start: int, end: int) -> tuple[int, tuple[int, ...] | None]:
    """Dtype and shape of the ``value`` attribute of a constant NodeDef."""
    for f in wire.iter_fields(buf, start, end):
        if f.number != 5 or f.wire_type != wire.LEN:
            continue
        key: str | None = None
        value: tuple[int, int] | None = None
        for g in wire.iter_fields(buf, f.start, f.end):
            if g.number == 1 and g.wire_type == wire.LEN:
                key = wire.read_string(buf, g.start, g.end)
            elif g.number == 2 and g.wire_type == wire.LEN:
                value = (g.start, g.end)
        if key == "value" and value is not None:
            for a in wire.iter_fields(buf, *value):
                if a.number == 8 and a.wire_type == wire.LEN:
                    return _tensor_header(buf, a.start, a.end)
    return 0, None


@dataclass(frozen=True, slots=True)
class _NodeFacts:
    name: str
    op: str
    #: ``(dtype, shape)`` of a constant's tensor, None for other ops.
    tensor: tuple[int, tuple[int, ...] | None] | None


def _parsed_tensor(msg: Any) -> tuple[int, tuple[int, ...] | None]:
    """:func:`_const_tensor` of a NodeDef protobuf has decoded."""
    attr = msg.attr
    if "value" not in attr or not attr["value"].HasField("tensor"):
        return 0, None
    tensor = attr["value"].tensor
    shape = tensor.tensor_shape
    return tensor.dtype, None if shape.unknown_rank else tuple(d.size for d in shape.dim)


def _node(buf: wire.Buffer, start: int, end: int) -> _NodeFacts:
    """What attribution needs of one NodeDef; the only per-node reading in this module.

    A node up to the graph index's fast-parse limit is decoded by protobuf's C
    parser, and only its name, op and (for a constant) tensor header are kept:
    building the index's full :class:`Node` costs several times more, which a
    graph of 10^5 nodes feels.  Bigger nodes (constants holding tensors) and
    bytes protobuf rejects are walked on the wire, reading no tensor payload.
    Both paths give equal facts (tested on every fixture).
    """
    if end - start <= node_def.FAST_NODE_LIMIT:
        msg = node_def.parse_or_none(pb.NodeDef, buf, start, end)
        if msg is not None:
            tensor = _parsed_tensor(msg) if msg.op in CONST_OPS else None
            return _NodeFacts(msg.name, msg.op, tensor)
    node = node_def.read_node(buf, start, end)
    tensor = _const_tensor(buf, start, end) if node.op in CONST_OPS else None
    return _NodeFacts(node.name, node.op, tensor)


class _Consts:
    """Running totals of constant nodes and the ``top`` largest of them."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.bytes = 0
        self.count = 0
        self.by_dtype: dict[int, int] = {}
        self._seen = 0
        self._heap: list[tuple[int, int, ConstSpan]] = []

    def add(self, function: str | None, facts: _NodeFacts, size: int) -> None:
        assert facts.tensor is not None
        self.bytes += size
        self.count += 1
        dtype = facts.tensor[0]
        self.by_dtype[dtype] = self.by_dtype.get(dtype, 0) + size
        if self.top <= 0:
            return
        self._seen += 1
        # Ties keep file order: an earlier node ranks higher (larger -seen).
        item = (size, -self._seen, ConstSpan(function, facts.name, *facts.tensor, size))
        if len(self._heap) < self.top:
            heapq.heappush(self._heap, item)
        elif item[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, item)

    def largest(self) -> tuple[ConstSpan, ...]:
        return tuple(c for _, _, c in sorted(self._heap, key=lambda t: t[:2], reverse=True))


def _count_node(
    buf: wire.Buffer, f: wire.Field, function: str | None, consts: _Consts
) -> tuple[int, int]:
    """The NodeDef field ``f``: (its bytes, the same if it is a constant else 0)."""
    facts = _node(buf, f.start, f.end)
    span = f.end - f.key_start
    if facts.tensor is None:
        return span, 0
    consts.add(function, facts, span)
    return span, span


def _function(buf: wire.Buffer, f: wire.Field, consts: _Consts) -> FunctionSpan:
    name = ""
    for g in wire.iter_fields(buf, f.start, f.end):
        if g.number == 1 and g.wire_type == wire.LEN:
            for h in wire.iter_fields(buf, g.start, g.end):
                if h.number == 1 and h.wire_type == wire.LEN:
                    name = wire.read_string(buf, h.start, h.end)
    count = const_bytes = 0
    for g in wire.iter_fields(buf, f.start, f.end):
        if g.number == 3 and g.wire_type == wire.LEN:
            count += 1
            const_bytes += _count_node(buf, g, name, consts)[1]
    return FunctionSpan(name, f.end - f.key_start, count, const_bytes)


def _graph(buf: wire.Buffer, spans: list[wire.Field], consts: _Consts) -> GraphLayout:
    total = framing = nodes = node_bytes = library_bytes = gradient_bytes = library_framing = 0
    functions: list[FunctionSpan] = []
    other: dict[str, int] = {}
    for graph_field in spans:
        total += graph_field.end - graph_field.key_start
        framing += graph_field.start - graph_field.key_start
        for f in wire.iter_fields(buf, graph_field.start, graph_field.end):
            span = f.end - f.key_start
            if f.number == 1 and f.wire_type == wire.LEN:
                nodes += 1
                node_bytes += _count_node(buf, f, None, consts)[0]
            elif f.number == 2 and f.wire_type == wire.LEN:
                library_bytes += span
                library_framing += f.start - f.key_start
                for g in wire.iter_fields(buf, f.start, f.end):
                    if g.number == 1 and g.wire_type == wire.LEN:
                        functions.append(_function(buf, g, consts))
                    elif g.number in (2, 3):
                        gradient_bytes += g.end - g.key_start
                    else:
                        library_framing += g.end - g.key_start
            else:
                name = _GRAPH_OTHER.get(f.number, "unknown fields")
                other[name] = other.get(name, 0) + span
    return GraphLayout(
        total, nodes, node_bytes, library_bytes, tuple(functions), gradient_bytes,
        library_framing, other, framing,
    )  # fmt: skip


def _meta_graph(buf: wire.Buffer, index: int, field: wire.Field, top: int) -> MetaGraphLayout:
    sections: dict[str, int] = {}
    graph_fields: list[wire.Field] = []
    for f in wire.iter_fields(buf, field.start, field.end):
        span = f.end - f.key_start
        if f.number == 2 and f.wire_type == wire.LEN:
            graph_fields.append(f)
            continue
        name = _META_SECTIONS.get(f.number, "unknown fields")
        if f.number == 1 and f.wire_type == wire.LEN:
            for g in wire.iter_fields(buf, f.start, f.end):
                if g.number == 2 and g.wire_type == wire.LEN:
                    stripped = g.end - g.key_start
                    sections["stripped_op_list"] = sections.get("stripped_op_list", 0) + stripped
                    span -= stripped
        sections[name] = sections.get(name, 0) + span
    consts = _Consts(top)
    graph = _graph(buf, graph_fields, consts) if graph_fields else None
    return MetaGraphLayout(
        index,
        field.end - field.key_start,
        sections,
        graph,
        consts.bytes,
        consts.count,
        consts.by_dtype,
        consts.largest(),
        field.start - field.key_start,
    )


def layout(buf: wire.Buffer, *, top: int = 10) -> FileLayout:
    """Attribute every byte of the serialized SavedModel ``buf``.

    ``top`` is how many of the largest constants each meta graph keeps.
    Raises :class:`~smlite.formats.wire.WireError` on damaged bytes.
    """
    metas: list[MetaGraphLayout] = []
    other = 0
    for f in wire.iter_fields(buf):
        if f.number == 2 and f.wire_type == wire.LEN:
            metas.append(_meta_graph(buf, len(metas), f, top))
        else:
            other += f.end - f.key_start
    return FileLayout(len(buf), tuple(metas), other)
