"""smlite: inspect, validate and audit TensorFlow SavedModels without TensorFlow.

>>> import smlite
>>> with smlite.open("path/to/saved_model") as sm:          # doctest: +SKIP
...     for key, sig in sm.meta_graph("serve").signatures.items():
...         print(key, list(sig.inputs), list(sig.outputs))

Heavy modules (protobuf, numpy) are imported on first use, so that
``import smlite`` and ``smlite --help`` stay fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from smlite.errors import (
    CheckpointNotFoundError,
    ChecksumError,
    CorruptFileError,
    NotASavedModelError,
    NotFoundError,
    RemoteError,
    SignatureNotFoundError,
    SmliteError,
    TagSetNotFoundError,
    UnsupportedError,
    VariableNotFoundError,
    VersionNotFoundError,
)

if TYPE_CHECKING:
    from smlite.model.diff import Diff
    from smlite.model.saved_model import SavedModel
    from smlite.model.variables import open_checkpoint

__version__ = "0.1.0"

__all__ = [
    "CheckpointNotFoundError",
    "ChecksumError",
    "CorruptFileError",
    "NotASavedModelError",
    "NotFoundError",
    "RemoteError",
    "SavedModel",
    "SignatureNotFoundError",
    "SmliteError",
    "TagSetNotFoundError",
    "UnsupportedError",
    "VariableNotFoundError",
    "VersionNotFoundError",
    "__version__",
    "diff",
    "open",
    "open_checkpoint",
]


def open(  # noqa: A001
    path: str | os.PathLike[str],
    *,
    version: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> SavedModel:
    """Open the SavedModel at ``path`` and return a :class:`SavedModel` handle.

    ``path`` is a SavedModel directory, its ``saved_model.pb``/``.pbtxt``, or a
    TF Serving base path (numbered version folders; the highest is used unless
    ``version`` is given) -- on local disk, or behind a URL that fsspec opens
    (``s3://``, ``gs://``, ``az://``, ``http(s)://``, ``file://``, ``memory://``;
    ``pip install 'smlite[remote]'``), with ``storage_options`` for its
    filesystem (credentials, endpoint).  Tag-sets and signatures are parsed
    now, from the head and tail of a remote ``saved_model.pb``; graphs and
    variable values are read when asked for.  Raises :class:`SmliteError`
    (:class:`RemoteError` when a URL cannot be read).

    >>> sm = smlite.open("s3://bucket/models/m/1", storage_options={"anon": True})  # doctest: +SKIP
    """
    from smlite.model.saved_model import SavedModel

    return SavedModel.open(path, version=version, storage_options=storage_options)


def diff(
    old: str | os.PathLike[str], new: str | os.PathLike[str] | None = None, **options: Any
) -> Diff:
    """Compare two SavedModels (or checkpoints) and classify every change.

    Returns a :class:`~smlite.model.diff.Diff`: typed change records (kind,
    severity ``breaking``/``compatible``/``info``, location, old, new) and a
    verdict.  Options (keyword-only): ``version``, ``against``, ``tag_set``,
    ``values``, ``policy``, ``registry``; see :func:`smlite.model.diff.diff`.
    """
    from smlite.model.diff import diff as compare

    return compare(old, new, **options)


def __getattr__(name: str) -> Any:
    if name == "SavedModel":
        from smlite.model.saved_model import SavedModel

        return SavedModel
    if name == "open_checkpoint":
        from smlite.model.variables import open_checkpoint

        return open_checkpoint
    raise AttributeError(f"module 'smlite' has no attribute {name!r}")
