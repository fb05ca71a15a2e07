"""The bounded Snappy raw-block decoder."""

from __future__ import annotations

import os

import pytest

from smlite.formats.snappy import SnappyError, decompress, uncompressed_length
from tests.support.bundle_writer import snappy_compress, varint


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"x",
        b"abcd" * 100,
        b"a" * 1000,  # overlapping copies of a 1-byte pattern
        os.urandom(3000),  # literals only, with 2-byte literal lengths
        b"hello world " * 60 + os.urandom(200) + b"hello world " * 60,
        bytes(range(256)) * 300,  # 2-byte-offset copies
    ],
)
def test_round_trip(data: bytes) -> None:
    assert decompress(snappy_compress(data), max_size=len(data)) == data


def test_every_element_kind_by_hand() -> None:
    # "abcd" literal, copy-1 (len 4, off 4), copy-2 (len 8, off 8), copy-4 (len 2, off 16),
    # a literal with a 1-byte extra length (61 bytes).
    tail = bytes(range(61))
    block = (
        varint(4 + 4 + 8 + 2 + 61)
        + bytes([3 << 2])
        + b"abcd"
        + bytes([1 | (0 << 2), 4])
        + bytes([2 | (7 << 2)])
        + (8).to_bytes(2, "little")
        + bytes([3 | (1 << 2)])
        + (16).to_bytes(4, "little")
        + bytes([60 << 2, 60])
        + tail
    )
    expected = b"abcd" + b"abcd" + b"abcdabcd" + b"ab" + tail
    assert decompress(block, max_size=100) == expected


def test_uncompressed_length() -> None:
    assert uncompressed_length(varint(300) + b"rest") == (300, 2)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"", "truncated length preamble"),
        (b"\xff\xff\xff\xff\xff\xff", "longer than 5 bytes"),
        (varint(4) + bytes([3 << 2]) + b"ab", "runs past the end"),
        (varint(4) + bytes([1, 1]), "copy offset 1 points outside"),
        (varint(8) + bytes([3 << 2]) + b"abcd" + bytes([1, 0]), "copy offset 0"),
        (varint(5) + bytes([3 << 2]) + b"abcd", "decoded 4 bytes but the block declares 5"),
        (varint(2) + bytes([3 << 2]) + b"abcd", "longer than the declared length"),
        (varint(4) + bytes([2]), "truncated copy"),
        (varint(4) + bytes([62 << 2, 1]), "truncated literal length"),
    ],
)
def test_damage_is_reported_with_offset(block: bytes, message: str) -> None:
    with pytest.raises(SnappyError, match=message) as info:
        decompress(block, max_size=100)
    assert "at byte" in str(info.value)


def test_output_is_bounded_before_decoding() -> None:
    with pytest.raises(SnappyError, match="exceeds the allowed 10 bytes"):
        decompress(varint(2**31) + b"\x00", max_size=10)
