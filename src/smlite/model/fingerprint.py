"""SavedModel fingerprints: read ``fingerprint.pb`` and recompute every hash in it.

TensorFlow 2.x writes ``fingerprint.pb`` (a ``FingerprintDef``) next to
``saved_model.pb``.  Its five hashes are FarmHash ``Fingerprint64`` values of
C++-canonical serializations (see :mod:`smlite.formats.canonical`) of parts of
``meta_graphs[0]``, computed as TensorFlow 2.21's ``CreateFingerprintDef``
does for a ``saved_model.pb``:

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

The uuid is random and cannot be checked.  A model without ``fingerprint.pb``
(TF1 exports) still gets computed values, so two exports can be compared.

>>> import smlite                                              # doctest: +SKIP
>>> from smlite.model.fingerprint import fingerprint
>>> with smlite.open("tests/fixtures/models/module_one_signature") as sm:
...     fingerprint(sm).matches
True
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from smlite import pb
from smlite.errors import CorruptFileError, unreadable
from smlite.formats import canonical, wire
from smlite.formats.farmhash import fingerprint64, fingerprint_cat64
from smlite.model.saved_model import SavedModel

__all__ = [
    "FIELDS",
    "FINGERPRINT_FILENAME",
    "Fingerprint",
    "FingerprintValues",
    "StoredFingerprint",
    "compute",
    "fingerprint",
    "read_stored",
]

FINGERPRINT_FILENAME = "fingerprint.pb"
#: The hash fields of a FingerprintDef, in field-number order.
FIELDS = (
    "saved_model_checksum",
    "graph_def_program_hash",
    "signature_def_hash",
    "saved_object_graph_hash",
    "checkpoint_hash",
)
_CALL_OPS = (b"PartitionedCall", b"StatefulPartitionedCall")
_DT_STRING = 7
_INT64 = re.compile(r"[+-]?[0-9]+")
_EMPTY_LIBRARY = b"\x12\x00"  # GraphDef field 2 (library), present and empty
_EMPTY_VERSIONS = b"\x22\x00"  # GraphDef field 4 (versions), present and empty


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


@dataclass(frozen=True, slots=True)
class StoredFingerprint:
    """What ``fingerprint.pb`` holds."""

    path: Path
    values: FingerprintValues
    #: ``version.producer``: 4 for saved_model.pb in TF 2.21, 2 for .cpb, 1 in older TFs.
    producer: int
    uuid: str
    proto: pb.FingerprintDef = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Stored and recomputed fingerprint of one SavedModel."""

    model_dir: Path
    computed: FingerprintValues
    stored: StoredFingerprint | None
    #: Why a computed value may differ from what TensorFlow would write (e.g. an
    #: object-graph function name without a numeric uid, where TensorFlow fails).
    problems: tuple[str, ...] = ()

    @property
    def mismatches(self) -> tuple[str, ...]:
        """Names of the stored fields that differ from the recomputed ones."""
        if self.stored is None:
            return ()
        stored, computed = self.stored.values, self.computed
        return tuple(n for n in FIELDS if getattr(stored, n) != getattr(computed, n))

    @property
    def matches(self) -> bool:
        """True when ``fingerprint.pb`` exists and every hash in it is recomputed exactly."""
        return self.stored is not None and not self.mismatches


def read_stored(model_dir: str | os.PathLike[str]) -> StoredFingerprint | None:
    """Parse ``<model_dir>/fingerprint.pb``; ``None`` when there is none."""
    path = Path(os.fspath(model_dir)) / FINGERPRINT_FILENAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise unreadable(path, e) from e
    message = pb.FingerprintDef()
    try:
        message.ParseFromString(data)
    except pb.DecodeError as e:
        raise CorruptFileError(f"not a FingerprintDef protocol buffer ({e})", path=path) from e
    values = FingerprintValues(*(getattr(message, n) for n in FIELDS))
    return StoredFingerprint(path, values, message.version.producer, message.uuid, message)


def fingerprint(sm: SavedModel) -> Fingerprint:
    """Read ``fingerprint.pb`` (if any) and recompute every hash of ``sm``."""
    stored = read_stored(sm.path)
    computed, problems = _compute(sm)
    return Fingerprint(sm.path, computed, stored, problems)


def compute(sm: SavedModel) -> FingerprintValues:
    """The fingerprint TensorFlow 2.21 would write for ``sm`` (uuid aside)."""
    return _compute(sm)[0]


# ---------------------------------------------------------------------------


def _compute(sm: SavedModel) -> tuple[FingerprintValues, tuple[str, ...]]:
    problems: list[str] = []
    with _model_bytes(sm) as buf:
        try:
            checksum = fingerprint64(canonical.encode(buf, pb.SavedModel.DESCRIPTOR).tobytes())
            graph = _first_graph(buf)
            graph_hash = fingerprint64(_regularized_graph(graph).tobytes())
            # Views of the mapping must be gone before it is closed.
            del graph
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
        signature_def_hash=_signature_hash(signatures),
        saved_object_graph_hash=_object_graph_hash(functions, problems),
        checkpoint_hash=_checkpoint_hash(sm.path),
    )
    return values, tuple(problems)


class _model_bytes:
    """The binary SavedModel: the memory-mapped file, or a serialization of a .pbtxt."""

    def __init__(self, sm: SavedModel) -> None:
        self._sm = sm
        self._map: mmap.mmap | None = None

    def __enter__(self) -> bytes | mmap.mmap:
        if self._sm.format != "pb":
            return self._sm.proto.SerializeToString()
        try:
            with open(self._sm.file, "rb") as f:
                if os.fstat(f.fileno()).st_size == 0:
                    return b""
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as e:
            raise unreadable(self._sm.file, e) from e
        return self._map

    def __exit__(self, *exc: object) -> None:
        if self._map is not None:
            # BufferError: a view is still alive (only on error paths); the OS unmaps later.
            with contextlib.suppress(BufferError):
                self._map.close()


def _first_graph(buf: bytes | mmap.mmap) -> bytes | memoryview:
    """The GraphDef of ``meta_graphs[0]`` (all its occurrences, merged)."""
    view = memoryview(buf)
    for f in wire.iter_fields(buf):
        if f.number == 2 and f.wire_type == wire.LEN:
            spans = [
                (g.start, g.end)
                for g in wire.iter_fields(buf, f.start, f.end)
                if g.number == 2 and g.wire_type == wire.LEN
            ]
            if len(spans) == 1:
                return view[spans[0][0] : spans[0][1]]
            return b"".join(bytes(view[s:e]) for s, e in spans)
    return b""


def _strip_uid(name: str) -> str | None:
    """``name`` without the numeric suffix of its last ``_`` part; None if there is none."""
    last = name.rsplit("_", 1)[-1]
    if not _INT64.fullmatch(last):
        return None
    uid = int(last)
    if not -(2**63) <= uid < 2**63:
        return None
    return name.removesuffix(str(uid))


def _node_op_and_dtype(graph: bytes | memoryview, start: int, end: int) -> tuple[bytes, int]:
    """The op of a NodeDef and its ``dtype`` attribute (0 when absent), by wire scan."""
    op = b""
    dtype = 0
    for f in wire.iter_fields(graph, start, end):
        if f.number == 2 and f.wire_type == wire.LEN:
            op = bytes(graph[f.start : f.end])
        elif f.number == 5 and f.wire_type == wire.LEN:
            key = b""
            value: tuple[int, int] | None = None
            for g in wire.iter_fields(graph, f.start, f.end):
                if g.number == 1 and g.wire_type == wire.LEN:
                    key = bytes(graph[g.start : g.end])
                elif g.number == 2 and g.wire_type == wire.LEN:
                    value = (g.start, g.end)
            if key == b"dtype" and value is not None:
                for h in wire.iter_fields(graph, *value):
                    if h.number == 6 and h.wire_type == wire.VARINT:
                        dtype = h.value
    return op, dtype


def _regularized_node(data: bytes) -> bytes | None:
    """SimpleDelete applied to one NodeDef; None when it changes nothing."""
    node = pb.NodeDef.FromString(data)
    changed = False
    if node.op in ("PartitionedCall", "StatefulPartitionedCall"):
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


def _regularized_graph(graph: bytes | memoryview) -> canonical.Encoded:
    """Canonical bytes of the GraphDef after TensorFlow's SimpleDelete regularization.

    Nodes are re-encoded one by one (only the few that regularization touches
    are parsed); library and versions become present-but-empty; the deprecated
    ``version`` (3), ``debug_info`` (5) and unknown fields are kept.
    """
    out = canonical.Encoded(graph)
    node_desc = pb.NodeDef.DESCRIPTOR
    graph_desc = pb.GraphDef.DESCRIPTOR
    version_fields: list[bytes] = []
    other_fields: list[bytes] = []
    for f in wire.iter_fields(graph):
        if f.number == 1 and f.wire_type == wire.LEN:
            op, dtype = _node_op_and_dtype(graph, f.start, f.end)
            replaced = None
            if op in _CALL_OPS or (op == b"Const" and dtype == _DT_STRING):
                try:
                    replaced = _regularized_node(bytes(graph[f.start : f.end]))
                except pb.DecodeError as e:
                    raise wire.WireError(f"a NodeDef does not parse ({e})", f.start) from e
            if replaced is None:
                out.add_field(1, canonical.encode(graph, node_desc, f.start, f.end))
            else:
                out.add_field(1, canonical.encode(replaced, node_desc))
        elif f.number in (2, 4) and f.wire_type == wire.LEN:
            continue
        elif f.number == 3:
            version_fields.append(bytes(graph[f.key_start : f.end]))
        else:
            other_fields.append(bytes(graph[f.key_start : f.end]))
    out.add_bytes(_EMPTY_LIBRARY)
    out.extend(canonical.encode(b"".join(version_fields), graph_desc))
    out.add_bytes(_EMPTY_VERSIONS)
    out.extend(canonical.encode(b"".join(other_fields), graph_desc))
    return out


def _signature_hash(signatures: Mapping[str, pb.SignatureDef]) -> int:
    h = 0
    for key in sorted(signatures, key=lambda k: k.encode("utf-8", "surrogateescape")):
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


def _checkpoint_hash(model_dir: Path) -> int:
    try:
        return fingerprint64((model_dir / "variables" / "variables.index").read_bytes())
    except OSError:
        return 0
