"""Check run inputs against a signature with smlite's reader, before TensorFlow is imported.

Every problem saved_model_cli would report late (after a multi-second
TensorFlow import and model load) or not at all is caught here with a message
that names the input and the choices:

* an input key the signature does not have (the valid keys are listed);
* a required input that was not given (a ``Placeholder`` without default);
* a value whose type cannot become the input's dtype without losing meaning
  (strings for a float input, floats for an int input, integers out of range);
* a shape that contradicts a known dimension of the input.

Accepted values are converted to the input's numpy dtype here, so the backend
feeds arrays TensorFlow takes as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from smlite.errors import NotFoundError, UnsupportedError
from smlite.model.dtypes import DType
from smlite.model.saved_model import MetaGraph, Signature
from smlite.model.tensors import TensorInfo
from smlite.run.inputs import InputError

__all__ = [
    "InputKeyNotFoundError",
    "check_input_keys",
    "check_outputs",
    "coerce",
    "required_inputs",
    "validate_feeds",
]

_FLAGS = "--inputs, --input_exprs or --input_examples"


class InputKeyNotFoundError(NotFoundError):
    """An input key that the signature does not have."""

    kind = "input key"


def _family(dtype: DType) -> str:
    """``b`` bool, ``i`` integer, ``f`` real float, ``c`` complex, ``s`` string, ``-`` other."""
    name = dtype.base.name
    if name == "bool":
        return "b"
    if name == "string":
        return "s"
    if name.startswith("complex"):
        return "c"
    if name.startswith(("float", "bfloat")):
        return "f"
    if name.startswith(("int", "uint", "qint", "quint")):
        return "i"
    return "-"


_KIND_NAMES = {
    "b": "booleans",
    "i": "integers",
    "u": "integers",
    "f": "floats",
    "c": "complex numbers",
    "U": "strings",
    "S": "bytes",
    "O": "Python objects",
}

# numpy kind of the given values -> input families they may feed.
_ALLOWED: Mapping[str, str] = {
    "b": "bific",
    "i": "ifc",
    "u": "ifc",
    "f": "fc",
    "c": "c",
}


def _shape_text(dims: tuple[int | None, ...] | None) -> str:
    if dims is None:
        return "<unknown rank>"
    inner = ", ".join("None" if d is None else str(d) for d in dims)
    return f"({inner},)" if len(dims) == 1 else f"({inner})"


def _int_range(np_dtype: np.dtype) -> tuple[int, int]:
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        return int(info.min), int(info.max)
    import ml_dtypes

    ml_info = ml_dtypes.iinfo(np_dtype)
    return int(ml_info.min), int(ml_info.max)


def _string_array(value: Any, where: str, what: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SU":
            return value.astype(object)
        if value.dtype.kind != "O":
            raise InputError(
                f"{where} is a string input but the value holds "
                f"{_KIND_NAMES.get(value.dtype.kind, str(value.dtype))} ({value.dtype}){what}"
            )
        array = value
    else:
        try:
            array = np.array(value, dtype=object)
        except ValueError as e:
            raise InputError(f"{where}: the value is not a rectangular array: {e}") from e
    for item in array.flat:
        if not isinstance(item, (str, bytes)):
            hint = " (nested lists of different lengths?)" if isinstance(item, list) else ""
            raise InputError(
                f"{where} is a string input but the value holds {item!r} "
                f"of type {type(item).__name__}{hint}{what}"
            )
    return array


def _numeric_array(value: Any, dtype: DType, family: str, where: str, what: str) -> np.ndarray:
    np_dtype = dtype.numpy
    assert np_dtype is not None  # callers checked
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.array(value)
        except (ValueError, OverflowError) as e:
            raise InputError(f"{where}: the value is not a rectangular array: {e}") from e
    kind = array.dtype.kind
    if kind not in _ALLOWED:
        held = _KIND_NAMES.get(kind, str(array.dtype))
        if kind == "O" and not isinstance(value, np.ndarray):
            held = "values that are not numbers (None, dicts, ragged lists, ints beyond 64 bits)"
        raise InputError(f"{where} is a {dtype.name} input but the value holds {held}{what}")
    if family not in _ALLOWED[kind]:
        advice = {
            "i": "; give integers",
            "b": "; give True/False",
            "f": "; give real numbers",
        }.get(family, "")
        raise InputError(
            f"{where} is a {dtype.name} input but the value holds {_KIND_NAMES[kind]} "
            f"({array.dtype}), which do not convert to {dtype.name} without loss{advice}{what}"
        )
    if family == "i" and kind in "iu" and array.size:
        low, high = _int_range(np_dtype)
        smallest, largest = int(array.min()), int(array.max())
        if smallest < low or largest > high:
            bad = smallest if smallest < low else largest
            raise InputError(
                f"{where} is a {dtype.name} input but the value holds {bad}, outside "
                f"[{low}, {high}]{what}"
            )
    try:
        return array.astype(np_dtype)
    except (ValueError, TypeError, OverflowError) as e:
        raise InputError(f"{where}: the value does not convert to {dtype.name}: {e}") from e


def coerce(value: Any, info: TensorInfo, *, where: str, source: str = "") -> np.ndarray:
    """Convert one input value to the dtype of ``info``, checking dtype and shape.

    ``where`` names the input in messages (``input 'x' of signature 'serving_default'``),
    ``source`` the flag the value came from.
    """
    what = f" (from {source})" if source else ""
    dtype = info.dtype.base
    family = _family(dtype)
    if family == "-" or dtype.numpy is None:
        raise UnsupportedError(f"{where} has dtype {dtype.name}, which cannot be fed a value")
    if family == "s":
        array = _string_array(value, where, what)
    else:
        array = _numeric_array(value, dtype, family, where, what)
    # No tensor_shape at all says nothing (TensorFlow always writes one; a hand-made
    # signature may not): leave the check to TensorFlow.
    dims = info.shape.dims if info.proto.HasField("tensor_shape") else None
    if dims is not None:
        compatible = len(dims) == array.ndim and all(
            want is None or want == got for want, got in zip(dims, array.shape, strict=True)
        )
        if not compatible:
            raise InputError(
                f"{where} expects shape {_shape_text(dims)} ({dtype.name}) but the value has "
                f"shape {_shape_text(tuple(array.shape))}{what}"
            )
    return array


def required_inputs(mg: MetaGraph, sig: Signature) -> frozenset[str]:
    """Input keys the signature cannot run without.

    An input fed to a ``Placeholder`` must be given.  One fed to a
    ``PlaceholderWithDefault`` or to any other op's output has a value
    already, so TensorFlow runs without it.  Found with a wire scan of the
    graph (no GraphDef parse).
    """
    ops = {node.name: node.op for node in mg.graph_scan.nodes}
    required = set()
    for key, info in sig.inputs.items():
        if info.encoding != "name" or not info.name:
            required.add(key)
            continue
        node = info.name.split(":", 1)[0].lstrip("^")
        if ops.get(node, "Placeholder") == "Placeholder":
            required.add(key)
    return frozenset(required)


def check_input_keys(sig: Signature, keys: Any) -> None:
    """Raise :class:`InputKeyNotFoundError` for the first key ``sig`` has no input for."""
    unknown = [k for k in keys if k not in sig.inputs]
    if unknown:
        others = ""
        if len(unknown) > 1:
            others = "; also unknown: " + ", ".join(repr(k) for k in unknown[1:])
        raise InputKeyNotFoundError(
            unknown[0],
            list(sig.inputs),
            hint=f"These are the inputs of signature {sig.key!r}{others}",
        )


def check_outputs(sig: Signature) -> None:
    """Every output must be a dense tensor, which is all saved_model_cli can fetch."""
    for key, info in sig.outputs.items():
        if info.encoding != "name" or not info.name:
            raise UnsupportedError(
                f"output {key!r} of signature {sig.key!r} is a {info.kind}; smlite run (like "
                "saved_model_cli run) can only fetch dense Tensor outputs"
            )


def validate_feeds(
    sig: Signature,
    values: Mapping[str, Any],
    *,
    required: frozenset[str] | None = None,
    sources: Mapping[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """Check every value against ``sig`` and return them converted, in the signature's order.

    ``required`` lists the keys that must be present (default: every input);
    ``sources`` names the flag each value came from, for messages.
    """
    check_input_keys(sig, values)
    needed = frozenset(sig.inputs) if required is None else required
    missing = [k for k in sig.inputs if k in needed and k not in values]
    if missing:
        listed = ", ".join(
            f"{k!r} ({sig.inputs[k].dtype.name}, shape {_shape_text(sig.inputs[k].shape.dims)})"
            for k in missing
        )
        raise InputError(
            f"signature {sig.key!r} needs a value for input{'s' if len(missing) > 1 else ''} "
            f"{listed}; give {'them' if len(missing) > 1 else 'it'} with {_FLAGS}"
        )
    feeds: dict[str, np.ndarray] = {}
    for key, info in sig.inputs.items():
        if key not in values:
            continue
        where = f"input {key!r} of signature {sig.key!r}"
        if info.encoding != "name" or not info.name:
            raise UnsupportedError(
                f"{where} is a {info.kind}; smlite run (like saved_model_cli run) can only "
                "feed dense Tensor inputs"
            )
        source = (sources or {}).get(key, "")
        feeds[key] = coerce(values[key], info, where=where, source=source)
    return feeds
