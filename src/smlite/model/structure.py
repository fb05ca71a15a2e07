"""Nested structures of a SavedModel: StructuredValue and TypeSpecProto, decoded.

TensorFlow stores the Python-side calling conventions of saved functions
(input signatures, output structures, argument specs) as ``StructuredValue``
protos and rebuilds Python objects from them when it loads a model
(``tensorflow/python/saved_model/nested_structure_coder.py``).  This module
does the same without TensorFlow, into smlite's own frozen objects, whose
``repr()`` is exactly what TensorFlow 2.21 prints for the object it would have
built::

    TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')
    RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, tf.int64)
    SparseTensorSpec(TensorShape([None, 10]), tf.float32)

Python values map as follows: ``none_value``, ``bool_value``, ``int64_value``,
``float64_value`` and ``string_value`` become plain Python values; a
``tuple_value`` becomes a Python tuple; lists, dicts and namedtuples become
:class:`ListValue`, :class:`DictValue` and :class:`NamedTupleValue` (frozen,
with the repr of the Python object).  Dict items are kept sorted by key:
TensorFlow builds its dicts in protobuf map order, which is not stable.

Wire layout (``tensorflow/core/protobuf/struct.proto``)::

    StructuredValue := oneof kind {
        1: NoneValue none_value          11: double float64_value
        12: sint64 int64_value           13: string string_value
        14: bool bool_value              31: TensorShapeProto tensor_shape_value
        32: DataType tensor_dtype_value  33: TensorSpecProto tensor_spec_value
        34: TypeSpecProto type_spec_value
        35: BoundedTensorSpecProto bounded_tensor_spec_value
        51: ListValue list_value         52: TupleValue tuple_value
        53: DictValue dict_value         54: NamedTupleValue named_tuple_value
        55: TensorProto tensor_value     56: TensorProto numpy_value }
    TypeSpecProto := { 1: TypeSpecClass type_spec_class, 2: StructuredValue type_state,
                       3: string type_spec_class_name, 4: int32 num_flat_components }

A TypeSpec's ``type_state`` is what the TypeSpec's ``_serialize()`` returned,
usually a tuple of its constructor arguments.

Nothing here raises on odd input: an empty ``StructuredValue``, a TypeSpec
class this TensorFlow does not know, a state of the wrong shape or nesting
deeper than :data:`MAX_DEPTH` decode to an :class:`UnknownValue` /
:class:`UnknownTypeSpec` placeholder that says what was found and where.
``decode_structure(..., strict=True)`` raises a located
:class:`~smlite.errors.SmliteError` instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smlite import pb
from smlite.errors import SmliteError
from smlite.model.dtypes import DType
from smlite.model.tensors import TensorShape

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "MAX_DEPTH",
    "BoundedTensorSpec",
    "DatasetSpec",
    "DictValue",
    "ExtensionTypeSpec",
    "IndexedSlicesSpec",
    "IteratorSpec",
    "ListValue",
    "NamedTupleValue",
    "NumpyValue",
    "OptionalSpec",
    "PerReplicaSpec",
    "RaggedTensorSpec",
    "RegisteredTypeSpec",
    "RowPartitionSpec",
    "SparseTensorSpec",
    "Structure",
    "TensorArraySpec",
    "TensorSpec",
    "TensorValue",
    "TypeSpec",
    "UnknownTypeSpec",
    "UnknownValue",
    "VariableSpec",
    "decode_structure",
    "decode_type_spec",
    "flatten",
    "is_iterable",
    "iterate",
    "tf_repr",
    "tf_str",
    "truthy",
    "type_name",
]

#: Deepest nesting decoded.  protobuf refuses to parse messages nested deeper
#: than 100 levels, and each structure level is at least two message levels.
MAX_DEPTH = 64

#: Largest tensor (elements) turned into a numpy array for display.
_MAX_ARRAY_ELEMENTS = 1 << 16

Escape = Callable[[str], str]


def _same(text: str) -> str:
    return text


# ---------------------------------------------------------------------------
# Python containers
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListValue:
    """A Python list (frozen).  ``repr`` is the list's: ``[1, 'a']``."""

    items: tuple[Structure, ...] = ()

    def __iter__(self) -> Iterator[Structure]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Structure:
        return self.items[index]

    def __repr__(self) -> str:
        return _format(self, _same, False)


@dataclass(frozen=True, slots=True)
class DictValue(Mapping[str, "Structure"]):
    """A Python dict with string keys (frozen), items sorted by key."""

    entries: tuple[tuple[str, Structure], ...] = ()

    def __getitem__(self, key: str) -> Structure:
        for k, v in self.entries:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return _format(self, _same, False)


@dataclass(frozen=True, slots=True)
class NamedTupleValue:
    """A namedtuple, rebuilt from its type name and field names.

    ``repr`` is the namedtuple's: ``Point(x=1, y=2)``.
    """

    name: str
    fields: tuple[tuple[str, Structure], ...] = ()

    @property
    def values(self) -> tuple[Structure, ...]:
        return tuple(v for _, v in self.fields)

    def __iter__(self) -> Iterator[Structure]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.fields)

    def __getitem__(self, index: int) -> Structure:
        return self.fields[index][1]

    def __repr__(self) -> str:
        return _format(self, _same, False)


# ---------------------------------------------------------------------------
# Tensors given by value
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumpyValue:
    """A numpy array stored as a TensorProto (``numpy_value``, bounds of a BoundedTensorSpec).

    ``array`` is None when the tensor is too large to show or cannot be
    decoded; ``repr``/``str`` are numpy's.
    """

    dtype: DType
    shape: TensorShape
    array: np.ndarray[Any, Any] | None = field(default=None, compare=False)
    proto: pb.TensorProto = field(default_factory=pb.TensorProto, repr=False, compare=False)

    def __repr__(self) -> str:
        return _format(self, _same, False)


@dataclass(frozen=True, slots=True)
class TensorValue:
    """A constant tensor (``tensor_value``); shown as an eager ``tf.Tensor``."""

    dtype: DType
    shape: TensorShape
    array: np.ndarray[Any, Any] | None = field(default=None, compare=False)
    proto: pb.TensorProto = field(default_factory=pb.TensorProto, repr=False, compare=False)

    def __repr__(self) -> str:
        return _format(self, _same, False)


@dataclass(frozen=True, slots=True)
class UnknownValue:
    """A StructuredValue smlite could not decode: empty, unknown kind, too deep."""

    reason: str
    where: str = ""

    def __repr__(self) -> str:
        return _format(self, _same, False)


# ---------------------------------------------------------------------------
# TypeSpecs
# ---------------------------------------------------------------------------


class TypeSpec:
    """Base of the TypeSpec objects; ``repr`` is TensorFlow's."""

    __slots__ = ()

    #: The Python class name TensorFlow would use (``type(spec).__name__``).
    @property
    def type_name(self) -> str:
        return type(self).__name__

    def _state(self) -> tuple[Structure, ...]:
        """What TensorFlow's ``_serialize()`` returns; the default repr prints it."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return _format(self, _same, False)


@dataclass(frozen=True, slots=True, repr=False)
class TensorSpec(TypeSpec):
    """``tf.TensorSpec``: ``TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')``."""

    shape: TensorShape
    dtype: DType
    name: str | None = None

    def _state(self) -> tuple[Structure, ...]:
        return (self.shape, self.dtype, self.name)


@dataclass(frozen=True, slots=True, repr=False)
class BoundedTensorSpec(TypeSpec):
    """``tf.BoundedTensorSpec``: a TensorSpec with numpy ``minimum``/``maximum`` arrays."""

    shape: TensorShape
    dtype: DType
    name: str | None
    minimum: NumpyValue
    maximum: NumpyValue

    def _state(self) -> tuple[Structure, ...]:
        return (self.shape, self.dtype, self.minimum, self.maximum, self.name)


@dataclass(frozen=True, slots=True, repr=False)
class SparseTensorSpec(TypeSpec):
    """``tf.SparseTensorSpec``: ``SparseTensorSpec(TensorShape([None, 10]), tf.float32)``."""

    shape: TensorShape
    dtype: DType

    def _state(self) -> tuple[Structure, ...]:
        return (self.shape, self.dtype)


@dataclass(frozen=True, slots=True, repr=False)
class IndexedSlicesSpec(TypeSpec):
    """``tf.IndexedSlicesSpec`` (``dense_shape_dtype`` None when there is no dense shape)."""

    shape: TensorShape
    dtype: DType
    indices_dtype: DType
    dense_shape_dtype: DType | None
    indices_shape: TensorShape

    def _state(self) -> tuple[Structure, ...]:
        return (
            self.shape,
            self.dtype,
            self.indices_dtype,
            self.dense_shape_dtype,
            self.indices_shape,
        )


@dataclass(frozen=True, slots=True, repr=False)
class RaggedTensorSpec(TypeSpec):
    """``tf.RaggedTensorSpec``.

    ``RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, tf.int64)``
    """

    shape: TensorShape
    dtype: DType
    ragged_rank: int
    row_splits_dtype: DType
    flat_values_spec: Structure = None

    def _state(self) -> tuple[Structure, ...]:
        base: tuple[Structure, ...] = (
            self.shape,
            self.dtype,
            self.ragged_rank,
            self.row_splits_dtype,
        )
        return base if self.flat_values_spec is None else (*base, self.flat_values_spec)


@dataclass(frozen=True, slots=True, repr=False)
class TensorArraySpec(TypeSpec):
    """``tf.TensorArraySpec``."""

    element_shape: TensorShape
    dtype: DType
    dynamic_size: Structure = False
    infer_shape: Structure = True

    def _state(self) -> tuple[Structure, ...]:
        return (self.element_shape, self.dtype, self.dynamic_size, self.infer_shape)


@dataclass(frozen=True, slots=True, repr=False)
class DatasetSpec(TypeSpec):
    """``tf.data.DatasetSpec``: the structure of a dataset's elements."""

    element_spec: Structure
    dataset_shape: TensorShape = field(default_factory=lambda: TensorShape(()))

    def _state(self) -> tuple[Structure, ...]:
        return (self.element_spec, self.dataset_shape)


@dataclass(frozen=True, slots=True, repr=False)
class IteratorSpec(TypeSpec):
    """``tf.data.IteratorSpec``."""

    element_spec: Structure

    def _state(self) -> tuple[Structure, ...]:
        return (self.element_spec,)


@dataclass(frozen=True, slots=True, repr=False)
class OptionalSpec(TypeSpec):
    """``tf.OptionalSpec``: ``OptionalSpec(TensorSpec(...),)``."""

    element_spec: Structure

    def _state(self) -> tuple[Structure, ...]:
        return (self.element_spec,)


@dataclass(frozen=True, slots=True, repr=False)
class PerReplicaSpec(TypeSpec):
    """``tf.distribute`` PerReplicaSpec: one spec per replica."""

    value_specs: tuple[Structure, ...] = ()

    def _state(self) -> tuple[Structure, ...]:
        return self.value_specs


@dataclass(frozen=True, slots=True, repr=False)
class VariableSpec(TypeSpec):
    """``VariableSpec(shape=(2,), dtype=tf.float32, trainable=True, alias_id=None)``."""

    shape: TensorShape
    dtype: DType
    trainable: Structure = True
    alias_id: Structure = None

    def _state(self) -> tuple[Structure, ...]:
        return (self.shape, self.dtype, self.trainable, self.alias_id)


@dataclass(frozen=True, slots=True, repr=False)
class RowPartitionSpec(TypeSpec):
    """``RowPartitionSpec(nrows=None, nvals=None, uniform_row_length=None, dtype=tf.int64)``."""

    nrows: int | None
    nvals: int | None
    uniform_row_length: int | None
    dtype: DType

    def _state(self) -> tuple[Structure, ...]:
        return (
            TensorShape((_raw(self.nrows),)),
            TensorShape((_raw(self.nvals),)),
            TensorShape((_raw(self.uniform_row_length),)),
            self.dtype,
        )


@dataclass(frozen=True, slots=True, repr=False)
class ExtensionTypeSpec(TypeSpec):
    """The spec of a ``tf.ExtensionType``, as TensorFlow rebuilds it without the class.

    A loader that has not imported the extension type's Python class (which
    is the case for ``saved_model_cli``, and always for smlite) falls back to
    ``AnonymousExtensionTypeSpec(field=value, ...)``.  ``class_name`` is the
    name the class was registered under.
    """

    class_name: str
    fields: tuple[tuple[str, Structure], ...] = ()

    @property
    def type_name(self) -> str:
        return "AnonymousExtensionTypeSpec"

    def _state(self) -> tuple[Structure, ...]:
        return tuple(self.fields)


@dataclass(frozen=True, slots=True, repr=False)
class RegisteredTypeSpec(TypeSpec):
    """A TypeSpec registered by a Python library (``REGISTERED_TYPE_SPEC``).

    TensorFlow can only rebuild it with that library imported; smlite keeps
    the registered name and the decoded state, and prints it the way
    TensorFlow's default ``TypeSpec.__repr__`` would (class name, then the
    state tuple).
    """

    class_name: str
    state: Structure = None

    @property
    def type_name(self) -> str:
        return self.class_name.rsplit(".", 1)[-1] or "TypeSpec"

    def _state(self) -> tuple[Structure, ...]:
        return self.state if isinstance(self.state, tuple) else (self.state,)


@dataclass(frozen=True, slots=True, repr=False)
class UnknownTypeSpec(TypeSpec):
    """A TypeSpec smlite cannot rebuild: unknown class, or a state of the wrong form."""

    type_spec_class: int
    class_name: str
    reason: str
    state: Structure = None
    where: str = ""

    @property
    def type_name(self) -> str:
        return self.class_name or "TypeSpec"

    def _state(self) -> tuple[Structure, ...]:
        return (self.state,)


#: What a decoded StructuredValue can be.
Structure = (
    None
    | bool
    | int
    | float
    | str
    | tuple[Any, ...]
    | ListValue
    | DictValue
    | NamedTupleValue
    | TensorShape
    | DType
    | TypeSpec
    | NumpyValue
    | TensorValue
    | UnknownValue
)


def _raw(dim: int | None) -> int:
    return -1 if dim is None else dim


# ---------------------------------------------------------------------------
# Text: repr / str / type names, as TensorFlow's Python objects give them
# ---------------------------------------------------------------------------


def tf_repr(value: Structure, *, escape: Escape | None = None) -> str:
    """``repr()`` of the object TensorFlow would build for ``value``.

    ``escape`` is applied to every name read from the file that the repr
    shows unquoted (namedtuple and field names, class names); quoted strings
    are Python reprs and already show control characters as escapes.
    """
    return _format(value, escape or _same, False)


def tf_str(value: Structure, *, escape: Escape | None = None) -> str:
    """``str()`` of the object TensorFlow would build for ``value``."""
    return _format(value, escape or _same, True)


def type_name(value: Structure) -> str:
    """``type(obj).__name__`` of the object TensorFlow would build for ``value``."""
    if value is None:
        return "NoneType"
    if isinstance(value, (bool, int, float, str, tuple)):
        return type(value).__name__
    if isinstance(value, ListValue):
        return "list"
    if isinstance(value, DictValue):
        return "dict"
    if isinstance(value, NamedTupleValue):
        return value.name
    if isinstance(value, TypeSpec):
        return value.type_name
    if isinstance(value, NumpyValue):
        return "ndarray"
    if isinstance(value, TensorValue):
        return "EagerTensor"
    if isinstance(value, UnknownValue):
        return "Unknown"
    return type(value).__name__


def is_iterable(value: Structure) -> bool:
    """Whether TensorFlow's object would be a non-dict iterable (a list, tuple, shape ...)."""
    if isinstance(value, (tuple, ListValue, NamedTupleValue, str)):
        return True
    if isinstance(value, TensorShape):
        return value.dims is not None
    if isinstance(value, NumpyValue):
        return value.array is not None and value.array.ndim > 0
    return False


def iterate(value: Structure) -> tuple[Structure, ...]:
    """What iterating TensorFlow's object yields (dict keys for a dict)."""
    if isinstance(value, (tuple, ListValue, NamedTupleValue)):
        return tuple(value)
    if isinstance(value, DictValue):
        return tuple(value)
    if isinstance(value, str):
        return tuple(value)
    if isinstance(value, TensorShape):
        return tuple(value.dims or ())
    if isinstance(value, NumpyValue) and value.array is not None and value.array.ndim > 0:
        return tuple(_ElementText(x) for x in value.array)  # type: ignore[misc]
    return ()


def truthy(value: Structure) -> bool:
    """Python truth value of TensorFlow's object (``if args:``)."""
    if value is None or isinstance(value, (bool, int, float, str, tuple)):
        return bool(value)
    if isinstance(value, (ListValue, DictValue, NamedTupleValue)):
        return len(value) > 0
    if isinstance(value, TensorShape):
        return value.dims is None or len(value.dims) > 0
    if isinstance(value, NumpyValue):
        return value.array is not None and value.array.size > 0
    return True


def flatten(value: Structure) -> tuple[Structure, ...]:
    """The leaves of a structure in TensorFlow's ``nest.flatten`` order (dicts by sorted key)."""
    out: list[Structure] = []

    def walk(v: Structure, depth: int) -> None:
        if depth > MAX_DEPTH:
            out.append(v)
        elif isinstance(v, (tuple, ListValue, NamedTupleValue)):
            for item in v:
                walk(item, depth + 1)
        elif isinstance(v, DictValue):
            for key in sorted(v):
                walk(v[key], depth + 1)
        else:
            out.append(v)

    walk(value, 0)
    return tuple(out)


class _ElementText:
    """One element of a numpy array, printed with ``str()``."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return str(self.value)

    __repr__ = __str__


def _dtype_str(dtype: DType) -> str:
    return f"<dtype: {dtype.name!r}>"


def _format(value: object, esc: Escape, as_str: bool) -> str:
    """repr (``as_str`` False) or str of ``value``; nested items always use repr."""
    if isinstance(value, str):
        return esc(value) if as_str else repr(value)
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        inner = [_format(v, esc, False) for v in value]
        if len(inner) == 1:
            return f"({inner[0]},)"
        return "(" + ", ".join(inner) + ")"
    if isinstance(value, ListValue):
        return "[" + ", ".join(_format(v, esc, False) for v in value.items) + "]"
    if isinstance(value, DictValue):
        items = (f"{_format(k, esc, False)}: {_format(v, esc, False)}" for k, v in value.entries)
        return "{" + ", ".join(items) + "}"
    if isinstance(value, NamedTupleValue):
        items = (f"{esc(k)}={_format(v, esc, False)}" for k, v in value.fields)
        return f"{esc(value.name)}(" + ", ".join(items) + ")"
    if isinstance(value, TensorShape):
        return str(value) if as_str else repr(value)
    if isinstance(value, DType):
        return _dtype_str(value) if as_str else repr(value)
    if isinstance(value, TypeSpec):
        return _format_spec(value, esc)
    if isinstance(value, NumpyValue):
        return _numpy_text(value, as_str)
    if isinstance(value, TensorValue):
        return _tensor_text(value, as_str)
    if isinstance(value, UnknownValue):
        where = f" at {esc(value.where)}" if value.where else ""
        return f"<unknown value{where}: {esc(value.reason)}>"
    return str(value) if as_str else repr(value)


def _format_spec(spec: TypeSpec, esc: Escape) -> str:
    if isinstance(spec, TensorSpec):
        return (
            f"TensorSpec(shape={spec.shape}, dtype={spec.dtype!r}, "
            f"name={_format(spec.name, esc, False)})"
        )
    if isinstance(spec, BoundedTensorSpec):
        return (
            f"BoundedTensorSpec(shape={spec.shape}, dtype={spec.dtype!r}, "
            f"name={_format(spec.name, esc, False)}, minimum={_format(spec.minimum, esc, False)}, "
            f"maximum={_format(spec.maximum, esc, False)})"
        )
    if isinstance(spec, VariableSpec):
        return (
            f"VariableSpec(shape={spec.shape}, dtype={spec.dtype!r}, "
            f"trainable={_format(spec.trainable, esc, False)}, "
            f"alias_id={_format(spec.alias_id, esc, False)})"
        )
    if isinstance(spec, RowPartitionSpec):
        return (
            f"RowPartitionSpec(nrows={spec.nrows}, nvals={spec.nvals}, "
            f"uniform_row_length={spec.uniform_row_length}, dtype={spec.dtype!r})"
        )
    if isinstance(spec, ExtensionTypeSpec):
        fields = ", ".join(f"{esc(k)}={_format(v, esc, False)}" for k, v in spec.fields)
        return f"AnonymousExtensionTypeSpec({fields})"
    if isinstance(spec, UnknownTypeSpec):
        name = esc(spec.class_name) if spec.class_name else "TypeSpec"
        where = f" at {esc(spec.where)}" if spec.where else ""
        return (
            f"<unknown {name} (type_spec_class={spec.type_spec_class}){where}: {esc(spec.reason)}>"
        )
    # TensorFlow's TypeSpec.__repr__: the class name, then repr() of _serialize().
    return esc(spec.type_name) + _format(spec._state(), esc, False)


def _numpy_text(value: NumpyValue, as_str: bool) -> str:
    if value.array is None:
        return f"<array shape={value.shape} dtype={value.dtype.name}: not shown>"
    return str(value.array) if as_str else repr(value.array)


def _tensor_text(value: TensorValue, as_str: bool) -> str:
    # ops.numpy_text: a scalar shows as its Python value (bytes keep numpy's repr).
    if value.array is None:
        text = "<unprintable>"
    elif as_str:
        text = str(value.array[()] if value.array.ndim == 0 else value.array)
    elif value.array.ndim == 0 and not isinstance(value.array[()], bytes):
        text = repr(value.array.item())
    else:
        text = repr(value.array[()] if value.array.ndim == 0 else value.array)
    if "\n" in text:
        text = "\n" + text
    if as_str:
        return f"tf.Tensor({text}, shape={value.shape}, dtype={value.dtype.name})"
    return f"<tf.Tensor: shape={value.shape}, dtype={value.dtype.name}, numpy={text}>"


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------

_TSC = pb.TypeSpecProto
_CLASS_NAMES: dict[int, str] = {
    _TSC.SPARSE_TENSOR_SPEC: "SparseTensorSpec",
    _TSC.INDEXED_SLICES_SPEC: "IndexedSlicesSpec",
    _TSC.RAGGED_TENSOR_SPEC: "RaggedTensorSpec",
    _TSC.TENSOR_ARRAY_SPEC: "TensorArraySpec",
    _TSC.DATA_DATASET_SPEC: "DatasetSpec",
    _TSC.DATA_ITERATOR_SPEC: "IteratorSpec",
    _TSC.OPTIONAL_SPEC: "OptionalSpec",
    _TSC.PER_REPLICA_SPEC: "PerReplicaSpec",
    _TSC.VARIABLE_SPEC: "VariableSpec",
    _TSC.ROW_PARTITION_SPEC: "RowPartitionSpec",
}

# Field names TensorFlow's extension types keep out of their repr
# (extension_type_field.RESERVED_FIELD_NAMES, and any "_tf_extension_type*").
_RESERVED_EXTENSION_FIELDS = frozenset(
    {"self", "Spec", "_type_spec", "_shape_invariant_to_type_spec", "_consumers"}
)


class _BadState(Exception):
    """A TypeSpec state that TensorFlow's constructor would reject."""


class _Decoder:
    def __init__(self, strict: bool, where: str) -> None:
        self.strict = strict
        self.where = where

    def fail(self, path: str, reason: str) -> UnknownValue:
        location = self.where + path
        if self.strict:
            raise SmliteError(f"{location}: {reason}")
        return UnknownValue(reason, location)

    def value(self, proto: pb.StructuredValue, path: str, depth: int) -> Structure:
        if depth > MAX_DEPTH:
            return self.fail(path, f"nested deeper than {MAX_DEPTH} levels")
        kind = proto.WhichOneof("kind")
        if kind is None:
            return self.fail(path, _empty_reason(proto))
        if kind == "none_value":
            return None
        if kind in ("float64_value", "int64_value", "string_value", "bool_value"):
            scalar: Structure = getattr(proto, kind)
            return scalar
        if kind == "tensor_shape_value":
            return TensorShape.from_proto(proto.tensor_shape_value)
        if kind == "tensor_dtype_value":
            return DType(proto.tensor_dtype_value)
        if kind == "tensor_spec_value":
            t = proto.tensor_spec_value
            return TensorSpec(TensorShape.from_proto(t.shape), DType(t.dtype), t.name or None)
        if kind == "bounded_tensor_spec_value":
            b = proto.bounded_tensor_spec_value
            dtype = DType(b.dtype)
            return BoundedTensorSpec(
                TensorShape.from_proto(b.shape),
                dtype,
                b.name or None,
                _numpy_value(b.minimum, dtype),
                _numpy_value(b.maximum, dtype),
            )
        if kind == "list_value":
            items = proto.list_value.values
            return ListValue(
                tuple(self.value(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(items))
            )
        if kind == "tuple_value":
            items = proto.tuple_value.values
            return tuple(self.value(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(items))
        if kind == "dict_value":
            fields = proto.dict_value.fields
            return DictValue(
                tuple(
                    (k, self.value(fields[k], f"{path}[{k!r}]", depth + 1)) for k in sorted(fields)
                )
            )
        if kind == "named_tuple_value":
            nt = proto.named_tuple_value
            return NamedTupleValue(
                nt.name,
                tuple(
                    (p.key, self.value(p.value, f"{path}.{p.key}", depth + 1)) for p in nt.values
                ),
            )
        if kind == "type_spec_value":
            return self.type_spec(proto.type_spec_value, path, depth + 1)
        if kind == "tensor_value":
            dtype = DType(proto.tensor_value.dtype)
            shape = TensorShape.from_proto(proto.tensor_value.tensor_shape)
            array = _ndarray(proto.tensor_value)
            return TensorValue(dtype, shape, array, proto.tensor_value)
        if kind == "numpy_value":
            return _numpy_value(proto.numpy_value, None)
        return self.fail(path, f"unsupported StructuredValue kind {kind!r}")

    def type_spec(self, proto: pb.TypeSpecProto, path: str, depth: int) -> Structure:
        if depth > MAX_DEPTH:
            return self.fail(path, f"nested deeper than {MAX_DEPTH} levels")
        cls = int(proto.type_spec_class)
        name = proto.type_spec_class_name
        state_path = f"{path}.type_state"
        state: Structure = None
        if proto.HasField("type_state"):
            state = self.value(proto.type_state, state_path, depth + 1)
        if cls == _TSC.EXTENSION_TYPE_SPEC:
            fields = _pairs(state)
            if fields is not None:
                return ExtensionTypeSpec(
                    name, tuple((k, v) for k, v in fields if not _reserved_field(k))
                )
            return self._bad_spec(cls, name, state, path, "its state is not (name, value) pairs")
        if cls == _TSC.REGISTERED_TYPE_SPEC:
            return RegisteredTypeSpec(name, state)
        builder = _BUILDERS.get(cls)
        if builder is None:
            enum = _TSC.TypeSpecClass
            known = cls in enum.values()
            reason = (
                f"TypeSpec class {enum.Name(cls)} cannot be rebuilt"
                if known
                else f"unknown TypeSpec class {cls} (written by a newer TensorFlow?)"
            )
            return self._bad_spec(cls, name, state, path, reason)
        try:
            return builder(_as_args(state))
        except _BadState as e:
            return self._bad_spec(cls, name or _CLASS_NAMES.get(cls, ""), state, path, str(e))

    def _bad_spec(
        self, cls: int, name: str, state: Structure, path: str, reason: str
    ) -> UnknownTypeSpec:
        location = self.where + path
        if self.strict:
            raise SmliteError(f"{location}: {reason}")
        return UnknownTypeSpec(cls, name, reason, state, location)


def _empty_reason(proto: pb.StructuredValue) -> str:
    numbers = _unknown_field_numbers(proto)
    if numbers:
        listed = ", ".join(str(n) for n in numbers)
        return (
            f"StructuredValue of an unknown kind (field {listed}; written by a newer TensorFlow?)"
        )
    return "empty StructuredValue (no kind set)"


def _unknown_field_numbers(message: pb.Message) -> list[int]:
    try:
        from google.protobuf import unknown_fields

        fields = unknown_fields.UnknownFieldSet(message)
        return sorted({fields[i].field_number for i in range(len(fields))})
    except Exception:  # only used to word a message
        return []


def _reserved_field(name: str) -> bool:
    return name in _RESERVED_EXTENSION_FIELDS or name.lower().startswith("_tf_extension_type")


def _pairs(state: Structure) -> list[tuple[str, Structure]] | None:
    if not isinstance(state, tuple):
        return None
    pairs: list[tuple[str, Structure]] = []
    for item in state:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            return None
        pairs.append((item[0], item[1]))
    return pairs


def _as_args(state: Structure) -> tuple[Structure, ...]:
    # TypeSpec._deserialize calls cls(*state): the state must be a tuple (or list).
    if isinstance(state, tuple):
        return state
    if isinstance(state, (ListValue, NamedTupleValue)):
        return tuple(state)
    if isinstance(state, UnknownValue):
        raise _BadState(f"its state could not be decoded: {state.reason}")
    raise _BadState(f"its state should be a tuple, found {type_name(state)}")


def _arg(args: tuple[Structure, ...], i: int, default: Structure) -> Structure:
    return args[i] if i < len(args) else default


def _check_count(args: tuple[Structure, ...], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        raise _BadState(f"its state has {len(args)} items, expected {expected}")


def _shape(value: Structure) -> TensorShape:
    """tensor_shape.as_shape: a TensorShape, None (unknown rank) or a sequence of dims."""
    if isinstance(value, TensorShape):
        return value
    if value is None:
        return TensorShape(None)
    if isinstance(value, (tuple, ListValue)):
        dims: list[int] = []
        for d in value:
            if d is None:
                dims.append(-1)
            elif isinstance(d, int) and not isinstance(d, bool) and d >= 0:
                dims.append(d)
            else:
                raise _BadState(f"a shape dimension is {tf_repr(d)}")
        return TensorShape(tuple(dims))
    raise _BadState(f"a shape is {type_name(value)}")


def _dtype(value: Structure) -> DType:
    if isinstance(value, DType):
        return value
    raise _BadState(f"a dtype is {type_name(value)}")


def _int(value: Structure) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _BadState(f"an integer is {type_name(value)}")


def _build_sparse(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 2)
    return SparseTensorSpec(_shape(_arg(args, 0, None)), _dtype(_arg(args, 1, DType(1))))


def _build_indexed_slices(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 5)
    dense = _arg(args, 3, None)
    indices_shape = _shape(_arg(args, 4, None))
    # IndexedSlicesSpec: indices_shape.with_rank(1); an unknown rank becomes [None].
    if indices_shape.dims is None:
        indices_shape = TensorShape((-1,))
    elif len(indices_shape.dims) != 1:
        raise _BadState(f"indices_shape {indices_shape!r} is not of rank 1")
    return IndexedSlicesSpec(
        _shape(_arg(args, 0, None)),
        _dtype(_arg(args, 1, DType(1))),
        _dtype(_arg(args, 2, DType(9))),
        None if dense is None else _dtype(dense),
        indices_shape,
    )


def _build_ragged(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 5)
    shape = _shape(_arg(args, 0, None))
    flat_values_spec = _arg(args, 4, None)
    dtype_arg = _arg(args, 1, DType(1))
    if dtype_arg is None:
        dtype_arg = getattr(flat_values_spec, "dtype", None)
    dtype = _dtype(dtype_arg)
    rank = shape.rank
    ragged = _arg(args, 2, None)
    if ragged is None:
        if rank is None:
            raise _BadState("neither ragged_rank nor the rank of the shape is known")
        ragged = rank - 1
    ragged_rank = _int(ragged)
    if rank is not None and ragged_rank >= rank:
        raise _BadState(f"ragged_rank ({ragged_rank}) is not less than the rank ({rank})")
    return RaggedTensorSpec(
        shape, dtype, ragged_rank, _dtype(_arg(args, 3, DType(9))), flat_values_spec
    )


def _build_tensor_array(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 4)
    return TensorArraySpec(
        _shape(_arg(args, 0, None)),
        _dtype(_arg(args, 1, DType(1))),
        _arg(args, 2, False),
        _arg(args, 3, True),
    )


def _build_dataset(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 1, 2)
    return DatasetSpec(args[0], _shape(_arg(args, 1, ())))


def _build_iterator(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 1, 1)
    return IteratorSpec(args[0])


def _build_optional(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 1, 1)
    return OptionalSpec(args[0])


def _build_per_replica(args: tuple[Structure, ...]) -> TypeSpec:
    return PerReplicaSpec(tuple(args))


def _build_variable(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 1, 4)
    return VariableSpec(
        _shape(args[0]), _dtype(_arg(args, 1, DType(1))), _arg(args, 2, True), _arg(args, 3, None)
    )


def _dim_of_partition(value: Structure) -> int | None:
    # RowPartitionSpec stores each dimension as a rank-1 TensorShape.
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    shape = _shape(value)
    if shape.dims is None or len(shape.dims) != 1:
        raise _BadState(f"a row-partition dimension is {shape!r}")
    return shape.dims[0]


def _build_row_partition(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 4)
    nrows = _dim_of_partition(_arg(args, 0, None))
    nvals = _dim_of_partition(_arg(args, 1, None))
    ncols = _dim_of_partition(_arg(args, 2, None))
    dtype = _dtype(_arg(args, 3, DType(9)))
    # The constructor infers what the other dimensions imply.
    if (nrows == 0 or ncols == 0) and nvals is None:
        nvals = 0
    if ncols is not None and nvals is not None and nrows is None and ncols != 0:
        nrows = nvals // ncols
    if ncols is not None and nrows is not None and nvals is None:
        nvals = ncols * nrows
    return RowPartitionSpec(nrows, nvals, ncols, dtype)


_BUILDERS: dict[int, Callable[[tuple[Structure, ...]], TypeSpec]] = {
    _TSC.SPARSE_TENSOR_SPEC: _build_sparse,
    _TSC.INDEXED_SLICES_SPEC: _build_indexed_slices,
    _TSC.RAGGED_TENSOR_SPEC: _build_ragged,
    _TSC.TENSOR_ARRAY_SPEC: _build_tensor_array,
    _TSC.DATA_DATASET_SPEC: _build_dataset,
    _TSC.DATA_ITERATOR_SPEC: _build_iterator,
    _TSC.OPTIONAL_SPEC: _build_optional,
    _TSC.PER_REPLICA_SPEC: _build_per_replica,
    _TSC.VARIABLE_SPEC: _build_variable,
    _TSC.ROW_PARTITION_SPEC: _build_row_partition,
}


def decode_structure(
    proto: pb.StructuredValue, *, strict: bool = False, where: str = ""
) -> Structure:
    """Decode a StructuredValue into smlite's objects.

    ``where`` names the proto in messages and placeholders (e.g.
    ``"concrete_functions['__inference_f_12'].output_signature"``).  With
    ``strict=True`` anything undecodable raises a :class:`SmliteError` saying
    where; otherwise it becomes a placeholder.

    >>> from smlite import pb
    >>> v = pb.StructuredValue()
    >>> v.tensor_spec_value.dtype = 1
    >>> v.tensor_spec_value.name = "x"
    >>> decode_structure(v)
    TensorSpec(shape=(), dtype=tf.float32, name='x')
    """
    return _Decoder(strict, where).value(proto, "", 0)


def decode_type_spec(
    proto: pb.TypeSpecProto, *, strict: bool = False, where: str = ""
) -> Structure:
    """Decode a TypeSpecProto (e.g. a signature's composite tensor) the same way."""
    return _Decoder(strict, where).type_spec(proto, "", 0)


# ---------------------------------------------------------------------------
# TensorProto -> numpy (tensor_util.MakeNdarray's rules)
# ---------------------------------------------------------------------------


def _numpy_value(proto: pb.TensorProto, cast: DType | None) -> NumpyValue:
    array = _ndarray(proto)
    dtype = DType(proto.dtype)
    if array is not None and cast is not None:
        # BoundedTensorSpec converts its bounds to the spec's dtype.
        target = cast.numpy
        try:
            array = array.astype(target) if target is not None else None
        except (TypeError, ValueError):
            array = None
        dtype = cast
    shape = TensorShape(tuple(array.shape)) if array is not None else _proto_shape(proto)
    return NumpyValue(dtype, shape, array, proto)


def _proto_shape(proto: pb.TensorProto) -> TensorShape:
    return TensorShape.from_proto(proto.tensor_shape)


def _ndarray(proto: pb.TensorProto) -> np.ndarray[Any, Any] | None:
    """The tensor as a numpy array, or None if it is too big, malformed or of a handle type."""
    import numpy as np

    dims = [d.size for d in proto.tensor_shape.dim]
    if any(d < 0 for d in dims):
        return None
    count = math.prod(dims)
    if count > _MAX_ARRAY_ELEMENTS:
        return None
    dtype = DType(proto.dtype)
    if dtype.is_ref or dtype.value in (20, 21):  # resource, variant
        return None
    if dtype.value == 7:  # string
        texts = list(proto.string_val)
        if len(texts) < count:
            texts.extend([texts[-1] if texts else b""] * (count - len(texts)))
        if len(texts) != count:
            return None
        strings = np.empty(count, dtype=object)
        strings[:] = texts
        return strings.reshape(dims)
    np_dtype = dtype.numpy
    if np_dtype is None:
        return None
    try:
        if proto.tensor_content:
            raw = np.frombuffer(proto.tensor_content, dtype=np_dtype)
            return raw.copy().reshape(dims)
        values = _typed_values(proto, dtype.value, np_dtype)
        if values is None:
            return None
        if values.size == 0:
            return np.zeros(dims, np_dtype)
        if values.size < count:
            values = np.pad(values, (0, count - values.size), "edge")
        return values[:count].reshape(dims)
    except (ValueError, TypeError):
        return None


def _typed_values(
    proto: pb.TensorProto, dtype: int, np_dtype: np.dtype[Any]
) -> np.ndarray[Any, Any] | None:
    import numpy as np

    if dtype in (14, 19):  # bfloat16, half: bit patterns in half_val
        return np.array(list(proto.half_val), dtype=np.uint16).view(np_dtype)
    if dtype in (24, 25, 33):  # float8_e5m2, float8_e4m3fn, float4_e2m1fn
        return np.frombuffer(bytes(proto.float8_val), dtype=np.uint8).view(np_dtype)
    if dtype == 1:
        return np.array(list(proto.float_val), dtype=np_dtype)
    if dtype == 2:
        return np.array(list(proto.double_val), dtype=np_dtype)
    if dtype in (3, 4, 5, 6, 11, 12, 13, 15, 16, 17, 29, 30, 31, 32):
        return np.array(list(proto.int_val), dtype=np_dtype)
    if dtype == 9:
        return np.array(list(proto.int64_val), dtype=np_dtype)
    if dtype == 22:
        return np.array(list(proto.uint32_val), dtype=np_dtype)
    if dtype == 23:
        return np.array(list(proto.uint64_val), dtype=np_dtype)
    if dtype in (8, 18):
        flat = list(proto.scomplex_val if dtype == 8 else proto.dcomplex_val)
        pairs = [complex(flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2)]
        return np.array(pairs, dtype=np_dtype)
    if dtype == 10:
        return np.array(list(proto.bool_val), dtype=np_dtype)
    return None
