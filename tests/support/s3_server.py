"""A real S3 endpoint on 127.0.0.1 for the remote tests: moto's ThreadedMotoServer, logged.

moto's server answers the S3 REST API in-process (no network beyond
loopback).  The WSGI app is wrapped so that every request is recorded with
its method, path, query, ``Range`` header and the number of body bytes sent:
the byte and request budgets of smlite's remote reads are asserted on this
log, i.e. on what actually crossed the socket.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

#: Credentials moto accepts (it checks none); set so that no real profile is ever used.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class S3Request:
    method: str
    path: str
    query: str
    range: str | None
    #: Filled in when the answer has been sent (see LoggedMotoServer.settle).
    body_bytes: int = 0
    done: bool = False

    @property
    def is_read(self) -> bool:
        """A GET of an object (not a bucket listing)."""
        return self.method == "GET" and "list-type" not in self.query and self.path.count("/") > 1


class _Logged:
    """WSGI middleware: records each request as it arrives, and its answer's size when sent."""

    def __init__(self, app: Callable[..., Iterable[bytes]], log: list[S3Request]) -> None:
        self.app = app
        self.log = log
        self.lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        entry = S3Request(
            environ.get("REQUEST_METHOD", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_RANGE"),
        )
        with self.lock:
            self.log.append(entry)
        try:
            for chunk in self.app(environ, start_response):
                entry.body_bytes += len(chunk)
                yield chunk
        finally:
            entry.done = True


class _QuietHandler(MotoRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
        pass  # the log that matters is LoggedMotoServer.log


class LoggedMotoServer(ThreadedMotoServer):
    """moto's threaded server on 127.0.0.1 (a free port) with a request log."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.log: list[S3Request] = []

    def _server_entry(self) -> None:
        app = _Logged(DomainDispatcherApplication(create_backend_app), self.log)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=_QuietHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def storage_options(self) -> dict[str, Any]:
        """What smlite (s3fs) needs to talk to this server, as ``--storage-option`` gives it."""
        return {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"endpoint_url": self.endpoint, "region_name": "us-east-1"},
            # A fresh s3fs instance per test: no listings cached across servers.
            "skip_instance_cache": True,
            "use_listings_cache": False,
        }

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every logged request has been answered (the client may be faster)."""
        deadline = time.monotonic() + timeout
        while not all(r.done for r in list(self.log)) and time.monotonic() < deadline:
            time.sleep(0.01)

    def reads(self, under: str = "") -> list[S3Request]:
        self.settle()
        return [r for r in list(self.log) if r.is_read and r.path.startswith(under)]

    def writes(self) -> list[S3Request]:
        """Requests that would change the store (PUT/POST/DELETE), made after ``mark``."""
        return [r for r in list(self.log) if r.method in ("PUT", "POST", "DELETE", "PATCH")]


def client(server: LoggedMotoServer) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def upload_tree(s3: Any, bucket: str, prefix: str, root: Path) -> int:
    """Upload every file under ``root`` to ``s3://bucket/prefix/...``; the number of files."""
    count = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            key = f"{prefix.strip('/')}/{path.relative_to(root).as_posix()}".lstrip("/")
            s3.upload_file(str(path), bucket, key)
            count += 1
    return count
