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

>>> import smlite
>>> with smlite.open_checkpoint("training/ckpt-3") as ckpt:       # doctest: +SKIP
...     kernel = ckpt["model/kernel/.ATTRIBUTES/VARIABLE_VALUE"].read()
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

from smlite import pb
from smlite.errors import (
    CorruptFileError,
    SmliteError,
    UnsupportedError,
    VariableNotFoundError,
)
from smlite.formats import bundle as bundle_format
from smlite.formats import storage
from smlite.formats.bundle import Bundle, Entry
from smlite.formats.bundle_stream import map_streamed
from smlite.formats.storage import AnyPath
from smlite.model.dtypes import DType
from smlite.model.variable_objects import (
    ObjectInfo,
    SavedVariable,
    match_object_graphs,
    tf1_infos,
)
from smlite.model.variable_values import (
    check_coverage,
    decode,
    numpy_dtype,
    numpy_dtype_of,
    readable,
)

if TYPE_CHECKING:
    from types import TracebackType

    import numpy as np

    from smlite.model.saved_model import SavedModel

__all__ = [
    "OBJECT_GRAPH_KEY",
    "Problem",
    "Variable",
    "VariableSet",
    "open_checkpoint",
    "open_variables",
]

OBJECT_GRAPH_KEY = bundle_format.OBJECT_GRAPH_KEY
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Problem:
    """A variable whose data failed verification."""

    key: str
    error: SmliteError

    @property
    def message(self) -> str:
        return str(self.error)


@dataclass(frozen=True, slots=True)
class Variable:
    """One stored tensor of a checkpoint.

    ``dtype`` is the numpy dtype of :meth:`read`'s result (``object`` for
    strings and for types smlite cannot read); ``tf_dtype`` the TensorFlow
    dtype.  ``nbytes`` is the size of the stored data.  ``shard``, ``offset``
    and ``crc`` (the masked CRC32C as stored) locate it; they are ``None`` for
    a partitioned variable, whose ``partitions`` slices are stored as entries
    of their own.
    """

    key: str
    tf_dtype: DType
    shape: tuple[int, ...]
    nbytes: int
    shard: int | None
    offset: int | None
    crc: int | None
    partitions: int
    entry: Entry = field(repr=False, compare=False)
    _owner: VariableSet = field(repr=False, compare=False)
    #: Dotted path from the root object (``layer_with_weights-0.kernel``);
    #: for an optimizer slot ``optimizer.m[model.kernel]``.
    object_path: str | None = None
    #: The variable's own name (``dense/kernel``).
    name: str | None = None
    trainable: bool | None = None
    synchronization: str | None = None
    aggregation: str | None = None
    slot_name: str | None = None
    slot_of: str | None = None

    @property
    def proto(self) -> pb.BundleEntryProto:
        return self.entry.proto

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype of :meth:`read`'s result (numpy is imported on first use)."""
        return numpy_dtype_of(self.tf_dtype)

    @property
    def size(self) -> int:
        """Number of elements."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def display_name(self) -> str:
        """The object path when the object graph gives one, else the key."""
        return self.object_path or self.key

    def read(self, *, verify: bool = True) -> np.ndarray:
        """The value as a numpy array (read-only when it is a view of the file).

        With ``verify`` (the default) the stored CRC32C is checked first.
        Raises :class:`~smlite.errors.ChecksumError` on a mismatch and
        :class:`~smlite.errors.UnsupportedError` for variants and resources.
        """
        return self._owner.read(self.key, verify=verify)

    def __repr__(self) -> str:
        shape = list(self.shape)
        extra = f", object_path={self.object_path!r}" if self.object_path else ""
        return f"Variable({self.key!r}, dtype={self.tf_dtype.name}, shape={shape}{extra})"


class VariableSet(Mapping[str, Variable]):
    """The variables of one TensorBundle, by checkpoint key, in key order.

    Open with :func:`open_checkpoint`, or through ``SavedModel.variables``.
    The handle keeps the data shards memory-mapped: close it, or use it as a
    context manager.  A SavedModel without a ``variables/`` directory gives an
    empty set whose :attr:`exists` is false and :attr:`missing_reason` says why.
    """

    def __init__(
        self,
        bundle: Bundle | None,
        *,
        prefix: AnyPath,
        kind: str,
        object_infos: Mapping[str, ObjectInfo] | None = None,
        saved_variables: Sequence[SavedVariable] = (),
        object_graph: pb.TrackableObjectGraph | None = None,
        warnings: Sequence[str] = (),
        missing_reason: str | None = None,
    ) -> None:
        self._bundle = bundle
        self.prefix = prefix
        #: ``"saved_model"`` or ``"checkpoint"``.
        self.kind = kind
        #: The TrackableObjectGraph stored in the bundle (None for TF1 bundles).
        self.object_graph = object_graph
        #: Notes on what could not be matched (shown by the CLI).
        self.warnings: tuple[str, ...] = tuple(warnings)
        self.missing_reason = missing_reason
        #: Every variable of the SavedObjectGraph with its checkpoint key (None when the
        #: checkpoint's object graph has no value for it); empty for TF1 and checkpoints.
        self.saved_variables: tuple[SavedVariable, ...] = tuple(saved_variables)
        infos = object_infos or {}
        variables: dict[str, Variable] = {}
        if bundle is not None:
            for key in bundle.listed_keys():
                if key == OBJECT_GRAPH_KEY:
                    continue
                variables[key] = self._make_variable(bundle, bundle.entries[key], infos.get(key))
        self._variables = variables
        self._aliases: dict[str, Variable] | None = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def empty(cls, prefix: AnyPath, *, kind: str, reason: str) -> VariableSet:
        return cls(None, prefix=prefix, kind=kind, missing_reason=reason)

    def _make_variable(self, bundle: Bundle, entry: Entry, info: ObjectInfo | None) -> Variable:
        tf_dtype = DType(entry.dtype)
        if entry.is_sliced:
            nbytes = 0
            for slc in entry.slices:
                sub = bundle.entries.get(bundle_format.encode_slice_key(entry.key, slc))
                nbytes += sub.size if sub is not None else 0
            shard = offset = crc = None
        else:
            nbytes, shard, offset, crc = entry.size, entry.shard_id, entry.offset, entry.crc32c
        info = info or ObjectInfo()
        return Variable(
            key=entry.key,
            tf_dtype=tf_dtype,
            shape=entry.shape,
            nbytes=nbytes,
            shard=shard,
            offset=offset,
            crc=crc,
            partitions=len(entry.slices),
            object_path=info.object_path,
            name=info.name,
            trainable=info.trainable,
            synchronization=info.synchronization,
            aggregation=info.aggregation,
            slot_name=info.slot_name,
            slot_of=info.slot_of,
            entry=entry,
            _owner=self,
        )

    # -- mapping --------------------------------------------------------------------------
    # The keys are checkpoint keys.  [], get() and `in` also find a variable by its object
    # path or name (the first in key order that has it), and agree with each other.
    def __getitem__(self, key: str) -> Variable:
        var = self._find(key)
        if var is None:
            raise self._not_found(key)
        return var

    @overload
    def get(self, key: str, default: None = None) -> Variable | None: ...
    @overload
    def get(self, key: str, default: Variable | _T) -> Variable | _T: ...

    def get(self, key: str, default: object = None) -> object:
        # Mapping.get catches only KeyError; a missing variable raises VariableNotFoundError.
        var = self._find(key)
        return default if var is None else var

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) is not None

    def _find(self, key: str) -> Variable | None:
        var = self._variables.get(key)
        if var is not None:
            return var
        if self._aliases is None:
            aliases: dict[str, Variable] = {}
            for v in self._variables.values():
                for alias in (v.object_path, v.name):
                    if alias:
                        aliases.setdefault(alias, v)
            self._aliases = aliases
        return self._aliases.get(key)

    def _not_found(self, key: str) -> VariableNotFoundError:
        names = list(self._variables)
        if len(names) <= 20:
            return VariableNotFoundError(key, names, path=self.prefix)
        pool = names + [v.object_path for v in self._variables.values() if v.object_path]
        close = difflib.get_close_matches(key, pool, n=8, cutoff=0.5)
        return VariableNotFoundError(
            key,
            close,
            path=self.prefix,
            hint=f"those are the closest of {len(names)} keys; list them all with "
            "`smlite variables`",
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables)

    # -- metadata ---------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """False for a SavedModel that has no variables bundle."""
        return self._bundle is not None

    @property
    def bundle(self) -> Bundle:
        if self._bundle is None:
            raise SmliteError(self.missing_reason or "no variables", path=self.prefix)
        return self._bundle

    @property
    def index_path(self) -> AnyPath:
        return bundle_format.index_path(self.prefix)

    @property
    def num_shards(self) -> int:
        return self._bundle.num_shards if self._bundle is not None else 0

    @property
    def big_endian(self) -> bool:
        return self._bundle.big_endian if self._bundle is not None else False

    @property
    def header(self) -> pb.BundleHeaderProto | None:
        return self._bundle.header if self._bundle is not None else None

    @property
    def nbytes(self) -> int:
        """Stored bytes of all variables."""
        return sum(v.nbytes for v in self._variables.values())

    def select(
        self,
        patterns: Iterable[str] = (),
        *,
        trainable: bool | None = None,
    ) -> tuple[Variable, ...]:
        """Variables whose key, object path or name matches any glob in ``patterns``
        (all when there are none) and, if given, whose ``trainable`` flag is that value.
        """
        globs = list(patterns)
        out = []
        for var in self._variables.values():
            if trainable is not None and var.trainable is not trainable:
                continue
            if globs and not any(
                fnmatch.fnmatchcase(name, g)
                for g in globs
                for name in (var.key, var.object_path, var.name)
                if name
            ):
                continue
            out.append(var)
        return tuple(out)

    # -- values -----------------------------------------------------------------------------
    def read(self, key: str, *, verify: bool = True) -> np.ndarray:
        """The value of variable ``key`` (see :meth:`Variable.read`)."""
        var = self[key]
        return self._read_entry(var.entry, verify=verify)

    def _read_entry(self, entry: Entry, *, verify: bool) -> np.ndarray:
        b = self.bundle
        tf_dtype = DType(entry.dtype)
        if entry.is_sliced:
            return self._assemble(entry, tf_dtype, verify=verify)
        return decode(b, entry, tf_dtype, verify=verify)

    def _assemble(self, entry: Entry, tf_dtype: DType, *, verify: bool) -> np.ndarray:
        import numpy as np

        b = self.bundle
        parts: list[tuple[tuple[tuple[int, int], ...], Entry]] = []
        for slc in entry.slices:
            bounds = slc.bounds(entry.shape)
            if bounds is None:
                raise CorruptFileError(
                    f"partitioned tensor {entry.key!r}: slice {slc} does not fit its shape "
                    f"{list(entry.shape)}",
                    path=b.index_path,
                )
            sub = b.slice_entry(entry, slc)
            expected = tuple(stop - start for start, stop in bounds)
            if sub.dtype != entry.dtype or sub.shape != expected:
                raise CorruptFileError(
                    f"partitioned tensor {entry.key!r}: slice {slc} is stored as "
                    f"{DType(sub.dtype).name}{list(sub.shape)}, expected "
                    f"{tf_dtype.name}{list(expected)}",
                    path=b.index_path,
                )
            b.check_span(sub)
            parts.append((bounds, sub))
        check_coverage(entry, [p[0] for p in parts], b.index_path)
        np_dtype = numpy_dtype(b, entry, tf_dtype)
        # Every slice was checked against the real shard sizes above, and the
        # slices tile the tensor exactly, so this allocation is bounded by
        # the data on disk.
        if tf_dtype.value != bundle_format.DT_STRING:
            stored = sum(sub.size for _, sub in parts)
            if stored != entry.num_elements * np_dtype.itemsize:
                raise CorruptFileError(
                    f"partitioned tensor {entry.key!r}: its slices hold {stored} bytes, "
                    f"expected {entry.num_elements * np_dtype.itemsize}",
                    path=b.index_path,
                )
        out = np.empty(entry.shape, dtype=np_dtype)
        for bounds, sub in parts:
            value = decode(b, sub, tf_dtype, verify=verify)
            out[tuple(slice(start, stop) for start, stop in bounds)] = value
        out.flags.writeable = False
        return out

    def verify(
        self,
        keys: Iterable[str] | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[Problem, ...]:
        """Read every variable (or those of ``keys``) with checksums; the failures.

        ``progress`` is called with the number of stored bytes checked after
        each variable.  Variants and resources are skipped (they cannot be read).
        The object-graph entry is checked too when all variables are.
        """
        problems: list[Problem] = []
        if self._bundle is None:
            return ()
        chosen = list(self._variables) if keys is None else list(keys)
        if keys is None and OBJECT_GRAPH_KEY in self._bundle.entries:
            try:
                self._bundle.verify_entry(self._bundle.entries[OBJECT_GRAPH_KEY])
            except SmliteError as e:
                problems.append(Problem(OBJECT_GRAPH_KEY, e))
        def check(key: str) -> Problem | None:
            var = self[key]
            try:
                if readable(var.tf_dtype):
                    self._read_entry(var.entry, verify=True)
            except UnsupportedError:
                return None
            except SmliteError as e:
                return Problem(key, e)
            return None

        done = None if progress is None else (lambda k: progress(self[k].nbytes))
        checked = map_streamed(self._bundle, chosen, lambda k: self[k].entry, check, done=done)
        return (*problems, *(p for p in checked if p is not None))

    # -- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        if self._bundle is not None:
            self._bundle.close()

    def __enter__(self) -> VariableSet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._bundle is None:
            return f"VariableSet({str(self.prefix)!r}, missing)"
        return (
            f"VariableSet({str(self.prefix)!r}, variables={len(self)}, "
            f"shards={self.num_shards}, nbytes={self.nbytes})"
        )


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
