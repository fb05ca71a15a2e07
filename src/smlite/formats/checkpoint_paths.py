"""Which files make up a checkpoint: index and data file names, prefixes, TF1 V1 files.

A TensorBundle with prefix ``P`` is ``P.index`` plus ``P.data-00000-of-0000N`` ...;
a training directory names its latest prefix in a ``checkpoint`` state file.
TensorFlow's older V1 format (TF1 ``Saver(write_version=V1)``) is one SSTable per
shard (``P`` or ``P-00000-of-00002``) with no index: it is recognised here and
refused with a reason, so that a user learns what the files are.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Sequence
from pathlib import Path

from smlite import pb
from smlite.errors import CheckpointNotFoundError, CorruptFileError, Reason, UnsupportedError
from smlite.formats import sstable, wire

__all__ = [
    "DATA_RE",
    "data_path",
    "glob_escape",
    "index_path",
    "read_meta_collections",
    "resolve_prefix",
]

#: The suffix of a data shard: ``.data-00000-of-00002``.
DATA_RE = re.compile(r"\.data-\d{5}-of-\d{5}$")
# A sharded TF1 V1 checkpoint: <prefix>-00000-of-00002 (no ".data"), each an SSTable.
_V1_SHARD_RE = re.compile(r"-\d{5}-of-\d{5}$")
_CHECKPOINT_STATE_RE = re.compile(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"\s*$', re.M)


def index_path(prefix: str | os.PathLike[str]) -> Path:
    return Path(os.fspath(prefix) + ".index")


def data_path(prefix: str | os.PathLike[str], shard: int, num_shards: int) -> Path:
    return Path(f"{os.fspath(prefix)}.data-{shard:05d}-of-{num_shards:05d}")


def resolve_prefix(path: str | os.PathLike[str]) -> Path:
    """The bundle prefix for ``path``.

    Accepts a prefix (``ckpt-3``), its ``.index`` or one of its data files, a
    SavedModel directory (its ``variables/variables``), a SavedModel's
    ``variables`` directory, or a training directory with a ``checkpoint``
    state file (its latest checkpoint, as ``tf.train.latest_checkpoint``).
    """
    p = Path(os.fspath(path))
    text = os.fspath(p)
    if text.endswith(".index") and p.is_file():
        return Path(text[: -len(".index")])
    if DATA_RE.search(text) and p.is_file():
        return Path(DATA_RE.sub("", text))
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
                prefix = latest if latest.is_absolute() else p / latest
                if index_path(prefix).is_file():
                    return prefix
                _refuse_v1(prefix, _v1_files(prefix))
                raise CorruptFileError(
                    f"the checkpoint state file names {str(latest)!r}, but "
                    f"{index_path(prefix)} does not exist",
                    path=state,
                )
        found = sorted(q.name[: -len(".index")] for q in p.glob("*.index") if q.is_file())
        if len(found) == 1:
            return p / found[0]
        if not found:
            shards = (q for q in p.glob("*-*-of-*") if _V1_SHARD_RE.search(q.name))
            _refuse_v1(p, sorted(q for q in shards if _is_v1_file(q)))
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
        sorted(q.name[: -len(".index")] for q in p.parent.glob("*.index") if q.is_file())
        if p.parent.is_dir()
        else []
    )
    raise CheckpointNotFoundError(
        str(p),
        siblings,
        path=p,
        hint=f"{index_path(p).name} does not exist",
    )


def glob_escape(name: str) -> str:
    """``name`` with the glob wildcards ``*?[`` matched literally."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _is_v1_file(path: Path) -> bool:
    """A file of a TF1 V1 checkpoint: an SSTable that is neither an index nor a data shard.

    ``tf.compat.v1.train.Saver(write_version=V1)`` writes the TensorSlice format:
    one SSTable per shard (``<prefix>`` or ``<prefix>-00000-of-00002``) whose
    entries are SavedTensorSlices protos, with no ``.index`` beside it.
    """
    name = path.name
    if name.endswith((".index", ".meta")) or DATA_RE.search(name) or not path.is_file():
        return False
    return sstable.has_magic(path)


def _v1_files(prefix: Path) -> list[Path]:
    """The files of a V1 checkpoint with this prefix: ``prefix`` itself or its shards."""
    found = [prefix] if _is_v1_file(prefix) else []
    if prefix.parent.is_dir():
        pattern = f"{glob_escape(prefix.name)}-*-of-*"
        found += sorted(
            q for q in prefix.parent.glob(pattern) if _V1_SHARD_RE.search(q.name) and _is_v1_file(q)
        )
    return found


def _refuse_v1(path: Path, files: Sequence[Path]) -> None:
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


def read_meta_collections(prefix: str | os.PathLike[str]) -> pb.MetaGraphDef | None:
    """The collections of ``<prefix>.meta`` (a TF1 ``Saver`` MetaGraphDef), or None.

    Only the ``collection_def`` fields (number 4) are parsed; the graph, which
    makes up most of the file, is skipped over without being decoded.
    """
    path = Path(os.fspath(prefix) + ".meta")
    if not path.is_file():
        return None
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                return None
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                chunks = [
                    m[field.key_start : field.end]
                    for field in wire.iter_fields(m)
                    if field.number == 4 and field.wire_type == wire.LEN
                ]
        return pb.MetaGraphDef.FromString(b"".join(chunks))
    except (wire.WireError, pb.DecodeError) as e:
        raise CorruptFileError(
            f"the checkpoint's MetaGraphDef does not parse: {e}", path=path
        ) from e


def _latest_from_state(state: Path) -> Path | None:
    try:
        text = state.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = _CHECKPOINT_STATE_RE.search(text)
    if m is None:
        return None
    return Path(m.group(1).encode("latin-1", "backslashreplace").decode("unicode_escape"))
