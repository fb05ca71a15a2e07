"""The one exception hierarchy of smlite.

Every failure caused by the input (a missing directory, a damaged file, an
unknown tag-set) is raised as a :class:`SmliteError` subclass whose message says
where the problem is, what was expected and what was found.  Callers catch
``SmliteError``; the subclasses exist only where a caller would react
differently.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

__all__ = [
    "ChecksumError",
    "CorruptFileError",
    "NotASavedModelError",
    "NotFoundError",
    "SignatureNotFoundError",
    "SmliteError",
    "TagSetNotFoundError",
    "UnsupportedError",
    "VariableNotFoundError",
    "VersionNotFoundError",
    "CheckpointNotFoundError",
]


class SmliteError(Exception):
    """Root of every error smlite raises for bad or unreadable input."""

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = os.fspath(path) if path is not None else None

    def __str__(self) -> str:
        return self.message


class NotASavedModelError(SmliteError):
    """The path exists but holds no SavedModel (or is not there at all)."""


class CorruptFileError(SmliteError):
    """A file is truncated, garbled or not of the expected format.

    ``offset`` is the byte offset in ``path`` where the damage was detected,
    when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        offset: int | None = None,
    ) -> None:
        where = ""
        if path is not None:
            where = f"{os.fspath(path)}"
            if offset is not None:
                where += f" at offset {offset}"
            where += ": "
        super().__init__(where + message, path=path)
        self.offset = offset


class ChecksumError(CorruptFileError):
    """Stored and computed checksums differ."""


class NotFoundError(SmliteError):
    """A named item (tag-set, signature, variable, ...) does not exist.

    ``choices`` lists the valid names so that the message can offer them.
    """

    kind = "item"

    def __init__(
        self,
        name: str,
        choices: Iterable[str],
        *,
        path: str | os.PathLike[str] | None = None,
        hint: str = "",
    ) -> None:
        self.name = name
        self.choices = tuple(choices)
        listed = ", ".join(repr(c) for c in self.choices) if self.choices else "(none)"
        message = f"{self.kind} {name!r} not found; valid choices: {listed}"
        if hint:
            message += f". {hint}"
        super().__init__(message, path=path)


class TagSetNotFoundError(NotFoundError):
    kind = "tag-set"


class SignatureNotFoundError(NotFoundError):
    kind = "signature"


class VariableNotFoundError(NotFoundError):
    kind = "variable"


class VersionNotFoundError(NotFoundError):
    """A TF Serving base path has no version folder with the requested number."""

    kind = "version"


class CheckpointNotFoundError(NotFoundError):
    """No TensorBundle (``<prefix>.index``) at the given prefix."""

    kind = "checkpoint"


class UnsupportedError(SmliteError):
    """The input is valid but uses a feature smlite does not handle (yet)."""
