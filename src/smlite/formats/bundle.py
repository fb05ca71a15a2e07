"""TensorBundle checkpoints: the ``.index`` SSTable plus ``.data-SSSSS-of-NNNNN`` shards.

A bundle with prefix ``P`` (``<model>/variables/variables`` in a SavedModel,
``ckpt-3`` for ``tf.train.Checkpoint``) consists of ``P.index`` and
``P.data-00000-of-0000N`` ... .  The index is an SSTable (see
:mod:`smlite.formats.sstable`) whose entries are::

    ""            BundleHeaderProto {num_shards, endianness (LITTLE=0, BIG=1), version}
    <tensor key>  BundleEntryProto  {dtype, shape, shard_id, offset, size,
                                     crc32c (masked), slices}

A tensor's bytes are ``size`` bytes at ``offset`` in shard ``shard_id``:

* numeric dtypes: the raw C-order buffer in the writer's byte order;
  ``crc32c = mask(crc32c(bytes))`` over the bytes as stored;
* DT_STRING::

      varint64 len[0] ... len[N-1]
      fixed32  mask(crc of the lengths)        the lengths hashed as uint32
                                               (uint64 if > 2**32-1), writer's order
      bytes    string[0] ... string[N-1]

  and ``crc32c`` is the mask of the running CRC over the hashed lengths, the 4
  checksum bytes as stored and all the string bytes.

A partitioned tensor has an entry with ``dtype``, the full ``shape`` and
``slices`` (no data of its own) plus one ordinary entry per slice, keyed by
:func:`encode_slice_key`.

This module knows bytes, not meaning: it returns verified byte views (zero-copy
over a read-only memory map of the shard) and lists of strings; turning them
into typed arrays is the model layer's job.  Every length and offset is checked
against the real file sizes before use.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from smlite import pb
from smlite.errors import (
    CheckpointNotFoundError,
    ChecksumError,
    CorruptFileError,
    SmliteError,
    UnsupportedError,
)
from smlite.formats import crc32c, wire
from smlite.formats.sstable import SSTable
from smlite.formats.wire import WireError, read_varint

__all__ = [
    "DT_STRING",
    "DT_VARIANT",
    "DT_RESOURCE",
    "OBJECT_GRAPH_KEY",
    "Bundle",
    "CheckpointNotFoundError",
    "Entry",
    "Extent",
    "TensorSlice",
    "data_path",
    "decode_slice_key",
    "encode_slice_key",
    "index_path",
    "read_meta_collections",
    "resolve_prefix",
]

#: The key under which TF2 stores the serialized TrackableObjectGraph.
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
HEADER_KEY = b""
DT_STRING = 7
DT_RESOURCE = 20
DT_VARIANT = 21
#: ``kTensorBundleVersion``: what this reader, as a consumer, is.
BUNDLE_VERSION = 1

_DATA_RE = re.compile(r"\.data-\d{5}-of-\d{5}$")
_CHECKPOINT_STATE_RE = re.compile(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"\s*$', re.M)


def index_path(prefix: str | os.PathLike[str]) -> Path:
    return Path(os.fspath(prefix) + ".index")


def data_path(prefix: str | os.PathLike[str], shard: int, num_shards: int) -> Path:
    return Path(f"{os.fspath(prefix)}.data-{shard:05d}-of-{num_shards:05d}")


def resolve_prefix(path: str | os.PathLike[str]) -> Path:
    """The bundle prefix for ``path``.

    Accepts a prefix (``ckpt-3``), its ``.index`` or one of its data files, a
    SavedModel directory (its ``variables/variables``), a SavedModel's
    ``variables`` directory, or a training directory with a ``checkpoint``
    state file (its latest checkpoint, as ``tf.train.latest_checkpoint``).
    """
    p = Path(os.fspath(path))
    text = os.fspath(p)
    if text.endswith(".index") and p.is_file():
        return Path(text[: -len(".index")])
    if _DATA_RE.search(text) and p.is_file():
        return Path(_DATA_RE.sub("", text))
    if index_path(p).is_file():
        return p
    if p.is_dir():
        for candidate in (p / "variables" / "variables", p / "variables"):
            if index_path(candidate).is_file():
                return candidate
        state = p / "checkpoint"
        if state.is_file():
            latest = _latest_from_state(state)
            if latest is not None:
                prefix = latest if latest.is_absolute() else p / latest
                if index_path(prefix).is_file():
                    return prefix
                raise CorruptFileError(
                    f"the checkpoint state file names {str(latest)!r}, but "
                    f"{index_path(prefix)} does not exist",
                    path=state,
                )
        found = sorted(q.name[: -len(".index")] for q in p.glob("*.index") if q.is_file())
        if len(found) == 1:
            return p / found[0]
        if found:
            raise CheckpointNotFoundError(
                str(p),
                found,
                path=p,
                hint="the directory holds several checkpoints; give one prefix",
            )
        raise CheckpointNotFoundError(
            str(p),
            [],
            path=p,
            hint="no *.index file, variables/variables.index or checkpoint state file in it",
        )
    if not p.exists() and not p.parent.is_dir():
        raise CheckpointNotFoundError(str(p), [], path=p, hint="no such file or directory")
    siblings = (
        sorted(q.name[: -len(".index")] for q in p.parent.glob("*.index") if q.is_file())
        if p.parent.is_dir()
        else []
    )
    raise CheckpointNotFoundError(
        str(p),
        siblings,
        path=p,
        hint=f"{index_path(p).name} does not exist",
    )


def read_meta_collections(prefix: str | os.PathLike[str]) -> pb.MetaGraphDef | None:
    """The collections of ``<prefix>.meta`` (a TF1 ``Saver`` MetaGraphDef), or None.

    Only the ``collection_def`` fields (number 4) are parsed; the graph, which
    makes up most of the file, is skipped over without being decoded.
    """
    path = Path(os.fspath(prefix) + ".meta")
    if not path.is_file():
        return None
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                return None
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                chunks = [
                    m[field.key_start : field.end]
                    for field in wire.iter_fields(m)
                    if field.number == 4 and field.wire_type == wire.LEN
                ]
        return pb.MetaGraphDef.FromString(b"".join(chunks))
    except (wire.WireError, pb.DecodeError) as e:
        raise CorruptFileError(
            f"the checkpoint's MetaGraphDef does not parse: {e}", path=path
        ) from e


def _latest_from_state(state: Path) -> Path | None:
    try:
        text = state.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = _CHECKPOINT_STATE_RE.search(text)
    if m is None:
        return None
    return Path(m.group(1).encode("latin-1", "backslashreplace").decode("unicode_escape"))


# -- tensor slices ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extent:
    """One dimension of a slice: ``length is None`` means the whole dimension."""

    start: int
    length: int | None


@dataclass(frozen=True, slots=True)
class TensorSlice:
    """A TensorSliceProto: one extent per dimension."""

    extents: tuple[Extent, ...]

    @classmethod
    def from_proto(cls, proto: pb.TensorSliceProto) -> TensorSlice:
        return cls(
            tuple(Extent(e.start, e.length if e.HasField("length") else None) for e in proto.extent)
        )

    def bounds(self, shape: Sequence[int]) -> tuple[tuple[int, int], ...] | None:
        """``(start, stop)`` per dimension of a tensor of ``shape``; None if out of range."""
        if len(self.extents) != len(shape):
            return None
        out = []
        for ext, dim in zip(self.extents, shape, strict=True):
            if ext.length is None:
                if ext.start != 0:
                    return None
                out.append((0, dim))
                continue
            if ext.start < 0 or ext.length < 0 or ext.start + ext.length > dim:
                return None
            out.append((ext.start, ext.start + ext.length))
        return tuple(out)

    def __str__(self) -> str:
        parts = ["-" if e.length is None else f"{e.start},{e.length}" for e in self.extents]
        return ":".join(parts)


# OrderedCode (tensorflow/core/lib/strings/ordered_code.cc) as used by
# EncodeTensorNameSlice: WriteNumIncreasing(0), WriteString(name),
# WriteNumIncreasing(rank), then per dimension WriteSignedNumIncreasing(start)
# and WriteSignedNumIncreasing(length) where a full dimension has length -1.


def _num_increasing(value: int) -> bytes:
    # One length byte, then the value big-endian without leading zero bytes.
    body = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return bytes([len(body)]) + body


_SPECIAL_BYTES = re.compile(rb"[\x00\xff]")
_ESCAPED = {b"\x00": b"\x00\xff", b"\xff": b"\xff\x00"}


def _string_increasing(value: bytes) -> bytes:
    # \x00 -> \x00\xff, \xff -> \xff\x00 (in one pass), terminated by \x00\x01.
    return _SPECIAL_BYTES.sub(lambda m: _ESCAPED[m.group()], value) + b"\x00\x01"


def _signed_num_increasing(value: int) -> bytes:
    # Sign bit (1 = non-negative), then as many bits equal to it as there are
    # extra bytes, a delimiter bit, then the value in two's complement,
    # big-endian: n bytes hold [-2**(7n-1), 2**(7n-1)).
    x = ~value if value < 0 else value
    if x < 64:
        return bytes([(0x80 ^ value) & 0xFF])
    length = next(n for n in range(2, 11) if x < 1 << (7 * n - 1))
    raw = bytearray((value & ((1 << 80) - 1)).to_bytes(10, "big")[-length:])
    if length <= 8:
        raw[0] ^= (0xFF << (8 - length)) & 0xFF
    else:
        raw[0] ^= 0xFF
        raw[1] ^= 0x80 if length == 9 else 0xC0
    return bytes(raw)


def _read_signed(code: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(code):
        raise ValueError("truncated number")
    negative = not code[pos] & 0x80
    flip = 0xFF if negative else 0
    first = code[pos] ^ flip
    if first != 0xFF:
        length = 8 - (first ^ 0xFF).bit_length()
    else:
        second = code[pos + 1] ^ flip if pos + 1 < len(code) else 0
        length = 8 if second < 0x80 else 9 if second < 0xC0 else 10
    if pos + length > len(code):
        raise ValueError("truncated number")
    raw = bytearray(b ^ flip for b in code[pos : pos + length])
    # Clear the sign, size and delimiter bits (length + 1 leading bits).
    bits = length + 1
    for i in range(len(raw)):
        if bits <= 0:
            break
        take = min(8, bits)
        raw[i] &= 0xFF >> take
        bits -= take
    magnitude = int.from_bytes(raw, "big")
    return (~magnitude if negative else magnitude), pos + length


def encode_slice_key(name: str, slc: TensorSlice) -> str:
    """The bundle key of one slice of the partitioned tensor ``name``."""
    out = bytearray(_num_increasing(0))
    out += _string_increasing(name.encode("utf-8", "surrogateescape"))
    out += _num_increasing(len(slc.extents))
    for ext in slc.extents:
        out += _signed_num_increasing(ext.start)
        out += _signed_num_increasing(-1 if ext.length is None else ext.length)
    return bytes(out).decode("utf-8", "surrogateescape")


def decode_slice_key(key: str) -> tuple[str, TensorSlice] | None:
    """The tensor name and slice of a slice key, or None if ``key`` is not one."""
    code = key.encode("utf-8", "surrogateescape")
    if not code.startswith(b"\x00"):
        return None
    try:
        pos = 1
        name = bytearray()
        while True:
            b = code[pos]
            if b == 0x00:
                nxt = code[pos + 1]
                pos += 2
                if nxt == 0x01:
                    break
                if nxt != 0xFF:
                    return None
                name.append(0)
            elif b == 0xFF:
                if code[pos + 1] != 0x00:
                    return None
                name.append(0xFF)
                pos += 2
            else:
                name.append(b)
                pos += 1
        width = code[pos]
        rank = int.from_bytes(code[pos + 1 : pos + 1 + width], "big")
        pos += 1 + width
        if rank > 64:
            return None
        extents = []
        for _ in range(rank):
            start, pos = _read_signed(code, pos)
            length, pos = _read_signed(code, pos)
            extents.append(Extent(start, None if length == -1 else length))
        if pos != len(code):
            return None
    except (IndexError, ValueError):
        return None
    return bytes(name).decode("utf-8", "surrogateescape"), TensorSlice(tuple(extents))


# -- entries --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One BundleEntryProto: where a tensor's bytes are and what they hold."""

    key: str
    dtype: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    #: The masked CRC32C as stored.
    crc32c: int
    slices: tuple[TensorSlice, ...]
    proto: pb.BundleEntryProto = field(repr=False, compare=False)

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def is_sliced(self) -> bool:
        return bool(self.slices)


def _parse_shape(key: str, proto: pb.TensorShapeProto, path: Path) -> tuple[int, ...]:
    if proto.unknown_rank or any(d.size < 0 for d in proto.dim):
        raise CorruptFileError(
            f"entry {key!r}: invalid tensor shape {[d.size for d in proto.dim]}"
            f"{' (unknown rank)' if proto.unknown_rank else ''}; a stored tensor has "
            "a fully known shape",
            path=path,
        )
    return tuple(int(d.size) for d in proto.dim)


class Bundle:
    """An open TensorBundle: the parsed index plus lazily memory-mapped shards.

    >>> with Bundle.open("variables/variables") as b:           # doctest: +SKIP
    ...     raw = b.read_bytes(b.entries["w"])
    """

    def __init__(
        self, prefix: Path, header: pb.BundleHeaderProto, entries: Mapping[str, Entry]
    ) -> None:
        self.prefix = prefix
        self.header = header
        self.entries: Mapping[str, Entry] = MappingProxyType(dict(entries))
        self._maps: dict[int, mmap.mmap | bytes] = {}
        self._files: dict[int, object] = {}
        slice_keys: set[str] = set()
        for entry in self.entries.values():
            for slc in entry.slices:
                slice_keys.add(encode_slice_key(entry.key, slc))
        #: Keys of the per-slice entries of partitioned tensors.
        self.slice_keys = frozenset(slice_keys)
        self._listed: tuple[str, ...] | None = None

    @classmethod
    def open(cls, prefix: str | os.PathLike[str]) -> Bundle:
        """Read and check the index of the bundle ``prefix`` (no data is read)."""
        prefix_path = Path(os.fspath(prefix))
        path = index_path(prefix_path)
        table = SSTable.open(path)
        items = table.items()
        header_item = next(items, None)
        if header_item is None or header_item[0] != HEADER_KEY:
            found = "no entries" if header_item is None else f"first key {header_item[0]!r}"
            raise CorruptFileError(
                f"not a TensorBundle index: the header entry (empty key) is missing ({found})",
                path=path,
            )
        try:
            header = pb.BundleHeaderProto.FromString(header_item[1])
        except pb.DecodeError as e:
            raise CorruptFileError(f"the BundleHeaderProto does not parse: {e}", path=path) from e
        _check_header(header, path)
        entries: dict[str, Entry] = {}
        for raw_key, value in items:
            key = raw_key.decode("utf-8", "surrogateescape")
            try:
                proto = pb.BundleEntryProto.FromString(value)
            except pb.DecodeError as e:
                raise CorruptFileError(
                    f"entry {key!r}: the BundleEntryProto does not parse: {e}", path=path
                ) from e
            entries[key] = Entry(
                key=key,
                dtype=int(proto.dtype),
                shape=_parse_shape(key, proto.shape, path),
                shard_id=int(proto.shard_id),
                offset=int(proto.offset),
                size=int(proto.size),
                crc32c=int(proto.crc32c),
                slices=tuple(TensorSlice.from_proto(s) for s in proto.slices),
                proto=proto,
            )
        return cls(prefix_path, header, entries)

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        for m in self._maps.values():
            if isinstance(m, mmap.mmap):
                # Arrays returned by read_bytes may still view the map; it is
                # then released when the last of them goes away.
                with contextlib.suppress(BufferError):
                    m.close()
        self._maps.clear()
        for f in self._files.values():
            f.close()  # type: ignore[attr-defined]
        self._files.clear()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- metadata ----------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return index_path(self.prefix)

    @property
    def num_shards(self) -> int:
        return int(self.header.num_shards)

    @property
    def big_endian(self) -> bool:
        return self.header.endianness == pb.BundleHeaderProto.BIG

    def shard_path(self, shard_id: int) -> Path:
        return data_path(self.prefix, shard_id, self.num_shards)

    def shard_paths(self) -> tuple[Path, ...]:
        return tuple(self.shard_path(i) for i in range(max(self.num_shards, 0)))

    def missing_shards(self) -> tuple[Path, ...]:
        """Data files the header announces that do not exist."""
        return tuple(p for p in self.shard_paths() if not p.is_file())

    def listed_keys(self) -> tuple[str, ...]:
        """Keys as ``tf.train.list_variables`` gives them: all but the header and slice entries."""
        if self._listed is None:
            self._listed = tuple(k for k in self.entries if k not in self.slice_keys)
        return self._listed

    def slice_entry(self, entry: Entry, slc: TensorSlice) -> Entry:
        """The entry holding slice ``slc`` of the partitioned tensor ``entry``."""
        key = encode_slice_key(entry.key, slc)
        found = self.entries.get(key)
        if found is None:
            raise CorruptFileError(
                f"partitioned tensor {entry.key!r}: slice {slc} has no entry "
                f"(expected key {key!r})",
                path=self.index_path,
            )
        return found

    # -- data ---------------------------------------------------------------------------------
    def _shard(self, entry: Entry) -> mmap.mmap | bytes:
        sid = entry.shard_id
        if sid in self._maps:
            return self._maps[sid]
        if not 0 <= sid < self.num_shards:
            raise CorruptFileError(
                f"entry {entry.key!r} is in shard {sid}, but the header declares "
                f"{self.num_shards} shard(s)",
                path=self.index_path,
            )
        path = self.shard_path(sid)
        try:
            f = path.open("rb")
        except FileNotFoundError:
            raise CorruptFileError(
                f"data shard {path.name} is missing (needed by entry {entry.key!r}); "
                f"the bundle {self.prefix.name} declares {self.num_shards} shard(s)",
                path=path,
            ) from None
        size = os.fstat(f.fileno()).st_size
        m: mmap.mmap | bytes
        if size == 0:
            f.close()
            m = b""
        else:
            try:
                m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                m = f.read()
                f.close()
            else:
                self._files[sid] = f
        self._maps[sid] = m
        return m

    def _span(self, entry: Entry) -> memoryview:
        data = self._shard(entry)
        if entry.offset < 0 or entry.size < 0:
            raise CorruptFileError(
                f"entry {entry.key!r}: negative offset {entry.offset} or size {entry.size}",
                path=self.index_path,
            )
        if entry.offset + entry.size > len(data):
            raise CorruptFileError(
                f"entry {entry.key!r}: {entry.size} bytes at offset {entry.offset} run past "
                f"the end of the shard ({len(data)} bytes); the file is truncated",
                path=self.shard_path(entry.shard_id),
                offset=entry.offset,
            )
        return memoryview(data)[entry.offset : entry.offset + entry.size]

    def check_span(self, entry: Entry) -> None:
        """Raise unless the entry's bytes lie inside an existing shard."""
        self._span(entry).release()

    def _checksum_error(self, entry: Entry, what: str, stored: int, actual: int) -> ChecksumError:
        return ChecksumError(
            f"entry {entry.key!r} (shard {entry.shard_id}, {entry.size} bytes at offset "
            f"{entry.offset}): {what} mismatch: stored 0x{stored:08x}, computed 0x{actual:08x}",
            path=self.shard_path(entry.shard_id),
            offset=entry.offset,
        )

    def read_bytes(self, entry: Entry, *, verify: bool = True) -> memoryview:
        """The stored bytes of a fixed-size tensor: a read-only view, no copy.

        With ``verify`` the masked CRC32C of the bytes is checked first.
        """
        span = self._span(entry)
        if verify:
            actual = crc32c.value(span)
            stored = crc32c.unmask(entry.crc32c)
            if actual != stored:
                raise self._checksum_error(entry, "checksum", stored, actual)
        return span

    def read_strings(self, entry: Entry, *, verify: bool = True) -> list[bytes]:
        """The elements of a DT_STRING tensor, in C order."""
        n = entry.num_elements
        if entry.size == 0:
            # TensorFlow writes nothing at all for a tensor it reads as empty.
            if n:
                raise CorruptFileError(
                    f"entry {entry.key!r}: {n} strings stored in 0 bytes",
                    path=self.index_path,
                )
            if verify and crc32c.unmask(entry.crc32c) != 0:
                raise self._checksum_error(entry, "checksum", crc32c.unmask(entry.crc32c), 0)
            return []
        if n > entry.size:
            raise CorruptFileError(
                f"entry {entry.key!r}: {n} strings cannot fit in {entry.size} bytes "
                "(each needs at least one length byte)",
                path=self.index_path,
            )
        span = self._span(entry)
        buf = bytes(span)
        span.release()
        path = self.shard_path(entry.shard_id)
        size = len(buf)
        lengths: list[int] = []
        pos = 0
        for i in range(n):
            try:
                value, pos = read_varint(buf, pos, size, 64)
            except WireError as e:
                problem = (
                    f"runs past the tensor's {size} bytes"
                    if e.truncated
                    else "is a varint longer than 10 bytes"
                )
                raise CorruptFileError(
                    f"entry {entry.key!r}: the length of string {i} {problem}",
                    path=path,
                    offset=entry.offset + e.offset,
                ) from None
            lengths.append(value)
        if pos + 4 > size:
            raise CorruptFileError(
                f"entry {entry.key!r}: no room for the 4-byte length checksum after "
                f"{n} lengths ({size} bytes in all)",
                path=path,
                offset=entry.offset + pos,
            )
        order: Literal["big", "little"] = "big" if self.big_endian else "little"
        raw_check = buf[pos : pos + 4]
        pos += 4
        total = sum(lengths)
        if pos + total > size:
            raise CorruptFileError(
                f"entry {entry.key!r}: the {n} strings need {total} bytes but only "
                f"{size - pos} follow their lengths",
                path=path,
                offset=entry.offset + pos,
            )
        if verify:
            crc = crc32c.value(_hashed_lengths(lengths, self.big_endian))
            stored = crc32c.unmask(int.from_bytes(raw_check, order))
            if crc != stored:
                raise self._checksum_error(entry, "string-length checksum", stored, crc)
            crc = crc32c.extend(crc, raw_check)
            crc = crc32c.extend(crc, buf[pos : pos + total])
            stored = crc32c.unmask(entry.crc32c)
            if crc != stored:
                raise self._checksum_error(entry, "checksum", stored, crc)
        out = []
        for length in lengths:
            out.append(buf[pos : pos + length])
            pos += length
        return out

    def verify_entry(self, entry: Entry) -> None:
        """Check one entry's bytes against its checksum (partitioned entries hold none)."""
        if entry.is_sliced:
            return
        if entry.dtype == DT_STRING:
            self.read_strings(entry, verify=True)
        elif entry.dtype == DT_VARIANT:
            raise UnsupportedError(
                f"entry {entry.key!r} is a DT_VARIANT tensor; smlite does not read variants",
                path=self.index_path,
            )
        else:
            self.read_bytes(entry, verify=True).release()

    def iter_problems(self) -> Iterator[tuple[str, SmliteError]]:
        """Every entry that fails :meth:`verify_entry`, with the error."""
        for entry in self.entries.values():
            try:
                self.verify_entry(entry)
            except UnsupportedError:
                continue
            except SmliteError as e:
                yield entry.key, e


def _hashed_lengths(lengths: list[int], big_endian: bool) -> bytes:
    """String lengths as TensorFlow feeds them to the CRC: uint32, or uint64 if larger."""
    if not lengths:
        return b""
    end = ">" if big_endian else "<"
    if max(lengths) <= 0xFFFFFFFF:
        return struct.pack(f"{end}{len(lengths)}I", *lengths)
    return b"".join(struct.pack(f"{end}I" if v <= 0xFFFFFFFF else f"{end}Q", v) for v in lengths)


def _check_header(header: pb.BundleHeaderProto, path: Path) -> None:
    if header.endianness not in (pb.BundleHeaderProto.LITTLE, pb.BundleHeaderProto.BIG):
        raise CorruptFileError(
            f"the bundle header has an unknown endianness value {header.endianness} "
            "(expected 0 = little or 1 = big)",
            path=path,
        )
    if header.num_shards < 0:
        raise CorruptFileError(f"the bundle header declares {header.num_shards} shards", path=path)
    version = header.version
    if version.min_consumer > BUNDLE_VERSION or BUNDLE_VERSION in version.bad_consumers:
        raise UnsupportedError(
            f"{path}: the bundle format version (producer {version.producer}, min_consumer "
            f"{version.min_consumer}, bad_consumers {list(version.bad_consumers)}) cannot be "
            f"read by a version {BUNDLE_VERSION} reader; it was written by a newer TensorFlow",
            path=path,
        )
