"""Streaming many byte spans of a file in large sequential reads, several files at once.

Verifying a checkpoint reads every tensor of every data shard once.  From a
memory map any order is cheap; over the network each read is a request, so
the spans of one shard are read in offset order through windows of
``window`` bytes (one request each, not cached), and the shards of a bundle
are streamed in parallel threads (:func:`run_parallel`), which is where
object stores give their bandwidth.  A gap of more than ``max_gap`` bytes
between spans (bytes no span needs) is skipped rather than read.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from smlite.formats.storage import Source

__all__ = ["MiB", "run_parallel", "stream_spans"]

MiB = 1 << 20
T = TypeVar("T")


def stream_spans(
    source: Source,
    spans: Sequence[tuple[int, int]],
    *,
    window: int = 16 * MiB,
    max_gap: int = 1 * MiB,
) -> Iterator[tuple[int, bytes | memoryview, bool]]:
    """Yield ``(i, piece, last)`` for the bytes of every ``spans[i] = (start, end)``.

    The pieces of a span come in order and join to its bytes; ``last`` marks
    its final piece (a span inside one window is one piece; an empty span is
    one empty piece).  Spans come in offset order; pieces of overlapping spans
    may interleave.  Bytes past the end of the file are not there: a span
    that runs past it ends short (the caller has checked sizes, or its
    checksum will say so).
    """
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    pos = 0
    while pos < len(order):
        # A run: spans whose gaps are small enough to read through.
        run_start, run_end = spans[order[pos]]
        last = pos + 1
        while last < len(order) and spans[order[last]][0] - run_end <= max_gap:
            run_end = max(run_end, spans[order[last]][1])
            last += 1
        members = order[pos:last]
        pos = last
        for i in members:
            if spans[i][0] >= spans[i][1]:
                yield i, b"", True
        live = [i for i in members if spans[i][0] < spans[i][1]]
        open_spans = set(live)
        first = 0
        offset = run_start
        for chunk in source.chunks(run_start, run_end, window):
            chunk_end = offset + len(chunk)
            while first < len(live) and spans[live[first]][1] <= offset:
                first += 1
            for i in live[first:]:
                start, end = spans[i]
                if start >= chunk_end:
                    break
                if end > offset:
                    done = end <= chunk_end
                    if done:
                        open_spans.discard(i)
                    yield i, chunk[max(start, offset) - offset : min(end, chunk_end) - offset], done
            offset = chunk_end
        for i in sorted(open_spans, key=lambda i: spans[i]):
            yield i, b"", True  # ran past the end of the file


def run_parallel(jobs: Sequence[Callable[[], T]], *, workers: int) -> Iterator[T]:
    """Run ``jobs`` in up to ``workers`` threads; yield their results as they finish.

    Each job runs in a copy of the caller's context, so that what it reads
    is counted in the caller's :func:`~smlite.formats.storage.measure`.
    """
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield job()
        return
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()
