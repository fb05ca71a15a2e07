"""Shapes and signature tensors: typed views over TensorShapeProto and TensorInfo."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from smlite import pb
from smlite.model.dtypes import DType

__all__ = ["CooSparse", "TensorInfo", "TensorShape"]


@dataclass(frozen=True, slots=True)
class TensorShape:
    """A shape: ``dims is None`` for unknown rank, ``None`` entries for unknown sizes.

    ``raw_dims`` keeps the stored sizes (``-1`` for unknown), which is what
    ``saved_model_cli`` prints.
    """

    raw_dims: tuple[int, ...] | None

    @classmethod
    def from_proto(cls, proto: pb.TensorShapeProto) -> TensorShape:
        if proto.unknown_rank:
            return cls(None)
        return cls(tuple(d.size for d in proto.dim))

    @property
    def dims(self) -> tuple[int | None, ...] | None:
        if self.raw_dims is None:
            return None
        return tuple(None if d < 0 else d for d in self.raw_dims)

    @property
    def rank(self) -> int | None:
        return None if self.raw_dims is None else len(self.raw_dims)

    @property
    def is_fully_defined(self) -> bool:
        return self.raw_dims is not None and all(d >= 0 for d in self.raw_dims)

    def num_elements(self) -> int | None:
        """Number of elements, or None when not fully defined."""
        if not self.is_fully_defined:
            return None
        n = 1
        for d in self.raw_dims or ():
            n *= d
        return n

    def __repr__(self) -> str:
        # TensorFlow's spelling: TensorShape(None), TensorShape([]), TensorShape([None, 3])
        if self.dims is None:
            return "TensorShape(None)"
        inner = ", ".join("None" if d is None else str(d) for d in self.dims)
        return f"TensorShape([{inner}])"

    def __str__(self) -> str:
        if self.dims is None:
            return "<unknown>"
        inner = ", ".join("None" if d is None else str(d) for d in self.dims)
        return f"({inner},)" if len(self.dims) == 1 else f"({inner})"


@dataclass(frozen=True, slots=True)
class CooSparse:
    """The three dense tensors a SparseTensor signature entry names."""

    values_tensor_name: str
    indices_tensor_name: str
    dense_shape_tensor_name: str


Encoding = Literal["name", "coo_sparse", "composite_tensor", "none"]


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """One input or output of a signature.

    ``encoding`` says how the tensor is wired into the graph: ``name`` (a
    dense tensor ``op:index``), ``coo_sparse`` (a SparseTensor given by three
    tensors) or ``composite_tensor`` (a RaggedTensor or other composite given
    by its ``type_spec`` and component tensors).
    """

    dtype: DType
    shape: TensorShape
    encoding: Encoding
    name: str | None = None
    coo_sparse: CooSparse | None = None
    components: tuple[TensorInfo, ...] = ()
    proto: pb.TensorInfo = field(default_factory=lambda: pb.TensorInfo(), repr=False, compare=False)

    @classmethod
    def from_proto(cls, proto: pb.TensorInfo) -> TensorInfo:
        which = proto.WhichOneof("encoding")
        coo = None
        components: tuple[TensorInfo, ...] = ()
        if which == "coo_sparse":
            c = proto.coo_sparse
            coo = CooSparse(c.values_tensor_name, c.indices_tensor_name, c.dense_shape_tensor_name)
        elif which == "composite_tensor":
            components = tuple(cls.from_proto(t) for t in proto.composite_tensor.components)
        return cls(
            dtype=DType(proto.dtype),
            shape=TensorShape.from_proto(proto.tensor_shape),
            encoding=which or "none",
            name=proto.name if which == "name" else None,
            coo_sparse=coo,
            components=components,
            proto=proto,
        )

    @property
    def tensor_names(self) -> tuple[str, ...]:
        """Every graph tensor (``op:index``) this entry refers to."""
        if self.encoding == "name" and self.name:
            return (self.name,)
        if self.coo_sparse is not None:
            c = self.coo_sparse
            return (c.values_tensor_name, c.indices_tensor_name, c.dense_shape_tensor_name)
        return tuple(n for comp in self.components for n in comp.tensor_names)

    @property
    def type_spec(self) -> pb.TypeSpecProto | None:
        if self.encoding != "composite_tensor":
            return None
        return self.proto.composite_tensor.type_spec

    @property
    def kind(self) -> str:
        """``Tensor``, ``SparseTensor``, or the composite's TypeSpec class name."""
        if self.encoding == "coo_sparse":
            return "SparseTensor"
        if self.encoding == "composite_tensor":
            spec = self.proto.composite_tensor.type_spec
            name = (
                spec.type_spec_class_name
                or pb.enum_name(pb.TypeSpecProto.TypeSpecClass, spec.type_spec_class)
                or "Composite"
            )
            return name.removesuffix("Spec") if name.endswith("Spec") else name
        return "Tensor"

    def __repr__(self) -> str:
        where = self.name if self.encoding == "name" else self.encoding
        return f"TensorInfo({self.kind}, dtype={self.dtype!r}, shape={self.shape}, {where})"
