"""Decoding StructuredValue and TypeSpecProto into smlite's frozen objects.

This is TensorFlow's ``nested_structure_coder.decode_proto`` without
TensorFlow: Python values become :mod:`smlite.model.structure` objects,
TypeSpecs are rebuilt the way their constructors would rebuild them
(:mod:`smlite.model.type_specs`, built by :mod:`smlite.model.type_spec_builders`),
constants become numpy arrays (:mod:`smlite.model.tensor_proto`).

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

A TypeSpec's ``type_state`` is what the TypeSpec's ``_serialize()`` returned,
usually a tuple of its constructor arguments.

Nothing here raises on odd input: an empty ``StructuredValue``, a TypeSpec
class this TensorFlow does not know, a state of the wrong shape or nesting
deeper than :data:`~smlite.model.structure.MAX_DEPTH` decode to an
:class:`~smlite.model.structure.UnknownValue` /
:class:`~smlite.model.type_specs.UnknownTypeSpec` placeholder that says what
was found and where.  ``decode_structure(..., strict=True)`` raises a located
:class:`~smlite.errors.SmliteError` instead.
"""

from __future__ import annotations

from dataclasses import replace

from smlite import pb
from smlite.errors import SmliteError
from smlite.model.dtypes import DType
from smlite.model.structure import (
    MAX_DEPTH,
    DictValue,
    ListValue,
    NamedTupleValue,
    NumpyValue,
    Structure,
    TensorValue,
    UnknownValue,
)
from smlite.model.tensor_proto import tensor_proto_array
from smlite.model.tensors import TensorInfo, TensorShape
from smlite.model.type_spec_builders import BadState, class_name, rebuild
from smlite.model.type_specs import (
    BoundedTensorSpec,
    ExtensionTypeSpec,
    RegisteredTypeSpec,
    SpecSource,
    TensorSpec,
    TypeSpec,
    UnknownTypeSpec,
)

__all__ = ["composite_value_spec", "decode_structure", "decode_type_spec"]

_TSC = pb.TypeSpecProto

# Field names TensorFlow's extension types keep out of their repr
# (extension_type_field.RESERVED_FIELD_NAMES, and any "_tf_extension_type*").
_RESERVED_EXTENSION_FIELDS = frozenset(
    {"self", "Spec", "_type_spec", "_shape_invariant_to_type_spec", "_consumers"}
)


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
            array = tensor_proto_array(proto.tensor_value)
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
        source = SpecSource(cls, name, proto.num_flat_components, state)
        if cls == _TSC.EXTENSION_TYPE_SPEC:
            fields = _pairs(state)
            if fields is not None:
                kept = tuple((k, v) for k, v in fields if not _reserved_field(k))
                return ExtensionTypeSpec(name, kept, source=source)
            return self._bad_spec(source, name, path, "its state is not (name, value) pairs")
        if cls == _TSC.REGISTERED_TYPE_SPEC:
            return RegisteredTypeSpec(name, state, source=source)
        try:
            spec = rebuild(cls, state)
        except BadState as e:
            return self._bad_spec(source, name or class_name(cls), path, str(e))
        if spec is None:
            known = pb.enum_name(_TSC.TypeSpecClass, cls)
            reason = (
                f"TypeSpec class {known} cannot be rebuilt"
                if known
                else f"unknown TypeSpec class {cls} (written by a newer TensorFlow?)"
            )
            return self._bad_spec(source, name, path, reason)
        return replace(spec, source=source)

    def _bad_spec(self, source: SpecSource, name: str, path: str, reason: str) -> UnknownTypeSpec:
        location = self.where + path
        if self.strict:
            raise SmliteError(f"{location}: {reason}")
        return UnknownTypeSpec(
            source.type_spec_class, name, reason, source.state, location, source=source
        )


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
    TensorSpec(shape=TensorShape([]), dtype=tf.float32, name='x')
    """
    return _Decoder(strict, where).value(proto, "", 0)


def decode_type_spec(
    proto: pb.TypeSpecProto, *, strict: bool = False, where: str = ""
) -> Structure:
    """Decode a TypeSpecProto (e.g. a signature's composite tensor) the same way."""
    return _Decoder(strict, where).type_spec(proto, "", 0)


def _numpy_value(proto: pb.TensorProto, cast: DType | None) -> NumpyValue:
    array = tensor_proto_array(proto)
    stored = DType(proto.dtype)
    if array is not None and cast is not None:
        # BoundedTensorSpec converts its bounds to the spec's dtype.
        target = cast.numpy
        try:
            array = array.astype(target) if target is not None else None
        except (TypeError, ValueError):
            array = None
        stored = cast
    return NumpyValue(stored, TensorShape.from_proto(proto.tensor_shape), array, proto)


def composite_value_spec(info: TensorInfo) -> tuple[DType | None, TensorShape | None]:
    """The dtype and shape of the value a composite TensorInfo stands for.

    A composite entry's own ``dtype``/``tensor_shape`` are unused (TensorFlow
    leaves them DT_INVALID and ``()``); the TypeSpec's state holds the truth.
    RaggedTensorSpec serializes ``(shape, dtype, ragged_rank,
    row_splits_dtype[, flat_values_spec])`` and SparseTensorSpec
    ``(shape, dtype)``; for other TypeSpecs both are ``None``.
    """
    proto = info.type_spec
    if proto is None or proto.type_spec_class not in (
        _TSC.RAGGED_TENSOR_SPEC,
        _TSC.SPARSE_TENSOR_SPEC,
    ):
        return None, None
    spec = decode_type_spec(proto)
    state = spec.source.state if isinstance(spec, TypeSpec) and spec.source else None
    if not isinstance(state, tuple):
        return None, None
    shape = state[0] if len(state) >= 1 and isinstance(state[0], TensorShape) else None
    value_dtype = state[1] if len(state) >= 2 and isinstance(state[1], DType) else None
    return value_dtype, shape
