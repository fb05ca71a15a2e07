"""Where a model's bytes come from: local files, memory-mapped, or fsspec URLs, read by range.

A location is one of two things:

* a local path (a ``str`` or ``os.PathLike`` without a scheme) stays a
  :class:`pathlib.Path`; its files are memory-mapped as they always were and
  fsspec is never imported;
* a URL (``s3://``, ``gs://``, ``az://``, ``http(s)://``, ``file://``,
  ``memory://``, the protocol of any installed fsspec implementation, or a
  chained ``simplecache::s3://...``) becomes a
  :class:`RemotePath`, whose reads are range requests through
  :mod:`smlite.formats.remote` (which alone imports fsspec).

Everything smlite asks of a directory tree goes through the functions here —
:func:`listdir`, :func:`exists`, :func:`is_file`, :func:`is_dir`,
:func:`size`, :func:`read_bytes`, :func:`open_source` — so that one reading of
a model works in both places.  A :class:`Source` is one open file:
``read(start, end)`` for a few bytes, :meth:`Source.buffer` for the wire
scanner, :meth:`Source.chunks` to stream a range.

Every byte and request is counted into the :class:`Stats` that
:func:`measure` makes current (:mod:`smlite.formats.storage_stats`), so a
command (``--verbose``, JSON) or a fleet worker can say what it fetched.

Storage options (credentials, endpoints) are given to :func:`as_path`, or set
for a whole command with :func:`using`, which every URL opened inside the
block then takes (``--storage-option`` on the command line, a fleet worker).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import mmap
import os
import re
import stat as stat_module
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Union

from smlite.errors import NotASavedModelError, Reason, SmliteError, unreadable
from smlite.formats.storage_stats import (
    FileStats,
    Stats,
    current_stats,
    measure,
    record_read,
)

if TYPE_CHECKING:
    from smlite.formats.remote import RemoteSettings, Store

__all__ = [
    "AnyPath",
    "configure",
    "current_options",
    "DirEntry",
    "FileStats",
    "LocalSource",
    "RemotePath",
    "Source",
    "Stats",
    "as_path",
    "current_stats",
    "entry_size",
    "exists",
    "is_dir",
    "is_file",
    "is_remote",
    "is_url",
    "list_ahead",
    "listdir",
    "measure",
    "named",
    "open_source",
    "parse_storage_options",
    "read_bytes",
    "relative",
    "size",
    "using",
    "walk",
]

#: A location smlite reads from: a local path or a URL opened through fsspec.
AnyPath = Union[Path, "RemotePath"]

# ``scheme://`` or a chained ``proto::`` prefix; a Windows drive ("C:\\") is not one.
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*(?:://|::)")


def is_url(path: object) -> bool:
    """True when ``path`` is a string naming an fsspec URL rather than a local path."""
    return isinstance(path, str) and _URL_RE.match(path) is not None


def is_remote(path: object) -> bool:
    """True for a location read through fsspec (a :class:`RemotePath`)."""
    return isinstance(path, RemotePath)


@dataclass(frozen=True, slots=True)
class _Scope:
    options: Mapping[str, Any]
    settings: RemoteSettings | None


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "smlite_storage_scope", default=None
)


@contextlib.contextmanager
def using(
    storage_options: Mapping[str, Any] | None = None, settings: RemoteSettings | None = None
) -> Iterator[None]:
    """Open every URL inside the block with these storage options and settings.

    The options of :func:`as_path` for callers that do not pass their own
    (every reader below a command); local paths are not affected.
    """
    token = _SCOPE.set(_Scope(MappingProxyType(dict(storage_options or {})), settings))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def configure(
    storage_options: Mapping[str, Any] | None = None, settings: RemoteSettings | None = None
) -> None:
    """Set the options of :func:`using` for the rest of the current context (a CLI run,
    which runs in a context of its own)."""
    _SCOPE.set(_Scope(MappingProxyType(dict(storage_options or {})), settings))


def current_options() -> tuple[Mapping[str, Any], RemoteSettings | None]:
    """The storage options and settings in force (of :func:`using` or :func:`configure`)."""
    scope = _SCOPE.get()
    return (scope.options, scope.settings) if scope is not None else (MappingProxyType({}), None)


def as_path(
    path: str | os.PathLike[str] | RemotePath,
    *,
    storage_options: Mapping[str, Any] | None = None,
    settings: RemoteSettings | None = None,
) -> AnyPath:
    """The location ``path`` names: a :class:`Path`, or a ``RemotePath`` for a URL.

    ``storage_options`` go to the fsspec filesystem (credentials, endpoint,
    ...) exactly as ``fsspec.open(url, **storage_options)`` takes them; they
    are refused for a local path, where they would silently do nothing.
    ``settings`` (timeout, retries, readahead) apply to URLs only.  Without
    them, a URL takes those of the enclosing :func:`using` block.
    """
    if isinstance(path, RemotePath):
        return path
    if isinstance(path, str) and is_url(path):
        from smlite.formats.remote import Store

        scope = _SCOPE.get() or _Scope(MappingProxyType({}), None)
        options = scope.options if storage_options is None else storage_options
        return Store.for_url(path, options, settings or scope.settings).root
    if storage_options:
        raise SmliteError(
            f"{os.fspath(path)}: storage options apply to URLs (s3://, gs://, http://, ...); "
            "this is a local path",
            path=path,
        )
    return Path(os.fspath(path))


# -- storage options ---------------------------------------------------------------


def parse_storage_options(items: Iterable[str]) -> dict[str, Any]:
    """``["key=value", "client_kwargs.endpoint_url=http://..."]`` -> fsspec storage options.

    A dotted key nests (``a.b=1`` -> ``{"a": {"b": 1}}``); a value that reads
    as JSON (``true``, ``3``, ``{"k": 1}``) is taken as such, anything else is
    a string.  This is how ``--storage-option`` is spelled on the command line.
    """
    options: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise SmliteError(
                f"storage option {item!r}: expected KEY=VALUE (e.g. anon=true, "
                "client_kwargs.endpoint_url=http://127.0.0.1:9000)"
            )
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        target = options
        parts = key.split(".")
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                raise SmliteError(f"storage option {item!r}: {part!r} is already a value")
            target = nested
        target[parts[-1]] = value
    return options


# -- remote paths --------------------------------------------------------------------


class RemotePath:
    """A file or directory behind an fsspec URL, with the part of the pathlib API smlite uses.

    ``str()`` is the URL (as the user spelled its root); joining, ``name``,
    ``parent`` and ``relative_to`` are string operations; ``exists()``,
    ``is_file()``, ``is_dir()``, ``stat().st_size`` and ``iterdir()`` ask the
    :class:`~smlite.formats.remote.Store` it belongs to, which answers from one
    listing per directory where it can.  There is deliberately no
    ``__fspath__``: ``open()`` or ``os.stat()`` on a URL is a bug, not a fallback.

    A pickled ``RemotePath`` keeps only its URL (never the credentials); one
    unpickled in another process can be printed and compared, not read.
    """

    __slots__ = ("_key", "path", "store")

    def __init__(self, store: Store, path: str) -> None:
        self.store = store
        #: The path as the fsspec filesystem spells it (``bucket/key``, a full http URL, ...).
        self.path = path
        self._key = store.url(path)

    # -- pure path operations ----------------------------------------------------------
    def __str__(self) -> str:
        return self._key

    def __repr__(self) -> str:
        return f"RemotePath({self._key!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: RemotePath) -> bool:
        return self._key < other._key

    def __truediv__(self, name: str | os.PathLike[str]) -> RemotePath:
        path = self.path
        for part in os.fspath(name).split("/"):
            if part in ("", "."):
                continue
            path = self.store.parent(path) if part == ".." else f"{path.rstrip('/')}/{part}"
        return RemotePath(self.store, path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (named, (self._key,))

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        name = self.name
        dot = name.rfind(".")
        return name[dot:] if 0 < dot < len(name) - 1 else ""

    @property
    def parent(self) -> RemotePath:
        return RemotePath(self.store, self.store.parent(self.path))

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in self._key.split("/") if p)

    def as_posix(self) -> str:
        return self._key

    def resolve(self) -> RemotePath:
        return self

    def is_absolute(self) -> bool:
        return True

    def relative_to(self, other: object) -> PurePosixPath:
        """The path below ``other`` (a RemotePath); ValueError when it is not below it."""
        if isinstance(other, RemotePath):
            base = other._key.rstrip("/") + "/"
            if self._key.startswith(base):
                return PurePosixPath(self._key[len(base) :])
            if self._key == other._key:
                return PurePosixPath(".")
        raise ValueError(f"{self._key} is not below {other}")

    def is_relative_to(self, other: object) -> bool:
        try:
            self.relative_to(other)
        except ValueError:
            return False
        return True

    # -- questions for the store ---------------------------------------------------------
    def exists(self) -> bool:
        return self.store.kind(self.path) is not None

    def is_file(self) -> bool:
        return self.store.kind(self.path) == "file"

    def is_dir(self) -> bool:
        return self.store.kind(self.path) == "dir"

    def is_symlink(self) -> bool:
        return False

    def stat(self) -> os.stat_result:
        size = self.store.size(self.path)
        return os.stat_result((stat_module.S_IFREG | 0o444, 0, 0, 1, 0, 0, size, 0, 0, 0))

    def iterdir(self) -> Iterator[RemotePath]:
        return (e.path for e in self.store.listdir(self))  # type: ignore[misc]

    def read_bytes(self) -> bytes:
        return read_bytes(self)


def named(url: str) -> RemotePath:
    """A ``RemotePath`` that names ``url`` (to print or compare it) but cannot read it.

    What an unpickled RemotePath is; also the location of an error that names a URL.
    """
    from smlite.formats.remote import Store

    return Store.detached(url).root


# -- directory entries ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One child of a directory, as :func:`listdir` and :func:`walk` give it."""

    name: str
    path: AnyPath
    #: What the entry is itself (a local symlink is ``"symlink"``, not followed).
    kind: Literal["file", "dir", "symlink", "other"]
    #: Size in bytes for files (``None`` when a server does not say); 0 otherwise.
    size: int | None = 0
    #: For a symlink: whether it leads to a directory.
    target_is_dir: bool = False

    def is_dir(self) -> bool:
        """A directory, or a symlink to one (as ``os.DirEntry.is_dir()``)."""
        return self.kind == "dir" or (self.kind == "symlink" and self.target_is_dir)

    def is_file(self) -> bool:
        return self.kind == "file"


def _local_entry(entry: os.DirEntry[str]) -> DirEntry:
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return DirEntry(entry.name, Path(entry.path), "other")
    if stat_module.S_ISLNK(st.st_mode):
        try:
            target_is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            target_is_dir = False
        return DirEntry(entry.name, Path(entry.path), "symlink", 0, target_is_dir)
    if stat_module.S_ISDIR(st.st_mode):
        return DirEntry(entry.name, Path(entry.path), "dir")
    if stat_module.S_ISREG(st.st_mode):
        return DirEntry(entry.name, Path(entry.path), "file", st.st_size)
    return DirEntry(entry.name, Path(entry.path), "other")


def listdir(path: AnyPath) -> list[DirEntry]:
    """The children of the directory ``path``, sorted by name.

    Raises :class:`NotASavedModelError` when ``path`` is not a directory there.
    """
    if isinstance(path, RemotePath):
        return path.store.listdir(path)
    local = Path(path)
    try:
        with os.scandir(local) as it:
            entries = [_local_entry(e) for e in it]
    except FileNotFoundError:
        raise NotASavedModelError(
            "no such directory", path=local, reason=Reason.NOT_FOUND
        ) from None
    except NotADirectoryError:
        raise NotASavedModelError("not a directory", path=local) from None
    except OSError as e:
        raise unreadable(local, e) from e
    return sorted(entries, key=lambda e: e.name)


def relative(path: AnyPath, root: AnyPath) -> str:
    """``path`` below ``root`` in forward slashes (``"."`` for ``root`` itself).

    Raises ValueError when ``path`` is not below ``root`` (or one is a URL and the other not).
    """
    if isinstance(path, RemotePath):
        return path.relative_to(root).as_posix()
    if isinstance(root, RemotePath):
        raise ValueError(f"{path} is not below {root}")
    return path.relative_to(root).as_posix()


def list_ahead(path: AnyPath) -> None:
    """Behind a URL, list ``path`` itself now: one request then answers ``exists()``,
    ``is_dir()`` and ``is_file()`` for it and its children.  Nothing for a local path,
    or where ``path`` is no folder (a file, or a server without index pages).
    """
    if isinstance(path, RemotePath):
        with contextlib.suppress(NotASavedModelError):
            path.store.listdir(path)


def walk(path: AnyPath) -> Iterator[DirEntry]:
    """Every entry under the directory ``path``, depth first, sorted; links not followed."""
    for entry in listdir(path):
        yield entry
        if entry.kind == "dir":
            yield from walk(entry.path)


def entry_size(entry: DirEntry) -> int:
    """A listed file's size: from the listing, or asked for where it had none (http)."""
    return entry.size if entry.size is not None else size(entry.path)


def exists(path: AnyPath) -> bool:
    if isinstance(path, RemotePath):
        return path.exists()
    return os.path.lexists(path)


def is_file(path: AnyPath) -> bool:
    return path.is_file()


def is_dir(path: AnyPath) -> bool:
    return path.is_dir()


def size(path: AnyPath) -> int:
    """Size of the file ``path`` in bytes."""
    if isinstance(path, RemotePath):
        return path.store.size(path.path)
    try:
        return os.stat(path).st_size
    except OSError as e:
        raise unreadable(path, e) from e


def read_bytes(path: AnyPath) -> bytes:
    """The whole file ``path`` (for small files: indexes, fingerprints, policies)."""
    if isinstance(path, RemotePath):
        with open_source(path) as src:
            return bytes(src.read(0, src.size))
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise NotASavedModelError("no such file", path=p, reason=Reason.NOT_FOUND) from None
    except OSError as e:
        raise unreadable(p, e) from e
    record_read(str(p), len(data), requests=0)
    return data


# -- sources -------------------------------------------------------------------------


class Source:
    """One open file: its size, byte ranges, a scanner buffer, streamed chunks.

    Use as a context manager; :func:`open_source` makes the right kind.
    """

    #: Where the bytes come from (a path or a URL), for messages.
    name: str
    size: int

    def read(self, start: int, end: int) -> bytes | memoryview:
        """Bytes ``[start, end)`` (clipped to the file), fetched or served from cache."""
        raise NotImplementedError

    def buffer(self) -> Any:
        """An object indexable like ``bytes`` over the whole file (for the wire scanner)."""
        raise NotImplementedError

    def prefetch(self, start: int, end: int) -> None:
        """Say that ``[start, end)`` will be read soon (one request for a remote file)."""

    def whole(self) -> bytes | mmap.mmap:
        """The whole file (a remote file is fetched once, in one request, and kept)."""
        raise NotImplementedError

    def chunks(self, start: int, end: int, chunk: int) -> Iterator[bytes | memoryview]:
        """``[start, end)`` as consecutive pieces of at most ``chunk`` bytes, not cached."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file (views handed out stay valid until dropped)."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalSource(Source):
    """A local file, memory-mapped read-only (an empty file maps to ``b""``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        try:
            with open(path, "rb") as f:
                self.size = os.fstat(f.fileno()).st_size
                self._map: mmap.mmap | bytes = (
                    mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if self.size else b""
                )
        except FileNotFoundError:
            raise NotASavedModelError("no such file", path=path, reason=Reason.NOT_FOUND) from None
        except OSError as e:
            raise unreadable(path, e) from e

    def read(self, start: int, end: int) -> bytes:
        data = self._map[max(start, 0) : min(end, self.size)]
        record_read(self.name, len(data), requests=0)
        return data

    def buffer(self) -> mmap.mmap | bytes:
        return self._map

    def whole(self) -> mmap.mmap | bytes:
        return self._map

    def chunks(self, start: int, end: int, chunk: int) -> Iterator[memoryview]:
        view = memoryview(self._map)
        end = min(end, self.size)
        pos = max(start, 0)
        while pos < end:
            piece = view[pos : min(pos + chunk, end)]
            record_read(self.name, len(piece), requests=0)
            yield piece
            pos += len(piece)

    def close(self) -> None:
        if isinstance(self._map, mmap.mmap):
            # BufferError: a caller still holds a view; the OS unmaps with the last one.
            with contextlib.suppress(BufferError):
                self._map.close()
        self._map = b""


def open_source(path: AnyPath) -> Source:
    """Open the file ``path`` for reading (a memory map, or a remote range reader)."""
    if isinstance(path, RemotePath):
        return path.store.open(path.path)
    return LocalSource(Path(path))
