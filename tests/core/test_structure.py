"""smlite.model.structure*: StructuredValue / TypeSpecProto decoding; render.tf_repr: the reprs.

The expected reprs are what TensorFlow 2.21 prints for the object its own
``nested_structure_coder.decode_proto`` rebuilds (tests/tf/test_structure_live.py checks the
same on objects TensorFlow encodes).  Protos here are built by hand, including malformed ones.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from smlite import pb
from smlite.errors import SmliteError
from smlite.model.dtypes import DType
from smlite.model.structure import (
    MAX_DEPTH,
    DictValue,
    ListValue,
    NamedTupleValue,
    NumpyValue,
    TensorValue,
    UnknownValue,
    flatten,
    is_iterable,
    iterate,
    truthy,
    type_name,
)
from smlite.model.structure_decoder import decode_structure, decode_type_spec
from smlite.model.tensors import TensorShape
from smlite.model.type_specs import (
    BoundedTensorSpec,
    ExtensionTypeSpec,
    RaggedTensorSpec,
    RegisteredTypeSpec,
    SparseTensorSpec,
    TensorSpec,
    UnknownTypeSpec,
)
from smlite.render.escape import escape
from smlite.render.tf_repr import tf_repr, tf_str

TSC = pb.TypeSpecProto

# -- builders ---------------------------------------------------------------------------------


def sv(**kind: Any) -> pb.StructuredValue:
    return pb.StructuredValue(**kind)


def none() -> pb.StructuredValue:
    return sv(none_value=pb.NoneValue())


def i(v: int) -> pb.StructuredValue:
    return sv(int64_value=v)


def f(v: float) -> pb.StructuredValue:
    return sv(float64_value=v)


def s(v: str) -> pb.StructuredValue:
    return sv(string_value=v)


def b(v: bool) -> pb.StructuredValue:
    return sv(bool_value=v)


def shape_proto(dims: list[int] | None) -> pb.TensorShapeProto:
    if dims is None:
        return pb.TensorShapeProto(unknown_rank=True)
    return pb.TensorShapeProto(dim=[pb.TensorShapeProto.Dim(size=d) for d in dims])


def shape(dims: list[int] | None) -> pb.StructuredValue:
    return sv(tensor_shape_value=shape_proto(dims))


def dtype(v: int) -> pb.StructuredValue:
    return sv(tensor_dtype_value=v)


def tup(*items: pb.StructuredValue) -> pb.StructuredValue:
    return sv(tuple_value=pb.TupleValue(values=list(items)))


def lst(*items: pb.StructuredValue) -> pb.StructuredValue:
    return sv(list_value=pb.ListValue(values=list(items)))


def dct(**fields: pb.StructuredValue) -> pb.StructuredValue:
    value = pb.StructuredValue()
    value.dict_value.SetInParent()
    for k, v in fields.items():
        value.dict_value.fields[k].CopyFrom(v)
    return value


def named(name: str, **fields: pb.StructuredValue) -> pb.StructuredValue:
    pairs = [pb.PairValue(key=k, value=v) for k, v in fields.items()]
    return sv(named_tuple_value=pb.NamedTupleValue(name=name, values=pairs))


def tspec(dims: list[int] | None, dt: int = 1, name: str = "") -> pb.StructuredValue:
    return sv(tensor_spec_value=pb.TensorSpecProto(name=name, shape=shape_proto(dims), dtype=dt))


def type_spec(
    cls: int, state: pb.StructuredValue | None, name: str = "", n: int = 0
) -> pb.StructuredValue:
    proto = pb.TypeSpecProto(type_spec_class=cls, type_spec_class_name=name, num_flat_components=n)
    if state is not None:
        proto.type_state.CopyFrom(state)
    return sv(type_spec_value=proto)


def tensor(dt: int, dims: list[int], **values: Any) -> pb.TensorProto:
    return pb.TensorProto(dtype=dt, tensor_shape=shape_proto(dims), **values)


def decode(value: pb.StructuredValue) -> Any:
    # Always through the wire, as values come from files.
    return decode_structure(pb.StructuredValue.FromString(value.SerializeToString()))


# -- Python values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proto", "expected", "text", "kind"),
    [
        (none(), None, "None", "NoneType"),
        (b(True), True, "True", "bool"),
        (b(False), False, "False", "bool"),
        (i(0), 0, "0", "int"),
        (i(-(2**63)), -(2**63), str(-(2**63)), "int"),
        (i(2**63 - 1), 2**63 - 1, str(2**63 - 1), "int"),
        (f(1.0), 1.0, "1.0", "float"),
        (f(-0.0), -0.0, "-0.0", "float"),
        (f(1e300), 1e300, "1e+300", "float"),
        (s("text, with comma"), "text, with comma", "'text, with comma'", "str"),
        (s(""), "", "''", "str"),
    ],
)
def test_scalars(proto: pb.StructuredValue, expected: Any, text: str, kind: str) -> None:
    value = decode(proto)
    assert value == expected and type(value) is type(expected)
    assert tf_repr(value) == text
    assert type_name(value) == kind


def test_nan_and_infinities() -> None:
    assert math.isnan(decode(f(float("nan"))))
    assert tf_repr(decode(f(float("nan")))) == "nan"
    assert tf_repr(decode(f(float("-inf")))) == "-inf"


def test_string_repr_and_str() -> None:
    value = decode(s('it\'s "q"\n'))
    assert tf_repr(value) == repr('it\'s "q"\n')
    assert tf_str(value) == 'it\'s "q"\n'


def test_containers() -> None:
    assert tf_repr(decode(tup())) == "()"
    assert tf_repr(decode(tup(i(1)))) == "(1,)"
    assert tf_repr(decode(tup(i(1), s("a")))) == "(1, 'a')"
    assert decode(tup(i(1), s("a"))) == (1, "a")
    value = decode(lst(i(1), s("x"), f(1.5), b(True), none()))
    assert isinstance(value, ListValue)
    assert tf_repr(value) == "[1, 'x', 1.5, True, None]"
    assert type_name(value) == "list"
    assert tf_repr(decode(lst())) == "[]"
    assert tf_repr(decode(lst(lst(), tup(tup())))) == "[[], ((),)]"


def test_dict_items_are_sorted_by_key() -> None:
    value = decode(dct(zeta=i(1), alpha=s("a"), mid=tup(i(1), s("b")), none=none()))
    assert isinstance(value, DictValue)
    assert list(value) == ["alpha", "mid", "none", "zeta"]
    assert value["mid"] == (1, "b")
    assert len(value) == 4
    with pytest.raises(KeyError):
        value["nope"]
    assert tf_repr(value) == "{'alpha': 'a', 'mid': (1, 'b'), 'none': None, 'zeta': 1}"
    assert tf_repr(decode(dct())) == "{}"
    assert type_name(value) == "dict"


def test_namedtuple() -> None:
    value = decode(named("Point", x=i(1), y=lst(none(), s("a"))))
    assert isinstance(value, NamedTupleValue)
    assert tf_repr(value) == "Point(x=1, y=[None, 'a'])"
    assert type_name(value) == "Point"
    assert value.values == (1, ListValue((None, "a")))
    assert value[0] == 1 and len(value) == 2


def test_shapes_and_dtypes() -> None:
    assert tf_repr(decode(shape(None))) == "TensorShape(None)"
    assert tf_str(decode(shape(None))) == "<unknown>"
    assert tf_repr(decode(shape([]))) == "TensorShape([])"
    assert tf_str(decode(shape([]))) == "()"
    assert tf_repr(decode(shape([-1, 3]))) == "TensorShape([None, 3])"
    assert tf_str(decode(shape([-1, 3]))) == "(None, 3)"
    assert tf_str(decode(shape([7]))) == "(7,)"
    assert tf_repr(decode(dtype(1))) == "tf.float32"
    assert tf_str(decode(dtype(1))) == "<dtype: 'float32'>"
    assert tf_repr(decode(dtype(101))) == "tf.float32_ref"
    assert type_name(decode(dtype(7))) == "DType"
    # A dtype from a newer TensorFlow is kept, not rejected.
    assert tf_repr(decode(dtype(77))) == "tf.unknown_77"


# -- TensorSpec and friends -----------------------------------------------------------------------


def test_tensor_spec() -> None:
    value = decode(tspec([-1, 3], 1, "x"))
    assert value == TensorSpec(TensorShape((-1, 3)), DType(1), "x")
    assert tf_repr(value) == "TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')"
    assert tf_str(value) == tf_repr(value)
    assert tf_repr(decode(tspec(None, 7))) == (
        "TensorSpec(shape=<unknown>, dtype=tf.string, name=None)"
    )
    assert tf_repr(decode(tspec([], 9))) == "TensorSpec(shape=(), dtype=tf.int64, name=None)"
    assert type_name(value) == "TensorSpec"


def test_bounded_tensor_spec() -> None:
    proto = sv(
        bounded_tensor_spec_value=pb.BoundedTensorSpecProto(
            name="b",
            shape=shape_proto([2]),
            dtype=1,
            minimum=tensor(1, [], float_val=[0.0]),
            maximum=tensor(1, [], float_val=[1.0]),
        )
    )
    value = decode(proto)
    assert isinstance(value, BoundedTensorSpec)
    assert tf_repr(value) == (
        "BoundedTensorSpec(shape=(2,), dtype=tf.float32, name='b', "
        "minimum=array(0., dtype=float32), maximum=array(1., dtype=float32))"
    )
    # Bounds are converted to the spec's dtype, like BoundedTensorSpec's constructor does.
    proto = sv(
        bounded_tensor_spec_value=pb.BoundedTensorSpecProto(
            shape=shape_proto([3]),
            dtype=3,
            minimum=tensor(9, [3], int64_val=[0, 1, 2]),
            maximum=tensor(9, [], int64_val=[10]),
        )
    )
    assert tf_repr(decode(proto)) == (
        "BoundedTensorSpec(shape=(3,), dtype=tf.int32, name=None, "
        "minimum=array([0, 1, 2], dtype=int32), maximum=array(10, dtype=int32))"
    )


@pytest.mark.parametrize(
    ("proto", "text"),
    [
        (
            type_spec(TSC.SPARSE_TENSOR_SPEC, tup(shape([-1, 10]), dtype(1)), "SparseTensorSpec"),
            "SparseTensorSpec(TensorShape([None, 10]), tf.float32)",
        ),
        (
            type_spec(TSC.RAGGED_TENSOR_SPEC, tup(shape([-1, -1]), dtype(3), i(1), dtype(9))),
            "RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, tf.int64)",
        ),
        (
            type_spec(TSC.RAGGED_TENSOR_SPEC, tup(shape(None), dtype(7), i(2), dtype(9))),
            "RaggedTensorSpec(TensorShape(None), tf.string, 2, tf.int64)",
        ),
        (
            type_spec(
                TSC.INDEXED_SLICES_SPEC,
                tup(shape([-1, 3]), dtype(1), dtype(3), dtype(3), shape([2])),
            ),
            "IndexedSlicesSpec(TensorShape([None, 3]), tf.float32, tf.int32, tf.int32, "
            "TensorShape([2]))",
        ),
        (
            type_spec(
                TSC.INDEXED_SLICES_SPEC,
                tup(shape([5, 3]), dtype(19), dtype(9), none(), shape(None)),
            ),
            "IndexedSlicesSpec(TensorShape([5, 3]), tf.float16, tf.int64, None, "
            "TensorShape([None]))",
        ),
        (
            type_spec(TSC.TENSOR_ARRAY_SPEC, tup(shape([2]), dtype(1), b(True), b(False))),
            "TensorArraySpec(TensorShape([2]), tf.float32, True, False)",
        ),
        (
            type_spec(TSC.DATA_DATASET_SPEC, tup(tspec([], 9), shape([]))),
            "DatasetSpec(TensorSpec(shape=(), dtype=tf.int64, name=None), TensorShape([]))",
        ),
        (
            type_spec(TSC.DATA_DATASET_SPEC, tup(dct(a=tspec([-1], 7)), shape([-1]))),
            "DatasetSpec({'a': TensorSpec(shape=(None,), dtype=tf.string, name=None)}, "
            "TensorShape([None]))",
        ),
        (
            type_spec(TSC.DATA_ITERATOR_SPEC, tup(tspec([2]))),
            "IteratorSpec(TensorSpec(shape=(2,), dtype=tf.float32, name=None),)",
        ),
        (
            type_spec(TSC.OPTIONAL_SPEC, tup(tspec([2], 3))),
            "OptionalSpec(TensorSpec(shape=(2,), dtype=tf.int32, name=None),)",
        ),
        (
            type_spec(TSC.PER_REPLICA_SPEC, tup(tspec([2]), tspec([2]))),
            "PerReplicaSpec(TensorSpec(shape=(2,), dtype=tf.float32, name=None), "
            "TensorSpec(shape=(2,), dtype=tf.float32, name=None))",
        ),
        (
            type_spec(TSC.VARIABLE_SPEC, tup(shape([2, 3]), dtype(1), b(True), none())),
            "VariableSpec(shape=(2, 3), dtype=tf.float32, trainable=True, alias_id=None)",
        ),
        (
            type_spec(TSC.VARIABLE_SPEC, tup(shape(None), dtype(9), b(False), i(3))),
            "VariableSpec(shape=<unknown>, dtype=tf.int64, trainable=False, alias_id=3)",
        ),
        (
            type_spec(TSC.ROW_PARTITION_SPEC, tup(shape([-1]), shape([-1]), shape([-1]), dtype(9))),
            "RowPartitionSpec(nrows=None, nvals=None, uniform_row_length=None, dtype=tf.int64)",
        ),
        (
            # nvals is inferred from nrows * uniform_row_length, as the constructor does.
            type_spec(TSC.ROW_PARTITION_SPEC, tup(shape([3]), shape([-1]), shape([2]), dtype(9))),
            "RowPartitionSpec(nrows=3, nvals=6, uniform_row_length=2, dtype=tf.int64)",
        ),
        (
            type_spec(TSC.ROW_PARTITION_SPEC, tup(shape([-1]), shape([6]), shape([3]), dtype(9))),
            "RowPartitionSpec(nrows=2, nvals=6, uniform_row_length=3, dtype=tf.int64)",
        ),
        (
            type_spec(TSC.ROW_PARTITION_SPEC, tup(shape([0]), shape([-1]), shape([-1]), dtype(3))),
            "RowPartitionSpec(nrows=0, nvals=0, uniform_row_length=None, dtype=tf.int32)",
        ),
    ],
    ids=lambda v: v.split("(")[0] if isinstance(v, str) else "",
)
def test_builtin_type_specs(proto: pb.StructuredValue, text: str) -> None:
    value = decode(proto)
    assert tf_repr(value) == text
    assert tf_str(value) == text
    assert type_name(value) == text.split("(")[0]


def test_ragged_rank_defaults_to_rank_minus_one() -> None:
    value = decode(type_spec(TSC.RAGGED_TENSOR_SPEC, tup(shape([2, -1, -1]), dtype(1), none())))
    assert isinstance(value, RaggedTensorSpec)
    assert value.ragged_rank == 2 and value.row_splits_dtype == DType(9)


def test_extension_type_is_anonymous() -> None:
    state = tup(tup(s("left"), tspec([1])), tup(s("right"), tspec([1])))
    value = decode(type_spec(TSC.EXTENSION_TYPE_SPEC, state, "smlite_fixtures.Pair.Spec", 2))
    assert isinstance(value, ExtensionTypeSpec)
    assert value.class_name == "smlite_fixtures.Pair.Spec"
    assert tf_repr(value) == (
        "AnonymousExtensionTypeSpec(left=TensorSpec(shape=(1,), dtype=tf.float32, name=None), "
        "right=TensorSpec(shape=(1,), dtype=tf.float32, name=None))"
    )
    assert type_name(value) == "AnonymousExtensionTypeSpec"


def test_extension_type_hides_reserved_fields() -> None:
    state = tup(tup(s("x"), i(1)), tup(s("_tf_extension_type_is_packed"), b(True)))
    value = decode(type_spec(TSC.EXTENSION_TYPE_SPEC, state, "m.T.Spec"))
    assert tf_repr(value) == "AnonymousExtensionTypeSpec(x=1)"


def test_registered_type_spec_keeps_name_and_state() -> None:
    value = decode(type_spec(TSC.REGISTERED_TYPE_SPEC, tup(i(1), s("a")), "my_lib.FooSpec"))
    assert isinstance(value, RegisteredTypeSpec)
    assert tf_repr(value) == "FooSpec(1, 'a')"
    assert type_name(value) == "FooSpec"


# -- tensors by value -------------------------------------------------------------------------


def test_numpy_value() -> None:
    value = decode(sv(numpy_value=tensor(3, [2, 2], int_val=[1, 2, 3, 4])))
    assert isinstance(value, NumpyValue)
    assert tf_repr(value) == "array([[1, 2],\n       [3, 4]], dtype=int32)"
    assert tf_str(value) == "[[1 2]\n [3 4]]"
    assert type_name(value) == "ndarray"
    assert tf_repr(decode(sv(numpy_value=tensor(1, [], float_val=[2.5])))) == (
        "array(2.5, dtype=float32)"
    )
    strings = decode(sv(numpy_value=tensor(7, [2], string_val=[b"a", b"bc"])))
    assert tf_repr(strings) == "array([b'a', b'bc'], dtype=object)"


def test_tensor_proto_padding_and_raw_content() -> None:
    # Fewer values than elements: the last one is repeated (MakeNdarray's rule).
    padded = decode(sv(numpy_value=tensor(3, [4], int_val=[7, 8])))
    assert tf_repr(padded) == "array([7, 8, 8, 8], dtype=int32)"
    zeros = decode(sv(numpy_value=tensor(1, [2])))
    assert tf_repr(zeros) == "array([0., 0.], dtype=float32)"
    raw = decode(sv(numpy_value=tensor(3, [2], tensor_content=b"\x01\x00\x00\x00\x02\x00\x00\x00")))
    assert tf_repr(raw) == "array([1, 2], dtype=int32)"
    half = decode(sv(numpy_value=tensor(19, [1], half_val=[0x3C00])))
    assert tf_repr(half) == "array([1.], dtype=float16)"


def test_huge_or_broken_tensors_are_not_materialized() -> None:
    huge = decode(sv(numpy_value=tensor(1, [1 << 40])))
    assert isinstance(huge, NumpyValue) and huge.array is None
    assert tf_repr(huge) == "<array shape=(1099511627776,) dtype=float32: not shown>"
    short = decode(sv(numpy_value=tensor(3, [2], tensor_content=b"\x01\x00")))
    assert short.array is None
    resource = decode(sv(numpy_value=tensor(20, [])))
    assert resource.array is None


def test_tensor_value() -> None:
    value = decode(sv(tensor_value=tensor(1, [2], float_val=[1.0, 2.0])))
    assert isinstance(value, TensorValue)
    assert tf_repr(value) == (
        "<tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>"
    )
    assert tf_str(value) == "tf.Tensor([1. 2.], shape=(2,), dtype=float32)"
    assert tf_repr(decode(sv(tensor_value=tensor(3, [], int_val=[3])))) == (
        "<tf.Tensor: shape=(), dtype=int32, numpy=3>"
    )
    text = decode(sv(tensor_value=tensor(7, [], string_val=[b"s"])))
    assert tf_repr(text) == "<tf.Tensor: shape=(), dtype=string, numpy=b's'>"
    assert tf_str(text) == "tf.Tensor(b's', shape=(), dtype=string)"
    assert type_name(text) == "EagerTensor"


# -- malformed input ----------------------------------------------------------------------------


def test_empty_structured_value_is_a_placeholder() -> None:
    value = decode(pb.StructuredValue())
    assert isinstance(value, UnknownValue)
    assert tf_repr(value) == "<unknown value: empty StructuredValue (no kind set)>"
    assert type_name(value) == "Unknown"


def test_missing_oneof_inside_a_structure_is_located() -> None:
    value = decode_structure(tup(i(1), dct(k=pb.StructuredValue())), where="sig")
    assert isinstance(value, tuple)
    inner = value[1]["k"]
    assert isinstance(inner, UnknownValue)
    assert inner.where == "sig[1]['k']"
    assert tf_repr(value) == (
        "(1, {'k': <unknown value at sig[1]['k']: empty StructuredValue (no kind set)>})"
    )


def test_strict_mode_raises_a_located_error() -> None:
    proto = tup(i(1), lst(pb.StructuredValue()))
    with pytest.raises(SmliteError) as info:
        decode_structure(proto, strict=True, where="concrete_functions['f'].output_signature")
    assert str(info.value) == (
        "concrete_functions['f'].output_signature[1][0]: empty StructuredValue (no kind set)"
    )


def test_unknown_kind_from_a_newer_tensorflow_names_the_field() -> None:
    # Field 57 (varint 1): a kind this schema does not have.
    value = decode_structure(pb.StructuredValue.FromString(b"\xc8\x03\x01"))
    assert isinstance(value, UnknownValue)
    assert "field 57" in value.reason and "newer TensorFlow" in value.reason


@pytest.mark.parametrize("cls", [0, 11, 99])
def test_unknown_type_spec_class_is_a_placeholder(cls: int) -> None:
    value = decode(type_spec(cls, tup(i(1)), "FancySpec"))
    assert isinstance(value, UnknownTypeSpec)
    assert value.type_spec_class == cls
    assert type_name(value) == "FancySpec"
    assert tf_repr(value).startswith(f"<unknown FancySpec (type_spec_class={cls}): ")
    assert value.state == (1,)
    with pytest.raises(SmliteError, match="TypeSpec class"):
        decode_structure(type_spec(cls, tup(i(1)), "FancySpec"), strict=True)


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (None, "state should be a tuple, found NoneType"),
        (i(3), "state should be a tuple, found int"),
        (tup(shape([2]), dtype(1), i(1), i(2), i(3)), "state has 5 items, expected 0 to 2"),
        (tup(i(1), dtype(1)), "a shape is int"),
        (tup(shape([2]), s("float32")), "a dtype is str"),
        (tup(lst(i(-3)), dtype(1)), "a shape dimension is -3"),
    ],
)
def test_bad_type_spec_state(state: pb.StructuredValue | None, reason: str) -> None:
    value = decode(type_spec(TSC.SPARSE_TENSOR_SPEC, state))
    assert isinstance(value, UnknownTypeSpec)
    assert value.class_name == "SparseTensorSpec"
    assert reason in value.reason


def test_ragged_rank_not_below_rank_is_rejected() -> None:
    value = decode(type_spec(TSC.RAGGED_TENSOR_SPEC, tup(shape([-1, -1]), dtype(1), i(2))))
    assert isinstance(value, UnknownTypeSpec)
    assert "ragged_rank (2) is not less than the rank (2)" in value.reason


def test_bad_extension_state() -> None:
    value = decode(type_spec(TSC.EXTENSION_TYPE_SPEC, tup(i(1)), "x.Y"))
    assert isinstance(value, UnknownTypeSpec)
    assert "not (name, value) pairs" in value.reason


def _nested(depth: int) -> pb.StructuredValue:
    # Built in place: protobuf refuses to copy or parse messages nested this deep.
    root = pb.StructuredValue()
    current = root
    for _ in range(depth):
        current = current.list_value.values.add()
    current.int64_value = 1
    return root


def test_deep_nesting_is_cut_at_max_depth() -> None:
    value = decode_structure(_nested(MAX_DEPTH + 10))
    # The outermost value is at depth 0; values deeper than MAX_DEPTH are placeholders.
    for _ in range(MAX_DEPTH + 1):
        assert isinstance(value, ListValue)
        value = value[0]
    assert isinstance(value, UnknownValue)
    assert value.reason == f"nested deeper than {MAX_DEPTH} levels"
    assert value.where == "[0]" * (MAX_DEPTH + 1)
    with pytest.raises(SmliteError, match="nested deeper"):
        decode_structure(_nested(MAX_DEPTH + 10), strict=True)
    assert "unknown" not in tf_repr(decode_structure(_nested(MAX_DEPTH)))


def test_deep_type_spec_nesting() -> None:
    root = pb.StructuredValue()
    current = root
    for _ in range(MAX_DEPTH):
        spec = current.type_spec_value
        spec.type_spec_class = TSC.OPTIONAL_SPEC
        current = spec.type_state.tuple_value.values.add()
    current.tensor_spec_value.dtype = 1
    assert "nested deeper" in tf_repr(decode_structure(root))


def test_protobuf_itself_refuses_deeper_files() -> None:
    # What a file can hold is bounded by protobuf's parser; MAX_DEPTH is above that bound.
    data = _nested(MAX_DEPTH).SerializeToString()
    with pytest.raises(pb.DecodeError):
        pb.StructuredValue.FromString(data)


def test_decode_type_spec_of_a_signature_entry() -> None:
    proto = pb.TypeSpecProto(
        type_spec_class=TSC.RAGGED_TENSOR_SPEC,
        type_state=tup(shape([-1, -1]), dtype(3), i(1), dtype(9)),
        type_spec_class_name="RaggedTensorSpec",
        num_flat_components=2,
    )
    assert tf_repr(decode_type_spec(proto)) == (
        "RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, tf.int64)"
    )


# -- helpers for printing like saved_model_cli ---------------------------------------------------


def test_iteration_helpers() -> None:
    assert is_iterable((1,)) and is_iterable(ListValue()) and is_iterable("ab")
    assert is_iterable(NamedTupleValue("P", (("x", 1),)))
    assert not is_iterable(DictValue((("a", 1),)))
    assert is_iterable(TensorShape((2, -1))) and not is_iterable(TensorShape(None))
    assert not is_iterable(SparseTensorSpec(TensorShape(None), DType(1)))
    assert iterate(DictValue((("a", 1), ("b", 2)))) == ("a", "b")
    assert iterate(TensorShape((2, -1))) == (2, None)
    assert iterate(None) == ()
    matrix = decode(sv(numpy_value=tensor(3, [2, 2], int_val=[1, 2, 3, 4])))
    assert [str(x) for x in iterate(matrix)] == ["[1 2]", "[3 4]"]


def test_truthiness() -> None:
    assert not truthy(None) and not truthy(()) and not truthy(ListValue()) and not truthy("")
    assert not truthy(DictValue()) and not truthy(0) and truthy((1,))
    assert truthy(TensorSpec(TensorShape(()), DType(1)))


def test_flatten_sorts_dict_keys() -> None:
    value = decode(tup(dct(b=i(2), a=lst(i(1), i(0))), named("P", x=i(3))))
    assert flatten(value) == (1, 0, 2, 3)


def test_escape_applies_to_unquoted_names_only() -> None:
    value = decode(named("Evil\x1b[2J", **{"f\u202e": s("\x07bell")}))
    # Without escaping, the repr is Python's (the namedtuple's name printed raw).
    assert tf_repr(value) == "Evil\x1b[2J(f\u202e='\\x07bell')"
    assert tf_repr(value, escape=escape) == "Evil\\x1b[2J(f\\u202e='\\x07bell')"
    assert tf_str(decode(s("\x1b")), escape=escape) == "\\x1b"
