"""A threaded HTTP file server on 127.0.0.1 for the remote tests: Range, index pages, faults.

It serves a directory tree and/or in-memory files (:class:`VirtualFile`,
which may hold gigabytes of zeros without allocating them), answers
``Range: bytes=a-b`` with 206 (unless ``ranges=False``: then every GET gets
the whole file with 200, as some servers do), lists folders as HTML index
pages the way ``python -m http.server`` does (fsspec's http filesystem reads
those links), and records every request in :attr:`ModelServer.log`.

Faults, per path (see :class:`Fault`): a status code for the first *n*
requests (500s then success, or 403 for ever), a connection reset after some
bytes of the body, a body cut short of its Content-Length, a size announced
by HEAD that differs from the real one, or a stall longer than the client's
timeout.  Everything is bounded: the server stops with the test.
"""

from __future__ import annotations

import html
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)$")
#: What :meth:`ModelServer.lookup` gives for a folder that holds only virtual files.
FOLDER = object()


class VirtualFile:
    """A file made of byte strings and runs of zeros (an int is that many zero bytes)."""

    def __init__(self, parts: list[bytes | int]) -> None:
        self.parts = parts
        self.size = sum(p if isinstance(p, int) else len(p) for p in parts)

    def read(self, start: int, end: int) -> bytes:
        out = bytearray()
        pos = 0
        for part in self.parts:
            n = part if isinstance(part, int) else len(part)
            lo, hi = max(start, pos), min(end, pos + n)
            if lo < hi:
                out += bytes(hi - lo) if isinstance(part, int) else part[lo - pos : hi - pos]
            pos += n
            if pos >= end:
                break
        return bytes(out)


@dataclass
class Fault:
    """What goes wrong for one path (``None`` fields: nothing)."""

    #: Answer this status instead of the file...
    status: int | None = None
    #: ...for this many requests (``None``: for ever), then serve normally.
    times: int | None = None
    #: Send this many body bytes, then reset the connection.
    reset_after: int | None = None
    #: Announce the full Content-Length but send only this many bytes, then close.
    truncate_to: int | None = None
    #: HEAD (and listings) announce this size instead of the real one.
    announce_size: int | None = None
    #: Sleep this long before answering (bounded by the test).
    stall: float | None = None
    #: Apply to GET only (HEAD answers normally).
    get_only: bool = True
    count: int = field(default=0, init=False)


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    #: Filled in when the answer has been sent (see ModelServer.settle).
    status: int = 0
    body_bytes: int = 0
    done: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float = 0.0


class ModelServer:
    """Serve ``root`` (and ``files``: URL path -> VirtualFile/bytes) on 127.0.0.1."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        files: dict[str, VirtualFile | bytes] | None = None,
        ranges: bool = True,
        faults: dict[str, Fault] | None = None,
        prefixes: dict[str, Path] | None = None,
        index_pages: bool = True,
    ) -> None:
        self.root = root
        self.files = {k.strip("/"): v for k, v in (files or {}).items()}
        self.ranges = ranges
        self.faults = {k.strip("/"): v for k, v in (faults or {}).items()}
        #: Extra trees served under a URL prefix (the same folder may appear many times).
        self.prefixes = {k.strip("/"): v for k, v in (prefixes or {}).items()}
        #: Without index pages a folder URL answers 404, as object-store gateways often do.
        self.index_pages = index_pages
        self.log: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> ModelServer:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every logged request has been answered (the client may be faster)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(r.done for r in self.log):
                    return
            time.sleep(0.01)

    def requests(self, method: str = "GET", *, under: str = "") -> list[Request]:
        self.settle()
        with self._lock:
            return [r for r in self.log if r.method == method and r.path.startswith(under)]

    def max_in_flight(self, method: str = "GET") -> int:
        """The most requests that were being answered at the same moment."""
        events = sorted(
            [(r.started, 1) for r in self.requests(method)]
            + [(r.finished, -1) for r in self.requests(method)]
        )
        best = current = 0
        for _, step in events:
            current += step
            best = max(best, current)
        return best

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    # -- content ------------------------------------------------------------------------
    def lookup(self, rel: str) -> VirtualFile | bytes | Path | object | None:
        """The file at the URL path ``rel``, a folder (a Path, or FOLDER), or None."""
        rel = rel.strip("/")
        if rel in self.files:
            return self.files[rel]
        children = [k for k in self.files if k.startswith(rel + "/") or not rel]
        for prefix, tree in self.prefixes.items():
            if rel == prefix or rel.startswith(prefix + "/"):
                return _inside(tree, rel[len(prefix) :].strip("/"))
            if not rel or prefix.startswith(rel + "/"):
                children.append(prefix)
        if self.root is not None:
            found = _inside(self.root, rel)
            if found is not None:
                return found
        return FOLDER if children else None

    def index(self, rel: str) -> list[tuple[str, bool]]:
        """``(name, is_folder)`` of the children of folder ``rel``."""
        rel = rel.strip("/")
        names: dict[str, bool] = {}
        found = self.lookup(rel)
        if isinstance(found, Path) and found.is_dir():
            for child in found.iterdir():
                names[child.name] = child.is_dir()
        pre = rel + "/" if rel else ""
        for key in [*self.files, *self.prefixes]:
            if key.startswith(pre):
                head, sep, _ = key[len(pre) :].partition("/")
                names[head] = names.get(head, False) or bool(sep) or key in self.prefixes
        return sorted(names.items())


def _inside(tree: Path, rel: str) -> Path | None:
    target = (tree / rel).resolve() if rel else tree.resolve()
    if not target.is_relative_to(tree.resolve()) or not target.exists():
        return None
    return target


def _size(found: Path | VirtualFile | bytes) -> int:
    if isinstance(found, Path):
        return found.stat().st_size
    return found.size if isinstance(found, VirtualFile) else len(found)


def _read(found: Path | VirtualFile | bytes, start: int, end: int) -> bytes:
    if isinstance(found, Path):
        with found.open("rb") as f:
            f.seek(start)
            return f.read(end - start)
    if isinstance(found, VirtualFile):
        return found.read(start, end)
    return found[start:end]


def _make_handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, Nagle's algorithm
        # and the client's delayed ACK add 40 ms to every request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # the test reads ModelServer.log instead

        entry: Request

        def _record(self, status: int, nbytes: int) -> None:
            self.entry.status, self.entry.body_bytes, self.entry.done = status, nbytes, True

        def _start(self) -> None:
            self.entry = Request(self.command, self.path, self.headers.get("Range"))
            with server._lock:
                server.log.append(self.entry)

        def do_HEAD(self) -> None:
            self._handle(head=True)

        def do_GET(self) -> None:
            self._handle(head=False)

        def _handle(self, *, head: bool) -> None:
            self._start()
            try:
                self._serve(head=head)
            finally:
                self.entry.finished = time.monotonic()
                self.entry.done = True

        def _error(self, status: int) -> None:
            body = f"error {status}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self._record(status, 0)

        def _serve(self, *, head: bool) -> None:
            rel = unquote(urlsplit(self.path).path).strip("/")
            fault = server.faults.get(rel)
            if fault is not None and (not head or not fault.get_only):
                with server._lock:
                    fault.count += 1
                    n = fault.count
                if fault.stall:
                    time.sleep(fault.stall)
                if fault.status is not None and (fault.times is None or n <= fault.times):
                    self._error(fault.status)
                    return
            found = server.lookup(rel)
            if found is None:
                self._error(404)
                return
            if found is FOLDER or (isinstance(found, Path) and found.is_dir()):
                if not server.index_pages:
                    self._error(404)
                    return
                self._folder(rel, head=head)
                return
            assert isinstance(found, (Path, VirtualFile, bytes))
            size = _size(found)

            announced = size
            if fault is not None and fault.announce_size is not None and head:
                announced = fault.announce_size
            start, end, status = 0, size, 200
            wanted = self.headers.get("Range")
            if wanted and server.ranges and not head:
                m = _RANGE_RE.match(wanted.strip())
                if m is None or (not m.group(1) and not m.group(2)):
                    self._error(416)
                    return
                if m.group(1):
                    start = int(m.group(1))
                    end = min(size, int(m.group(2)) + 1) if m.group(2) else size
                else:
                    start = max(0, size - int(m.group(2)))
                if start >= size:
                    self._error(416)
                    return
                status = 206
            length = end - start if not head else announced
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes" if server.ranges else "none")
            self.send_header("Content-Length", str(length))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            self.end_headers()
            if head:
                self._record(status, 0)
                return
            sent = 0
            limit = end - start
            if fault is not None and fault.truncate_to is not None:
                limit = min(limit, fault.truncate_to)
            if fault is not None and fault.reset_after is not None:
                limit = min(limit, fault.reset_after)
            pos = start
            try:
                while sent < limit:
                    piece = _read(found, pos, min(pos + (1 << 20), start + limit))
                    self.wfile.write(piece)
                    sent += len(piece)
                    pos += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self._record(status, sent)
            if sent < end - start:
                self.wfile.flush()
                if fault is not None and fault.reset_after is not None:
                    # An RST instead of a FIN: SO_LINGER with a zero timeout.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                self.close_connection = True

        def _folder(self, rel: str, *, head: bool) -> None:
            if not urlsplit(self.path).path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", urlsplit(self.path).path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                self._record(301, 0)
                return
            links = "".join(
                f'<li><a href="{quote(name)}{"/" if folder else ""}">{html.escape(name)}</a></li>'
                for name, folder in server.index(rel)
            )
            body = f"<html><body><ul>{links}</ul></body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            self._record(200, 0 if head else len(body))

    return Handler
