"""Nested structures of a SavedModel: the Python values TensorFlow rebuilds from StructuredValue.

TensorFlow stores the Python-side calling conventions of saved functions
(input signatures, output structures, argument specs) as ``StructuredValue``
protos and rebuilds Python objects from them when it loads a model
(``tensorflow/python/saved_model/nested_structure_coder.py``).
:func:`smlite.model.structure_decoder.decode_structure` does the same without
TensorFlow, into the frozen objects of this module and of
:mod:`smlite.model.type_specs`; :mod:`smlite.render.tf_repr` prints them
exactly as TensorFlow 2.21 prints the objects it would have built.

Python values map as follows: ``none_value``, ``bool_value``, ``int64_value``,
``float64_value`` and ``string_value`` become plain Python values; a
``tuple_value`` becomes a Python tuple; lists, dicts and namedtuples become
:class:`ListValue`, :class:`DictValue` and :class:`NamedTupleValue`.  Dict
items are kept sorted by key: TensorFlow builds its dicts in protobuf map
order, which is not stable.  What cannot be decoded becomes an
:class:`UnknownValue` that says what was found and where.

The helpers below answer what TensorFlow's object would answer (its type
name, truth value, iteration, ``nest.flatten``), as saved_model_cli's
printing code asks them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smlite import pb
from smlite.model.dtypes import DType
from smlite.model.tensors import TensorShape
from smlite.model.type_specs import TypeSpec

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "MAX_DEPTH",
    "DictValue",
    "ListValue",
    "NamedTupleValue",
    "NumpyValue",
    "Structure",
    "TensorValue",
    "UnknownValue",
    "flatten",
    "is_iterable",
    "iterate",
    "truthy",
    "type_name",
]

#: Deepest nesting decoded.  protobuf refuses to parse messages nested deeper
#: than 100 levels, and each structure level is at least two message levels.
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class ListValue:
    """A Python list (frozen)."""

    items: tuple[Structure, ...] = ()

    def __iter__(self) -> Iterator[Structure]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Structure:
        return self.items[index]


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


@dataclass(frozen=True, slots=True)
class NamedTupleValue:
    """A namedtuple, rebuilt from its type name and field names."""

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


# ---------------------------------------------------------------------------
# Tensors given by value
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumpyValue:
    """A numpy array stored as a TensorProto (``numpy_value``, bounds of a BoundedTensorSpec).

    ``array`` is None when the tensor is too large to show or cannot be
    decoded; ``shape`` is the stored one.
    """

    dtype: DType
    shape: TensorShape
    array: np.ndarray[Any, Any] | None = field(default=None, compare=False)
    proto: pb.TensorProto = field(default_factory=pb.TensorProto, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class TensorValue:
    """A constant tensor (``tensor_value``); shown as an eager ``tf.Tensor``."""

    dtype: DType
    shape: TensorShape
    array: np.ndarray[Any, Any] | None = field(default=None, compare=False)
    proto: pb.TensorProto = field(default_factory=pb.TensorProto, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class UnknownValue:
    """A StructuredValue smlite could not decode: empty, unknown kind, too deep."""

    reason: str
    where: str = ""


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
