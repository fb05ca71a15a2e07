"""Comparing shapes and decoded structures (TypeSpecs, nested input signatures) structurally.

The question asked of two shapes is the one a client asks: does the new one
accept every value the old one accepted?  ``widened`` (every old value still
fits: a size became None, a known rank became unknown), ``narrowed`` (the
reverse), ``changed`` (neither: another rank, another fixed size, or both
directions at once) or ``same``.

Structures (the decoded ``StructuredValue``s of :mod:`smlite.model.structure`
and :mod:`smlite.model.type_specs`) are walked together and compared by value;
each difference is a :class:`Delta` saying where inside the structure it is,
which aspect changed, and the two typed values.  Whether a delta breaks
clients depends on whether the structure is something they feed (inputs) or
read (outputs), which the callers decide.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from smlite.model.diff.records import Decoded, Value
from smlite.model.dtypes import DType
from smlite.model.structure import (
    MAX_DEPTH,
    DictValue,
    ListValue,
    NamedTupleValue,
    NumpyValue,
    Structure,
    TensorValue,
    type_name,
)
from smlite.model.tensors import TensorShape
from smlite.model.type_specs import TypeSpec

__all__ = ["Aspect", "Delta", "Relation", "compare_structures", "same_structure", "shape_relation"]

Relation = Literal["same", "widened", "narrowed", "changed"]
Aspect = Literal["dtype", "shape", "name", "kind", "key-added", "key-removed", "structure", "value"]


def shape_relation(old: TensorShape, new: TensorShape) -> Relation:
    """How ``new`` relates to ``old`` as the set of shapes it accepts."""
    o, n = old.dims, new.dims
    if o is None:
        return "same" if n is None else "narrowed"
    if n is None:
        return "widened"
    if len(o) != len(n):
        return "changed"
    wider = narrower = False
    for a, b in zip(o, n, strict=True):
        if a == b:
            continue
        if a is not None and b is not None:
            return "changed"
        if b is None:
            wider = True
        else:
            narrower = True
    if wider and narrower:
        return "changed"
    return "widened" if wider else "narrowed" if narrower else "same"


@dataclass(frozen=True, slots=True)
class Delta:
    """One difference inside a structure: ``where`` (``[0]['a']``), the aspect, old and new."""

    where: str
    aspect: Aspect
    relation: Relation
    old: Value | None
    new: Value | None


def compare_structures(old: Structure, new: Structure) -> list[Delta]:
    """Every difference between two decoded structures, outermost first."""
    out: list[Delta] = []
    _compare(old, new, "", out, 0)
    return out


def same_structure(old: Structure, new: Structure) -> bool:
    """Whether two decoded structures are equal (arrays by content, NaN equal to NaN)."""
    return not compare_structures(old, new)


def _changed(out: list[Delta], where: str, aspect: Aspect, old: Value, new: Value) -> None:
    out.append(Delta(where, aspect, "changed", old, new))


def _compare(old: Structure, new: Structure, where: str, out: list[Delta], depth: int) -> None:
    if depth > MAX_DEPTH:
        # As deep as the decoder goes: the rest is compared whole, by equality.
        if old != new:
            _changed(out, where, "value", Decoded(old), Decoded(new))
        return
    if isinstance(old, TypeSpec) and isinstance(new, TypeSpec):
        _compare_specs(old, new, where, out, depth)
    elif isinstance(old, DictValue) and isinstance(new, DictValue):
        for key in sorted(set(old) | set(new)):
            at = f"{where}[{key!r}]"
            if key not in new:
                out.append(Delta(at, "key-removed", "changed", Decoded(old[key]), None))
            elif key not in old:
                out.append(Delta(at, "key-added", "changed", None, Decoded(new[key])))
            else:
                _compare(old[key], new[key], at, out, depth + 1)
    elif isinstance(old, NamedTupleValue) and isinstance(new, NamedTupleValue):
        if old.name != new.name or [k for k, _ in old.fields] != [k for k, _ in new.fields]:
            _changed(out, where, "structure", Decoded(old), Decoded(new))
            return
        for (key, a), (_, b) in zip(old.fields, new.fields, strict=True):
            _compare(a, b, f"{where}.{key}", out, depth + 1)
    elif _sequence(old) and _sequence(new) and type(old) is type(new):
        items_old, items_new = tuple(old), tuple(new)  # type: ignore[arg-type]
        if len(items_old) != len(items_new):
            _changed(out, where, "structure", Decoded(old), Decoded(new))
            return
        for i, (a, b) in enumerate(zip(items_old, items_new, strict=True)):
            _compare(a, b, f"{where}[{i}]", out, depth + 1)
    elif type_name(old) != type_name(new):
        aspect: Aspect = (
            "kind" if isinstance(old, TypeSpec) or isinstance(new, TypeSpec) else "structure"
        )
        _changed(out, where, aspect, Decoded(old), Decoded(new))
    elif not _same_leaf(old, new):
        _changed(out, where, "value", Decoded(old), Decoded(new))


def _sequence(value: Structure) -> bool:
    return isinstance(value, (tuple, ListValue))


def _same_leaf(old: Structure, new: Structure) -> bool:
    """Two leaves of the same type name, by value as TensorFlow's objects would compare."""
    if isinstance(old, (NumpyValue, TensorValue)) and isinstance(new, (NumpyValue, TensorValue)):
        return _array_key(old) == _array_key(new)
    if isinstance(old, TensorShape) and isinstance(new, TensorShape):
        return old.dims == new.dims
    if isinstance(old, float) and isinstance(new, float) and old != old and new != new:
        return True  # NaN: the same constant in both exports
    return old == new


def _array_key(value: NumpyValue | TensorValue) -> tuple[object, ...]:
    # The spec classes leave arrays out of ==; a changed bound of a BoundedTensorSpec is a
    # changed spec.  Arrays too large to decode are compared as stored.
    array = value.array
    if array is None:
        content: object = value.proto.SerializeToString(deterministic=True)
    elif array.dtype.kind == "O":
        content = array.tolist()
    else:
        content = (array.dtype.str, array.tobytes())
    return (value.dtype, value.shape.dims, content)


def _compare_specs(old: TypeSpec, new: TypeSpec, where: str, out: list[Delta], depth: int) -> None:
    """Two TypeSpecs field by field: dtype, shape, name, nested specs, then the rest."""
    if type(old) is not type(new) or old.type_name != new.type_name:
        _changed(out, where, "kind", old.type_name, new.type_name)
        return
    for f in dataclasses.fields(old):
        if not f.compare:
            continue  # the stored TypeSpecProto: its content is in the other fields
        a, b = getattr(old, f.name), getattr(new, f.name)
        at = f"{where}.{f.name}" if f.name not in ("dtype", "shape", "name") else where
        if isinstance(a, DType) and isinstance(b, DType):
            # The value's dtype; another dtype field (row splits, indices) changes the spec.
            if a != b:
                _changed(out, at, "dtype" if f.name == "dtype" else "value", a, b)
        elif isinstance(a, TensorShape) and isinstance(b, TensorShape):
            relation = shape_relation(a, b)
            if relation != "same":
                out.append(Delta(at, "shape", relation, a, b))
        elif f.name == "name":
            if a != b:
                _changed(out, where, "name", Decoded(a), Decoded(b))
        else:
            _compare(a, b, at, out, depth + 1)
