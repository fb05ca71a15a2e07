"""Streaming spans in sequential windows, and parallel jobs that keep the caller's counters."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from smlite.formats import storage
from smlite.formats.stream import run_parallel, stream_spans


class _Recording(storage.Source):
    """A source over bytes that records the ranges it is asked to stream."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)
        self.name = "recording"
        self.calls: list[tuple[int, int, int]] = []

    def chunks(self, start: int, end: int, chunk: int) -> Iterator[bytes]:
        self.calls.append((start, end, chunk))
        for pos in range(start, min(end, self.size), chunk):
            yield self.data[pos : min(pos + chunk, end, self.size)]


def _collect(source: storage.Source, spans: list[tuple[int, int]], **kw: int) -> dict[int, bytes]:
    got: dict[int, bytearray] = defaultdict(bytearray)
    closed: list[int] = []
    for i, piece, last in stream_spans(source, spans, **kw):
        assert i not in closed, f"a piece of span {i} after its last one"
        got[i] += piece
        if last:
            closed.append(i)
    assert sorted(closed) == list(range(len(spans)))  # each closed exactly once
    return {i: bytes(b) for i, b in got.items()}


@pytest.mark.parametrize("seed", range(5))
def test_every_span_is_yielded_whole(seed: int) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(200_000)
    spans = []
    for _ in range(60):
        start = rng.randrange(0, len(data))
        spans.append((start, min(len(data), start + rng.choice([0, 1, 100, 5000, 40_000]))))
    spans.append((10, 10))
    got = _collect(_Recording(data), spans, window=4096, max_gap=2000)
    assert got == {i: data[s:e] for i, (s, e) in enumerate(spans)}


def test_windows_are_sequential_and_gaps_are_skipped() -> None:
    data = bytes(range(256)) * 4000  # 1,024,000 bytes
    spans = [(0, 100), (100, 5000), (5000, 300_000), (900_000, 900_010)]
    source = _Recording(data)
    got = _collect(source, spans, window=65_536, max_gap=10_000)
    assert got == {i: data[s:e] for i, (s, e) in enumerate(spans)}
    # Two runs: the first three spans read through, the gap before the last skipped.
    assert source.calls == [(0, 300_000, 65_536), (900_000, 900_010, 65_536)]


def test_a_span_past_the_end_of_the_file_ends_short() -> None:
    data = b"x" * 1000
    got = _collect(_Recording(data), [(900, 1200), (10, 20)], window=64)
    assert got == {0: data[900:], 1: data[10:20]}


def test_local_file_streams_views(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(100_000)
    (tmp_path / "shard").write_bytes(data)
    with storage.open_source(tmp_path / "shard") as src:
        got = _collect(src, [(50_000, 100_000), (0, 10)], window=8192)
    assert got == {0: data[50_000:], 1: data[:10]}


def test_run_parallel_yields_every_result_and_counts_in_the_callers_measure(
    tmp_path: Path,
) -> None:
    paths = []
    for i in range(6):
        (tmp_path / f"s{i}").write_bytes(bytes([i]) * (1000 + i))
        paths.append(tmp_path / f"s{i}")

    def job(path: Path) -> tuple[str, int]:
        with storage.open_source(path) as src:
            return path.name, sum(len(p) for _, p, _ in stream_spans(src, [(0, src.size)]))

    with storage.measure() as stats:
        results = sorted(run_parallel([lambda p=p: job(p) for p in paths], workers=3))
    assert results == [(f"s{i}", 1000 + i) for i in range(6)]
    assert stats.bytes == sum(1000 + i for i in range(6))
    assert len(stats.files) == 6


def test_run_parallel_raises_a_job_error() -> None:
    def boom() -> int:
        raise ValueError("job failed")

    with pytest.raises(ValueError, match="job failed"):
        list(run_parallel([lambda: 1, boom], workers=2))
