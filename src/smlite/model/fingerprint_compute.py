"""Computing a SavedModel's fingerprint: the five hashes TensorFlow stores in ``fingerprint.pb``.

They are FarmHash ``Fingerprint64`` values of C++-canonical serializations
(see :mod:`smlite.formats.canonical`) of parts of ``meta_graphs[0]``, computed
as TensorFlow 2.21's ``CreateFingerprintDef`` does for a ``saved_model.pb``:

* ``saved_model_checksum``: the whole SavedModel;
* ``graph_def_program_hash``: the GraphDef after "SimpleDelete"
  regularization -- function names lose their numeric uid suffix, string
  constants and ``config_proto`` attributes are blanked, the function library
  and versions are cleared -- so that re-tracing the same program gives the
  same hash;
* ``signature_def_hash``: signatures in key order, combined with
  ``FingerprintCat64``;
* ``saved_object_graph_hash``: the object graph's concrete functions in uid
  order (names without their uid suffix);
* ``checkpoint_hash``: the bytes of ``variables/variables.index``.

:func:`algorithm_value` computes the other algorithms older releases stored
under the same fields.  Which one a model's writer used, and what that means,
is judged in :mod:`smlite.model.fingerprint`.

The file is read from a memory map (copies read with ``preadv``, so a
multi-GB model is not in memory twice); behind a URL it is fetched once and
shared with the graph index.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from smlite import pb
from smlite.errors import CorruptFileError, NotASavedModelError, SmliteError, unreadable
from smlite.formats import canonical, storage, wire
from smlite.formats.farmhash import fingerprint64, fingerprint64_file, fingerprint_cat64
from smlite.formats.graph_index import CALL_OPS, GraphIndex, index_graph
from smlite.formats.storage import AnyPath
from smlite.formats.wire import Buffer
from smlite.model.saved_model import SavedModel

__all__ = ["FIELDS", "FingerprintValues", "algorithm_value", "compute_values", "signature_hash"]

#: The hash fields of a FingerprintDef, in field-number order.
FIELDS = (
    "saved_model_checksum",
    "graph_def_program_hash",
    "signature_def_hash",
    "saved_object_graph_hash",
    "checkpoint_hash",
)
_DT_STRING = 7
_INT64 = re.compile(r"[+-]?[0-9]+")
_EMPTY_LIBRARY = b"\x12\x00"  # GraphDef field 2 (library), present and empty
_EMPTY_VERSIONS = b"\x22\x00"  # GraphDef field 4 (versions), present and empty
_NODE_KEY = b"\x0a"  # GraphDef field 1 (node), length-delimited


@dataclass(frozen=True, slots=True)
class FingerprintValues:
    """The five content hashes of a FingerprintDef."""

    saved_model_checksum: int
    graph_def_program_hash: int
    signature_def_hash: int
    saved_object_graph_hash: int
    checkpoint_hash: int

    @property
    def singleprint(self) -> str:
        """``graph/signatures/object graph/checkpoint`` hashes, as TensorFlow's Singleprint."""
        return (
            f"{self.graph_def_program_hash}/{self.signature_def_hash}/"
            f"{self.saved_object_graph_hash}/{self.checkpoint_hash}"
        )

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in FIELDS}


def compute_values(sm: SavedModel) -> tuple[FingerprintValues, tuple[str, ...]]:
    """What TensorFlow 2.21 would store for ``sm``, and why it may differ from that."""
    problems: list[str] = []
    with _ModelBytes(sm) as model:
        try:
            saved_model = canonical.encode(model.buf, pb.SavedModel.DESCRIPTOR)
            checksum = model.hash(saved_model)
            del saved_model  # its copy, if one was made, goes before the next one is made
            graph_hash = model.hash(_regularized_graph(sm, model.buf))
        except (canonical.CanonicalError, wire.WireError) as e:
            raise CorruptFileError(
                f"cannot re-serialize the SavedModel for its fingerprint: {e}",
                path=sm.file,
                offset=getattr(e, "offset", None),
            ) from e
    if not sm.meta_graphs:
        problems.append("the SavedModel has no meta graph; TensorFlow cannot fingerprint it")
        signatures: Mapping[str, pb.SignatureDef] = {}
        functions: Mapping[str, pb.SavedConcreteFunction] = {}
    else:
        header = sm.meta_graphs[0].header
        signatures = header.signature_def
        functions = header.object_graph_def.concrete_functions
    values = FingerprintValues(
        saved_model_checksum=checksum,
        graph_def_program_hash=graph_hash,
        signature_def_hash=signature_hash(signatures),
        saved_object_graph_hash=_object_graph_hash(functions, problems),
        checkpoint_hash=_checkpoint_hash(sm.path),
    )
    return values, tuple(problems)


def algorithm_value(sm: SavedModel, algorithm: str) -> int:
    """The value of one of the algorithms older releases stored (``graph-def-file``, ...).

    The five of TF 2.21 come from :func:`compute_values`; see
    :data:`smlite.model.fingerprint_releases.ALGORITHMS`.
    """
    if algorithm == "signatures-unkeyed":
        signatures = sm.meta_graphs[0].header.signature_def if sm.meta_graphs else {}
        return signature_hash(signatures, keyed=False)
    if algorithm == "saved-model-file" and sm.format == "pb" and isinstance(sm.file, Path):
        try:
            return fingerprint64_file(sm.file)
        except OSError as e:
            raise unreadable(sm.file, e) from e
    with _ModelBytes(sm) as model:
        if algorithm == "saved-model-file":
            return fingerprint64(memoryview(model.buf))
        spans = _graph_spans(model.buf)
        graph: bytes | memoryview = (
            memoryview(model.buf)[spans[0][0] : spans[0][1]]
            if len(spans) == 1
            else b"".join(bytes(model.buf[a:b]) for a, b in spans)
        )
        try:
            if algorithm == "graph-def-file":
                return fingerprint64(graph)
            if algorithm == "graph-def-canonical":
                try:
                    encoded = canonical.encode(graph, pb.GraphDef.DESCRIPTOR)
                except (canonical.CanonicalError, wire.WireError) as e:
                    raise CorruptFileError(
                        f"cannot re-serialize the GraphDef for its fingerprint: {e}",
                        path=sm.file,
                    ) from e
                return fingerprint64(encoded.tobytes())
        finally:
            # Views of the mapping must be gone before it is closed.
            del graph
    raise ValueError(f"unknown fingerprint algorithm {algorithm!r}")


class _ModelBytes:
    """The binary SavedModel: the memory-mapped file, its fetched bytes, or a .pbtxt re-encoded."""

    def __init__(self, sm: SavedModel) -> None:
        self._sm = sm
        self._file: BinaryIO | None = None
        self._map: mmap.mmap | None = None
        self.buf: Buffer = b""
        self._scratch: bytearray | None = None

    def __enter__(self) -> _ModelBytes:
        if self._sm.format != "pb":
            self.buf = self._sm.proto.SerializeToString()
            return self
        if not isinstance(self._sm.file, Path):
            self.buf = self._sm.contents()  # fetched once, shared with the graph index
            return self
        try:
            self._file = open(self._sm.file, "rb")
            if os.fstat(self._file.fileno()).st_size:
                self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
                self.buf = self._map
        except OSError as e:
            self.__exit__()
            raise unreadable(self._sm.file, e) from e
        return self

    def hash(self, encoded: canonical.Encoded) -> int:
        """``Fingerprint64`` of the encoded bytes: a view of the map, or one copy of them."""
        reader = self._read_range if self._map is not None and encoded.source is self._map else None
        if self._scratch is None and len(encoded.chunks) > 1:
            # Reused for the regularized graph, which is smaller (else a new buffer is made).
            self._scratch = bytearray(encoded.size)
        with encoded.contiguous(reader, self._scratch) as view:
            return fingerprint64(view)

    def _read_range(self, offset: int, dest: memoryview) -> None:
        # Read from the file rather than copy from the map: the map's pages would
        # count in the process's memory next to the copy.
        assert self._file is not None
        fd = self._file.fileno()
        while dest.nbytes:
            n = os.preadv(fd, [dest], offset)
            if n <= 0:
                raise SmliteError(f"{self._sm.file}: changed while it was read", path=self._sm.file)
            dest = dest[n:]
            offset += n

    def __exit__(self, *exc: object) -> None:
        if self._map is not None:
            # BufferError: a view is still alive (only on error paths); the OS unmaps later.
            with contextlib.suppress(BufferError):
                self._map.close()
        if self._file is not None:
            self._file.close()
        self._scratch = None


def _strip_uid(name: str) -> str | None:
    """``name`` without the numeric suffix of its last ``_`` part; None if there is none."""
    last = name.rsplit("_", 1)[-1]
    if not _INT64.fullmatch(last):
        return None
    uid = int(last)
    if not -(2**63) <= uid < 2**63:
        return None
    return name.removesuffix(str(uid))


def _regularized_node(data: bytes) -> bytes | None:
    """SimpleDelete applied to one NodeDef; None when it changes nothing."""
    node = pb.NodeDef.FromString(data)
    changed = False
    if node.op in CALL_OPS:
        if "f" in node.attr:
            name = node.attr["f"].func.name
            stripped = _strip_uid(name)
            if stripped is not None and stripped != name:
                node.attr["f"].func.name = stripped
                changed = True
        if "config_proto" in node.attr:
            node.attr["config_proto"].s = b""
            changed = True
    elif node.op == "Const" and "value" in node.attr and node.attr["dtype"].type == _DT_STRING:
        node.attr["value"].Clear()
        changed = True
    return node.SerializeToString() if changed else None


def _graph_spans(buf: Buffer) -> list[tuple[int, int]]:
    """Byte spans of ``meta_graphs[0].graph_def`` (almost always one)."""
    for f in wire.iter_fields(buf):
        if f.number == 2 and f.wire_type == wire.LEN:
            return [
                (g.start, g.end)
                for g in wire.iter_fields(buf, f.start, f.end)
                if g.number == 2 and g.wire_type == wire.LEN
            ]
    return []


def _graph_of(sm: SavedModel, buf: Buffer) -> tuple[Buffer, int, GraphIndex]:
    """The GraphDef of ``meta_graphs[0]``: the buffer holding it, its offset there, its index.

    A binary model's graph is one span of the file, indexed once for every
    reader (the meta graph's index); a text model's or a graph written in
    several pieces is indexed here from its bytes.
    """
    spans = _graph_spans(buf)
    if not spans:
        return b"", 0, index_graph(b"")
    if len(spans) == 1 and sm.format == "pb" and sm.meta_graphs:
        mg = sm.meta_graphs[0]
        if mg._raw.graph_spans == tuple(spans):
            try:
                return buf, spans[0][0], mg.graph_index
            except CorruptFileError as e:
                if isinstance(e.__cause__, wire.WireError):
                    raise e.__cause__ from None  # _compute reports it as the fingerprint's
                raise
    if len(spans) == 1:
        start, end = spans[0]
        view = memoryview(buf)[start:end]
        return buf, start, index_graph(view)
    joined = b"".join(bytes(buf[s:e]) for s, e in spans)
    return joined, 0, index_graph(joined)


def _regularized_graph(sm: SavedModel, buf: Buffer) -> canonical.Encoded:
    """Canonical bytes of the GraphDef after TensorFlow's SimpleDelete regularization.

    Nodes are re-encoded one by one (only the few that regularization touches
    are parsed); library and versions become present-but-empty; the deprecated
    ``version`` (3), ``debug_info`` (5) and unknown fields are kept.
    """
    source, base, index = _graph_of(sm, buf)
    out = canonical.Encoded(source)
    node_desc = pb.NodeDef.DESCRIPTOR
    graph_desc = pb.GraphDef.DESCRIPTOR
    for node in index.nodes:
        start, end = node.span[0] + base, node.span[1] + base
        if node.op in CALL_OPS or (node.op == "Const" and node.attr_type("dtype") == _DT_STRING):
            try:
                replaced = _regularized_node(bytes(source[start:end]))
            except pb.DecodeError as e:
                raise wire.WireError(f"a NodeDef does not parse ({e})", start - base) from e
            if replaced is not None:
                out.add_field(1, canonical.encode(replaced, node_desc))
                continue
        child = canonical.encode(source, node_desc, start, end)
        header = _NODE_KEY + canonical.varint(end - start)
        key_start = start - len(header)
        if child.is_range(start, end) and bytes(source[key_start:start]) == header:
            out.add_range(key_start, end)  # unchanged: merges with its neighbours
        else:
            out.add_field(1, child)
    versions = b"".join(
        bytes(source[base + s : base + e]) for n, s, e in index.other_fields if n == 3
    )
    others = b"".join(
        bytes(source[base + s : base + e])
        for n, s, e in index.other_fields
        if n not in (3, 4) or (n == 4 and not _is_len_field(source, base + s))
    )
    out.add_bytes(_EMPTY_LIBRARY)
    out.extend(canonical.encode(versions, graph_desc))
    out.add_bytes(_EMPTY_VERSIONS)
    out.extend(canonical.encode(others, graph_desc))
    return out


def _is_len_field(source: Buffer, key_start: int) -> bool:
    return source[key_start] & 7 == wire.LEN


def signature_hash(signatures: Mapping[str, pb.SignatureDef], *, keyed: bool = True) -> int:
    """``signature_def_hash``: signatures in key order (TF 2.11-2.13: without their keys)."""
    h = 0
    for key in sorted(signatures, key=lambda k: k.encode("utf-8", "surrogateescape")):
        if keyed:  # TF 2.11-2.13 hashed the SignatureDefs only
            h = fingerprint_cat64(h, fingerprint64(key.encode("utf-8", "surrogateescape")))
        h = fingerprint_cat64(h, fingerprint64(canonical.canonical_bytes(signatures[key])))
    return h


def _object_graph_hash(
    functions: Mapping[str, pb.SavedConcreteFunction], problems: list[str]
) -> int:
    by_uid: dict[int, str] = {}
    for name in sorted(functions):
        stripped = _strip_uid(name)
        if stripped is None:
            problems.append(
                f"object graph function {name!r} has no numeric uid suffix; TensorFlow "
                "cannot fingerprint this model (saved_object_graph_hash is smlite's guess)"
            )
            continue
        uid = int(name.rsplit("_", 1)[-1])
        if uid in by_uid:
            problems.append(
                f"object graph functions {by_uid[uid]!r} and {name!r} share uid {uid}; "
                "TensorFlow keeps one of them in map order, so saved_object_graph_hash "
                "may differ"
            )
            continue
        by_uid[uid] = name
    h = 0
    for uid in sorted(by_uid):
        name = by_uid[uid]
        stripped = name.removesuffix(str(uid))
        h = fingerprint_cat64(h, fingerprint64(stripped.encode("utf-8", "surrogateescape")))
        h = fingerprint_cat64(h, fingerprint64(canonical.canonical_bytes(functions[name])))
    return h


def _checkpoint_hash(model_dir: AnyPath) -> int:
    index = model_dir / "variables" / "variables.index"
    if isinstance(index, Path):
        try:
            return fingerprint64_file(index)
        except OSError:
            return 0
    try:
        return fingerprint64(storage.read_bytes(index))
    except NotASavedModelError:
        return 0  # no index: TensorFlow stores 0
