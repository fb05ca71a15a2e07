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

Behind a URL the index is read whole (one request), a tensor's bytes by range,
and verifying every checksum streams the shards in large sequential ranges,
shards in parallel (:mod:`smlite.formats.bundle_stream`).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from smlite import pb
from smlite.errors import (
    CheckpointNotFoundError,
    ChecksumError,
    CorruptFileError,
    Reason,
    SmliteError,
    UnsupportedError,
)
from smlite.formats import crc32c, storage
from smlite.formats.checkpoint_paths import (
    DATA_RE,
    data_path,
    index_path,
    read_meta_collections,
    resolve_prefix,
)
from smlite.formats.sstable import SSTable
from smlite.formats.storage import AnyPath, RemotePath, Source
from smlite.formats.tensor_slices import Extent, TensorSlice, decode_slice_key, encode_slice_key
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


def _parse_shape(key: str, proto: pb.TensorShapeProto, path: AnyPath) -> tuple[int, ...]:
    if proto.unknown_rank or any(d.size < 0 for d in proto.dim):
        raise CorruptFileError(
            f"entry {key!r}: invalid tensor shape {[d.size for d in proto.dim]}"
            f"{' (unknown rank)' if proto.unknown_rank else ''}; a stored tensor has "
            "a fully known shape",
            path=path,
        )
    return tuple(int(d.size) for d in proto.dim)


class Bundle:
    """An open TensorBundle: the parsed index plus shards opened when first read.

    Local shards are memory-mapped; remote ones are read by range.

    >>> with Bundle.open("variables/variables") as b:           # doctest: +SKIP
    ...     raw = b.read_bytes(b.entries["w"])
    """

    def __init__(
        self, prefix: AnyPath, header: pb.BundleHeaderProto, entries: Mapping[str, Entry]
    ) -> None:
        self.prefix = prefix
        self.header = header
        self.entries: Mapping[str, Entry] = MappingProxyType(dict(entries))
        self._sources: dict[int, Source] = {}
        slice_keys: set[str] = set()
        for entry in self.entries.values():
            for slc in entry.slices:
                slice_keys.add(encode_slice_key(entry.key, slc))
        #: Keys of the per-slice entries of partitioned tensors.
        self.slice_keys = frozenset(slice_keys)
        self._listed: tuple[str, ...] | None = None

    @classmethod
    def open(cls, prefix: str | os.PathLike[str] | AnyPath) -> Bundle:
        """Read and check the index of the bundle ``prefix`` (no data is read)."""
        prefix_path = storage.as_path(prefix)
        storage.list_ahead(prefix_path.parent)  # behind a URL: the shards' sizes, one listing
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
        # Arrays returned by read_bytes may still view a memory map; it is then
        # released when the last of them goes away.
        for source in self._sources.values():
            source.close()
        self._sources.clear()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- metadata ----------------------------------------------------------------------------
    @property
    def index_path(self) -> AnyPath:
        return index_path(self.prefix)

    @property
    def is_remote(self) -> bool:
        """Whether the bundle is read from a URL (by range) rather than memory-mapped."""
        return isinstance(self.prefix, RemotePath)

    @property
    def num_shards(self) -> int:
        return int(self.header.num_shards)

    @property
    def big_endian(self) -> bool:
        return self.header.endianness == pb.BundleHeaderProto.BIG

    def shard_path(self, shard_id: int) -> AnyPath:
        return data_path(self.prefix, shard_id, self.num_shards)

    def shard_paths(self) -> tuple[AnyPath, ...]:
        return tuple(self.shard_path(i) for i in range(max(self.num_shards, 0)))

    def missing_shards(self) -> tuple[AnyPath, ...]:
        """Data files the header announces that do not exist."""
        return tuple(p for p in self.shard_paths() if not p.is_file())

    def stray_shards(self) -> tuple[AnyPath, ...]:
        """Data files with this bundle's prefix that the header does not announce.

        ``<prefix>.data-00000-of-00002`` beside a one-shard bundle: leftovers of
        another export, which TensorFlow never reads.
        """
        folder = self.prefix.parent
        if not folder.is_dir():
            return ()
        expected = set(self.shard_paths())
        name = self.prefix.name
        found = (
            e.path
            for e in storage.listdir(folder)
            if e.name.startswith(name) and DATA_RE.fullmatch(e.name[len(name) :])
        )
        return tuple(sorted((q for q in found if q not in expected), key=str))

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
    def shard_source(self, entry: Entry) -> Source:
        """The open data shard holding ``entry`` (opened on first use)."""
        sid = entry.shard_id
        if sid in self._sources:
            return self._sources[sid]
        if not 0 <= sid < self.num_shards:
            raise CorruptFileError(
                f"entry {entry.key!r} is in shard {sid}, but the header declares "
                f"{self.num_shards} shard(s)",
                path=self.index_path,
                reason=Reason.SHARD_OUT_OF_RANGE,
            )
        path = self.shard_path(sid)
        if not path.is_file():
            raise CorruptFileError(
                f"data shard {path.name} is missing (needed by entry {entry.key!r}); "
                f"the bundle {self.prefix.name} declares {self.num_shards} shard(s)",
                path=path,
                reason=Reason.MISSING_SHARD,
            )
        source = self._sources[sid] = storage.open_source(path)
        return source

    def open_shards(self) -> dict[int, Source]:
        """Every data shard that exists, opened (shard id -> source)."""
        for sid, path in enumerate(self.shard_paths()):
            if sid not in self._sources and path.is_file():
                self._sources[sid] = storage.open_source(path)
        return dict(self._sources)

    def use_source(self, shard_id: int, source: Source) -> None:
        """Read shard ``shard_id`` through ``source`` (a windowed view while streaming)."""
        self._sources[shard_id] = source

    def check_bounds(self, entry: Entry) -> None:
        """Raise unless the entry's span lies inside its shard (nothing is read)."""
        size = self.shard_source(entry).size
        if entry.offset < 0 or entry.size < 0:
            raise CorruptFileError(
                f"entry {entry.key!r}: negative offset {entry.offset} or size {entry.size}",
                path=self.index_path,
            )
        if entry.offset + entry.size > size:
            raise CorruptFileError(
                f"entry {entry.key!r}: {entry.size} bytes at offset {entry.offset} run past "
                f"the end of the shard ({size} bytes); the file is truncated",
                path=self.shard_path(entry.shard_id),
                offset=entry.offset,
                reason=Reason.TRUNCATED,
            )

    def _span(self, entry: Entry) -> memoryview:
        self.check_bounds(entry)
        source = self.shard_source(entry)
        start, end = entry.offset, entry.offset + entry.size
        if isinstance(self.prefix, RemotePath):
            return memoryview(source.read(start, end))
        return memoryview(source.whole())[start:end]

    def check_span(self, entry: Entry) -> None:
        """Raise unless the entry's bytes lie inside an existing shard."""
        self.check_bounds(entry)

    def checksum_error(self, entry: Entry, what: str, stored: int, actual: int) -> ChecksumError:
        """The error for an entry whose bytes do not match its stored checksum."""
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
                raise self.checksum_error(entry, "checksum", stored, actual)
        return span

    def read_strings(self, entry: Entry, *, verify: bool = True) -> list[bytes]:
        """The elements of a DT_STRING tensor, in C order."""
        if entry.size == 0 or entry.num_elements > entry.size:
            return self.parse_strings(entry, b"", verify=verify)  # refused without reading
        span = self._span(entry)
        buf = bytes(span)
        span.release()
        return self.parse_strings(entry, buf, verify=verify)

    def parse_strings(self, entry: Entry, buf: bytes, *, verify: bool = True) -> list[bytes]:
        """The elements of the DT_STRING tensor ``entry`` whose stored bytes are ``buf``."""
        n = entry.num_elements
        if entry.size == 0:
            # TensorFlow writes nothing at all for a tensor it reads as empty.
            if n:
                raise CorruptFileError(
                    f"entry {entry.key!r}: {n} strings stored in 0 bytes",
                    path=self.index_path,
                )
            if verify and crc32c.unmask(entry.crc32c) != 0:
                raise self.checksum_error(entry, "checksum", crc32c.unmask(entry.crc32c), 0)
            return []
        if n > entry.size:
            raise CorruptFileError(
                f"entry {entry.key!r}: {n} strings cannot fit in {entry.size} bytes "
                "(each needs at least one length byte)",
                path=self.index_path,
            )
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
                raise self.checksum_error(entry, "string-length checksum", stored, crc)
            crc = crc32c.extend(crc, raw_check)
            crc = crc32c.extend(crc, buf[pos : pos + total])
            stored = crc32c.unmask(entry.crc32c)
            if crc != stored:
                raise self.checksum_error(entry, "checksum", stored, crc)
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

    def iter_problems(
        self,
        *,
        checksums: bool = True,
        progress: Callable[[Entry], None] | None = None,
    ) -> Iterator[tuple[Entry, SmliteError]]:
        """Every entry whose bytes are not where the index says, or fail their checksum.

        Each entry's bytes must lie inside an existing shard; with ``checksums``
        they are read and checked (:meth:`verify_entry`), otherwise only the
        shard sizes are looked at.  ``progress`` is called after each entry.
        Partitioned entries hold no bytes and variants cannot be read: both
        are passed over.  The error's ``reason`` says what is wrong
        (``MISSING_SHARD``, ``SHARD_OUT_OF_RANGE``, ``TRUNCATED``, ``CHECKSUM``, ...).
        Behind a URL the checksums are verified while the shards stream in
        (:func:`smlite.formats.bundle_stream.stream_problems`); problems come in
        the same order either way.
        """
        if checksums and self.is_remote:
            from smlite.formats.bundle_stream import stream_problems

            yield from stream_problems(self, progress=progress)
            return
        for entry in self.entries.values():
            if entry.is_sliced:
                continue
            try:
                self.check_span(entry)
                if checksums:
                    self.verify_entry(entry)
            except UnsupportedError:
                pass
            except SmliteError as e:
                yield entry, e
            if progress is not None:
                progress(entry)


def _hashed_lengths(lengths: list[int], big_endian: bool) -> bytes:
    """String lengths as TensorFlow feeds them to the CRC: uint32, or uint64 if larger."""
    if not lengths:
        return b""
    end = ">" if big_endian else "<"
    if max(lengths) <= 0xFFFFFFFF:
        return struct.pack(f"{end}{len(lengths)}I", *lengths)
    return b"".join(struct.pack(f"{end}I" if v <= 0xFFFFFFFF else f"{end}Q", v) for v in lengths)


def _check_header(header: pb.BundleHeaderProto, path: AnyPath) -> None:
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
            f"the bundle format version (producer {version.producer}, min_consumer "
            f"{version.min_consumer}, bad_consumers {list(version.bad_consumers)}) cannot be "
            f"read by a version {BUNDLE_VERSION} reader; it was written by a newer TensorFlow",
            path=path,
            reason=Reason.NEWER_FORMAT,
        )
