"""TensorProto -> numpy, by ``tensor_util.MakeNdarray``'s rules (for constants shown in specs).

Wire layout (``tensorflow/core/framework/tensor.proto``), the fields read here::

    TensorProto := { 1: DataType dtype, 2: TensorShapeProto tensor_shape,
                     4: bytes tensor_content,          (the whole buffer, little-endian)
                     5: float float_val, 6: double double_val, 7: int32 int_val,
                     8: bytes string_val, 9: float scomplex_val, 10: int64 int64_val,
                     11: bool bool_val, 12: double dcomplex_val, 13: int32 half_val,
                     16: uint32 uint32_val, 17: uint64 uint64_val, 18: bytes float8_val }

Values given one by one sit in the field :attr:`smlite.model.dtypes.DType.value_field`
names; fewer values than elements repeat the last one (TensorFlow's splat).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from smlite import pb
from smlite.model.dtypes import DType

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MAX_ARRAY_ELEMENTS", "tensor_proto_array"]

#: Largest tensor (elements) turned into a numpy array for display.
MAX_ARRAY_ELEMENTS = 1 << 16


def tensor_proto_array(proto: pb.TensorProto) -> np.ndarray[Any, Any] | None:
    """The tensor as a numpy array, or None if it is too big, malformed or of a handle type."""
    import numpy as np

    dims = [d.size for d in proto.tensor_shape.dim]
    if any(d < 0 for d in dims):
        return None
    count = math.prod(dims)
    if count > MAX_ARRAY_ELEMENTS:
        return None
    dtype = DType(proto.dtype)
    field = dtype.value_field
    if dtype.is_ref or field is None:
        return None
    if field == "string_val":
        texts = list(proto.string_val)
        if len(texts) < count:
            texts.extend([texts[-1] if texts else b""] * (count - len(texts)))
        if len(texts) != count:
            return None
        strings = np.empty(count, dtype=object)
        strings[:] = texts
        return strings.reshape(dims)
    np_dtype = dtype.numpy
    if np_dtype is None:
        return None
    try:
        if proto.tensor_content:
            raw = np.frombuffer(proto.tensor_content, dtype=np_dtype)
            return raw.copy().reshape(dims)
        values = _listed_values(proto, field, np_dtype)
        if values.size == 0:
            return np.zeros(dims, np_dtype)
        if values.size < count:
            values = np.pad(values, (0, count - values.size), "edge")
        return values[:count].reshape(dims)
    except (ValueError, TypeError):
        return None


def _listed_values(
    proto: pb.TensorProto, field: str, np_dtype: np.dtype[Any]
) -> np.ndarray[Any, Any]:
    import numpy as np

    if field == "half_val":  # bfloat16 and half: uint16 bit patterns
        return np.array(list(proto.half_val), dtype=np.uint16).view(np_dtype)
    if field == "float8_val":  # one byte per element
        return np.frombuffer(bytes(proto.float8_val), dtype=np.uint8).view(np_dtype)
    if field in ("scomplex_val", "dcomplex_val"):
        flat = list(getattr(proto, field))
        pairs = [complex(flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2)]
        return np.array(pairs, dtype=np_dtype)
    return np.array(list(getattr(proto, field)), dtype=np_dtype)
