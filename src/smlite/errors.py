"""The one exception hierarchy of smlite.

Every failure caused by the input (a missing directory, a damaged file, an
unknown tag-set) is raised as a :class:`SmliteError` subclass whose message says
where the problem is, what was expected and what was found.  Callers catch
``SmliteError``; the subclasses exist only where a caller would react
differently, and :attr:`SmliteError.reason` says what kind of problem it is,
so that no caller ever has to read the message text to decide what to do.

>>> e = CorruptFileError("the file is empty", path="m/saved_model.pb", reason=Reason.EMPTY)
>>> str(e), e.detail, e.reason
('m/saved_model.pb: the file is empty', 'the file is empty', <Reason.EMPTY: 'empty'>)
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from typing import ClassVar, Protocol, Union

__all__ = [
    "ChecksumError",
    "CorruptFileError",
    "NotASavedModelError",
    "NotFoundError",
    "Reason",
    "RemoteError",
    "SignatureNotFoundError",
    "SmliteError",
    "TagSetNotFoundError",
    "UnsupportedError",
    "VariableNotFoundError",
    "VersionNotFoundError",
    "CheckpointNotFoundError",
    "NamedLocation",
    "PathOrUrl",
    "location_text",
    "unreadable",
]


class NamedLocation(Protocol):
    """What is needed of a location to name it: a local ``Path``, or a URL's ``RemotePath``.

    (``smlite.formats.storage.RemotePath`` has no ``__fspath__``: a URL is not a
    path of this machine.  Its ``str()`` is the URL.)
    """

    @property
    def name(self) -> str: ...

    def as_posix(self) -> str: ...


#: A location as errors and renderers take it: text, a local path, or a URL's RemotePath.
PathOrUrl = Union[str, "os.PathLike[str]", NamedLocation]


def location_text(path: PathOrUrl) -> str:
    """``path`` as text: ``os.fspath`` of a local path, the URL of a remote one."""
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    return str(path)


class Reason(enum.Enum):
    """What kind of problem an error reports: the machine-readable part of an error."""

    #: Nothing more specific is known.
    OTHER = "other"
    #: A path, or a named item (tag-set, signature, variable, version), does not exist.
    NOT_FOUND = "not-found"
    #: The operating system refused to read a file (permissions, I/O error).
    UNREADABLE = "unreadable"
    #: No ``saved_model.pb``/``.pbtxt`` where a SavedModel was expected.
    NO_SAVED_MODEL = "no-saved-model"
    #: ``saved_model.pb`` holds a GraphDef (a frozen graph), not a SavedModel.
    GRAPH_DEF = "graph-def"
    #: ``saved_model.pb`` holds a bare MetaGraphDef, not a SavedModel.
    META_GRAPH_DEF = "meta-graph-def"
    #: ``saved_model.pb`` holds a TF-Hub ModuleDef (the content of ``tfhub_module.pb``).
    HUB_MODULE = "hub-module"
    #: The file is a Git LFS pointer, not the content it stands for.
    LFS_POINTER = "git-lfs-pointer"
    #: A text-format SavedModel where the binary format is expected (``saved_model.pb``).
    TEXT_IN_BINARY = "text-in-binary"
    #: Some other text where a binary protocol buffer is expected.
    TEXT_FILE = "text-file"
    #: Binary bytes where text is expected (``saved_model.pbtxt``).
    NOT_TEXT = "not-text"
    #: The file is empty.
    EMPTY = "empty"
    #: The bytes end before the data they announce.
    TRUNCATED = "truncated"
    #: The bytes do not parse as what they should be.
    DAMAGED = "damaged"
    #: A stored checksum differs from the one computed.
    CHECKSUM = "checksum"
    #: A data shard of a checkpoint that its index announces does not exist.
    MISSING_SHARD = "missing-shard"
    #: A checkpoint entry names a shard number its index does not declare.
    SHARD_OUT_OF_RANGE = "shard-out-of-range"
    #: Valid input that smlite does not read (yet).
    UNSUPPORTED = "unsupported"
    #: Only the chunked ``saved_model.cpb`` is present.
    CHUNKED = "chunked-saved-model"
    #: A TensorFlow V1 (TensorSlice) checkpoint, not a TensorBundle.
    V1_CHECKPOINT = "v1-checkpoint"
    #: Written by a newer TensorFlow in a format version this reader refuses.
    NEWER_FORMAT = "newer-format"
    # -- reading a URL (RemoteError) ----------------------------------------------------
    #: The store refused the credentials, or gave none (HTTP 401/403).
    ACCESS_DENIED = "access-denied"
    #: No complete answer within the timeout, on every attempt.
    TIMEOUT = "timeout"
    #: A file's length differs from the size the store announced.
    SIZE_MISMATCH = "size-mismatch"
    #: 5xx, 429, connection refused or reset, after every retry.
    UNAVAILABLE = "unavailable"
    #: fsspec, or the implementation of the URL's protocol, is not installed.
    NO_BACKEND = "no-backend"
    #: Anything else the storage backend reported.
    REQUEST_FAILED = "request-failed"


class SmliteError(Exception):
    """Root of every error smlite raises for bad or unreadable input.

    ``message`` (and ``str(e)``) is the whole text for people; ``detail`` is
    the same text without the location prefix that some subclasses add, for a
    caller that names the place itself (a finding with its own file and
    offset); ``reason`` is the kind of problem, for a caller that decides what
    to do.  ``path`` and ``offset`` locate the problem when known.
    """

    #: The reason when the raiser gives none.
    default_reason: ClassVar[Reason] = Reason.OTHER
    #: Whether ``message`` starts with ``<path>[ at offset N]: `` (added here, from ``path``).
    located: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        path: PathOrUrl | None = None,
        offset: int | None = None,
        reason: Reason | None = None,
        detail: str | None = None,
    ) -> None:
        where = ""
        if self.located and path is not None:
            where = location_text(path)
            if offset is not None:
                where += f" at offset {offset}"
            where += ": "
        super().__init__(where + message)
        self.message = where + message
        self.detail = detail if detail is not None else message
        self.path = location_text(path) if path is not None else None
        self.offset = offset
        self.reason = reason if reason is not None else self.default_reason

    def __str__(self) -> str:
        return self.message


def unreadable(path: PathOrUrl, error: OSError) -> SmliteError:
    """The error for a file the operating system would not let smlite read."""
    what = f"cannot read: {error.strerror or error}"
    return SmliteError(
        f"{location_text(path)}: {what}", path=path, detail=what, reason=Reason.UNREADABLE
    )


class NotASavedModelError(SmliteError):
    """The path exists but holds no SavedModel (or is not there at all).

    ``reason`` says what was found instead: nothing (``NO_SAVED_MODEL``,
    ``NOT_FOUND``) or another kind of file named ``saved_model.pb``
    (``GRAPH_DEF``, ``META_GRAPH_DEF``, ``HUB_MODULE``).
    """

    default_reason = Reason.NO_SAVED_MODEL
    located = True


class CorruptFileError(SmliteError):
    """A file is truncated, garbled or not of the expected format.

    The message starts with the path and, when known, the byte ``offset``
    where the damage was detected; ``detail`` is the message without them.
    """

    default_reason = Reason.DAMAGED
    located = True


class ChecksumError(CorruptFileError):
    """Stored and computed checksums differ."""

    default_reason = Reason.CHECKSUM


class NotFoundError(SmliteError):
    """A named item (tag-set, signature, variable, ...) does not exist.

    ``choices`` lists the valid names so that the message can offer them.
    """

    kind = "item"
    default_reason = Reason.NOT_FOUND

    def __init__(
        self,
        name: str,
        choices: Iterable[str],
        *,
        path: PathOrUrl | None = None,
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


class RemoteError(SmliteError):
    """Reading a URL failed: ``url`` says which, ``reason`` why, ``attempts`` how often tried.

    The reason is ``NOT_FOUND``, ``ACCESS_DENIED``, ``TIMEOUT``, ``TRUNCATED`` (the
    body was cut short), ``SIZE_MISMATCH``, ``UNAVAILABLE``, ``NO_BACKEND`` or
    ``REQUEST_FAILED``.  Unlike a damaged file, it says nothing about the model:
    ``check`` reports that the model could not be audited, never a finding.
    """

    default_reason = Reason.REQUEST_FAILED
    located = True

    def __init__(
        self, url: str, message: str, *, reason: Reason | None = None, attempts: int = 1
    ) -> None:
        super().__init__(message, path=url, reason=reason)
        self.url = url
        self.attempts = attempts


class UnsupportedError(SmliteError):
    """The input is valid but uses a feature smlite does not handle (yet).

    Like :class:`CorruptFileError`, the message starts with the path when one is given.
    """

    default_reason = Reason.UNSUPPORTED
    located = True
