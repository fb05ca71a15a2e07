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

import os

__all__ = ["HINT", "MAGIC", "MAX_SIZE", "file_is_pointer", "is_pointer"]

MAGIC = b"version https://git-lfs.github.com/spec/"
#: Pointer files are smaller than this; bigger files are never read to check.
MAX_SIZE = 1024
#: What to tell a user who has a pointer in place of a file.
HINT = "install git-lfs and run `git lfs pull`"


def is_pointer(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts a Git LFS pointer."""
    return head.startswith(MAGIC)


def file_is_pointer(path: str | os.PathLike[str]) -> bool:
    """True when the file at ``path`` is a Git LFS pointer (False for anything unreadable)."""
    try:
        if os.stat(path).st_size >= MAX_SIZE:
            return False
        with open(path, "rb") as f:
            return is_pointer(f.read(len(MAGIC)))
    except OSError:
        return False
