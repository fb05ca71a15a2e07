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
from typing import Literal

from smlite import pb
from smlite.errors import CorruptFileError, SmliteError
from smlite.formats import canonical, wire
from smlite.formats.farmhash import fingerprint64, fingerprint_cat64
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
        raise SmliteError(f"{path}: cannot read: {e.strerror or e}", path=path) from e
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
        )
    reason = releases.not_comparable_reason(sm.format, stored.producer)
    if reason is not None:
        computed, problems = _compute(sm) if compute_all else (None, ())
        return Fingerprint(
            sm.path, computed, stored, problems, version, release, "not-comparable", reason
        )
    values, problems = _compute(sm)
    formula, fields = _judge(sm, stored, values, releases.formulas_for(release, stored.producer))
    status: Status = "match" if all(f.matches for f in fields) else "mismatch"
    return Fingerprint(
        sm.path, values, stored, problems, version, release, status, formula=formula, fields=fields
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
        with _model_bytes(sm) as buf:
            if algorithm == "saved-model-file":
                return fingerprint64(memoryview(buf))
            graph = _first_graph(buf)
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
            raise SmliteError(
                f"{self._sm.file}: cannot read: {e.strerror or e}", path=self._sm.file
            ) from e
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
        return fingerprint64((model_dir / "variables" / "variables.index").read_bytes())
    except OSError:
        return 0
