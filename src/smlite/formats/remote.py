"""Reading models through fsspec: listings, range reads with a small cache, retries.

This is the only module that imports fsspec, and it is imported only when a
URL is opened (see :func:`smlite.formats.storage.as_path`).  Every call to the
filesystem goes through :meth:`Store._call`, which

* passes a per-request timeout to asynchronous filesystems (s3fs, gcsfs,
  adlfs, http),
* retries transient failures (timeouts, connection resets, cut-short bodies,
  HTTP 408/429/5xx) a bounded number of times with exponential backoff,
* and turns every failure into a :class:`RemoteError` carrying the URL and a
  machine-readable ``reason``.

Only reading calls are ever made (``ls``, ``info``, ``find``, ``cat_file``):
nothing is written to the remote side.

Why a cache of our own: fsspec's caches hold one contiguous extent
(``BytesCache``, ``ReadAheadCache``) or issue one request per block
(``BlockCache``).  A SavedModel is read as a head (the envelope and
``meta_info_def``) and a tail (signatures, object graph) with a gigabyte of
GraphDef skipped between them; keeping both extents alive and fetching each in
one request is what keeps "list the signatures of a 1 GB model" at two or
three requests.  Listings use fsspec's own directory cache as well as ours.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from smlite.errors import NotASavedModelError, Reason, RemoteError, SmliteError
from smlite.formats import storage_stats
from smlite.formats.remote_errors import ADVICE, classify, detail
from smlite.formats.storage import DirEntry, RemotePath, Source

__all__ = ["RangeBuffer", "RemoteSettings", "RemoteSource", "Store"]

KiB, MiB = 1024, 1024 * 1024


@dataclass(frozen=True, slots=True)
class RemoteSettings:
    """How hard to try, and how much to read at a time."""

    #: Extra attempts after the first, for transient failures only.
    retries: int = 3
    #: Seconds before the first retry; doubled before each further one.
    backoff: float = 0.25
    #: Seconds one request may take (asynchronous filesystems only).
    timeout: float = 60.0
    #: A read that misses the cache fetches at least this much.
    readahead: int = 64 * KiB
    #: Files at most this large are fetched whole by their first read.
    small_file: int = 1 * MiB
    #: Bytes of fetched ranges kept per open file.
    cache_bytes: int = 256 * MiB
    #: Bytes of small files (fetched whole) the store keeps for the next open of the same
    #: file: a check reads fingerprint.pb or variables.index more than once.
    small_files_bytes: int = 32 * MiB


def failed(error: RemoteError) -> RemoteError:
    """``error``, noted in the current measurements unless it only says a file is missing.

    A caller may turn a read that failed into "not there" and go on; the
    measurement still knows, so that no audit built on it is reported clean.
    """
    if error.reason is not Reason.NOT_FOUND:
        storage_stats.record_failure(error)
    return error


# -- the store ---------------------------------------------------------------------------


class Store:
    """One fsspec filesystem opened for a URL: its options, listings and settings."""

    def __init__(
        self,
        fs: Any,
        root_path: str,
        root_url: str,
        settings: RemoteSettings | None = None,
    ) -> None:
        self.fs = fs
        self.settings = settings or RemoteSettings()
        self._root_path = root_path.rstrip("/") or root_path
        self._root_url = root_url.rstrip("/") or root_url
        self._listings: dict[str, dict[str, DirEntry]] = {}
        self._infos: dict[str, dict[str, Any] | None] = {}
        self._unlistable: set[str] = set()
        self._small: dict[str, bytes] = {}
        self._small_total = 0
        self._lock = threading.Lock()
        #: The root location the store was opened for.
        self.root = RemotePath(self, self._root_path)

    @classmethod
    def for_url(
        cls,
        url: str,
        options: Mapping[str, Any],
        settings: RemoteSettings | None = None,
    ) -> Store:
        """Open the fsspec filesystem of ``url`` with ``options`` (credentials, endpoint...)."""
        try:
            from fsspec.core import url_to_fs
        except ImportError:
            raise RemoteError(
                url,
                "reading URLs needs fsspec: pip install 'smlite[remote]'",
                reason=Reason.NO_BACKEND,
            ) from None
        try:
            fs, path = url_to_fs(url, **dict(options))
        except ImportError as e:
            raise RemoteError(
                url,
                f"the filesystem for this URL is not installed ({e}); "
                "pip install 'smlite[remote]' brings s3fs, gcsfs and aiohttp",
                reason=Reason.NO_BACKEND,
            ) from e
        except (ValueError, TypeError) as e:
            raise RemoteError(url, f"cannot open: {e}", reason=Reason.REQUEST_FAILED) from e
        return cls(fs, path, url, settings)

    @classmethod
    def detached(cls, url: str) -> Store:
        """A store that can name paths below ``url`` but not read them (see RemotePath)."""
        return cls(None, url, url)

    def with_settings(self, **changes: Any) -> Store:
        """The same filesystem with other :class:`RemoteSettings` (a fresh cache)."""
        return Store(self.fs, self._root_path, self._root_url, replace(self.settings, **changes))

    # -- naming ----------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """The URL of ``path``, spelled like the root URL the user gave."""
        path = path.rstrip("/") or path
        root = self._root_path
        if path == root:
            return self._root_url
        if path.startswith(root.rstrip("/") + "/"):
            return self._root_url + path[len(root.rstrip("/")) :]
        if self.fs is None:
            return path
        return str(self.fs.unstrip_protocol(path))

    def parent(self, path: str) -> str:
        stripped = path.rstrip("/")
        head, sep, _ = stripped.rpartition("/")
        if not sep or head.endswith(":/") or head.endswith(":"):
            return stripped  # a bucket or a host: the top
        return head or "/"

    # -- calling the filesystem ---------------------------------------------------------------
    def _call(self, what: str, path: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``fs.<method>(*args, **kwargs)`` with the timeout, bounded retries, translated errors."""
        if self.fs is None:
            raise RemoteError(
                self.url(path),
                "this location was received from another process without its storage "
                "options; open the URL again to read it",
                reason=Reason.REQUEST_FAILED,
            )
        fn = getattr(self.fs, method)
        settings = self.settings
        if getattr(self.fs, "async_impl", False) and settings.timeout:
            kwargs["timeout"] = settings.timeout
        attempts = settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return fn(*args, **kwargs)
            except Exception as e:
                reason, transient = classify(e)
                if transient and attempt < attempts:
                    storage_stats.record_retry()
                    time.sleep(settings.backoff * 2 ** (attempt - 1))
                    continue
                tries = f" ({attempt} attempts)" if attempt > 1 else ""
                raise failed(
                    RemoteError(
                        self.url(path),
                        f"cannot {what}: {ADVICE[reason]}{tries}: {detail(e)}",
                        reason=reason,
                        attempts=attempt,
                    )
                ) from e
        raise AssertionError("unreachable")

    # -- listings -------------------------------------------------------------------------------
    def _entry(self, info: Mapping[str, Any]) -> tuple[str, DirEntry]:
        """``(fs path, entry)`` for one item of an ``ls``/``find`` answer."""
        name = str(info["name"]).rstrip("/")
        kind: Literal["file", "dir", "other"] = "other"
        if info.get("type") == "directory":
            kind = "dir"
        elif info.get("type") == "file":
            kind = "file"
        size: int | None = 0
        if kind == "file":
            raw = info.get("size")
            size = None if raw is None else int(raw)
        return name, DirEntry(name.rsplit("/", 1)[-1], RemotePath(self, name), kind, size)

    def listdir(self, path: RemotePath) -> list[DirEntry]:
        """The children of ``path`` (one listing request, then cached)."""
        key = path.path.rstrip("/") or path.path
        with self._lock:
            cached = self._listings.get(key)
        if cached is not None:
            return list(cached.values())
        storage_stats.record_list()
        # A web server redirects a folder's URL without the slash to the one with it.
        asked = key + "/" if _protocol(self.fs) in ("http", "https") else key
        try:
            infos = self._call("list", key, "ls", asked, detail=True)
        except RemoteError as e:
            if e.reason is Reason.NOT_FOUND:
                raise NotASavedModelError(
                    "no such directory", path=str(path), reason=Reason.NOT_FOUND
                ) from e
            raise
        entries: dict[str, DirEntry] = {}
        for info in infos:
            name, entry = self._entry(info)
            if name == key or not entry.name:
                if entry.kind == "file":  # ls of a file lists the file itself
                    raise NotASavedModelError("not a directory", path=str(path))
                continue
            entries[entry.name] = entry
        listing = dict(sorted(entries.items()))
        with self._lock:
            self._listings[key] = listing
        return list(listing.values())

    def find(self, path: RemotePath) -> list[DirEntry]:
        """Every file and directory below ``path``, recursively (one ``find`` call)."""
        storage_stats.record_list()
        key = path.path.rstrip("/")
        infos = self._call("list", key, "find", key, withdirs=True, detail=True)
        children: dict[str, dict[str, DirEntry]] = {key: {}}
        out = []
        for found, info in sorted(infos.items()):
            name, entry = self._entry({**info, "name": found})
            if name == key:
                continue
            out.append(entry)
            children.setdefault(self.parent(name), {})[entry.name] = entry
            if entry.kind == "dir":
                children.setdefault(name, {})
        with self._lock:
            for folder, listing in children.items():
                self._listings.setdefault(folder, dict(sorted(listing.items())))
        return out

    def _info(self, path: str) -> dict[str, Any] | None:
        with self._lock:
            if path in self._infos:
                return self._infos[path]
        storage_stats.record_list()
        try:
            info: dict[str, Any] | None = self._call("stat", path, "info", path)
        except RemoteError as e:
            if e.reason is not Reason.NOT_FOUND:
                raise
            info = None
        with self._lock:
            self._infos[path] = info
        return info

    def _from_listing(self, path: str) -> DirEntry | Literal[False] | None:
        """The entry for ``path`` from its parent's listing; False when not listed yet."""
        parent = self.parent(path)
        with self._lock:
            listing = self._listings.get(parent)
        if listing is None or parent == path:
            return False
        return listing.get(path.rstrip("/").rsplit("/", 1)[-1])

    def _absent_above(self, path: str) -> bool:
        """Whether a listing already shows that a folder above ``path`` does not exist."""
        folder = self.parent(path)
        while folder != path:
            entry = self._from_listing(folder)
            if entry is None:
                return True  # its parent was listed without it
            if entry is not False:
                return entry.kind != "dir"
            path, folder = folder, self.parent(folder)
        return False

    def kind(self, path: str) -> Literal["file", "dir", "other"] | None:
        """What ``path`` is (None when it does not exist)."""
        path = path.rstrip("/") or path
        with self._lock:
            if path in self._listings:
                return "dir"
        if self._absent_above(path):
            return None
        entry = self._from_listing(path)
        if entry is not False:
            return None if entry is None else entry.kind  # type: ignore[return-value]
        parent = self.parent(path)
        if not _dirs_by_info(self.fs) and parent not in self._unlistable:
            # An http server names folders only in its index pages: read the parent's.
            try:
                self.listdir(RemotePath(self, parent))
            except SmliteError:
                self._unlistable.add(parent)  # no index page there: ask about the path itself
            entry = self._from_listing(path)
            if entry is not False:
                return None if entry is None else entry.kind  # type: ignore[return-value]
        info = self._info(path)
        if info is None:
            return None
        return "dir" if info.get("type") == "directory" else "file"

    def size(self, path: str) -> int:
        """The size of the file ``path``, from a listing where one has it."""
        entry = self._from_listing(path)
        if entry and entry.kind == "file" and entry.size is not None:
            return entry.size
        info = self._info(path)
        if info is None:
            raise RemoteError(self.url(path), "no such file", reason=Reason.NOT_FOUND)
        value = info.get("size")
        if value is None:
            raise failed(
                RemoteError(
                    self.url(path),
                    "the server does not say how large the file is",
                    reason=Reason.REQUEST_FAILED,
                )
            )
        return int(value)

    def open(self, path: str) -> RemoteSource:
        with self._lock:
            kept = self._small.get(path)
        if kept is not None:
            return RemoteSource(self, path, len(kept), whole=kept)
        entry = self._from_listing(path)
        if entry and entry.kind == "file" and entry.size is not None:
            return RemoteSource(self, path, entry.size)
        info = self._info(path)
        if info is None:
            raise NotASavedModelError("no such file", path=self.url(path), reason=Reason.NOT_FOUND)
        if info.get("type") == "directory":
            raise NotASavedModelError("is a directory", path=self.url(path))
        value = info.get("size")
        return RemoteSource(self, path, None if value is None else int(value))

    def keep_small(self, path: str, data: bytes) -> None:
        """Remember a small file fetched whole, for the next open of it (bounded)."""
        if len(data) > self.settings.small_file:
            return
        with self._lock:
            full = self._small_total + len(data) > self.settings.small_files_bytes
            if path in self._small or full:
                return
            self._small[path] = data
            self._small_total += len(data)

    def fetch(self, path: str, start: int | None, end: int | None) -> bytes:
        """One read request: bytes ``[start, end)``, or the whole file when both are None."""
        data = self._call("read", path, "cat_file", path, start=start, end=end)
        return bytes(data)


def _protocol(fs: Any) -> str:
    if fs is None:
        return ""
    return str(fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0])


def _dirs_by_info(fs: Any) -> bool:
    """Whether ``fs.info`` tells folders from files (http's cannot: a HEAD says "file")."""
    return _protocol(fs) not in ("http", "https")


# -- one open file ---------------------------------------------------------------------------


class RemoteSource(Source):
    """A remote file read by range, with the fetched ranges cached.

    A server that ignores ``Range`` and sends the whole file is detected; the
    file is then kept whole (one download) and :class:`~smlite.formats.storage.Stats`
    records it as a whole-file fetch.
    """

    def __init__(
        self, store: Store, path: str, size: int | None, *, whole: bytes | None = None
    ) -> None:
        self.store = store
        self.path = path
        self.name = store.url(path)
        self._whole: bytes | None = whole
        self._parts: list[tuple[int, bytes]] = []  # least recently used first
        self._cached = 0
        self._lock = threading.Lock()
        if size is None:
            self._load_whole(None)
            assert self._whole is not None
            size = len(self._whole)
        self.size = size

    # -- fetching -------------------------------------------------------------------------------
    def _load_whole(self, announced: int | None) -> bytes:
        if announced is not None:
            self._whole = self._fetch(0, announced)
            self.store.keep_small(self.path, self._whole)
            return self._whole
        data = self.store.fetch(self.path, None, None)
        storage_stats.record_read(self.name, len(data))
        self._whole = data
        return data

    def _mismatch(self, message: str, reason: Reason = Reason.SIZE_MISMATCH) -> RemoteError:
        return failed(RemoteError(self.name, f"{ADVICE[reason]}: {message}", reason=reason))

    def _fetch(self, start: int, end: int) -> bytes:
        """Exactly ``[start, end)`` (``end <= size``), checked for length.

        A read that ends at the announced end asks for one byte more: getting
        it means the file is larger than announced (a stale listing, a file
        being rewritten), which is an error rather than a silently short read.
        """
        ask_end = end + 1 if end == self.size else end
        data = self.store.fetch(self.path, start, ask_end)
        want = end - start
        if len(data) == want:
            storage_stats.record_read(self.name, want)
            return data
        storage_stats.record_read(self.name, len(data), whole=len(data) > want + (ask_end - end))
        if len(data) == want + 1 and ask_end > end:
            raise self._mismatch(f"{self.size} bytes announced, but there are more")
        if len(data) > want:
            # The server ignored Range and sent everything: keep it, say so.
            if len(data) != self.size:
                raise self._mismatch(f"{self.size} bytes announced, {len(data)} received")
            self._whole = data
            return data[start:end]
        raise self._mismatch(
            f"asked for bytes {start}-{end - 1} of the {self.size} announced, received {len(data)}",
            Reason.TRUNCATED if end < self.size else Reason.SIZE_MISMATCH,
        )

    def _lookup(self, start: int, end: int) -> bytes | None:
        for i in range(len(self._parts) - 1, -1, -1):
            pstart, data = self._parts[i]
            if pstart <= start and end <= pstart + len(data):
                if i != len(self._parts) - 1:
                    self._parts.append(self._parts.pop(i))
                return data[start - pstart : end - pstart]
        return None

    def _remember(self, start: int, data: bytes) -> None:
        self._parts.append((start, data))
        self._cached += len(data)
        cap = self.store.settings.cache_bytes
        while self._cached > cap and len(self._parts) > 1:
            _, old = self._parts.pop(0)
            self._cached -= len(old)

    def read(self, start: int, end: int) -> bytes:
        start, end = max(start, 0), min(end, self.size)
        if start >= end:
            return b""
        with self._lock:
            if self._whole is not None:
                return self._whole[start:end]
            hit = self._lookup(start, end)
            if hit is not None:
                return hit
            settings = self.store.settings
            head: tuple[int, bytes] | None = None
            if self.size <= settings.small_file:
                fetch_from, fetch_to = 0, self.size
            else:
                # Continue an extent that already holds the first bytes asked for.
                head = next(((p, d) for p, d in self._parts if p <= start < p + len(d)), None)
                fetch_from = start if head is None else head[0] + len(head[1])
                fetch_to = min(self.size, max(end, fetch_from + settings.readahead))
            data = self._fetch(fetch_from, fetch_to)
            if self._whole is None and fetch_from == 0 and fetch_to == self.size:
                self._whole = data  # the whole file in one request (a small file)
                self.store.keep_small(self.path, data)
            if self._whole is not None:
                return self._whole[start:end]
            if head is not None:
                # One piece for the joined range, so that later reads across it hit.
                self._parts.remove(head)
                self._cached -= len(head[1])
                fetch_from, data = head[0], head[1] + data
            self._remember(fetch_from, data)
            return data[start - fetch_from : end - fetch_from]

    def extent(self, index: int) -> tuple[int, bytes]:
        """A cached range holding byte ``index`` as ``(start, data)``, fetched if need be."""
        with self._lock:
            if self._whole is not None:
                return 0, self._whole
            for pstart, data in reversed(self._parts):
                if pstart <= index < pstart + len(data):
                    return pstart, data
        self.read(index, index + 1)
        with self._lock:
            if self._whole is not None:
                return 0, self._whole
            return next((p, d) for p, d in reversed(self._parts) if p <= index < p + len(d))

    def prefetch(self, start: int, end: int) -> None:
        start, end = max(start, 0), min(end, self.size)
        with self._lock:
            if start >= end or self._whole is not None or self._lookup(start, end) is not None:
                return
            data = self._fetch(start, end)
            if self._whole is None:
                self._remember(start, data)

    def buffer(self) -> RangeBuffer:
        return RangeBuffer(self)

    def whole(self) -> bytes:
        """The whole file, in one request (the ranges fetched so far are dropped)."""
        with self._lock:
            if self._whole is None:
                self._load_whole(self.size)
                self._parts.clear()
                self._cached = 0
            assert self._whole is not None
            return self._whole

    def chunks(self, start: int, end: int, chunk: int) -> Iterator[bytes]:
        end = min(end, self.size)
        pos = max(start, 0)
        while pos < end:
            stop = min(pos + chunk, end)
            with self._lock:
                piece = self._whole[pos:stop] if self._whole is not None else None
            if piece is None:
                piece = self._fetch(pos, stop)
            yield piece
            pos = stop

    def close(self) -> None:
        with self._lock:
            self._parts.clear()
            self._cached = 0
            self._whole = None


class RangeBuffer:
    """``bytes``-like indexing over a :class:`RemoteSource`: what the wire scanner walks.

    ``buf[i]`` is an int and ``buf[a:b]`` bytes, as for ``bytes``; reads go
    through the source's cache, so walking a message's keys costs requests
    only where the walk leaves the fetched ranges.
    """

    __slots__ = ("_last", "_last_start", "_source")

    def __init__(self, source: RemoteSource) -> None:
        self._source = source
        self._last = b""
        self._last_start = 0

    def __len__(self) -> int:
        return self._source.size

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            start, stop, step = key.indices(self._source.size)
            if step != 1:
                raise ValueError("RangeBuffer slices must be contiguous")
            return self._source.read(start, stop)
        index = key + self._source.size if key < 0 else key
        offset = index - self._last_start
        if 0 <= offset < len(self._last):
            return self._last[offset]
        if not 0 <= index < self._source.size:
            raise IndexError("RangeBuffer index out of range")
        # Keep the whole cached extent so that a walk of consecutive keys stays local.
        self._last_start, self._last = self._source.extent(index)
        return self._last[index - self._last_start]
