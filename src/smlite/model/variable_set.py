"""The handle on one TensorBundle's variables: :class:`VariableSet` and its :class:`Variable` s.

Built by the openers of :mod:`smlite.model.variables` (which exports these
names too); values are decoded by :mod:`smlite.model.variable_values`, object
paths come from :mod:`smlite.model.variable_objects`.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

from smlite import pb
from smlite.errors import SmliteError, UnsupportedError, VariableNotFoundError
from smlite.formats import bundle as bundle_format
from smlite.formats.bundle import Bundle, Entry
from smlite.formats.bundle_stream import map_streamed
from smlite.formats.storage import AnyPath
from smlite.model.dtypes import DType
from smlite.model.variable_objects import ObjectInfo, SavedVariable
from smlite.model.variable_values import numpy_dtype_of, read_value, readable

if TYPE_CHECKING:
    import numpy as np

__all__ = ["OBJECT_GRAPH_KEY", "Problem", "Variable", "VariableSet"]

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
        return self.entry.num_elements

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
        return read_value(self.bundle, entry, verify=verify)

    def verify(
        self,
        keys: Iterable[str] | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[Problem, ...]:
        """Read every variable (or those of ``keys``) with checksums; the failures.

        ``progress`` is called with the number of stored bytes checked after
        each variable.  Variants and resources are skipped (they cannot be read).
        Behind a URL each shard is read front to back in large ranges, shards in
        parallel (:func:`smlite.formats.bundle_stream.map_streamed`).
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

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._bundle is None:
            return f"VariableSet({str(self.prefix)!r}, missing)"
        return (
            f"VariableSet({str(self.prefix)!r}, variables={len(self)}, "
            f"shards={self.num_shards}, nbytes={self.nbytes})"
        )
