"""Stored tensor bytes of a TensorBundle as numpy values: dtypes, byte order, slice tiling.

The reading of :class:`~smlite.model.variables.VariableSet`: numeric tensors are
zero-copy views of the memory-mapped shard (byte-swapped copies for big-endian
bundles), strings come from :meth:`Bundle.read_strings`; variants and
resources cannot be read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smlite.errors import CorruptFileError, UnsupportedError
from smlite.formats import bundle as bundle_format
from smlite.formats.bundle import Bundle, Entry
from smlite.formats.storage import AnyPath
from smlite.model.dtypes import DType

if TYPE_CHECKING:
    import numpy as np

__all__ = ["decode", "numpy_dtype", "numpy_dtype_of", "read_value", "readable"]

# Element types whose bytes can be viewed as-is; for these TF 2.21 stores one
# byte per element (int4/uint4/int2/uint2/float4 included: verified).
_SWAP_UNIT = {8: 4, 18: 8}  # complex: each half is byte-swapped on its own
_NUMPY_DTYPES: dict[int, np.dtype[Any]] = {}


def numpy_dtype_of(tf_dtype: DType) -> np.dtype[Any]:
    """numpy's dtype for values of ``tf_dtype``; ``object`` for strings and handles."""
    found = _NUMPY_DTYPES.get(tf_dtype.value)
    if found is None:
        import numpy as np

        found = tf_dtype.numpy
        if found is None:
            found = np.dtype(object)
        _NUMPY_DTYPES[tf_dtype.value] = found
    return found


def readable(dtype: DType) -> bool:
    return dtype.numpy is not None and dtype.value not in (
        bundle_format.DT_VARIANT,
        bundle_format.DT_RESOURCE,
    )


def numpy_dtype(b: Bundle, entry: Entry, tf_dtype: DType) -> np.dtype[Any]:
    np_dtype = numpy_dtype_of(tf_dtype)
    if np_dtype.kind != "O" and not tf_dtype.is_ref:
        return np_dtype
    if tf_dtype.is_ref or not readable(tf_dtype):
        what = (
            "a variant (an arbitrary C++ object)"
            if tf_dtype.value == bundle_format.DT_VARIANT
            else f"of type {tf_dtype.enum_name}"
        )
        raise UnsupportedError(
            f"entry {entry.key!r} is {what}; smlite reads numeric, bool and string tensors only",
            path=b.index_path,
        )
    return np_dtype


def decode(b: Bundle, entry: Entry, tf_dtype: DType, *, verify: bool) -> np.ndarray:
    import numpy as np

    np_dtype = numpy_dtype(b, entry, tf_dtype)
    if tf_dtype.value == bundle_format.DT_STRING:
        strings = b.read_strings(entry, verify=verify)
        out = np.empty(len(strings), dtype=object)
        out[:] = strings
        out = out.reshape(entry.shape)
        out.flags.writeable = False
        return out
    expected = entry.num_elements * np_dtype.itemsize
    if entry.size != expected:
        if tf_dtype.itemsize is None and entry.num_elements and entry.size < expected:
            raise UnsupportedError(
                f"entry {entry.key!r} ({tf_dtype.name}) stores "
                f"{entry.num_elements} elements in {entry.size} bytes, a packed layout; "
                "smlite reads the one-byte-per-element layout TensorFlow 2.21 writes",
                path=b.index_path,
            )
        raise CorruptFileError(
            f"entry {entry.key!r}: stored size {entry.size} bytes does not match "
            f"{tf_dtype.name}{list(entry.shape)} ({expected} bytes)",
            path=b.index_path,
        )
    raw = b.read_bytes(entry, verify=verify)
    if not b.big_endian or np_dtype.itemsize == 1:
        return np.frombuffer(raw, dtype=np_dtype).reshape(entry.shape)
    unit = _SWAP_UNIT.get(tf_dtype.value, np_dtype.itemsize)
    swapped = np.frombuffer(raw, dtype=f"<u{unit}").byteswap()
    out = swapped.view(np_dtype).reshape(entry.shape)
    out.flags.writeable = False
    return out


def _check_coverage(entry: Entry, boxes: list[tuple[tuple[int, int], ...]], path: AnyPath) -> None:
    """The slices of a partitioned tensor must tile it: disjoint, covering every element."""
    total = 0
    for box in boxes:
        n = 1
        for start, stop in box:
            n *= stop - start
        total += n
    for i, a in enumerate(boxes):
        for c in boxes[i + 1 :]:
            if all(max(a0, c0) < min(a1, c1) for (a0, a1), (c0, c1) in zip(a, c, strict=True)):
                raise CorruptFileError(
                    f"partitioned tensor {entry.key!r}: slices {_box(a)} and {_box(c)} overlap",
                    path=path,
                )
    if total != entry.num_elements:
        raise CorruptFileError(
            f"partitioned tensor {entry.key!r}: its {len(boxes)} slices cover {total} of "
            f"{entry.num_elements} elements",
            path=path,
        )


def read_value(b: Bundle, entry: Entry, *, verify: bool) -> np.ndarray:
    """The value of ``entry`` (assembled from its slices when it is partitioned)."""
    tf_dtype = DType(entry.dtype)
    if entry.is_sliced:
        return _assemble(b, entry, tf_dtype, verify=verify)
    return decode(b, entry, tf_dtype, verify=verify)


def _assemble(b: Bundle, entry: Entry, tf_dtype: DType, *, verify: bool) -> np.ndarray:
    """A partitioned tensor from its slices, each checked against its shard and its place."""
    import numpy as np

    parts: list[tuple[tuple[tuple[int, int], ...], Entry]] = []
    for slc in entry.slices:
        bounds = slc.bounds(entry.shape)
        if bounds is None:
            raise CorruptFileError(
                f"partitioned tensor {entry.key!r}: slice {slc} does not fit its shape "
                f"{list(entry.shape)}",
                path=b.index_path,
            )
        sub = b.slice_entry(entry, slc)
        expected = tuple(stop - start for start, stop in bounds)
        if sub.dtype != entry.dtype or sub.shape != expected:
            raise CorruptFileError(
                f"partitioned tensor {entry.key!r}: slice {slc} is stored as "
                f"{DType(sub.dtype).name}{list(sub.shape)}, expected "
                f"{tf_dtype.name}{list(expected)}",
                path=b.index_path,
            )
        b.check_span(sub)
        parts.append((bounds, sub))
    _check_coverage(entry, [p[0] for p in parts], b.index_path)
    np_dtype = numpy_dtype(b, entry, tf_dtype)
    # Every slice was checked against the real shard sizes above, and the
    # slices tile the tensor exactly, so this allocation is bounded by
    # the data on disk.
    if tf_dtype.value != bundle_format.DT_STRING:
        stored = sum(sub.size for _, sub in parts)
        if stored != entry.num_elements * np_dtype.itemsize:
            raise CorruptFileError(
                f"partitioned tensor {entry.key!r}: its slices hold {stored} bytes, "
                f"expected {entry.num_elements * np_dtype.itemsize}",
                path=b.index_path,
            )
    out = np.empty(entry.shape, dtype=np_dtype)
    for bounds, sub in parts:
        value = decode(b, sub, tf_dtype, verify=verify)
        out[tuple(slice(start, stop) for start, stop in bounds)] = value
    out.flags.writeable = False
    return out


def _box(box: tuple[tuple[int, int], ...]) -> str:
    return "[" + ", ".join(f"{a}:{b}" for a, b in box) + "]"
