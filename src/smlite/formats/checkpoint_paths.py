"""Which files make up a checkpoint: index and data file names, prefixes, TF1 V1 files.

A TensorBundle with prefix ``P`` is ``P.index`` plus ``P.data-00000-of-0000N`` ...;
a training directory names its latest prefix in a ``checkpoint`` state file.
TensorFlow's older V1 format (TF1 ``Saver(write_version=V1)``) is one SSTable per
shard (``P`` or ``P-00000-of-00002``) with no index: it is recognised here and
refused with a reason, so that a user learns what the files are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from smlite import pb
from smlite.errors import (
    CheckpointNotFoundError,
    CorruptFileError,
    Reason,
    SmliteError,
    UnsupportedError,
)
from smlite.formats import sstable, storage, wire
from smlite.formats.storage import AnyPath, RemotePath

__all__ = [
    "DATA_RE",
    "data_path",
    "index_path",
    "read_meta_collections",
    "resolve_prefix",
]

#: The suffix of a data shard: ``.data-00000-of-00002``.
DATA_RE = re.compile(r"\.data-\d{5}-of-\d{5}$")
# A sharded TF1 V1 checkpoint: <prefix>-00000-of-00002 (no ".data"), each an SSTable.
_V1_SHARD_RE = re.compile(r"-\d{5}-of-\d{5}$")
_CHECKPOINT_STATE_RE = re.compile(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"\s*$', re.M)


def _suffixed(prefix: str | os.PathLike[str] | AnyPath, suffix: str) -> AnyPath:
    if isinstance(prefix, RemotePath):
        return prefix.parent / (prefix.name + suffix)
    return Path(os.fspath(prefix) + suffix)


def index_path(prefix: str | os.PathLike[str] | AnyPath) -> AnyPath:
    return _suffixed(prefix, ".index")


def data_path(prefix: str | os.PathLike[str] | AnyPath, shard: int, num_shards: int) -> AnyPath:
    return _suffixed(prefix, f".data-{shard:05d}-of-{num_shards:05d}")


def _names(folder: AnyPath) -> list[str]:
    """The names in ``folder`` (none when it cannot be listed)."""
    try:
        return [e.name for e in storage.listdir(folder)]
    except SmliteError:
        return []


def resolve_prefix(path: str | os.PathLike[str] | AnyPath) -> AnyPath:
    """The bundle prefix for ``path``.

    Accepts a prefix (``ckpt-3``), its ``.index`` or one of its data files, a
    SavedModel directory (its ``variables/variables``), a SavedModel's
    ``variables`` directory, or a training directory with a ``checkpoint``
    state file (its latest checkpoint, as ``tf.train.latest_checkpoint``).
    Behind a URL the folders are listed, never guessed at.
    """
    p = storage.as_path(path)
    storage.list_ahead(p)
    if not p.is_dir():
        storage.list_ahead(p.parent)
    if p.name.endswith(".index") and p.is_file():
        return p.parent / p.name[: -len(".index")]
    if DATA_RE.search(p.name) and p.is_file():
        return p.parent / DATA_RE.sub("", p.name)
    if index_path(p).is_file():
        return p
    if p.is_dir():
        for candidate in (p / "variables" / "variables", p / "variables"):
            if index_path(candidate).is_file():
                return candidate
        state = p / "checkpoint"
        if state.is_file():
            latest = _latest_from_state(state)
            if latest is not None:
                prefix = _in_folder(p, latest)
                if index_path(prefix).is_file():
                    return prefix
                _refuse_v1(prefix, _v1_files(prefix))
                raise CorruptFileError(
                    f"the checkpoint state file names {str(latest)!r}, but "
                    f"{index_path(prefix)} does not exist",
                    path=state,
                )
        names = _names(p)
        found = sorted(n[: -len(".index")] for n in names if _is_index(p / n))
        if len(found) == 1:
            return p / found[0]
        if not found:
            shards = (p / n for n in names if _V1_SHARD_RE.search(n))
            _refuse_v1(p, sorted((q for q in shards if _is_v1_file(q)), key=str))
        if found:
            raise CheckpointNotFoundError(
                str(p),
                found,
                path=p,
                hint="the directory holds several checkpoints; give one prefix",
            )
        raise CheckpointNotFoundError(
            str(p),
            [],
            path=p,
            hint="no *.index file, variables/variables.index or checkpoint state file in it",
        )
    if not p.exists() and not p.parent.is_dir():
        raise CheckpointNotFoundError(str(p), [], path=p, hint="no such file or directory")
    _refuse_v1(p, _v1_files(p))
    siblings = (
        sorted(n[: -len(".index")] for n in _names(p.parent) if _is_index(p.parent / n))
        if p.parent.is_dir()
        else []
    )
    raise CheckpointNotFoundError(
        str(p),
        siblings,
        path=p,
        hint=f"{index_path(p).name} does not exist",
    )


def _is_index(path: AnyPath) -> bool:
    return path.name.endswith(".index") and path.is_file()


def _in_folder(folder: AnyPath, named: Path) -> AnyPath:
    """Where a checkpoint state file's path leads: absolute as written, else below ``folder``.

    Behind a URL an absolute path of the writing machine means nothing; its
    last part is looked for in ``folder``.
    """
    if isinstance(folder, RemotePath):
        return folder / (named.name if named.is_absolute() else named.as_posix())
    return named if named.is_absolute() else folder / named


def _is_v1_file(path: AnyPath) -> bool:
    """A file of a TF1 V1 checkpoint: an SSTable that is neither an index nor a data shard.

    ``tf.compat.v1.train.Saver(write_version=V1)`` writes the TensorSlice format:
    one SSTable per shard (``<prefix>`` or ``<prefix>-00000-of-00002``) whose
    entries are SavedTensorSlices protos, with no ``.index`` beside it.
    """
    name = path.name
    if name.endswith((".index", ".meta")) or DATA_RE.search(name) or not path.is_file():
        return False
    return sstable.has_magic(path)


def _v1_files(prefix: AnyPath) -> list[AnyPath]:
    """The files of a V1 checkpoint with this prefix: ``prefix`` itself or its shards."""
    found = [prefix] if _is_v1_file(prefix) else []
    if prefix.parent.is_dir():
        shards = (
            prefix.parent / n
            for n in _names(prefix.parent)
            if n.startswith(prefix.name + "-") and _V1_SHARD_RE.search(n)
        )
        found += sorted((q for q in shards if _is_v1_file(q)), key=str)
    return found


def _refuse_v1(path: AnyPath, files: Sequence[AnyPath]) -> None:
    if not files:
        return
    shown = ", ".join(f.name for f in files[:4]) + (", ..." if len(files) > 4 else "")
    raise UnsupportedError(
        f"a TensorFlow V1 checkpoint (the TensorSlice format that "
        f"tf.compat.v1.train.Saver writes with write_version=V1: {shown}); smlite reads "
        "V2 checkpoints (TensorBundle: <prefix>.index plus <prefix>.data-* shards) only. "
        "Restore it in TensorFlow and save it again to get a V2 checkpoint",
        path=path,
        reason=Reason.V1_CHECKPOINT,
    )


def read_meta_collections(prefix: str | os.PathLike[str] | AnyPath) -> pb.MetaGraphDef | None:
    """The collections of ``<prefix>.meta`` (a TF1 ``Saver`` MetaGraphDef), or None.

    Only the ``collection_def`` fields (number 4) are parsed; the graph, which
    makes up most of the file, is skipped over without being decoded (or,
    behind a URL, fetched).
    """
    path = _suffixed(prefix, ".meta")
    if not path.is_file():
        return None
    try:
        with storage.open_source(path) as source:
            if source.size == 0:
                return None
            m = source.buffer()
            chunks = [
                bytes(m[field.key_start : field.end])
                for field in wire.iter_fields(m)
                if field.number == 4 and field.wire_type == wire.LEN
            ]
        return pb.MetaGraphDef.FromString(b"".join(chunks))
    except (wire.WireError, pb.DecodeError) as e:
        raise CorruptFileError(
            f"the checkpoint's MetaGraphDef does not parse: {e}", path=path
        ) from e


def _latest_from_state(state: AnyPath) -> Path | None:
    try:
        text = storage.read_bytes(state).decode("utf-8", errors="replace")
    except SmliteError:
        return None
    m = _CHECKPOINT_STATE_RE.search(text)
    if m is None:
        return None
    return Path(m.group(1).encode("latin-1", "backslashreplace").decode("unicode_escape"))
