"""The SSTable reader over tables written byte by byte."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from smlite.errors import ChecksumError, CorruptFileError, UnsupportedError
from smlite.formats import sstable
from smlite.formats.sstable import SSTable
from tests.support.bundle_writer import (
    assemble_table,
    block_with_trailer,
    build_table,
    encode_block,
    varint,
)


def _items(n: int) -> list[tuple[bytes, bytes]]:
    # Long shared prefixes, values of varied length.
    return [
        (f"layer/{i // 10:04d}/weight_{i:05d}".encode(), bytes([i % 251]) * (i % 37))
        for i in range(n)
    ]


def _write(tmp_path: Path, data: bytes, name: str = "t.index") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _open(tmp_path: Path, data: bytes) -> list[tuple[bytes, bytes]]:
    return list(SSTable.open(_write(tmp_path, data)).items())


@pytest.mark.parametrize("restart_interval", [1, 2, 16, 1000])
def test_restarts_and_shared_prefixes(tmp_path: Path, restart_interval: int) -> None:
    items = _items(100)
    assert _open(tmp_path, build_table(items, restart_interval=restart_interval)) == items


def test_several_blocks(tmp_path: Path) -> None:
    items = _items(500)
    data = build_table(items, block_size=512)
    table = SSTable.open(_write(tmp_path, data))
    assert len(table.data_handles()) > 10
    assert list(table.items()) == items


def test_snappy_blocks(tmp_path: Path) -> None:
    items = _items(300)
    assert _open(tmp_path, build_table(items, block_size=2048, compression=1)) == items


def test_empty_table(tmp_path: Path) -> None:
    assert _open(tmp_path, assemble_table([])) == []


def test_empty_key_and_binary_keys(tmp_path: Path) -> None:
    items = [(b"", b"header"), (b"\x00\xff\x00", b"a"), (b"\x00\xff\x01", b""), (b"\xff", b"z")]
    assert _open(tmp_path, build_table(items, restart_interval=2)) == items


@pytest.mark.parametrize("cut", [0, 1, 20, 47])
def test_file_shorter_than_footer(tmp_path: Path, cut: int) -> None:
    data = build_table(_items(3))[:cut]
    path = _write(tmp_path, data)
    with pytest.raises(CorruptFileError) as info:
        SSTable.open(path)
    assert str(info.value).startswith(f"{path} at offset 0: not an SSTable index file")
    assert "truncated" in str(info.value)


def test_truncated_file_has_bad_magic(tmp_path: Path) -> None:
    data = build_table(_items(50))
    for cut in (len(data) - 1, len(data) - 10, len(data) // 2):
        path = _write(tmp_path, data[:cut])
        with pytest.raises(CorruptFileError, match="bad SSTable magic number") as info:
            SSTable.open(path)
        assert info.value.offset == cut - 8
        assert str(path) in str(info.value)


def test_index_handle_past_end(tmp_path: Path) -> None:
    data = bytearray(build_table(_items(5)))
    footer = len(data) - 48
    # Rewrite the footer: metaindex at 0 (size 1), index handle far past the end.
    new = varint(0) + varint(1) + varint(10**6) + varint(10)
    data[footer : footer + 40] = new + bytes(40 - len(new))
    path = _write(tmp_path, bytes(data))
    with pytest.raises(CorruptFileError) as info:
        SSTable.open(path)
    assert "index block handle (offset 1000000, size 10) points past the end" in str(info.value)
    assert info.value.offset == footer + 2


def test_block_checksum_mismatch(tmp_path: Path) -> None:
    data = bytearray(build_table(_items(20)))
    data[7] ^= 0x01  # inside the first data block
    path = _write(tmp_path, bytes(data))
    with pytest.raises(ChecksumError) as info:
        list(SSTable.open(path).items())
    assert info.value.offset == 0
    assert str(info.value).startswith(f"{path} at offset 0: data block (offset 0, ")
    assert "checksum mismatch: stored 0x" in str(info.value)


def test_index_block_checksum_mismatch(tmp_path: Path) -> None:
    data = bytearray(build_table(_items(20)))
    table = SSTable.open(_write(tmp_path, bytes(data)))
    data[table.index_handle.offset + 1] ^= 0x40
    with pytest.raises(ChecksumError, match="index block"):
        SSTable.open(_write(tmp_path, bytes(data))).data_handles()


def test_unknown_compression_type(tmp_path: Path) -> None:
    contents = encode_block([(b"k", b"v")])
    raw = bytearray(block_with_trailer(contents))
    raw[-5] = 7
    crc = sstable.crc32c.mask(sstable.crc32c.value(bytes(raw[:-4])))
    raw[-4:] = struct.pack("<I", crc)
    good = assemble_table([(contents, b"k")])
    data = bytes(raw) + good[len(raw) :]
    with pytest.raises(UnsupportedError, match="compression type 7"):
        _open(tmp_path, data)


def test_bad_snappy_block(tmp_path: Path) -> None:
    contents = encode_block([(b"k", b"v")])
    bogus = varint(len(contents)) + bytes([1, 9])  # a copy before any output
    kind = b"\x01"
    raw = bogus + kind + struct.pack("<I", sstable.crc32c.mask(sstable.crc32c.value(bogus + kind)))
    index = block_with_trailer(encode_block([(b"k", varint(0) + varint(len(bogus)))], 1))
    meta = block_with_trailer(encode_block([]))
    body = raw + meta + index
    footer = varint(len(raw)) + varint(len(meta) - 5) + varint(len(raw) + len(meta))
    footer += varint(len(index) - 5)
    footer += bytes(40 - len(footer)) + struct.pack("<Q", sstable.MAGIC)
    with pytest.raises(CorruptFileError, match="bad Snappy data: copy offset 9"):
        _open(tmp_path, body + footer)


def _table_with_block(tmp_path: Path, contents: bytes) -> Path:
    return _write(tmp_path, assemble_table([(contents, b"zzz")]))


def test_entry_runs_past_block(tmp_path: Path) -> None:
    contents = varint(0) + varint(3) + varint(50) + b"key" + b"short" + struct.pack("<II", 0, 1)
    path = _table_with_block(tmp_path, contents)
    with pytest.raises(CorruptFileError) as info:
        list(SSTable.open(path).items())
    assert "entry of 3 key and 50 value bytes runs past the end" in str(info.value)
    assert info.value.offset == 0


def test_keys_out_of_order_in_block(tmp_path: Path) -> None:
    contents = encode_block([(b"b", b"1"), (b"a", b"2")], restart_interval=1)
    path = _table_with_block(tmp_path, contents)
    with pytest.raises(CorruptFileError, match="keys out of order"):
        list(SSTable.open(path).items())


def test_keys_out_of_order_across_blocks(tmp_path: Path) -> None:
    blocks = [(encode_block([(b"m", b"1")]), b"m"), (encode_block([(b"c", b"2")]), b"n")]
    path = _write(tmp_path, assemble_table(blocks))
    with pytest.raises(CorruptFileError, match="keys out of order across blocks"):
        list(SSTable.open(path).items())


def test_shared_prefix_longer_than_previous_key(tmp_path: Path) -> None:
    contents = varint(0) + varint(1) + varint(0) + b"a"
    contents += varint(5) + varint(1) + varint(0) + b"b"
    contents += struct.pack("<II", 0, 1)
    path = _table_with_block(tmp_path, contents)
    with pytest.raises(CorruptFileError, match="shares 5 bytes with a previous key of 1 bytes"):
        list(SSTable.open(path).items())


def test_restart_count_too_large(tmp_path: Path) -> None:
    path = _table_with_block(tmp_path, struct.pack("<I", 99))
    with pytest.raises(CorruptFileError, match="claims 99 restart points"):
        list(SSTable.open(path).items())


def test_restart_point_inside_an_entry(tmp_path: Path) -> None:
    entries = encode_block([(b"a", b"1"), (b"b", b"2")], restart_interval=100)
    body = entries[:-8]
    contents = body + struct.pack("<III", 0, 2, 2)
    path = _table_with_block(tmp_path, contents)
    with pytest.raises(CorruptFileError, match="restart point at 2, which is not the start"):
        list(SSTable.open(path).items())


def test_restart_entry_must_not_share(tmp_path: Path) -> None:
    entries = encode_block([(b"ab", b"1"), (b"ac", b"2")], restart_interval=100)
    second = len(varint(0) + varint(2) + varint(1) + b"ab1")
    contents = entries[:-8] + struct.pack("<III", 0, second, 2)
    path = _table_with_block(tmp_path, contents)
    with pytest.raises(CorruptFileError, match=r"restart point .* shares 1 key bytes"):
        list(SSTable.open(path).items())


def test_truncated_entry_header(tmp_path: Path) -> None:
    path = _table_with_block(tmp_path, b"\x00\x80" + struct.pack("<II", 0, 1))
    with pytest.raises(CorruptFileError, match="truncated entry header"):
        list(SSTable.open(path).items())


def test_block_too_short(tmp_path: Path) -> None:
    path = _table_with_block(tmp_path, b"\x00")
    with pytest.raises(CorruptFileError, match="too short for its restart count"):
        list(SSTable.open(path).items())
