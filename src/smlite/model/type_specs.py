"""TypeSpecs of a SavedModel's nested structures, as TensorFlow's Python classes hold them.

A ``TypeSpecProto`` names a TypeSpec class and stores what the spec's
``_serialize()`` returned (usually its constructor arguments) as a
StructuredValue; :mod:`smlite.model.structure_decoder` rebuilds the spec the
way TensorFlow's constructor would (defaults, inferred ranks) into the frozen
classes below, keeping the stored proto's content in :class:`SpecSource`.

Wire layout (``tensorflow/core/protobuf/struct.proto``)::

    TypeSpecProto := { 1: TypeSpecClass type_spec_class, 2: StructuredValue type_state,
                       3: string type_spec_class_name, 4: int32 num_flat_components }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smlite import pb
from smlite.model.dtypes import DType
from smlite.model.tensors import TensorShape

if TYPE_CHECKING:
    from smlite.model.structure import NumpyValue, Structure

__all__ = [
    "BoundedTensorSpec",
    "DatasetSpec",
    "ExtensionTypeSpec",
    "IndexedSlicesSpec",
    "IteratorSpec",
    "OptionalSpec",
    "PerReplicaSpec",
    "RaggedTensorSpec",
    "RegisteredTypeSpec",
    "RowPartitionSpec",
    "SparseTensorSpec",
    "SpecSource",
    "TensorArraySpec",
    "TensorSpec",
    "TypeSpec",
    "UnknownTypeSpec",
    "VariableSpec",
]


@dataclass(frozen=True, slots=True)
class SpecSource:
    """A TypeSpecProto as stored, next to the TypeSpec rebuilt from it.

    The rebuilt spec applies the constructor's defaults and inferences; this
    keeps what the file says (the JSON documents show it): the class enum
    value, ``type_spec_class_name``, ``num_flat_components`` and the decoded
    ``type_state`` (None when absent).
    """

    type_spec_class: int
    class_name: str
    num_flat_components: int
    state: Structure = None

    @property
    def class_enum_name(self) -> str:
        """``RAGGED_TENSOR_SPEC``; ``UNKNOWN_<n>`` for a class this schema does not know."""
        known = pb.enum_name(pb.TypeSpecProto.TypeSpecClass, self.type_spec_class)
        return known or f"UNKNOWN_{self.type_spec_class}"


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """Base of the TypeSpec objects (:mod:`smlite.render.tf_repr` prints TensorFlow's repr).

    ``source`` is the TypeSpecProto the spec was rebuilt from (None for a
    ``TensorSpec``/``BoundedTensorSpec``, which are stored as their own protos).
    """

    source: SpecSource | None = field(default=None, kw_only=True, compare=False, repr=False)

    @property
    def type_name(self) -> str:
        """The Python class name TensorFlow would use (``type(spec).__name__``)."""
        return type(self).__name__

    def serialized(self) -> tuple[Structure, ...]:
        """What TensorFlow's ``_serialize()`` returns (its default repr prints it)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class TensorSpec(TypeSpec):
    """``tf.TensorSpec``: ``TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')``."""

    shape: TensorShape
    dtype: DType
    name: str | None = None

    def serialized(self) -> tuple[Structure, ...]:
        return (self.shape, self.dtype, self.name)


@dataclass(frozen=True, slots=True)
class BoundedTensorSpec(TypeSpec):
    """``tf.BoundedTensorSpec``: a TensorSpec with numpy ``minimum``/``maximum`` arrays."""

    shape: TensorShape
    dtype: DType
    name: str | None
    minimum: NumpyValue
    maximum: NumpyValue

    def serialized(self) -> tuple[Structure, ...]:
        return (self.shape, self.dtype, self.minimum, self.maximum, self.name)


@dataclass(frozen=True, slots=True)
class SparseTensorSpec(TypeSpec):
    """``tf.SparseTensorSpec``: ``SparseTensorSpec(TensorShape([None, 10]), tf.float32)``."""

    shape: TensorShape
    dtype: DType

    def serialized(self) -> tuple[Structure, ...]:
        return (self.shape, self.dtype)


@dataclass(frozen=True, slots=True)
class IndexedSlicesSpec(TypeSpec):
    """``tf.IndexedSlicesSpec`` (``dense_shape_dtype`` None when there is no dense shape)."""

    shape: TensorShape
    dtype: DType
    indices_dtype: DType
    dense_shape_dtype: DType | None
    indices_shape: TensorShape

    def serialized(self) -> tuple[Structure, ...]:
        return (
            self.shape,
            self.dtype,
            self.indices_dtype,
            self.dense_shape_dtype,
            self.indices_shape,
        )


@dataclass(frozen=True, slots=True)
class RaggedTensorSpec(TypeSpec):
    """``tf.RaggedTensorSpec``.

    ``RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, tf.int64)``
    """

    shape: TensorShape
    dtype: DType
    ragged_rank: int
    row_splits_dtype: DType
    flat_values_spec: Structure = None

    def serialized(self) -> tuple[Structure, ...]:
        base: tuple[Structure, ...] = (
            self.shape,
            self.dtype,
            self.ragged_rank,
            self.row_splits_dtype,
        )
        return base if self.flat_values_spec is None else (*base, self.flat_values_spec)


@dataclass(frozen=True, slots=True)
class TensorArraySpec(TypeSpec):
    """``tf.TensorArraySpec``."""

    element_shape: TensorShape
    dtype: DType
    dynamic_size: Structure = False
    infer_shape: Structure = True

    def serialized(self) -> tuple[Structure, ...]:
        return (self.element_shape, self.dtype, self.dynamic_size, self.infer_shape)


@dataclass(frozen=True, slots=True)
class DatasetSpec(TypeSpec):
    """``tf.data.DatasetSpec``: the structure of a dataset's elements."""

    element_spec: Structure
    dataset_shape: TensorShape = field(default_factory=lambda: TensorShape(()))

    def serialized(self) -> tuple[Structure, ...]:
        return (self.element_spec, self.dataset_shape)


@dataclass(frozen=True, slots=True)
class IteratorSpec(TypeSpec):
    """``tf.data.IteratorSpec``."""

    element_spec: Structure

    def serialized(self) -> tuple[Structure, ...]:
        return (self.element_spec,)


@dataclass(frozen=True, slots=True)
class OptionalSpec(TypeSpec):
    """``tf.OptionalSpec``: ``OptionalSpec(TensorSpec(...),)``."""

    element_spec: Structure

    def serialized(self) -> tuple[Structure, ...]:
        return (self.element_spec,)


@dataclass(frozen=True, slots=True)
class PerReplicaSpec(TypeSpec):
    """``tf.distribute`` PerReplicaSpec: one spec per replica."""

    value_specs: tuple[Structure, ...] = ()

    def serialized(self) -> tuple[Structure, ...]:
        return self.value_specs


@dataclass(frozen=True, slots=True)
class VariableSpec(TypeSpec):
    """``VariableSpec(shape=(2,), dtype=tf.float32, trainable=True, alias_id=None)``."""

    shape: TensorShape
    dtype: DType
    trainable: Structure = True
    alias_id: Structure = None

    def serialized(self) -> tuple[Structure, ...]:
        return (self.shape, self.dtype, self.trainable, self.alias_id)


@dataclass(frozen=True, slots=True)
class RowPartitionSpec(TypeSpec):
    """``RowPartitionSpec(nrows=None, nvals=None, uniform_row_length=None, dtype=tf.int64)``."""

    nrows: int | None
    nvals: int | None
    uniform_row_length: int | None
    dtype: DType

    def serialized(self) -> tuple[Structure, ...]:
        return (
            TensorShape((_raw(self.nrows),)),
            TensorShape((_raw(self.nvals),)),
            TensorShape((_raw(self.uniform_row_length),)),
            self.dtype,
        )


@dataclass(frozen=True, slots=True)
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

    def serialized(self) -> tuple[Structure, ...]:
        return tuple(self.fields)


@dataclass(frozen=True, slots=True)
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

    def serialized(self) -> tuple[Structure, ...]:
        return self.state if isinstance(self.state, tuple) else (self.state,)


@dataclass(frozen=True, slots=True)
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

    def serialized(self) -> tuple[Structure, ...]:
        return (self.state,)


def _raw(dim: int | None) -> int:
    return -1 if dim is None else dim
