"""TypeSpecs rebuilt from their serialized state, as their constructors would rebuild them.

A TypeSpecProto's ``type_state`` is what the spec's ``_serialize()``
returned, usually the tuple of its constructor arguments;
``TypeSpec._deserialize`` calls ``cls(*state)``, and the constructor fills
in defaults and infers what the other arguments imply.  :func:`rebuild` does
the same for the TypeSpec classes TensorFlow names in ``TypeSpecClass``
(extension and registered types are decoded by
:mod:`smlite.model.structure_decoder`, which calls this).
"""

from __future__ import annotations

from collections.abc import Callable

from smlite import pb
from smlite.model import dtypes
from smlite.model.dtypes import DType
from smlite.model.structure import ListValue, NamedTupleValue, Structure, UnknownValue, type_name
from smlite.model.tensors import TensorShape
from smlite.model.type_specs import (
    DatasetSpec,
    IndexedSlicesSpec,
    IteratorSpec,
    OptionalSpec,
    PerReplicaSpec,
    RaggedTensorSpec,
    RowPartitionSpec,
    SparseTensorSpec,
    TensorArraySpec,
    TypeSpec,
    VariableSpec,
)

__all__ = ["BadState", "class_name", "rebuild"]

_FLOAT32 = dtypes.dtype("float32")
_INT64 = dtypes.dtype("int64")


class BadState(Exception):
    """A TypeSpec state that TensorFlow's constructor would reject."""


def _as_args(state: Structure) -> tuple[Structure, ...]:
    # TypeSpec._deserialize calls cls(*state): the state must be a tuple (or list).
    if isinstance(state, tuple):
        return state
    if isinstance(state, (ListValue, NamedTupleValue)):
        return tuple(state)
    if isinstance(state, UnknownValue):
        raise BadState(f"its state could not be decoded: {state.reason}")
    raise BadState(f"its state should be a tuple, found {type_name(state)}")


def _arg(args: tuple[Structure, ...], i: int, default: Structure) -> Structure:
    return args[i] if i < len(args) else default


def _check_count(args: tuple[Structure, ...], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        raise BadState(f"its state has {len(args)} items, expected {expected}")


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
                raise BadState(f"a shape dimension is {_brief(d)}")
        return TensorShape(tuple(dims))
    raise BadState(f"a shape is {type_name(value)}")


def _brief(value: Structure) -> str:
    """A value named in a message: Python's repr of a scalar, the type name of anything else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    return type_name(value)


def _dtype(value: Structure) -> DType:
    if isinstance(value, DType):
        return value
    raise BadState(f"a dtype is {type_name(value)}")


def _int(value: Structure) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise BadState(f"an integer is {type_name(value)}")


def _build_sparse(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 2)
    return SparseTensorSpec(_shape(_arg(args, 0, None)), _dtype(_arg(args, 1, _FLOAT32)))


def _build_indexed_slices(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 5)
    dense = _arg(args, 3, None)
    indices_shape = _shape(_arg(args, 4, None))
    # IndexedSlicesSpec: indices_shape.with_rank(1); an unknown rank becomes [None].
    if indices_shape.dims is None:
        indices_shape = TensorShape((-1,))
    elif len(indices_shape.dims) != 1:
        raise BadState(f"indices_shape {indices_shape!r} is not of rank 1")
    return IndexedSlicesSpec(
        _shape(_arg(args, 0, None)),
        _dtype(_arg(args, 1, _FLOAT32)),
        _dtype(_arg(args, 2, _INT64)),
        None if dense is None else _dtype(dense),
        indices_shape,
    )


def _build_ragged(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 5)
    shape = _shape(_arg(args, 0, None))
    flat_values_spec = _arg(args, 4, None)
    dtype_arg = _arg(args, 1, _FLOAT32)
    if dtype_arg is None:
        dtype_arg = getattr(flat_values_spec, "dtype", None)
    dtype = _dtype(dtype_arg)
    rank = shape.rank
    ragged = _arg(args, 2, None)
    if ragged is None:
        if rank is None:
            raise BadState("neither ragged_rank nor the rank of the shape is known")
        ragged = rank - 1
    ragged_rank = _int(ragged)
    if rank is not None and ragged_rank >= rank:
        raise BadState(f"ragged_rank ({ragged_rank}) is not less than the rank ({rank})")
    return RaggedTensorSpec(
        shape, dtype, ragged_rank, _dtype(_arg(args, 3, _INT64)), flat_values_spec
    )


def _build_tensor_array(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 4)
    return TensorArraySpec(
        _shape(_arg(args, 0, None)),
        _dtype(_arg(args, 1, _FLOAT32)),
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
        _shape(args[0]), _dtype(_arg(args, 1, _FLOAT32)), _arg(args, 2, True), _arg(args, 3, None)
    )


def _dim_of_partition(value: Structure) -> int | None:
    # RowPartitionSpec stores each dimension as a rank-1 TensorShape.
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    shape = _shape(value)
    if shape.dims is None or len(shape.dims) != 1:
        raise BadState(f"a row-partition dimension is {shape!r}")
    return shape.dims[0]


def _build_row_partition(args: tuple[Structure, ...]) -> TypeSpec:
    _check_count(args, 0, 4)
    nrows = _dim_of_partition(_arg(args, 0, None))
    nvals = _dim_of_partition(_arg(args, 1, None))
    ncols = _dim_of_partition(_arg(args, 2, None))
    dtype = _dtype(_arg(args, 3, _INT64))
    # The constructor infers what the other dimensions imply.
    if (nrows == 0 or ncols == 0) and nvals is None:
        nvals = 0
    if ncols is not None and nvals is not None and nrows is None and ncols != 0:
        nrows = nvals // ncols
    if ncols is not None and nrows is not None and nvals is None:
        nvals = ncols * nrows
    return RowPartitionSpec(nrows, nvals, ncols, dtype)


_TSC = pb.TypeSpecProto
# TypeSpecClass -> the spec class and its builder.
_BUILDERS: dict[int, tuple[type[TypeSpec], Callable[[tuple[Structure, ...]], TypeSpec]]] = {
    _TSC.SPARSE_TENSOR_SPEC: (SparseTensorSpec, _build_sparse),
    _TSC.INDEXED_SLICES_SPEC: (IndexedSlicesSpec, _build_indexed_slices),
    _TSC.RAGGED_TENSOR_SPEC: (RaggedTensorSpec, _build_ragged),
    _TSC.TENSOR_ARRAY_SPEC: (TensorArraySpec, _build_tensor_array),
    _TSC.DATA_DATASET_SPEC: (DatasetSpec, _build_dataset),
    _TSC.DATA_ITERATOR_SPEC: (IteratorSpec, _build_iterator),
    _TSC.OPTIONAL_SPEC: (OptionalSpec, _build_optional),
    _TSC.PER_REPLICA_SPEC: (PerReplicaSpec, _build_per_replica),
    _TSC.VARIABLE_SPEC: (VariableSpec, _build_variable),
    _TSC.ROW_PARTITION_SPEC: (RowPartitionSpec, _build_row_partition),
}


def class_name(type_spec_class: int) -> str:
    """The Python class of a TypeSpecClass smlite rebuilds (``SparseTensorSpec``), else ``""``."""
    found = _BUILDERS.get(type_spec_class)
    return found[0].__name__ if found is not None else ""


def rebuild(type_spec_class: int, state: Structure) -> TypeSpec | None:
    """The TypeSpec of ``type_spec_class`` rebuilt from its decoded ``type_state``.

    None for a class smlite has no builder for (extension and registered types
    are the decoder's, anything else is unknown).  Raises :class:`BadState`
    for a state the class's constructor would reject.
    """
    found = _BUILDERS.get(type_spec_class)
    if found is None:
        return None
    return found[1](_as_args(state))
