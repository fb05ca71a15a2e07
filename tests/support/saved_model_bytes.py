"""SavedModel files laid down byte by byte, for size attribution and its limits.

Nothing here calls smlite's readers.  Field numbers (see smlite.formats.layout):
SavedModel {1 schema, 2 meta_graphs}; MetaGraphDef {1 meta_info_def {2 stripped_op_list,
4 tags}, 2 graph_def, 5 signature_def, 7 object_graph_def}; GraphDef {1 node, 2 library
{1 function, 2 gradient}, 4 versions}; FunctionDef {1 signature {1 name}, 3 node_def};
NodeDef {1 name, 2 op, 5 attr {1 key, 2 AttrValue {6 type, 8 tensor}}}; TensorProto {1 dtype,
2 shape {2 dim {1 size}}, 4 tensor_content}.

A payload may be *open*: its last ``tail`` bytes are not given, only counted in
the length prefixes, so a file can claim gigabytes that are left as a hole of a
sparse file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from tests.support.bundle_writer import varint


def key(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def ld(field: int, payload: bytes, tail: int = 0) -> bytes:
    """A length-delimited field whose payload is ``payload`` plus ``tail`` bytes not given."""
    return key(field, 2) + varint(len(payload) + tail) + payload


def int_field(field: int, value: int) -> bytes:
    return key(field, 0) + varint(value)


def attr(name: str, value: bytes) -> bytes:
    """One ``attr`` map entry of a NodeDef."""
    return ld(5, ld(1, name.encode()) + ld(2, value))


def tensor_header(dtype: int, dims: Sequence[int]) -> bytes:
    """A TensorProto's dtype and shape (the content follows)."""
    return int_field(1, dtype) + ld(2, b"".join(ld(2, int_field(1, d)) for d in dims))


def tensor(dtype: int, dims: Sequence[int], content: bytes = b"") -> bytes:
    return tensor_header(dtype, dims) + ld(4, content)


def const_node(name: str, dtype: int, dims: Sequence[int], content: bytes) -> bytes:
    """A NodeDef of a Const holding ``content`` as tensor_content."""
    value = ld(8, tensor(dtype, dims, content))
    type_attr = attr("dtype", int_field(6, dtype))
    return ld(1, name.encode()) + ld(2, b"Const") + type_attr + attr("value", value)


def node(name: str, op: str) -> bytes:
    return ld(1, name.encode()) + ld(2, op.encode())


def function(name: str, nodes: Iterable[bytes]) -> bytes:
    return ld(1, ld(1, name.encode())) + b"".join(ld(3, n) for n in nodes)


def graph(
    nodes: Iterable[bytes], functions: Iterable[bytes] = (), gradients: Iterable[bytes] = ()
) -> bytes:
    library = b"".join(ld(1, f) for f in functions) + b"".join(ld(2, g) for g in gradients)
    body = b"".join(ld(1, n) for n in nodes)
    if library:
        body += ld(2, library)
    return body + ld(4, int_field(1, 1700))


def meta_graph(
    tags: Iterable[str],
    graph_def: bytes | None,
    *,
    stripped_ops: bytes = b"",
    signatures: bytes = b"",
) -> bytes:
    info = b"".join(ld(4, t.encode()) for t in tags)
    if stripped_ops:
        info = ld(2, stripped_ops) + info
    body = ld(1, info)
    if graph_def is not None:
        body += ld(2, graph_def)
    return body + signatures


def saved_model(metas: Iterable[bytes], *, extra: bytes = b"") -> bytes:
    return int_field(1, 1) + b"".join(ld(2, m) for m in metas) + extra


def write_sparse_const_model(model: Path, content_size: int) -> int:
    """A model whose one Const holds ``content_size`` zero bytes, left as a file hole.

    Every enclosing field ends with the constant's content, so the file is the
    header bytes followed by the hole.  Returns the file size.
    """
    n = content_size
    tensor_head = tensor_header(1, (n // 4,)) + key(4, 2) + varint(n)
    value_head = ld(8, tensor_head, n)
    entry_head = ld(1, b"value") + ld(2, value_head, n)
    node_head = ld(1, b"weights") + ld(2, b"Const") + attr("dtype", int_field(6, 1))
    node_head += ld(5, entry_head, n)
    meta_head = ld(1, ld(4, b"serve")) + ld(2, ld(1, node_head, n), n)
    head = int_field(1, 1) + ld(2, meta_head, n)
    model.mkdir(parents=True, exist_ok=True)
    path = model / "saved_model.pb"
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(len(head) + content_size)
    return len(head) + content_size
