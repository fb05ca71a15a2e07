"""What reading a model cost: requests, listings, bytes and retries, counted per measurement.

Every read of :mod:`smlite.formats.storage` (a memory map, counted in bytes
only) and of :mod:`smlite.formats.remote` (range requests, listings, retries)
is recorded into each :class:`Stats` that :func:`measure` has made current, so
that a command (``--verbose``, JSON) or a fleet worker can say what it fetched.
A measurement is a context variable: threads started with
:func:`contextvars.copy_context` (``stream.run_parallel``) count into it too.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Fetched",
    "FileStats",
    "Stats",
    "current_stats",
    "measure",
    "record_list",
    "record_read",
    "record_failure",
    "record_retry",
]


@dataclass(slots=True)
class FileStats:
    """What was fetched of one file."""

    requests: int = 0
    bytes: int = 0
    #: The server ignored a Range request and sent the whole file.
    whole_file: bool = False


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one piece of work read, in numbers (a check report carries it)."""

    requests: int = 0
    list_requests: int = 0
    bytes: int = 0
    retries: int = 0
    #: Files a server sent whole although a range was asked for.
    whole_file_fetches: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The ``fetched`` object of the JSON documents."""
        return {
            "requests": self.requests,
            "list_requests": self.list_requests,
            "bytes": self.bytes,
            "retries": self.retries,
            "whole_file_fetches": list(self.whole_file_fetches),
        }


@dataclass(slots=True)
class Stats:
    """Requests and bytes of one measurement (see :func:`measure`); thread-safe."""

    #: Range/whole-file reads.
    requests: int = 0
    #: Listing and metadata requests (ls, info, find).
    list_requests: int = 0
    #: Bytes received by reads (remote) or read from memory maps (local).
    bytes: int = 0
    retries: int = 0
    files: dict[str, FileStats] = field(default_factory=dict)
    #: Reads that failed for a reason other than a missing file (a RemoteError: access
    #: denied, timeout, a body cut short, ...), even where a caller went on without them.
    failures: list[Exception] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_read(self, url: str, nbytes: int, *, requests: int = 1, whole: bool = False) -> None:
        with self._lock:
            self.requests += requests
            self.bytes += nbytes
            f = self.files.setdefault(url, FileStats())
            f.requests += requests
            f.bytes += nbytes
            f.whole_file = f.whole_file or whole

    def add_list(self) -> None:
        with self._lock:
            self.list_requests += 1

    def add_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def add_failure(self, error: Exception) -> None:
        with self._lock:
            self.failures.append(error)

    @property
    def whole_files(self) -> tuple[str, ...]:
        """Files fetched whole because the server ignored Range."""
        return tuple(sorted(u for u, f in self.files.items() if f.whole_file))

    def totals(self) -> Fetched:
        with self._lock:
            return Fetched(
                self.requests, self.list_requests, self.bytes, self.retries, self.whole_files
            )

    def as_dict(self) -> dict[str, Any]:
        """Everything, per file (for a caller that wants the detail)."""
        return {
            **self.totals().as_dict(),
            "failures": [str(e) for e in self.failures],
            "files": {
                url: {"requests": f.requests, "bytes": f.bytes, "whole_file": f.whole_file}
                for url, f in sorted(self.files.items())
            },
        }


_CURRENT: contextvars.ContextVar[tuple[Stats, ...]] = contextvars.ContextVar(
    "smlite_storage_stats", default=()
)


@contextlib.contextmanager
def measure() -> Iterator[Stats]:
    """Count every request and byte read inside the block (nested blocks count too).

    >>> with measure() as stats:                                   # doctest: +SKIP
    ...     smlite.open("s3://bucket/model").meta_graph("serve")
    >>> stats.requests, stats.bytes                                # doctest: +SKIP
    """
    stats = Stats()
    token = _CURRENT.set((*_CURRENT.get(), stats))
    try:
        yield stats
    finally:
        _CURRENT.reset(token)


def current_stats() -> tuple[Stats, ...]:
    """The measurements in progress (innermost last); pass them to worker threads."""
    return _CURRENT.get()


def record_read(url: str, nbytes: int, *, requests: int = 1, whole: bool = False) -> None:
    for stats in _CURRENT.get():
        stats.add_read(url, nbytes, requests=requests, whole=whole)


def record_list() -> None:
    for stats in _CURRENT.get():
        stats.add_list()


def record_retry() -> None:
    for stats in _CURRENT.get():
        stats.add_retry()


def record_failure(error: Exception) -> None:
    """Note a read that failed: whatever the caller makes of it, the measurement knows."""
    for stats in _CURRENT.get():
        stats.add_failure(error)
