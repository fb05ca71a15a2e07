"""TensorFlow's ``repr()``/``str()`` of the Python objects a nested structure stands for.

:mod:`smlite.model.structure` and :mod:`smlite.model.type_specs` hold what
TensorFlow rebuilds from a SavedModel's StructuredValues; this prints each as
TensorFlow 2.21 prints the object it would have built, which is what
``saved_model_cli show --all`` shows::

    TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')
    RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, tf.int64)
    SparseTensorSpec(TensorShape([None, 10]), tf.float32)
"""

from __future__ import annotations

from collections.abc import Callable

from smlite.model.dtypes import DType
from smlite.model.structure import (
    DictValue,
    ListValue,
    NamedTupleValue,
    NumpyValue,
    Structure,
    TensorValue,
    UnknownValue,
)
from smlite.model.tensors import TensorShape
from smlite.model.type_specs import (
    BoundedTensorSpec,
    ExtensionTypeSpec,
    RowPartitionSpec,
    TensorSpec,
    TypeSpec,
    UnknownTypeSpec,
    VariableSpec,
)

__all__ = ["Escape", "tf_repr", "tf_str"]

Escape = Callable[[str], str]


def _same(text: str) -> str:
    return text


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
    return esc(spec.type_name) + _format(spec.serialized(), esc, False)


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
