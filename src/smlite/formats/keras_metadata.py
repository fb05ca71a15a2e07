"""Keras 2's ``keras_metadata.pb``: bytes to one record per Keras object, JSON parsed and bounded.

``model.save(path, save_format="tf")`` of tf.keras / tf-keras (TF 2.5 and later) writes,
beside ``saved_model.pb``, a ``SavedMetadata`` proto (``protos/.../keras_metadata.proto``)::

    SavedMetadata := { 1: SavedObject nodes* }
    SavedObject   := { 2: int32 node_id, 3: string node_path, 4: string identifier,
                       5: string metadata (JSON), 6: VersionDef version }
    VersionDef    := { 1: int32 producer, 2: int32 min_consumer, 3: int32 bad_consumers* }

``node_id`` indexes the object graph of ``saved_model.pb``; ``metadata`` is the JSON that
Keras' legacy SavedModel serialization writes (``class_name``, ``config``, ...).  Earlier
releases (TF 2.0-2.4) kept the same JSON in the deprecated ``metadata`` field of each user
object of the object graph; :func:`parse_json` serves both.

The file is read whole (it is small beside the graph) but never beyond
:data:`MAX_FILE_BYTES`; each entry is parsed on its own, so damage is reported at the
byte offset of the entry it hits.  JSON nested deeper than :data:`MAX_JSON_DEPTH` is
refused.  A Lambda layer's function is ``base64(marshal.dumps(code))``:
:func:`function_payload` undoes the base64 exactly as tf-keras does, without loading it.
"""

from __future__ import annotations

import binascii
import json
import os
from dataclasses import dataclass
from typing import Any

from smlite import pb
from smlite.errors import CorruptFileError, PathOrUrl, RemoteError, SmliteError
from smlite.formats import storage, wire
from smlite.formats.storage import AnyPath

__all__ = [
    "KERAS_METADATA_FILENAME",
    "MAX_FILE_BYTES",
    "MAX_JSON_DEPTH",
    "RawKerasNode",
    "function_payload",
    "parse_json",
    "read_keras_metadata",
]

KERAS_METADATA_FILENAME = "keras_metadata.pb"
#: Largest keras_metadata.pb read (real ones hold a few kB per layer).
MAX_FILE_BYTES = 128 * 2**20
#: Deepest JSON nesting accepted (a layer inside a model inside a model takes about four).
MAX_JSON_DEPTH = 200


@dataclass(frozen=True, slots=True)
class RawKerasNode:
    """One ``SavedObject`` entry of keras_metadata.pb, its JSON still text."""

    #: Position in ``SavedMetadata.nodes``.
    index: int
    #: Byte offset of the entry in keras_metadata.pb (None for object-graph metadata).
    offset: int | None
    node_id: int
    node_path: str
    identifier: str
    metadata: str
    #: ``(producer, min_consumer, bad_consumers)`` of the metadata format.
    version: tuple[int, int, tuple[int, ...]]

    def __repr__(self) -> str:
        return (
            f"RawKerasNode({self.node_id}, {self.node_path!r}, {self.identifier!r}, "
            f"{len(self.metadata)} chars)"
        )


def read_keras_metadata(path: str | os.PathLike[str] | AnyPath) -> tuple[RawKerasNode, ...]:
    """Every entry of the ``keras_metadata.pb`` at ``path``, in file order.

    Raises :class:`CorruptFileError` (with the path and the entry's offset) when the file
    is unreadable, larger than :data:`MAX_FILE_BYTES` or damaged.
    """
    p = storage.as_path(path)
    try:
        size = storage.size(p)
        if size > MAX_FILE_BYTES:
            raise CorruptFileError(
                f"{size} bytes, more than the {MAX_FILE_BYTES} bytes smlite reads of a "
                "keras_metadata.pb",
                path=p,
            )
        data = storage.read_bytes(p)
    except (RemoteError, CorruptFileError):
        raise
    except SmliteError as e:
        raise CorruptFileError(e.detail, path=p) from e
    nodes: list[RawKerasNode] = []
    try:
        for field in wire.iter_fields(data):
            if field.number != 1:
                continue  # unknown fields are skipped, as protobuf does
            if field.wire_type != wire.LEN:
                raise wire.WireError("SavedMetadata.nodes is not length-delimited", field.key_start)
            nodes.append(_node(len(nodes), data, field, p))
    except wire.WireError as e:
        what = str(e).removesuffix(f" at offset {e.offset}")
        raise CorruptFileError(
            f"not a SavedMetadata message: {what}", path=p, offset=e.offset
        ) from e
    return tuple(nodes)


def _node(index: int, data: bytes, field: wire.Field, path: AnyPath) -> RawKerasNode:
    try:
        entry = pb.KerasSavedObject.FromString(data[field.start : field.end])
    except pb.DecodeError as e:
        raise CorruptFileError(
            f"entry #{index} ({field.end - field.start} bytes) does not parse as a "
            f"SavedObject: {e}",
            path=path,
            offset=field.key_start,
        ) from e
    v = entry.version
    return RawKerasNode(
        index=index,
        offset=field.key_start,
        node_id=entry.node_id,
        node_path=entry.node_path,
        identifier=entry.identifier,
        metadata=entry.metadata,
        version=(v.producer, v.min_consumer, tuple(v.bad_consumers)),
    )


def parse_json(text: str, *, where: str, path: PathOrUrl | None = None) -> Any:
    """The JSON value of one object's metadata; ``where`` names it in messages.

    An empty text is None (Keras writes none for objects it does not describe).  Raises
    :class:`CorruptFileError` for text that is not JSON or nests deeper than
    :data:`MAX_JSON_DEPTH`.
    """
    if not text:
        return None
    try:
        value = json.loads(text)
    except RecursionError as e:
        raise CorruptFileError(
            f"{where}: the metadata JSON nests deeper than Python's recursion limit", path=path
        ) from e
    except ValueError as e:  # json.JSONDecodeError
        raise CorruptFileError(f"{where}: the metadata is not JSON: {e}", path=path) from e
    depth = _depth(value)
    if depth > MAX_JSON_DEPTH:
        raise CorruptFileError(
            f"{where}: the metadata JSON nests {depth} levels deep, more than the "
            f"{MAX_JSON_DEPTH} smlite reads",
            path=path,
        )
    return value


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (iterative: the value may be deep)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def function_payload(text: str) -> bytes:
    """The marshal bytes of a Lambda's ``function`` text, decoded as tf-keras' ``func_load`` does.

    tf-keras writes ``base64`` (with line breaks); text that is not base64 is taken as
    ``raw_unicode_escape`` bytes, its fallback for payloads of very old Keras.
    """
    try:
        return binascii.a2b_base64(text.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error):
        return text.encode("raw_unicode_escape")
