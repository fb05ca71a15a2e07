"""TensorFlow data types: enum values, names and numpy equivalents.

The table is keyed by the ``DataType`` enum value stored in protos.  Reference
types (``DT_FLOAT_REF`` = 101 …) are the base type plus 100, as in TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DType", "dtype", "REF_OFFSET"]

REF_OFFSET = 100

# value: (enum name, TensorFlow name, numpy spelling or None, itemsize or None,
#         TensorProto field of its values or None)
# The numpy spelling is a numpy dtype name, or "ml_dtypes.NAME" for the
# low-precision floats and sub-byte integers that numpy lacks.  The TensorProto
# field is where tensor_util.MakeTensorProto puts values given one by one
# (tensor.proto): bfloat16 and half as uint16 bit patterns in ``half_val``,
# the 8- and 4-bit floats as bytes in ``float8_val``, complex numbers as
# (real, imaginary) pairs.
_Entry = tuple[str, str, str | None, int | None, str | None]
_TABLE: dict[int, _Entry] = {
    0: ("DT_INVALID", "invalid", None, None, None),
    1: ("DT_FLOAT", "float32", "float32", 4, "float_val"),
    2: ("DT_DOUBLE", "float64", "float64", 8, "double_val"),
    3: ("DT_INT32", "int32", "int32", 4, "int_val"),
    4: ("DT_UINT8", "uint8", "uint8", 1, "int_val"),
    5: ("DT_INT16", "int16", "int16", 2, "int_val"),
    6: ("DT_INT8", "int8", "int8", 1, "int_val"),
    7: ("DT_STRING", "string", "object", None, "string_val"),
    8: ("DT_COMPLEX64", "complex64", "complex64", 8, "scomplex_val"),
    9: ("DT_INT64", "int64", "int64", 8, "int64_val"),
    10: ("DT_BOOL", "bool", "bool", 1, "bool_val"),
    11: ("DT_QINT8", "qint8", "int8", 1, "int_val"),
    12: ("DT_QUINT8", "quint8", "uint8", 1, "int_val"),
    13: ("DT_QINT32", "qint32", "int32", 4, "int_val"),
    14: ("DT_BFLOAT16", "bfloat16", "ml_dtypes.bfloat16", 2, "half_val"),
    15: ("DT_QINT16", "qint16", "int16", 2, "int_val"),
    16: ("DT_QUINT16", "quint16", "uint16", 2, "int_val"),
    17: ("DT_UINT16", "uint16", "uint16", 2, "int_val"),
    18: ("DT_COMPLEX128", "complex128", "complex128", 16, "dcomplex_val"),
    19: ("DT_HALF", "float16", "float16", 2, "half_val"),
    20: ("DT_RESOURCE", "resource", None, None, "resource_handle_val"),
    21: ("DT_VARIANT", "variant", None, None, "variant_val"),
    22: ("DT_UINT32", "uint32", "uint32", 4, "uint32_val"),
    23: ("DT_UINT64", "uint64", "uint64", 8, "uint64_val"),
    24: ("DT_FLOAT8_E5M2", "float8_e5m2", "ml_dtypes.float8_e5m2", 1, "float8_val"),
    25: ("DT_FLOAT8_E4M3FN", "float8_e4m3fn", "ml_dtypes.float8_e4m3fn", 1, "float8_val"),
    26: ("DT_FLOAT8_E4M3FNUZ", "float8_e4m3fnuz", "ml_dtypes.float8_e4m3fnuz", 1, "float8_val"),
    27: (
        "DT_FLOAT8_E4M3B11FNUZ",
        "float8_e4m3b11fnuz",
        "ml_dtypes.float8_e4m3b11fnuz",
        1,
        "float8_val",
    ),
    28: ("DT_FLOAT8_E5M2FNUZ", "float8_e5m2fnuz", "ml_dtypes.float8_e5m2fnuz", 1, "float8_val"),
    29: ("DT_INT4", "int4", "ml_dtypes.int4", None, "int_val"),
    30: ("DT_UINT4", "uint4", "ml_dtypes.uint4", None, "int_val"),
    31: ("DT_INT2", "int2", "ml_dtypes.int2", None, "int_val"),
    32: ("DT_UINT2", "uint2", "ml_dtypes.uint2", None, "int_val"),
    33: ("DT_FLOAT4_E2M1FN", "float4_e2m1fn", "ml_dtypes.float4_e2m1fn", None, "float8_val"),
}

_BY_NAME = {entry[1]: value for value, entry in _TABLE.items()}
_BY_ENUM = {entry[0]: value for value, entry in _TABLE.items()}


@dataclass(frozen=True, slots=True)
class DType:
    """A TensorFlow dtype, e.g. ``DType(1)`` is ``tf.float32``.

    ``value`` is the ``DataType`` enum number as stored in protos.  Values
    unknown to this table (from a newer TensorFlow) are kept and named
    ``DT_UNKNOWN_<n>`` rather than rejected.
    """

    value: int

    @property
    def is_ref(self) -> bool:
        return self.value > REF_OFFSET

    @property
    def base(self) -> DType:
        return DType(self.value - REF_OFFSET) if self.is_ref else self

    @property
    def _entry(self) -> _Entry | None:
        """This type's row of the table (a ref type's is its base type's)."""
        return _TABLE.get(self.base.value)

    @property
    def known(self) -> bool:
        return self._entry is not None

    @property
    def enum_name(self) -> str:
        """The proto enum name, e.g. ``DT_FLOAT`` (``DT_FLOAT_REF`` for refs)."""
        entry = self._entry
        if entry is None:
            return f"DT_UNKNOWN_{self.value}"
        return entry[0] + ("_REF" if self.is_ref else "")

    @property
    def name(self) -> str:
        """TensorFlow's name, e.g. ``float32`` (``float32_ref`` for refs)."""
        entry = self._entry
        if entry is None:
            return f"unknown_{self.value}"
        return entry[1] + ("_ref" if self.is_ref else "")

    @property
    def itemsize(self) -> int | None:
        """Bytes per element in a dense buffer, or None (strings, sub-byte, handles)."""
        entry = self._entry
        return entry[3] if entry else None

    @property
    def value_field(self) -> str | None:
        """The ``TensorProto`` field holding values of this type one by one (``float_val``)."""
        entry = self._entry
        return entry[4] if entry else None

    @property
    def numpy(self) -> np.dtype | None:
        """The numpy dtype for values of this type, or None for handles."""
        entry = self._entry
        if entry is None or entry[2] is None:
            return None
        import numpy as np

        spelling = entry[2]
        if spelling.startswith("ml_dtypes."):
            import ml_dtypes

            return np.dtype(getattr(ml_dtypes, spelling.split(".", 1)[1]))
        return np.dtype(spelling)

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    __str__ = __repr__


def dtype(spec: int | str | DType) -> DType:
    """A :class:`DType` from an enum value, ``'float32'``, ``'tf.float32'`` or ``'DT_FLOAT'``."""
    if isinstance(spec, DType):
        return spec
    if isinstance(spec, int):
        return DType(spec)
    name = spec.removeprefix("tf.")
    ref = 0
    if name.endswith("_ref") or name.endswith("_REF"):
        name, ref = name[:-4], REF_OFFSET
    if name in _BY_NAME:
        return DType(_BY_NAME[name] + ref)
    if name in _BY_ENUM:
        return DType(_BY_ENUM[name] + ref)
    choices = ", ".join(sorted(_BY_NAME))
    raise ValueError(f"unknown dtype {spec!r}; expected one of: {choices}")
