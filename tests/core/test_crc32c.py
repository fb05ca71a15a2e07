"""CRC-32C and TensorFlow's masking: known vectors, native == pure Python."""

from __future__ import annotations

import os

import pytest

from smlite.formats import crc32c

# RFC 3720 (iSCSI) B.4 test vectors and the classic check value.
VECTORS = [
    (b"", 0x00000000),
    (b"123456789", 0xE3069283),
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
]


@pytest.mark.parametrize(("data", "expected"), VECTORS)
def test_known_values(data: bytes, expected: int) -> None:
    assert crc32c.value(data) == expected
    assert crc32c.python_extend(0, data) == expected


def test_native_matches_python_on_random_data() -> None:
    data = os.urandom(4099)
    assert crc32c.value(data) == crc32c.python_extend(0, data)


def test_extend_is_concatenation() -> None:
    a, b = b"hello, ", b"tensor bundle"
    assert crc32c.extend(crc32c.value(a), b) == crc32c.value(a + b)
    assert crc32c.python_extend(crc32c.python_extend(0, a), b) == crc32c.value(a + b)


def test_accepts_views_without_copying() -> None:
    data = bytearray(os.urandom(100))
    view = memoryview(data)[10:60]
    assert crc32c.value(view) == crc32c.value(bytes(data[10:60]))
    assert crc32c.value(data) == crc32c.value(bytes(data))


def test_mask_round_trip_and_known_value() -> None:
    for crc in (0, 1, 0xE3069283, 0xFFFFFFFF, 0x12345678):
        assert crc32c.unmask(crc32c.mask(crc)) == crc
        assert crc32c.mask(crc) != crc
    # rotate right by 15, then add 0xa282ead8
    assert crc32c.mask(0) == 0xA282EAD8
    assert crc32c.mask(0x8000) == (1 + 0xA282EAD8) & 0xFFFFFFFF


def test_implementation_is_reported() -> None:
    assert crc32c.IMPLEMENTATION in ("google-crc32c", "python")
