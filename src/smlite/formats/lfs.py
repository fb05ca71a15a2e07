"""Git LFS pointer files: the one place that recognises them.

A repository that stores a model with Git LFS but is checked out without
``git lfs pull`` holds, in place of each file, a small text file::

    version https://git-lfs.github.com/spec/v1
    oid sha256:<64 hex digits>
    size <bytes>

Pointer files are well under a kilobyte; the spec requires the ``version``
line first.
"""

from __future__ import annotations

from smlite.errors import SmliteError
from smlite.formats import storage
from smlite.formats.storage import AnyPath

__all__ = ["HINT", "MAGIC", "MAX_SIZE", "file_is_pointer", "is_pointer"]

MAGIC = b"version https://git-lfs.github.com/spec/"
#: Pointer files are smaller than this; bigger files are never read to check.
MAX_SIZE = 1024
#: What to tell a user who has a pointer in place of a file.
HINT = "install git-lfs and run `git lfs pull`"


def is_pointer(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts a Git LFS pointer."""
    return head.startswith(MAGIC)


def file_is_pointer(path: AnyPath, *, size: int | None = None) -> bool:
    """True when the file at ``path`` is a Git LFS pointer (False for anything unreadable).

    ``size``, when the caller knows it (from a listing), spares asking for it;
    only files smaller than :data:`MAX_SIZE` are opened.
    """
    try:
        if (storage.size(path) if size is None else size) >= MAX_SIZE:
            return False
        with storage.open_source(path) as source:
            return is_pointer(bytes(source.read(0, len(MAGIC))))
    except SmliteError:
        return False
