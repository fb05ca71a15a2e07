"""Remote failures: one error type with the URL and a reason, and how backend exceptions map to it.

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

from smlite.errors import SmliteError

__all__ = ["ADVICE", "REASONS", "RemoteError", "classify", "detail"]

#: Machine-readable causes of a :class:`RemoteError`.
REASONS = (
    "not-found",  # 404, no such key
    "access-denied",  # 401/403, missing or wrong credentials
    "timeout",  # no complete answer within the timeout, on every attempt
    "truncated",  # the body was cut short (or the connection reset mid-transfer)
    "size-mismatch",  # the file's length differs from the size the server announced
    "unavailable",  # 5xx, 429, connection refused or reset, after every retry
    "no-backend",  # fsspec or the protocol's implementation is not installed
    "failed",  # anything else the backend reported
)


class RemoteError(SmliteError):
    """Reading a URL failed; ``url`` says which, ``reason`` (one of :data:`REASONS`) why."""

    def __init__(self, url: str, message: str, *, reason: str, attempts: int = 1) -> None:
        super().__init__(f"{url}: {message}", path=url)
        self.url = url
        self.reason = reason
        self.attempts = attempts


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


def classify(exc: BaseException) -> tuple[str, bool]:
    """``(reason, transient)`` for an exception raised by an fsspec backend."""
    for e in _chain(exc):
        if any(s in type(e).__name__ for s in ("Payload", "IncompleteRead", "ContentLength")):
            return "truncated", True
    for e in _chain(exc):
        status = _status(e)
        if status is None:
            continue
        if status in (404, 410):
            return "not-found", False
        if status in (401, 403):
            return "access-denied", False
        if status == 416:
            return "size-mismatch", False
        if status in _TRANSIENT_STATUS:
            return "unavailable", True
        if status >= 400:
            return "failed", False
    for e in _chain(exc):
        name = type(e).__name__
        if isinstance(e, (TimeoutError, asyncio.TimeoutError)) or "Timeout" in name:
            return "timeout", True
        if isinstance(e, FileNotFoundError):
            return "not-found", False
        if isinstance(e, PermissionError):
            return "access-denied", False
        if isinstance(e, (IsADirectoryError, NotADirectoryError)):
            return "not-found", False
        if isinstance(e, ConnectionError) or "Connect" in name or "Disconnect" in name:
            return "unavailable", True
    if isinstance(exc, OSError):
        return "unavailable", True
    return "failed", False


ADVICE = {
    "not-found": "no such file or directory",
    "access-denied": (
        "access denied; check the credentials (the backend's environment variables or "
        "profile, or --storage-option KEY=VALUE)"
    ),
    "timeout": "timed out",
    "truncated": "the response was cut short",
    "size-mismatch": "the file is not the size the server announced",
    "unavailable": "the server is unavailable",
    "failed": "the request failed",
}


def detail(exc: BaseException) -> str:
    for e in _chain(exc):
        status = _status(e)
        text = str(e).strip()
        if status is not None:
            return f"HTTP {status}" + (f": {text}" if text and str(status) not in text else "")
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
