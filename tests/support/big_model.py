"""A SavedModel whose ``saved_model.pb`` is as large as a test wants, without the memory.

It takes a real (small) export and adds to its GraphDef one ``Const`` node
whose ``tensor_content`` is ``n`` zero bytes, laid out in protobuf's wire
format by hand (every length prefix computed, the zeros kept as a count)::

    SavedModel   {1: schema_version, 2: MetaGraphDef}
    MetaGraphDef {1: meta_info_def, 2: graph_def, 3..7: as exported}
    GraphDef     {1: node*, ... as exported, 1: NodeDef "big_const"}
    NodeDef      {1: name, 2: op "Const", 5: attr{"dtype": DT_UINT8,
                  "value": AttrValue{8: TensorProto{1: dtype, 2: shape [n], 4: zeros}}}}

The result is a :class:`~tests.support.http_server.VirtualFile` (zeros as a
count, so a 1 GB file costs no memory) that the HTTP test server serves, or
bytes/a sparse local file for smaller sizes.  Field order is the exporter's:
``graph_def`` sits between ``meta_info_def`` and the signatures, which is
what a range reader must skip.
"""

from __future__ import annotations

from pathlib import Path

from smlite import pb
from smlite.formats import wire
from tests.support.bundle_writer import varint as _varint
from tests.support.http_server import VirtualFile

Parts = list[bytes | int]
DT_UINT8 = 4


def _size(parts: Parts) -> int:
    return sum(p if isinstance(p, int) else len(p) for p in parts)


def _field(number: int, parts: Parts) -> Parts:
    """A length-delimited field holding ``parts``."""
    return [_varint(number << 3 | 2) + _varint(_size(parts)), *parts]


def _big_const(n: int) -> Parts:
    shape = pb.TensorShapeProto()
    shape.dim.add().size = n
    tensor: Parts = [_varint(1 << 3) + _varint(DT_UINT8), *_field(2, [shape.SerializeToString()])]
    tensor += _field(4, [n])
    attr_value = _field(8, tensor)
    value_entry = _field(1, [b"value"]) + _field(2, attr_value)
    dtype = pb.AttrValue(type=DT_UINT8).SerializeToString()
    dtype_entry = _field(1, [b"dtype"]) + _field(2, [dtype])
    node: Parts = [*_field(1, [b"big_const"]), *_field(2, [b"Const"])]
    node += _field(5, dtype_entry) + _field(5, value_entry)
    return _field(1, node)


def big_saved_model(template: Path, zeros: int) -> VirtualFile:
    """``template``'s saved_model.pb with ``zeros`` bytes of constant added to its graph."""
    data = (template / "saved_model.pb").read_bytes()
    top = list(wire.iter_fields(data))
    assert [f.number for f in top] == [1, 2], "a single-meta-graph template"
    meta = top[1]
    head: Parts = []
    tail: Parts = []
    graph = b""
    for f in wire.iter_fields(data, meta.start, meta.end):
        raw = bytes(data[f.key_start : f.end])
        if f.number == 2:
            graph = bytes(data[f.start : f.end])
        elif f.number < 2:
            head.append(raw)
        else:
            tail.append(raw)
    meta_parts = head + _field(2, [graph, *_big_const(zeros)]) + tail
    schema = bytes(data[top[0].key_start : top[0].end])
    return VirtualFile(_merge([schema, *_field(2, meta_parts)]))


def _merge(parts: Parts) -> Parts:
    """Adjacent byte strings joined (fewer, larger pieces to serve)."""
    out: Parts = []
    for p in parts:
        if out and isinstance(p, bytes) and isinstance(out[-1], bytes):
            out[-1] = out[-1] + p
        else:
            out.append(p)
    return out


def write_sparse(vf: VirtualFile, path: Path) -> None:
    """Write ``vf`` to ``path`` with its zero runs as holes (no disk for them)."""
    with path.open("wb") as f:
        for part in vf.parts:
            if isinstance(part, int):
                f.seek(part, 1)
            else:
                f.write(part)
        f.truncate(vf.size)


def materialize(vf: VirtualFile) -> bytes:
    return vf.read(0, vf.size)
