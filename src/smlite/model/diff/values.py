"""How much a variable's values changed, at memory speed.

Both values are read as zero-copy views of the memory-mapped shards
(:meth:`VariableSet.read`) and walked in chunks that stay in the CPU cache,
so memory use does not grow with the variable:

* ``changed``: elements whose stored bytes differ (a NaN that stayed the
  same NaN is unchanged, ``-0.0`` vs ``0.0`` is a change);
* ``max_abs_diff``: the largest ``|new - old|``, NaNs skipped;
* ``relative_l2``: ``||new - old|| / ||old||``.

Low-precision floats (bfloat16, float8, ...) are widened to float32 chunk
by chunk; integers and booleans to float64; strings get only ``changed``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from smlite.model.diff.records import ValueStats

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CHUNK_ELEMENTS", "value_stats"]

#: Elements per chunk: 256 KiB of float32, so that both chunks and the difference stay in L2.
CHUNK_ELEMENTS = 1 << 16


def value_stats(old: np.ndarray[Any, Any], new: np.ndarray[Any, Any]) -> ValueStats:
    """Compare two arrays of the same dtype and shape."""
    import numpy as np

    a, b = old.reshape(-1), new.reshape(-1)
    n = a.size
    if a.dtype.kind == "O" or b.dtype.kind == "O":
        changed = int(np.count_nonzero(a != b)) if n else 0
        return ValueStats(n, changed, None, None)
    bits = _bits_dtype(a.dtype)
    work = _work_dtype(a.dtype)
    changed = 0
    max_abs = 0.0
    sq_diff = 0.0
    sq_old = 0.0
    buf = np.empty(min(n, CHUNK_ELEMENTS), dtype=work)
    mag = np.empty(min(n, CHUNK_ELEMENTS), dtype=np.float64 if work.kind == "c" else work)
    # NaN, inf and overflow are dealt with below; numpy need not warn on stderr about them.
    with np.errstate(all="ignore"):
        for start in range(0, n, CHUNK_ELEMENTS):
            x, y = a[start : start + CHUNK_ELEMENTS], b[start : start + CHUNK_ELEMENTS]
            m = x.size
            xs = x if x.dtype == work else x.astype(work)
            ys = y if y.dtype == work else y.astype(work)
            d = np.subtract(ys, xs, out=buf[:m])
            if work.kind == "c":
                r = np.abs(d, out=mag[:m])
                sq_old += float(np.vdot(xs, xs).real)
            else:
                r = np.abs(d, out=d)
                sq_old += float(np.dot(xs, xs))
            if m:
                top = float(np.fmax.reduce(r))
                if not math.isnan(top):
                    max_abs = max(max_abs, top)
            sq = float(np.dot(r, r))
            sq_diff += sq
            # Equal stored bytes make the difference 0 (NaN for NaN and inf), so a chunk
            # whose differences are all finite and non-zero changed in every element -- the
            # usual case for retrained weights -- and needs no second pass over both sides.
            # Anything else (a zero, a NaN, an overflow) is counted by the stored bytes.
            if m and math.isfinite(sq) and float(np.minimum.reduce(r)) > 0:
                changed += m  # (a min-reduction costs a tenth of counting non-zeros)
            else:
                changed += _count_changed(x, y, bits)
    relative = _relative(sq_diff, sq_old)
    return ValueStats(n, changed, max_abs, relative)


def _relative(sq_diff: float, sq_old: float) -> float:
    if math.isnan(sq_diff) or math.isnan(sq_old):
        return math.nan
    if sq_old == 0.0:
        return 0.0 if sq_diff == 0.0 else math.inf
    return math.sqrt(sq_diff) / math.sqrt(sq_old)


def _bits_dtype(dtype: np.dtype[Any]) -> tuple[np.dtype[Any], int] | None:
    """An unsigned integer type and count per element, to compare stored bytes exactly."""
    import numpy as np

    size = dtype.itemsize
    for width in (8, 4, 2, 1):
        if size % width == 0:
            return np.dtype(f"u{width}"), size // width
    return None


def _count_changed(
    x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], bits: tuple[np.dtype[Any], int] | None
) -> int:
    import numpy as np

    if bits is None:
        return int(np.count_nonzero(x != y))
    unit, per = bits
    differ = x.view(unit) != y.view(unit)
    if per > 1:
        differ = differ.reshape(-1, per).any(axis=1)
    return int(np.count_nonzero(differ))


def _work_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype differences are computed in."""
    import numpy as np

    if dtype in (np.float32, np.float64, np.complex64, np.complex128):
        return dtype
    if dtype.kind in "iub":
        return np.dtype(np.float64)
    # float16, bfloat16, float8 and float4 (ml_dtypes), sub-byte ints: exact in float32.
    return np.dtype(np.float32)
