"""Verifying a TensorBundle behind a URL while its shards stream in.

Reading each tensor with a request of its own costs a round trip per
variable.  Here every shard's tensors are read in offset order through large
windows (:func:`smlite.formats.stream.stream_spans`: one request per window,
gaps no tensor needs skipped), the shards in parallel threads
(:func:`smlite.formats.stream.run_parallel`), and each tensor's CRC32C is
extended piece by piece as its bytes pass, so no tensor is held whole.
DT_STRING tensors are gathered whole (their lengths come first) and checked by
:meth:`Bundle.parse_strings`, as a local read checks them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from smlite.errors import SmliteError
from smlite.formats import crc32c
from smlite.formats.bundle import DT_STRING, DT_VARIANT, Bundle, Entry
from smlite.formats.stream import MiB, run_parallel, stream_spans

__all__ = ["WINDOW", "WORKERS", "stream_problems"]

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
