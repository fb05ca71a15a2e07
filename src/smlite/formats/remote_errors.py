"""How the exceptions of fsspec backends map to a :class:`~smlite.errors.RemoteError` reason.

fsspec backends raise what their client libraries raise: ``FileNotFoundError``
and ``PermissionError`` (s3fs translates S3 error codes), aiohttp's
``ClientResponseError`` with an HTTP ``status`` (http, gcsfs), botocore's
``ClientError`` with a response status, timeouts, connection resets, and
payload errors for bodies cut short — sometimes wrapped (fsspec's http
``info()`` turns every failure into ``FileNotFoundError`` with the real one as
its cause).  :func:`classify` walks the cause chain and decides the reason and
whether a retry may help.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping

from smlite.errors import Reason

__all__ = ["ADVICE", "classify", "detail"]

_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def _status(exc: BaseException) -> int | None:
    # Not ``code``: aiohttp's payload errors carry ``code = 400`` for a body cut short.
    for attr in ("status", "status_code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)  # botocore ClientError
    if isinstance(response, Mapping):
        value = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(value, int):
            return value
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(exc: BaseException) -> tuple[Reason, bool]:
    """``(reason, transient)`` for an exception raised by an fsspec backend."""
    for e in _chain(exc):
        if any(s in type(e).__name__ for s in ("Payload", "IncompleteRead", "ContentLength")):
            return Reason.TRUNCATED, True
    for e in _chain(exc):
        status = _status(e)
        if status is None:
            continue
        if status in (404, 410):
            return Reason.NOT_FOUND, False
        if status in (401, 403):
            return Reason.ACCESS_DENIED, False
        if status == 416:
            return Reason.SIZE_MISMATCH, False
        if status in _TRANSIENT_STATUS:
            return Reason.UNAVAILABLE, True
        if status >= 400:
            return Reason.REQUEST_FAILED, False
    for e in _chain(exc):
        name = type(e).__name__
        if isinstance(e, (TimeoutError, asyncio.TimeoutError)) or "Timeout" in name:
            return Reason.TIMEOUT, True
        if isinstance(e, FileNotFoundError):
            return Reason.NOT_FOUND, False
        if isinstance(e, PermissionError):
            return Reason.ACCESS_DENIED, False
        if isinstance(e, (IsADirectoryError, NotADirectoryError)):
            return Reason.NOT_FOUND, False
        if isinstance(e, ConnectionError) or "Connect" in name or "Disconnect" in name:
            return Reason.UNAVAILABLE, True
    if isinstance(exc, OSError):
        return Reason.UNAVAILABLE, True
    return Reason.REQUEST_FAILED, False


#: What each reason means, as the message of a RemoteError says it.
ADVICE = {
    Reason.NOT_FOUND: "no such file or directory",
    Reason.ACCESS_DENIED: (
        "access denied; check the credentials (the backend's environment variables or "
        "profile, or --storage-option KEY=VALUE)"
    ),
    Reason.TIMEOUT: "timed out",
    Reason.TRUNCATED: "the response was cut short",
    Reason.SIZE_MISMATCH: "the file is not the size the server announced",
    Reason.UNAVAILABLE: "the server is unavailable",
    Reason.REQUEST_FAILED: "the request failed",
}


def detail(exc: BaseException) -> str:
    for e in _chain(exc):
        status = _status(e)
        text = str(e).strip()
        if status is not None:
            return f"HTTP {status}" + (f": {text}" if text and str(status) not in text else "")
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
