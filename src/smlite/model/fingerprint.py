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

Older releases stored other formulas under the same fields (TF 2.11 hashed
the GraphDef in field 1, TF 2.11-2.13 hashed the signatures without their keys;
see :mod:`smlite.model.fingerprint_releases` and docs/fingerprint.md).
:func:`fingerprint` is the one judgement of a model's ``fingerprint.pb``: it
compares each stored hash with what the *writing* release would have stored and
says which algorithm matched, whether a missing file was to be expected, or why
the stored values cannot be compared.  ``smlite fingerprint`` and ``check``
both report what it says.

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
from typing import BinaryIO, Literal

from smlite import pb
from smlite.errors import CorruptFileError, SmliteError, unreadable
from smlite.formats import canonical, farmhash, wire
from smlite.formats.farmhash import fingerprint64, fingerprint64_file, fingerprint_cat64
from smlite.formats.graph_index import CALL_OPS, GraphIndex, index_graph
from smlite.formats.wire import Buffer
from smlite.model import fingerprint_releases as releases
from smlite.model.fingerprint_releases import Formula
from smlite.model.saved_model import SavedModel

__all__ = [
    "FIELDS",
    "FINGERPRINT_FILENAME",
    "FieldCheck",
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


@dataclass(frozen=True, slots=True)
class StoredFingerprint:
    """What ``fingerprint.pb`` holds."""

    path: Path
    values: FingerprintValues
    #: ``version.producer``: 4 for saved_model.pb in TF 2.21, 2 for .cpb, 1 in older TFs.
    producer: int
    uuid: str
    proto: pb.FingerprintDef = field(repr=False, compare=False)


Status = Literal["match", "mismatch", "absent", "not-comparable"]


@dataclass(frozen=True, slots=True)
class FieldCheck:
    """One stored hash against what the writing release would have stored."""

    name: str
    stored: int
    #: The recomputed value: the one ``algorithm`` gives, or (no match) the formula's first.
    computed: int
    #: The algorithm id (:data:`~smlite.model.fingerprint_releases.ALGORITHMS`) whose value
    #: equals the stored one; None when none of the writer's algorithms does.
    algorithm: str | None

    @property
    def matches(self) -> bool:
        return self.algorithm is not None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The judgement of one SavedModel's ``fingerprint.pb``: stored, recomputed, verdict.

    ``status`` is ``match`` (every stored hash reproduced by the writer's formula),
    ``mismatch``, ``absent`` (no fingerprint.pb; ``expected`` says whether the
    writer writes one) or ``not-comparable`` (``reason`` says why).
    """

    model_dir: Path
    #: What TensorFlow 2.21 would write for these files now; None when not computed
    #: (``fingerprint(sm, compute_all=False)`` and nothing to compare).
    computed: FingerprintValues | None
    stored: StoredFingerprint | None
    #: Why a computed value may differ from what TensorFlow would write (e.g. an
    #: object-graph function name without a numeric uid, where TensorFlow fails).
    problems: tuple[str, ...] = ()
    #: ``meta_info_def.tensorflow_version`` of meta_graphs[0], and its parsed release.
    tensorflow_version: str = ""
    release: tuple[int, int, int] | None = None
    status: Status = "absent"
    #: One sentence for ``absent`` and ``not-comparable``; empty otherwise.
    reason: str = ""
    #: For ``absent``: does the writer write fingerprint.pb (None: writer unknown).
    expected: bool | None = None
    #: The writer's formula the stored values were compared with (or best matched).
    formula: Formula | None = None
    fields: tuple[FieldCheck, ...] = ()
    #: The FarmHash that computed the values: "cityhash" or "pyfarmhash" (native),
    #: or "python" (the pure-Python fallback).
    farmhash: str = ""

    @property
    def mismatches(self) -> tuple[str, ...]:
        """Names of the stored fields no algorithm of the writer's formula reproduces."""
        return tuple(f.name for f in self.fields if not f.matches)

    @property
    def matches(self) -> bool:
        """True when fingerprint.pb exists and the writer's formula reproduces every hash."""
        return self.status == "match"

    @property
    def recomputed(self) -> FingerprintValues | None:
        """The values recomputed with the writer's formula; None when nothing was compared."""
        if not self.fields:
            return None
        return FingerprintValues(*(f.computed for f in self.fields))

    @property
    def writer(self) -> str:
        """``"TF 2.15.1"``, or a phrase saying the writing release is not recorded."""
        if self.release is None:
            return "an unrecorded TensorFlow release"
        return f"TF {releases.release_text(self.release)}"

    def mismatch_messages(self) -> tuple[tuple[str, str], ...]:
        """``(field, sentence)`` for every stored hash the writer's formula does not reproduce."""
        out = []
        for f in self.fields:
            if f.matches or self.formula is None:
                continue
            covers = releases.COVERS[self.formula.fields[f.name][0]]
            out.append(
                (
                    f.name,
                    f"{f.name} is {f.stored} in fingerprint.pb but {f.computed} recomputed "
                    f"from {covers} with the {self.formula.name} formula (written by "
                    f"{self.writer}): the files changed after export or come from different "
                    "exports",
                )
            )
        return tuple(out)


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


def fingerprint(sm: SavedModel, *, compute_all: bool = True) -> Fingerprint:
    """Judge ``fingerprint.pb`` of ``sm`` by the formula of the release that wrote it.

    With ``compute_all=False`` nothing is recomputed unless there is a stored
    fingerprint to compare (``check`` on exports without one).  Raises
    :class:`CorruptFileError` when fingerprint.pb does not parse.
    """
    stored = read_stored(sm.path)
    version = sm.meta_graphs[0].tensorflow_version if sm.meta_graphs else ""
    release = sm.meta_graphs[0].tensorflow_release if sm.meta_graphs else None
    if stored is None:
        tf2 = any(mg.has_object_graph for mg in sm.meta_graphs)
        expected = releases.writes_fingerprint(release, tf2_export=tf2)
        computed, problems = _compute(sm) if compute_all else (None, ())
        return Fingerprint(
            sm.path,
            computed,
            None,
            problems,
            version,
            release,
            status="absent",
            reason=releases.absent_reason(release, tf2_export=tf2),
            expected=expected,
            farmhash=farmhash.IMPLEMENTATION,
        )
    reason = releases.not_comparable_reason(sm.format, stored.producer)
    if reason is not None:
        computed, problems = _compute(sm) if compute_all else (None, ())
        return Fingerprint(
            sm.path,
            computed,
            stored,
            problems,
            version,
            release,
            "not-comparable",
            reason,
            farmhash=farmhash.IMPLEMENTATION,
        )
    values, problems = _compute(sm)
    formula, fields = _judge(sm, stored, values, releases.formulas_for(release, stored.producer))
    status: Status = "match" if all(f.matches for f in fields) else "mismatch"
    return Fingerprint(
        sm.path,
        values,
        stored,
        problems,
        version,
        release,
        status,
        formula=formula,
        fields=fields,
        farmhash=farmhash.IMPLEMENTATION,
    )


def compute(sm: SavedModel) -> FingerprintValues:
    """The fingerprint TensorFlow 2.21 would write for ``sm`` (uuid aside)."""
    return _compute(sm)[0]


# -- which algorithm the writer used ------------------------------------------------------


def _judge(
    sm: SavedModel,
    stored: StoredFingerprint,
    values: FingerprintValues,
    formulas: tuple[Formula, ...],
) -> tuple[Formula | None, tuple[FieldCheck, ...]]:
    """The first formula reproducing every stored hash, else the one reproducing most."""
    algorithms = _Algorithms(sm, values)
    best: tuple[Formula | None, tuple[FieldCheck, ...]] = (None, ())
    for formula in formulas:
        checks = []
        for name in FIELDS:
            want = getattr(stored.values, name)
            candidates = formula.fields[name]
            matched = next((a for a in candidates if algorithms.value(a) == want), None)
            got = algorithms.value(matched or candidates[0])
            checks.append(FieldCheck(name, want, got, matched))
        misses = sum(not c.matches for c in checks)
        if best[0] is None or misses < sum(not c.matches for c in best[1]):
            best = (formula, tuple(checks))
        if not misses:
            break
    return best


class _Algorithms:
    """Each algorithm's value for one model, computed once and only when asked."""

    def __init__(self, sm: SavedModel, values: FingerprintValues) -> None:
        self._sm = sm
        self._cache: dict[str, int] = {
            "saved-model-canonical": values.saved_model_checksum,
            "simple-delete": values.graph_def_program_hash,
            "signatures-keyed": values.signature_def_hash,
            "object-graph-by-uid": values.saved_object_graph_hash,
            "checkpoint-index": values.checkpoint_hash,
        }

    def value(self, algorithm: str) -> int:
        if algorithm not in self._cache:
            self._cache[algorithm] = self._compute(algorithm)
        return self._cache[algorithm]

    def _compute(self, algorithm: str) -> int:
        sm = self._sm
        if algorithm == "signatures-unkeyed":
            signatures = sm.meta_graphs[0].header.signature_def if sm.meta_graphs else {}
            return _signature_hash(signatures, keyed=False)
        if algorithm == "saved-model-file" and sm.format == "pb":
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


# ---------------------------------------------------------------------------


def _compute(sm: SavedModel) -> tuple[FingerprintValues, tuple[str, ...]]:
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
        signature_def_hash=_signature_hash(signatures),
        saved_object_graph_hash=_object_graph_hash(functions, problems),
        checkpoint_hash=_checkpoint_hash(sm.path),
    )
    return values, tuple(problems)


class _ModelBytes:
    """The binary SavedModel: the memory-mapped file, or a serialization of a .pbtxt."""

    def __init__(self, sm: SavedModel) -> None:
        self._sm = sm
        self._file: BinaryIO | None = None
        self._map: mmap.mmap | None = None
        self.buf: bytes | mmap.mmap = b""
        self._scratch: bytearray | None = None

    def __enter__(self) -> _ModelBytes:
        if self._sm.format != "pb":
            self.buf = self._sm.proto.SerializeToString()
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
        reader = self._read_range if encoded.source is self._map else None
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


def _graph_spans(buf: bytes | mmap.mmap) -> list[tuple[int, int]]:
    """Byte spans of ``meta_graphs[0].graph_def`` (almost always one)."""
    for f in wire.iter_fields(buf):
        if f.number == 2 and f.wire_type == wire.LEN:
            return [
                (g.start, g.end)
                for g in wire.iter_fields(buf, f.start, f.end)
                if g.number == 2 and g.wire_type == wire.LEN
            ]
    return []


def _graph_of(sm: SavedModel, buf: bytes | mmap.mmap) -> tuple[Buffer, int, GraphIndex]:
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


def _regularized_graph(sm: SavedModel, buf: bytes | mmap.mmap) -> canonical.Encoded:
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


def _signature_hash(signatures: Mapping[str, pb.SignatureDef], *, keyed: bool = True) -> int:
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


def _checkpoint_hash(model_dir: Path) -> int:
    try:
        return fingerprint64_file(model_dir / "variables" / "variables.index")
    except OSError:
        return 0
