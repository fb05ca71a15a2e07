"""A tiny TensorBundle / SSTable writer for tests: every byte laid down by hand.

It exists to build the edge cases TensorFlow rarely or never writes (several
index blocks, Snappy blocks, big-endian bundles, damaged entries with valid
checksums) and to keep the reader honest: nothing here calls the reader.

Layout reminders (see smlite.formats.sstable and smlite.formats.bundle):
block = entries (varint shared, varint non_shared, varint value_len, key delta,
value) + fixed32 restart offsets + fixed32 restart count; after each block a
1-byte compression type and the masked CRC32C of contents + type; a 48-byte
footer with the metaindex and index handles and the magic number.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from smlite import pb
from smlite.formats import crc32c

MAGIC = 0xDB4775248B80FB57

#: numpy dtype name -> TensorFlow DataType value (ml_dtypes names included).
TF_DTYPES = {
    "float32": 1,
    "float64": 2,
    "int32": 3,
    "uint8": 4,
    "int16": 5,
    "int8": 6,
    "object": 7,
    "complex64": 8,
    "int64": 9,
    "bool": 10,
    "bfloat16": 14,
    "uint16": 17,
    "complex128": 18,
    "float16": 19,
    "uint32": 22,
    "uint64": 23,
    "float8_e5m2": 24,
    "float8_e4m3fn": 25,
    "float8_e4m3fnuz": 26,
    "float8_e4m3b11fnuz": 27,
    "float8_e5m2fnuz": 28,
    "int4": 29,
    "uint4": 30,
    "int2": 31,
    "uint2": 32,
    "float4_e2m1fn": 33,
}


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def masked(data: bytes) -> int:
    return crc32c.mask(crc32c.value(data))


# -- snappy -------------------------------------------------------------------------------------


def snappy_compress(data: bytes) -> bytes:
    """A naive Snappy raw-block encoder: literals plus 1-, 2- and 4-byte-offset copies."""
    out = bytearray(varint(len(data)))
    last: dict[bytes, int] = {}
    pos = 0
    lit_start = 0

    def literal(chunk: bytes) -> None:
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out.extend([60 << 2, n])
        else:
            out.append(61 << 2)
            out.extend(struct.pack("<H", n))
        out.extend(chunk)

    while pos + 4 <= len(data):
        probe = data[pos : pos + 4]
        prev = last.get(probe)
        last[probe] = pos
        if prev is None:
            pos += 1
            continue
        length = 4
        while (
            pos + length < len(data) and data[prev + length] == data[pos + length] and length < 64
        ):
            length += 1
        if lit_start < pos:
            literal(data[lit_start:pos])
        offset = pos - prev
        if length <= 11 and offset < 2048:
            out.append(1 | ((length - 4) << 2) | ((offset >> 8) << 5))
            out.append(offset & 0xFF)
        elif offset < 65536:
            out.append(2 | ((length - 1) << 2))
            out.extend(struct.pack("<H", offset))
        else:
            out.append(3 | ((length - 1) << 2))
            out.extend(struct.pack("<I", offset))
        pos += length
        lit_start = pos
    if lit_start < len(data):
        literal(data[lit_start:])
    return bytes(out)


# -- sstable ------------------------------------------------------------------------------------


def encode_block(items: Sequence[tuple[bytes, bytes]], restart_interval: int = 16) -> bytes:
    """Block contents with prefix-compressed keys and a restart every ``restart_interval``."""
    out = bytearray()
    restarts = []
    prev = b""
    for i, (key, value) in enumerate(items):
        if i % restart_interval == 0:
            restarts.append(len(out))
            shared = 0
        else:
            shared = 0
            while shared < min(len(prev), len(key)) and prev[shared] == key[shared]:
                shared += 1
        out += varint(shared) + varint(len(key) - shared) + varint(len(value))
        out += key[shared:] + value
        prev = key
    if not restarts:
        restarts = [0]
    for r in restarts:
        out += struct.pack("<I", r)
    out += struct.pack("<I", len(restarts))
    return bytes(out)


def block_with_trailer(contents: bytes, compression: int = 0) -> bytes:
    body = snappy_compress(contents) if compression == 1 else contents
    kind = bytes([compression])
    return body + kind + struct.pack("<I", masked(body + kind))


def handle(offset: int, size: int) -> bytes:
    return varint(offset) + varint(size)


def assemble_table(
    data_blocks: Sequence[tuple[bytes, bytes]],
    *,
    compression: int = 0,
    index_compression: int | None = None,
) -> bytes:
    """A whole SSTable file from ``(block contents, separator key)`` pairs."""
    out = bytearray()
    index_items = []
    for contents, separator in data_blocks:
        raw = block_with_trailer(contents, compression)
        index_items.append((separator, handle(len(out), len(raw) - 5)))
        out += raw
    meta = block_with_trailer(encode_block([]))
    meta_handle = handle(len(out), len(meta) - 5)
    out += meta
    index = block_with_trailer(
        encode_block(index_items, restart_interval=1),
        compression if index_compression is None else index_compression,
    )
    index_handle = handle(len(out), len(index) - 5)
    out += index
    footer = meta_handle + index_handle
    footer += b"\x00" * (40 - len(footer))
    footer += struct.pack("<II", MAGIC & 0xFFFFFFFF, MAGIC >> 32)
    out += footer
    return bytes(out)


def build_table(
    items: Sequence[tuple[bytes, bytes]],
    *,
    block_size: int = 262144,
    restart_interval: int = 16,
    compression: int = 0,
) -> bytes:
    """An SSTable of sorted ``items``, cut into blocks of about ``block_size`` bytes."""
    blocks: list[tuple[bytes, bytes]] = []
    current: list[tuple[bytes, bytes]] = []
    size = 0
    for key, value in items:
        current.append((key, value))
        size += len(key) + len(value) + 3
        if size >= block_size:
            blocks.append((encode_block(current, restart_interval), current[-1][0]))
            current, size = [], 0
    if current:
        blocks.append((encode_block(current, restart_interval), current[-1][0]))
    return assemble_table(blocks, compression=compression)


# -- bundles ------------------------------------------------------------------------------------


def string_tensor_bytes(values: Sequence[bytes], *, big_endian: bool = False) -> tuple[bytes, int]:
    """DT_STRING layout and its masked CRC: varint lengths, masked length CRC, bytes."""
    order = ">" if big_endian else "<"
    lengths = b"".join(varint(len(v)) for v in values)
    hashed = b"".join(
        struct.pack(f"{order}I" if len(v) <= 0xFFFFFFFF else f"{order}Q", len(v)) for v in values
    )
    crc = crc32c.value(hashed)
    check = struct.pack(f"{order}I", crc32c.mask(crc))
    crc = crc32c.extend(crc, check)
    body = b"".join(values)
    crc = crc32c.extend(crc, body)
    return lengths + check + body, crc32c.mask(crc)


def _num_increasing(value: int) -> bytes:
    body = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return bytes([len(body)]) + body


def _signed(value: int) -> bytes:
    # Only the short forms the tests need: |value| < 8192.
    if -64 <= value < 64:
        return bytes([(0x80 ^ value) & 0xFF])
    assert -8192 <= value < 8192
    raw = bytearray((value & 0xFFFF).to_bytes(2, "big"))
    raw[0] ^= 0xC0
    return bytes(raw)


def slice_key(name: str, extents: Sequence[tuple[int, int | None]]) -> bytes:
    """EncodeTensorNameSlice, written out independently of the reader."""
    out = bytearray(b"\x00")
    for b in name.encode("utf-8", "surrogateescape"):
        out += {0x00: b"\x00\xff", 0xFF: b"\xff\x00"}.get(b, bytes([b]))
    out += b"\x00\x01"
    out += _num_increasing(len(extents))
    for start, length in extents:
        out += _signed(start) + _signed(-1 if length is None else length)
    return bytes(out)


@dataclass
class BundleWriter:
    """Collects tensors, then writes ``<prefix>.index`` and the data shards.

    >>> w = BundleWriter(tmp_path / "ckpt")                  # doctest: +SKIP
    >>> w.add("w", np.arange(6, dtype=np.float32).reshape(2, 3))
    >>> w.finish()
    """

    prefix: Path
    num_shards: int = 1
    big_endian: bool = False
    entries: dict[bytes, pb.BundleEntryProto] = field(default_factory=dict)
    shards: list[bytearray] = field(default_factory=list)
    header: pb.BundleHeaderProto | None = None

    def __post_init__(self) -> None:
        self.shards = [bytearray() for _ in range(self.num_shards)]

    def add_bytes(
        self,
        key: str | bytes,
        data: bytes,
        *,
        dtype: int,
        shape: Sequence[int],
        crc: int | None = None,
        shard: int = 0,
    ) -> pb.BundleEntryProto:
        """Append raw bytes as a tensor entry (crc defaults to the correct masked CRC)."""
        entry = pb.BundleEntryProto(
            dtype=dtype,  # type: ignore[arg-type]
            shard_id=shard,
            offset=len(self.shards[shard]),
            size=len(data),
            crc32c=masked(data) if crc is None else crc,
        )
        for d in shape:
            entry.shape.dim.add(size=d)
        self.shards[shard] += data
        self.entries[key.encode() if isinstance(key, str) else key] = entry
        return entry

    def add(self, key: str | bytes, value: np.ndarray, *, shard: int = 0) -> pb.BundleEntryProto:
        """Append a numpy array (object arrays of bytes become DT_STRING)."""
        value = np.asarray(value)
        if value.dtype.kind == "O":
            flat = [bytes(v) for v in value.reshape(-1)]
            data, crc = string_tensor_bytes(flat, big_endian=self.big_endian)
            return self.add_bytes(key, data, dtype=7, shape=value.shape, crc=crc, shard=shard)
        raw = np.ascontiguousarray(value)
        if self.big_endian and raw.dtype.itemsize > 1:
            unit = raw.dtype.itemsize // 2 if raw.dtype.kind == "c" else raw.dtype.itemsize
            raw = raw.reshape(-1).view(f"u{unit}").byteswap()
        dtype = TF_DTYPES[value.dtype.name]
        return self.add_bytes(key, raw.tobytes(), dtype=dtype, shape=value.shape, shard=shard)

    def add_sliced(
        self,
        key: str,
        value: np.ndarray,
        slices: Sequence[Sequence[tuple[int, int | None]]],
        *,
        shards: Sequence[int] | None = None,
    ) -> pb.BundleEntryProto:
        """A partitioned tensor: a full entry with ``slices`` and one entry per slice."""
        value = np.asarray(value)
        full = pb.BundleEntryProto(dtype=TF_DTYPES[value.dtype.name])  # type: ignore[arg-type]
        for d in value.shape:
            full.shape.dim.add(size=d)
        for i, extents in enumerate(slices):
            proto = full.slices.add()
            index = []
            for (start, length), dim in zip(extents, value.shape, strict=True):
                ext = proto.extent.add()
                if length is None:
                    index.append(slice(0, dim))
                else:
                    ext.start = start
                    ext.length = length
                    index.append(slice(start, start + length))
            part = value[tuple(index)]
            self.add(slice_key(key, extents), part, shard=shards[i] if shards else 0)
        self.entries[key.encode()] = full
        return full

    def index_items(self) -> list[tuple[bytes, bytes]]:
        header = self.header
        if header is None:
            header = pb.BundleHeaderProto(num_shards=self.num_shards)
            header.version.producer = 1
            if self.big_endian:
                header.endianness = pb.BundleHeaderProto.BIG
        items = [(b"", header.SerializeToString())]
        items += [(k, self.entries[k].SerializeToString()) for k in sorted(self.entries)]
        return items

    def finish(
        self,
        *,
        block_size: int = 262144,
        restart_interval: int = 16,
        compression: int = 0,
    ) -> Path:
        """Write the index and shards; return the prefix."""
        self.prefix.parent.mkdir(parents=True, exist_ok=True)
        table = build_table(
            self.index_items(),
            block_size=block_size,
            restart_interval=restart_interval,
            compression=compression,
        )
        Path(f"{self.prefix}.index").write_bytes(table)
        for i, data in enumerate(self.shards):
            Path(f"{self.prefix}.data-{i:05d}-of-{self.num_shards:05d}").write_bytes(bytes(data))
        return self.prefix
