"""What the SARIF logs and JSON documents of ``check``, ``scan`` and ``diff`` share.

Paths in documents are shown relative to a base directory (normally the
repository root, where CI runs); in SARIF 2.1.0 a file inside the base is an
artifact location relative to ``%SRCROOT%``, which the run maps to the base's
``file:`` URI, so GitHub code scanning places each result on the file.  A
model read from a URL (``s3://...``) is shown, and located, by its URL.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any

from smlite.errors import PathOrUrl, location_text

__all__ = [
    "SARIF_SCHEMA",
    "SARIF_VERSION",
    "artifact_location",
    "display_path",
    "partial_fingerprint",
    "sarif_log",
]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def display_path(path: PathOrUrl | None, base: Path | None) -> str:
    """``path`` relative to ``base`` with forward slashes ("" for None); a URL as it is."""
    if path is None:
        return ""
    if not isinstance(path, (str, PurePath)):
        return location_text(path)
    if base is not None:
        try:
            return Path(os.path.relpath(path, base)).as_posix()
        except ValueError:  # another drive on Windows
            pass
    return Path(path).as_posix()


def artifact_location(path: PathOrUrl | None, base: Path | None) -> dict[str, Any]:
    """A SARIF ``artifactLocation``: relative to ``%SRCROOT%`` inside ``base``, else a URI."""
    if path is None:
        return {"uri": "."}
    if not isinstance(path, (str, PurePath)):
        return {"uri": location_text(path)}  # a URL is a URI already
    if base is not None:
        try:
            rel = os.path.relpath(path, base)
        except ValueError:
            rel = None
        if rel is not None and not rel.startswith(".."):
            return {"uri": Path(rel).as_posix(), "uriBaseId": "%SRCROOT%"}
    return {"uri": Path(os.path.abspath(path)).as_uri()}


def sarif_log(run: dict[str, Any], base: Path | None) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one ``run``, with ``%SRCROOT%`` mapped to ``base``."""
    if base is not None:
        run["originalUriBaseIds"] = {
            "%SRCROOT%": {"uri": Path(os.path.abspath(base)).as_uri().rstrip("/") + "/"}
        }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def partial_fingerprint(identity: str, *, errors: str) -> str:
    """Hex SHA-256 of ``identity`` (UTF-8, ``errors`` for lone surrogates), a SARIF
    ``partialFingerprints`` value.  hashlib is imported here: it loads OpenSSL, about
    3.5 MiB of memory that a text report does not need."""
    import hashlib

    return hashlib.sha256(identity.encode("utf-8", errors)).hexdigest()
