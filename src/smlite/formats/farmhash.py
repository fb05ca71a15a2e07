"""FarmHash ``Fingerprint64`` and TensorFlow's ``FingerprintCat64``.

TensorFlow's SavedModel fingerprint (``fingerprint.pb``) is built from
``tsl::Fingerprint64``, which is FarmHash's ``Fingerprint64``: the
``farmhashna`` variant of ``Hash64``, a function frozen by its authors so
that its values never change across platforms or releases.  This module
implements it in pure Python and uses a native ``farmhash`` extension module
instead when one is importable and agrees with it (``cityhash``, a core
dependency, or ``pyfarmhash``), because the pure-Python loop runs at a few
MB/s while the extension hashes at memory speed.  :data:`IMPLEMENTATION`
says which one runs; the tests pin both on the same vectors.

>>> fingerprint64(b"abc")
2640714258260161385
>>> fingerprint64(b"")
11160318154034397263
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable, Iterator
from typing import Union

__all__ = [
    "IMPLEMENTATION",
    "NATIVE",
    "fingerprint64",
    "fingerprint64_file",
    "fingerprint64_py",
    "fingerprint_cat64",
]

#: Anything with the buffer protocol: bytes, bytearray, a memoryview (of a memory map).
Buffer = Union[bytes, bytearray, memoryview, mmap.mmap]  # noqa: UP007 (runtime alias)

_M = 0xFFFFFFFFFFFFFFFF
# FarmHash's mixing constants (k0..k2) and TSL's FingerprintCat64 multiplier.
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F
_KMUL = 0xC6A4A7935BD1E995


def _rot(v: int, shift: int) -> int:
    """Rotate a 64-bit value right by ``shift`` (1..63) bits."""
    return ((v >> shift) | (v << (64 - shift))) & _M


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def _hash_len16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _fetch64(s: bytes, i: int) -> int:
    return int.from_bytes(s[i : i + 8], "little")


def _fetch32(s: bytes, i: int) -> int:
    return int.from_bytes(s[i : i + 4], "little")


def _len0to16(s: bytes, n: int) -> int:
    if n >= 8:
        mul = _K2 + n * 2
        a = (_fetch64(s, 0) + _K2) & _M
        b = _fetch64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        a = _fetch32(s, 0)
        return _hash_len16(n + (a << 3), _fetch32(s, n - 4), mul)
    if n > 0:
        y = (s[0] + (s[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (s[n - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _len17to32(s: bytes, n: int) -> int:
    mul = _K2 + n * 2
    a = (_fetch64(s, 0) * _K1) & _M
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _M
    d = (_fetch64(s, n - 16) * _K2) & _M
    return _hash_len16(
        (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M,
        (a + _rot((b + _K2) & _M, 18) + c) & _M,
        mul,
    )


def _len33to64(s: bytes, n: int) -> int:
    mul = _K2 + n * 2
    a = (_fetch64(s, 0) * _K2) & _M
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _M
    d = (_fetch64(s, n - 16) * _K2) & _M
    y = (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M
    z = _hash_len16(y, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)
    e = (_fetch64(s, 16) * mul) & _M
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, n - 32)) * mul) & _M
    h = ((z + _fetch64(s, n - 24)) * mul) & _M
    return _hash_len16(
        (_rot((e + f) & _M, 43) + _rot(g, 30) + h) & _M,
        (e + _rot((f + a) & _M, 18) + g) & _M,
        mul,
    )


def _blocks(s: bytes, rounds: int) -> Iterator[tuple[int, ...]]:
    """The first ``rounds`` 64-byte blocks of ``s`` as eight little-endian words each.

    One C-level unpack per batch is far cheaper than eight ``int.from_bytes``
    calls per block; batches bound the memory used on large inputs.
    """
    batch = 1 << 14
    for first in range(0, rounds, batch):
        count = min(batch, rounds - first)
        yield from struct.iter_unpack("<8Q", s[first * 64 : (first + count) * 64])


def fingerprint64_py(data: Buffer) -> int:
    """FarmHash ``Fingerprint64`` of ``data`` in pure Python (slow on large inputs)."""
    s = bytes(data)
    n = len(s)
    if n <= 16:
        return _len0to16(s, n)
    if n <= 32:
        return _len17to32(s, n)
    if n <= 64:
        return _len33to64(s, n)

    # Inputs over 64 bytes: 56 bytes of state, 64 bytes consumed per round,
    # then one last round over the final 64 bytes (which may overlap).
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _M
    z = (_shift_mix((y * _K2 + 113) & _M) * _K2) & _M
    v0 = v1 = w0 = w1 = 0
    rounds = (n - 1) // 64
    x = (x * _K2 + _fetch64(s, 0)) & _M
    for f0, f1, f2, f3, f4, f5, f6, f7 in _blocks(s, rounds):
        x = (_rot((x + y + v0 + f1) & _M, 37) * _K1) & _M
        y = (_rot((y + v1 + f6) & _M, 42) * _K1) & _M
        x ^= w1
        y = (y + v0 + f5) & _M
        z = (_rot((z + w0) & _M, 33) * _K1) & _M
        # v = WeakHashLen32WithSeeds(words 0..3, v1 * k1, x + w0)
        a = (v1 * _K1 + f0) & _M
        b = _rot((x + w0 + a + f3) & _M, 21)
        c = a
        a = (a + f1 + f2) & _M
        b = (b + _rot(a, 44)) & _M
        v0, v1 = (a + f3) & _M, (b + c) & _M
        # w = WeakHashLen32WithSeeds(words 4..7, z + w1, y + word 2)
        a = (z + w1 + f4) & _M
        b = _rot((y + f2 + a + f7) & _M, 21)
        c = a
        a = (a + f5 + f6) & _M
        b = (b + _rot(a, 44)) & _M
        w0, w1 = (a + f7) & _M, (b + c) & _M
        z, x = x, z

    last = n - 64
    g0, g1, g2, g3, g4, g5, g6, g7 = struct.unpack_from("<8Q", s, last)
    mul = _K1 + ((z & 0xFF) << 1)
    w0 = (w0 + ((n - 1) & 63)) & _M
    v0 = (v0 + w0) & _M
    w0 = (w0 + v0) & _M
    x = (_rot((x + y + v0 + g1) & _M, 37) * mul) & _M
    y = (_rot((y + v1 + g6) & _M, 42) * mul) & _M
    x ^= (w1 * 9) & _M
    y = (y + v0 * 9 + g5) & _M
    z = (_rot((z + w0) & _M, 33) * mul) & _M
    a = (v1 * mul + g0) & _M
    b = _rot((x + w0 + a + g3) & _M, 21)
    c = a
    a = (a + g1 + g2) & _M
    b = (b + _rot(a, 44)) & _M
    v0, v1 = (a + g3) & _M, (b + c) & _M
    a = (z + w1 + g4) & _M
    b = _rot((y + g2 + a + g7) & _M, 21)
    c = a
    a = (a + g5 + g6) & _M
    b = (b + _rot(a, 44)) & _M
    w0, w1 = (a + g7) & _M, (b + c) & _M
    z, x = x, z
    return _hash_len16(
        (_hash_len16(v0, w0, mul) + _shift_mix(y) * _K0 + z) & _M,
        (_hash_len16(v1, w1, mul) + x) & _M,
        mul,
    )


# Known answers (the empty input, each length branch, the 64-byte loop with a final
# overlapping block) that a native module must reproduce before smlite uses it.
_SELF_TEST = (b"", b"abc", bytes(range(17)), bytes(range(40)), bytes(range(200)) * 7)


def _native() -> tuple[Callable[[Buffer], int], str] | None:
    """The native ``Fingerprint64`` and its name, or None when there is none that agrees.

    Two distributions install a top-level ``farmhash`` module: ``cityhash``
    (a core dependency: ``Fingerprint64``, accepts any buffer, so slices of a
    memory map are hashed without a copy) and ``pyfarmhash``
    (``fingerprint64``, bytes only).  Either is used only after it agrees with
    the pure-Python implementation on :data:`_SELF_TEST`.
    """
    try:
        import farmhash
    except ImportError:
        return None
    candidates: list[tuple[Callable[[Buffer], int], str]] = []
    fn = getattr(farmhash, "Fingerprint64", None)
    if callable(fn):
        candidates.append((fn, "cityhash"))
    fn = getattr(farmhash, "fingerprint64", None)
    if callable(fn):
        bytes_only = fn
        candidates.append((lambda data: bytes_only(bytes(data)), "pyfarmhash"))
    for candidate, name in candidates:
        try:
            agrees = all(int(candidate(v)) == fingerprint64_py(v) for v in _SELF_TEST)
        except (TypeError, ValueError):
            agrees = False
        if agrees:
            return candidate, name
    return None


_FOUND = _native()
_NATIVE: Callable[[Buffer], int] | None = _FOUND[0] if _FOUND else None
#: True when a native ``farmhash`` extension module is used for speed.
NATIVE = _NATIVE is not None
#: Which implementation :func:`fingerprint64` runs: ``"cityhash"`` or ``"pyfarmhash"``
#: (native), or ``"python"`` (the pure-Python fallback, a few MB/s).
IMPLEMENTATION = _FOUND[1] if _FOUND else "python"


def fingerprint64(data: Buffer) -> int:
    """FarmHash ``Fingerprint64`` (= TensorFlow's ``tsl::Fingerprint64``) of ``data``.

    ``data`` may be any contiguous buffer (bytes, a memoryview of a memory map).
    """
    if _NATIVE is not None:
        return int(_NATIVE(data))
    return fingerprint64_py(data)


def fingerprint64_file(path: str | os.PathLike[str]) -> int:
    """``Fingerprint64`` of a file's raw bytes, hashed from a memory map (no copy natively).

    Raises ``OSError`` when the file cannot be read.
    """
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return fingerprint64(b"")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return fingerprint64(m)


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """Combine two fingerprints in order, as TensorFlow's ``FingerprintCat64``."""
    result = fp1 ^ _KMUL
    result ^= (_shift_mix((fp2 * _KMUL) & _M) * _KMUL) & _M
    result = (result * _KMUL) & _M
    result = (_shift_mix(result) * _KMUL) & _M
    return _shift_mix(result)
