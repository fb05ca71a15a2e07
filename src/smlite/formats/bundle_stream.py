"""Reading a TensorBundle behind a URL in large sequential ranges, shards in parallel.

Reading each tensor with a request of its own costs a round trip per
variable.  Here every shard's tensors are read in offset order through large
windows (:func:`smlite.formats.stream.stream_spans`: one request per window,
gaps no tensor needs skipped), the shards in parallel threads
(:func:`smlite.formats.stream.run_parallel`), and each tensor's CRC32C is
extended piece by piece as its bytes pass, so no tensor is held whole.
DT_STRING tensors are gathered whole (their lengths come first) and checked by
:meth:`Bundle.parse_strings`, as a local read checks them.

:func:`map_streamed` runs any per-tensor work (reading values, as
``variables --verify`` does) the same way: each shard's tensors in offset
order through a :class:`WindowSource`, shards in parallel threads.
"""

from __future__ import annotations

import contextlib
import mmap
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from smlite.errors import SmliteError
from smlite.formats import crc32c
from smlite.formats.bundle import DT_STRING, DT_VARIANT, Bundle, Entry
from smlite.formats.storage import Source
from smlite.formats.stream import MiB, run_parallel, stream_spans

__all__ = ["WINDOW", "WORKERS", "WindowSource", "map_streamed", "stream_problems"]

T = TypeVar("T")
R = TypeVar("R")

#: Bytes per read request while streaming a shard.
WINDOW = 16 * MiB
#: Shards streamed at the same time.
WORKERS = 8


def stream_problems(
    bundle: Bundle,
    *,
    progress: Callable[[Entry], None] | None = None,
    window: int = WINDOW,
    workers: int = WORKERS,
) -> Iterator[tuple[Entry, SmliteError]]:
    """What :meth:`Bundle.iter_problems` yields with ``checksums``, read by streaming.

    Problems come in index order once every shard has been read; ``progress``
    is called (from the streaming threads, one at a time) as each entry is
    verified.  A failure to read (a :class:`~smlite.errors.RemoteError`) is
    raised, not yielded: it says nothing about the entries.
    """
    lock = threading.Lock()

    def done(entry: Entry) -> None:
        if progress is not None:
            with lock:
                progress(entry)

    problems: dict[str, SmliteError] = {}
    by_shard: dict[int, list[Entry]] = {}
    for entry in bundle.entries.values():
        if entry.is_sliced:
            continue
        try:
            bundle.check_bounds(entry)
        except SmliteError as e:
            problems[entry.key] = e
            done(entry)
            continue
        if entry.dtype == DT_VARIANT:
            done(entry)  # not readable; passed over as a local read passes it over
            continue
        by_shard.setdefault(entry.shard_id, []).append(entry)

    def verify_shard(entries: list[Entry]) -> dict[str, SmliteError]:
        source = bundle.shard_source(entries[0])
        spans = [(e.offset, e.offset + e.size) for e in entries]
        crcs = [0] * len(entries)
        strings: dict[int, list[bytes]] = {}
        found: dict[str, SmliteError] = {}
        for i, piece, last in stream_spans(source, spans, window=window):
            entry = entries[i]
            if entry.dtype == DT_STRING:
                strings.setdefault(i, []).append(bytes(piece))
            else:
                crcs[i] = crc32c.extend(crcs[i], piece)
            if not last:
                continue
            try:
                if entry.dtype == DT_STRING:
                    bundle.parse_strings(entry, b"".join(strings.pop(i, [])), verify=True)
                elif crcs[i] != crc32c.unmask(entry.crc32c):
                    stored = crc32c.unmask(entry.crc32c)
                    raise bundle.checksum_error(entry, "checksum", stored, crcs[i])
            except SmliteError as e:
                found[entry.key] = e
            done(entry)
        return found

    jobs = [lambda entries=entries: verify_shard(entries) for entries in by_shard.values()]
    for found in run_parallel(jobs, workers=workers):
        problems.update(found)
    for entry in bundle.entries.values():
        if entry.key in problems:
            yield entry, problems[entry.key]


class WindowSource(Source):
    """A remote file read front to back: one window of bytes, replaced by the next.

    A read inside the window is served from it; any other fetches ``window``
    bytes (or the read, if larger) from its start in one request, not cached
    elsewhere.  Reads in offset order thus cost one request per window.
    """

    def __init__(self, inner: Source, window: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.size = inner.size
        self._window = window
        self._start = 0
        self._data: bytes | memoryview | mmap.mmap = b""

    def read(self, start: int, end: int) -> bytes | memoryview:
        start, end = max(start, 0), min(end, self.size)
        if start >= end:
            return b""
        if not (self._start <= start and end <= self._start + len(self._data)):
            if self.size <= self._window:
                # A shard within one window: read whole, and kept by the file's own source
                # for the tensors read after the stream (slices of partitioned ones).
                self._data, self._start = self.inner.whole(), 0
            else:
                stop = min(self.size, max(end, start + self._window))
                self._data = b"".join(self.inner.chunks(start, stop, stop - start))
                self._start = start
        return memoryview(self._data)[start - self._start : end - self._start]

    def chunks(self, start: int, end: int, chunk: int) -> Iterator[bytes | memoryview]:
        return self.inner.chunks(start, end, chunk)


@contextlib.contextmanager
def _windowed(bundle: Bundle, window: int) -> Iterator[None]:
    """Read the bundle's existing shards through windows for the duration of the block."""
    opened = bundle.open_shards()
    for sid, source in opened.items():
        bundle.use_source(sid, WindowSource(source, window))
    try:
        yield
    finally:
        for sid, source in opened.items():
            bundle.use_source(sid, source)


def map_streamed(
    bundle: Bundle,
    items: Sequence[T],
    entry_of: Callable[[T], Entry],
    work: Callable[[T], R],
    *,
    done: Callable[[T], None] | None = None,
    window: int = WINDOW,
    workers: int = WORKERS,
) -> list[R]:
    """``[work(item) for item in items]``, reading a remote bundle's shards in windows.

    ``done(item)`` is called after each item, one call at a time (a progress bar).

    Locally (memory-mapped) it is exactly that.  Behind a URL each shard's items
    run in offset order in a thread of their own (``work`` must be safe to call
    from several threads for items of different shards); items of partitioned
    tensors, whose slices may lie anywhere, run afterwards.  Results keep the
    order of ``items``.
    """
    lock = threading.Lock()

    def run(item: T) -> R:
        result = work(item)
        if done is not None:
            with lock:
                done(item)
        return result

    if not bundle.is_remote or len(items) <= 1:
        return [run(item) for item in items]
    results: list[Any] = [None] * len(items)
    groups: dict[int, list[int]] = {}
    rest: list[int] = []
    for i, item in enumerate(items):
        entry = entry_of(item)
        if entry.is_sliced:
            rest.append(i)
        else:
            groups.setdefault(entry.shard_id, []).append(i)

    def run_group(indexes: list[int]) -> None:
        for i in sorted(indexes, key=lambda i: entry_of(items[i]).offset):
            results[i] = run(items[i])

    with _windowed(bundle, window):
        jobs = [lambda g=group: run_group(g) for group in groups.values()]
        for _ in run_parallel(jobs, workers=workers):
            pass
    for i in rest:
        results[i] = run(items[i])
    return results
