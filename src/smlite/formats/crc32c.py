"""CRC-32C (Castagnoli) and the "masked" form TensorFlow stores.

TensorFlow checksums SSTable blocks, tensor data and TFRecord frames with
CRC-32C: reflected polynomial ``0x82F63B78``, initial value and final XOR
``0xFFFFFFFF`` (``crc32c(b"123456789") == 0xE3069283``).  Stored checksums are
*masked* (``tsl::crc32c::Mask``) so that a CRC of data that itself holds CRCs
stays well distributed::

    masked = rotate_right(crc, 15) + 0xA282EAD8   (mod 2**32)

The native ``google-crc32c`` extension (several GB/s) is used when it is
importable; otherwise a table-driven pure-Python implementation gives the same
results, slowly.  :data:`IMPLEMENTATION` says which one is active.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from typing import Union

__all__ = ["IMPLEMENTATION", "extend", "mask", "unmask", "value", "python_extend"]

Buffer = Union[bytes, bytearray, memoryview, mmap.mmap]  # noqa: UP007 (a runtime alias)

_MASK_DELTA = 0xA282EAD8
_POLY = 0x82F63B78
_M32 = 0xFFFFFFFF


def _make_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _make_table()


def python_extend(crc: int, data: Buffer) -> int:
    """Pure-Python CRC-32C of ``data`` continuing from ``crc`` (slow; the fallback)."""
    table = _TABLE
    c = crc ^ _M32
    for b in memoryview(data).cast("B"):
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ _M32


# Views up to this size are copied (index blocks, most variables: a copy costs less than
# importing numpy); bigger tensor data goes zero-copy through a numpy view.
_COPY_LIMIT = 8 * 2**20


def _native() -> Callable[[int, Buffer], int] | None:
    try:
        import google_crc32c
    except ImportError:
        return None
    if getattr(google_crc32c, "implementation", "c") != "c":
        return None
    native_extend = google_crc32c.extend

    def extend_native(crc: int, data: Buffer) -> int:
        # The extension only takes buffers that need no release (bytes, numpy
        # arrays).  Small views are copied; a uint8 array view gives it a large
        # mmap or memoryview without copying, and numpy is imported only then,
        # so listing a checkpoint (or checking a small model) never loads it.
        if not isinstance(data, bytes):
            if memoryview(data).nbytes <= _COPY_LIMIT:
                data = bytes(data)
            else:
                import numpy as np

                data = np.frombuffer(data, dtype=np.uint8)  # type: ignore[assignment]
        return int(native_extend(crc, data))

    return extend_native


_extend_impl = _native()
IMPLEMENTATION = "google-crc32c" if _extend_impl is not None else "python"
if _extend_impl is None:
    _extend_impl = python_extend


def extend(crc: int, data: Buffer) -> int:
    """The CRC-32C of the bytes hashed into ``crc`` followed by ``data``."""
    assert _extend_impl is not None
    return _extend_impl(crc, data)


def value(data: Buffer) -> int:
    """The CRC-32C of ``data``."""
    return extend(0, data)


def mask(crc: int) -> int:
    """The masked form TensorFlow stores for ``crc``."""
    return ((((crc >> 15) | (crc << 17)) & _M32) + _MASK_DELTA) & _M32


def unmask(masked: int) -> int:
    """Inverse of :func:`mask`."""
    rot = (masked - _MASK_DELTA) & _M32
    return ((rot >> 17) | (rot << 15)) & _M32
