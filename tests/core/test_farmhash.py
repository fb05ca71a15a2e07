"""FarmHash Fingerprint64 (pure Python and native) and FingerprintCat64."""

from __future__ import annotations

import random

import pytest

from smlite.formats import farmhash
from smlite.formats.farmhash import fingerprint64, fingerprint64_py, fingerprint_cat64


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 11160318154034397263),
        (b"abc", 2640714258260161385),
        # An absent GraphDef after TensorFlow's regularization: library and versions present
        # but empty (formats.md section 5.2).
        (b"\x12\x00\x22\x00", 1826355931633539578),
    ],
)
def test_known_vectors(data: bytes, expected: int) -> None:
    assert fingerprint64_py(data) == expected
    assert fingerprint64(data) == expected


def test_every_length_branch_is_stable() -> None:
    # 0..16, 17..32, 33..64 and the 64-byte loop (with one and several rounds, and a
    # final block that overlaps the last round) all give 64-bit values and accept views.
    rng = random.Random(7)
    for n in (*range(0, 70), 127, 128, 129, 1000, 64 * 16384 + 3):
        data = rng.randbytes(n)
        value = fingerprint64_py(data)
        assert 0 <= value < 2**64
        assert fingerprint64_py(memoryview(data)) == value
        assert fingerprint64_py(bytearray(data)) == value


def test_matches_pyfarmhash_on_random_inputs() -> None:
    native = pytest.importorskip("farmhash")
    rng = random.Random(2024)
    for n in list(range(0, 301)) + [rng.randrange(300, 5000) for _ in range(50)]:
        data = rng.randbytes(n)
        assert fingerprint64_py(data) == native.fingerprint64(data), n


def test_native_flag_reflects_module() -> None:
    try:
        import farmhash as _  # noqa: F401
    except ImportError:
        assert farmhash.NATIVE is False
    else:
        assert farmhash.NATIVE is True


def test_fingerprint_cat64_is_order_sensitive_and_deterministic() -> None:
    a, b = fingerprint64(b"a"), fingerprint64(b"b")
    assert fingerprint_cat64(a, b) != fingerprint_cat64(b, a)
    assert fingerprint_cat64(a, b) == fingerprint_cat64(a, b)
    assert 0 <= fingerprint_cat64(2**64 - 1, 2**64 - 1) < 2**64
