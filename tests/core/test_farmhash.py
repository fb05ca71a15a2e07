"""FarmHash Fingerprint64 (pure Python and native) and FingerprintCat64."""

from __future__ import annotations

import random
from pathlib import Path

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


def _pattern(n: int) -> bytes:
    return bytes((i * 131 + 7) & 0xFF for i in range(n))


# Values agreed on by the pure-Python code, cityhash 0.4.10 and pyfarmhash 0.5.1.
_PINNED = {
    0: 11160318154034397263,
    1: 6305636504242451570,
    7: 350524659672043134,
    31: 2864921176549744580,
    64: 16291252500013338479,
    65: 10938277795795887744,
    1000: 17079257492731967287,
    1_000_003: 14493073580623061312,
}


@pytest.mark.parametrize("n", sorted(_PINNED))
def test_native_and_pure_python_agree_on_pinned_vectors(n: int) -> None:
    data = _pattern(n)
    assert fingerprint64_py(data) == _PINNED[n]
    assert fingerprint64(data) == _PINNED[n]
    assert fingerprint64(memoryview(data)) == _PINNED[n]


def test_a_default_install_hashes_natively() -> None:
    # cityhash is a core dependency: its wheel must be what runs, not the fallback.
    assert farmhash.NATIVE
    assert farmhash.IMPLEMENTATION == "cityhash"


def test_native_matches_pure_python_on_random_inputs() -> None:
    rng = random.Random(2024)
    for n in list(range(0, 301)) + [rng.randrange(300, 5000) for _ in range(50)]:
        data = rng.randbytes(n)
        assert fingerprint64_py(data) == fingerprint64(data), n


def test_a_native_module_that_disagrees_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    wrong = types.ModuleType("farmhash")
    wrong.Fingerprint64 = lambda data: 1  # type: ignore[attr-defined]
    wrong.fingerprint64 = lambda data: fingerprint64_py(data)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "farmhash", wrong)
    found = farmhash._native()
    assert found is not None and found[1] == "pyfarmhash"
    del wrong.fingerprint64
    assert farmhash._native() is None
    monkeypatch.setitem(sys.modules, "farmhash", None)  # not installed
    assert farmhash._native() is None


def test_file_checksum_hashes_the_raw_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(_pattern(1000))
    assert farmhash.fingerprint64_file(path) == _PINNED[1000]
    path.write_bytes(b"")
    assert farmhash.fingerprint64_file(path) == _PINNED[0]


def test_fingerprint_cat64_is_order_sensitive_and_deterministic() -> None:
    a, b = fingerprint64(b"a"), fingerprint64(b"b")
    assert fingerprint_cat64(a, b) != fingerprint_cat64(b, a)
    assert fingerprint_cat64(a, b) == fingerprint_cat64(a, b)
    assert 0 <= fingerprint_cat64(2**64 - 1, 2**64 - 1) < 2**64
