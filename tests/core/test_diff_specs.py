"""smlite diff: decoded structures compared by value, and spelled by render as TensorFlow does."""

from __future__ import annotations

import numpy as np

from smlite.model.diff import Decoded
from smlite.model.diff.specs import compare_structures, same_structure
from smlite.model.dtypes import DType
from smlite.model.structure import DictValue, NumpyValue
from smlite.model.tensors import TensorShape
from smlite.model.type_specs import BoundedTensorSpec, RaggedTensorSpec, SpecSource, TensorSpec
from smlite.render.diff import spell
from smlite.render.tf_repr import tf_repr

F32, I64 = DType(1), DType(9)


def _bounded(low: float, high: float) -> BoundedTensorSpec:
    def array(x: float) -> NumpyValue:
        return NumpyValue(F32, TensorShape(()), np.array(x, dtype=np.float32))

    return BoundedTensorSpec(TensorShape((2,)), F32, "action", array(low), array(high))


def test_array_bounds_are_compared_by_content() -> None:
    # NumpyValue leaves its array out of ==: the bounds must still count.
    assert _bounded(0.0, 1.0) == _bounded(0.0, 2.0)
    (delta,) = compare_structures(_bounded(0.0, 1.0), _bounded(0.0, 2.0))
    assert (delta.where, delta.aspect) == (".maximum", "value")
    assert isinstance(delta.old, Decoded) and isinstance(delta.new, Decoded)
    assert same_structure(_bounded(0.0, 1.0), _bounded(0.0, 1.0))


def test_the_stored_proto_is_not_compared_nan_equals_nan() -> None:
    def ragged(flat_components: int) -> RaggedTensorSpec:
        source = SpecSource(2, "RaggedTensorSpec", flat_components)
        return RaggedTensorSpec(TensorShape((-1, -1)), F32, 1, I64, source=source)

    assert compare_structures(ragged(2), ragged(3)) == []
    assert same_structure((float("nan"), 1), (float("nan"), 1))
    assert not same_structure((float("nan"),), (1.0,))


def test_deltas_keep_typed_values() -> None:
    old = DictValue((("x", TensorSpec(TensorShape((-1, 3)), F32, "x")),))
    new = DictValue(
        (
            ("x", TensorSpec(TensorShape((-1, 3)), DType(2), "x")),
            ("y", TensorSpec(TensorShape(()), F32, "y")),
        )
    )
    dtype, added = compare_structures(old, new)
    assert (dtype.where, dtype.aspect, dtype.old, dtype.new) == ("['x']", "dtype", F32, DType(2))
    assert (added.where, added.aspect, added.old) == ("['y']", "key-added", None)
    assert added.new == Decoded(new["y"])


def test_spell() -> None:
    spec = TensorSpec(TensorShape((-1, 3)), F32, "x")
    assert (
        spell(Decoded(spec))
        == tf_repr(spec)
        == ("TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')")
    )
    assert (spell(F32), spell(TensorShape((-1, 3))), spell("a name")) == (
        "float32",
        "(None, 3)",
        "a name",
    )
    # A decoded string constant is quoted as TensorFlow's repr quotes it; a name is not.
    assert spell(Decoded("a")) == "'a'"
