"""Finding and reading the SavedModel file of a model directory.

TensorFlow reads ``saved_model.pb`` and falls back to ``saved_model.pbtxt``
(text format); ``saved_model.cpb`` (the chunked "proto splitter" format) is
not read by open-source loaders and is reported as unsupported here.

A binary SavedModel is read lazily: the file is memory-mapped (or, behind a
URL, read by range through :mod:`smlite.formats.storage`) and only the
envelope is walked with the wire scanner::

    SavedModel    := { 1: int64 saved_model_schema_version, 2: MetaGraphDef meta_graphs* }
    MetaGraphDef  := { 1: meta_info_def, 2: graph_def, 3: saver_def, 4: collection_def*,
                       5: signature_def*, 6: asset_file_def*, 7: object_graph_def }

Every field of a MetaGraphDef except ``graph_def`` (the bulk of a large model)
is parsed at once; the GraphDef's byte span is remembered and parsed, or
scanned, only when asked for.  Over the network that is a read of the head
(envelope, ``meta_info_def``, the GraphDef's key and length) and one of the
fields after the GraphDef (signatures, object graph): two requests however
large the graph; the graph itself is fetched once, when first asked for.

Other messages are sometimes saved under the name ``saved_model.pb``; protobuf
would parse them as a SavedModel without meta graphs, so their top-level fields
are compared with the schemas they come from (see :func:`_foreign_message`)
and the file is refused with a :class:`NotASavedModelError` naming what it is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Literal

from google.protobuf import text_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from smlite import pb
from smlite.errors import (
    CorruptFileError,
    NotASavedModelError,
    Reason,
    SmliteError,
    UnsupportedError,
    VersionNotFoundError,
)
from smlite.formats import lfs, sniff, storage, wire
from smlite.formats.sniff import sniff_problem
from smlite.formats.storage import AnyPath

__all__ = [
    "PB_NAME",
    "PBTXT_NAME",
    "CPB_NAME",
    "Location",
    "RawMetaGraph",
    "SavedModelFile",
    "ServingLayout",
    "VersionNotFoundError",
    "is_model_path",
    "locate",
    "read",
    "serving_layout",
    "sniff_problem",
]

PB_NAME = "saved_model.pb"
PBTXT_NAME = "saved_model.pbtxt"
CPB_NAME = "saved_model.cpb"

# A TF Serving version folder name: what strings::safe_strto64 accepts in
# practice for export directories (digits, so "00012" is version 12).
_VERSION_RE = re.compile(r"[0-9]+")
_INT64_MAX = 2**63 - 1


# protobuf's DecodeError text names the cause only in some releases; this says
# what it can be in all of them (TensorFlow rejects such files too).
_DECODE_HINT = " (damaged bytes, or a string field that is not valid UTF-8)"


@dataclass(frozen=True, slots=True)
class ServingLayout:
    """A TF Serving base path: one numeric child folder per model version."""

    base_path: AnyPath
    #: ``(version, folder)`` pairs sorted by version, then folder name.
    versions: tuple[tuple[int, AnyPath], ...]
    #: Child entries that are not version folders (TF Serving ignores them).
    ignored: tuple[str, ...]
    #: The version this handle reads: the highest one unless one was asked for.
    chosen: int
    requested: bool

    @property
    def chosen_path(self) -> AnyPath:
        # With duplicates ("1" and "001") the first folder by name wins; check
        # reports the ambiguity.
        return next(p for v, p in self.versions if v == self.chosen)

    @property
    def duplicates(self) -> dict[int, tuple[AnyPath, ...]]:
        seen: dict[int, list[AnyPath]] = {}
        for v, p in self.versions:
            seen.setdefault(v, []).append(p)
        return {v: tuple(ps) for v, ps in seen.items() if len(ps) > 1}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a SavedModel's files are."""

    model_dir: AnyPath
    file: AnyPath
    kind: Literal["pb", "pbtxt"]
    serving: ServingLayout | None = None


def _describe_dir(path: AnyPath) -> str:
    try:
        names = [e.name for e in storage.listdir(path)]
    except SmliteError:
        return ""
    if not names:
        return " (the directory is empty)"
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f" (it contains: {shown})"


def serving_layout(base: AnyPath, version: int | None = None) -> ServingLayout | None:
    """``base`` as a TF Serving base path: its numbered version folders; None when it has none.

    The one reading of a base path: :func:`locate` (every command), ``check``
    and fleet discovery use it.  Behind a URL the base is listed once (the
    version "folders" of a prefix).  Raises :class:`VersionNotFoundError` when
    ``version`` is not one of them.
    """
    versions: list[tuple[int, AnyPath]] = []
    ignored: list[str] = []
    try:
        entries = storage.listdir(base)
    except NotASavedModelError:
        return None
    except SmliteError:
        if storage.is_remote(base):
            raise  # the store failed: say so rather than "not a base path"
        return None
    for entry in entries:
        if entry.is_dir() and _VERSION_RE.fullmatch(entry.name) and int(entry.name) <= _INT64_MAX:
            versions.append((int(entry.name), entry.path))
        else:
            ignored.append(entry.name)
    if not versions:
        return None
    versions.sort(key=lambda vp: (vp[0], vp[1].name))
    numbers = sorted({v for v, _ in versions})
    if version is None:
        chosen, requested = numbers[-1], False
    else:
        if version not in numbers:
            raise VersionNotFoundError(str(version), [str(n) for n in numbers], path=base)
        chosen, requested = version, True
    return ServingLayout(base, tuple(versions), tuple(ignored), chosen, requested)


def _model_file(model_dir: AnyPath) -> Location | None:
    pb_path = model_dir / PB_NAME
    if pb_path.is_file():
        return Location(model_dir, pb_path, "pb")
    txt_path = model_dir / PBTXT_NAME
    if txt_path.is_file():
        return Location(model_dir, txt_path, "pbtxt")
    if (model_dir / CPB_NAME).is_file():
        raise UnsupportedError(
            f"only {CPB_NAME} (the chunked SavedModel format) is present; "
            "smlite does not read chunked SavedModels yet (neither do open-source "
            "TensorFlow loaders). Re-export without the proto splitter to get "
            f"{PB_NAME}.",
            path=model_dir,
            reason=Reason.CHUNKED,
        )
    return None


def is_model_path(path: str | os.PathLike[str] | AnyPath) -> bool:
    """True when ``path`` names a SavedModel rather than something else (a checkpoint).

    That is a ``saved_model.pb``/``.pbtxt`` file, a directory holding a
    SavedModel file (``.cpb`` included), or a TF Serving base path: numbered
    version folders, the served one holding a SavedModel -- or, when it holds
    none, a folder that is not a checkpoint's either.  For such a path,
    :func:`locate` finds the model or says why there is none.
    """
    p = storage.as_path(path)
    storage.list_ahead(p)
    if p.is_file():
        return p.name in (PB_NAME, PBTXT_NAME)
    if not p.is_dir():
        return False
    if any((p / name).is_file() for name in (PB_NAME, PBTXT_NAME, CPB_NAME)):
        return True
    layout = serving_layout(p)
    if layout is None:
        return False
    if any((layout.chosen_path / n).is_file() for n in (PB_NAME, PBTXT_NAME, CPB_NAME)):
        return True
    # An incomplete served version: a base path, unless the folder is a checkpoint's.
    indexes = [e.path for e in storage.listdir(p) if e.name.endswith(".index")]
    return not (p / "checkpoint").is_file() and not any(q.is_file() for q in indexes)


def locate(path: str | os.PathLike[str] | AnyPath, *, version: int | None = None) -> Location:
    """Find the SavedModel file for ``path`` (a local path or a URL).

    ``path`` may be a model directory, a ``saved_model.pb``/``.pbtxt`` file, or
    a TF Serving base path whose numeric children are versions; then the
    highest version is used unless ``version`` names another one.  Behind a
    URL this lists the model folder once (a base path and its served version:
    twice) and reads nothing.
    """
    p = storage.as_path(path)
    storage.list_ahead(p)
    if not p.exists():
        raise NotASavedModelError("no such file or directory", path=p, reason=Reason.NOT_FOUND)
    if p.is_file():
        if p.name in (PB_NAME, PBTXT_NAME) and version is None:
            return Location(p.parent, p, "pb" if p.name == PB_NAME else "pbtxt")
        raise NotASavedModelError(
            "is a file; give the SavedModel directory (the folder holding "
            f"{PB_NAME} or {PBTXT_NAME})",
            path=p,
        )
    found = _model_file(p)
    if found is not None:
        if version is not None:
            raise SmliteError(
                f"{p}: --version applies to a TF Serving base path (a folder of "
                "numbered version folders), but this is a SavedModel directory",
                path=p,
            )
        return found
    layout = serving_layout(p, version)
    if layout is not None:
        chosen_dir = layout.chosen_path
        found = _model_file(chosen_dir)
        if found is None:
            raise NotASavedModelError(
                f"version {layout.chosen} of TF Serving base path {p} "
                f"holds no {PB_NAME} or {PBTXT_NAME}{_describe_dir(chosen_dir)}",
                path=chosen_dir,
            )
        return Location(found.model_dir, found.file, found.kind, layout)
    raise NotASavedModelError(
        f"not a SavedModel directory: no {PB_NAME} or {PBTXT_NAME}, and no "
        f"numbered version folders{_describe_dir(p)}",
        path=p,
    )


@dataclass(frozen=True, slots=True)
class RawMetaGraph:
    """One MetaGraphDef with its GraphDef left unparsed.

    ``header`` holds every field but ``graph_def``, whose bytes stay in the
    file buffer until asked for.
    """

    index: int
    header: pb.MetaGraphDef
    #: Byte spans of the ``graph_def`` field; almost always one.  A singular
    #: message field that occurs several times is the merge of all of them,
    #: which is what concatenating the spans gives.
    graph_spans: tuple[tuple[int, int], ...]
    #: For text-format files the GraphDef is already parsed.
    parsed_graph: pb.GraphDef | None = None

    @property
    def has_graph(self) -> bool:
        return bool(self.graph_spans) or self.parsed_graph is not None

    @property
    def graph_size(self) -> int:
        """Serialized size of the GraphDef in bytes."""
        if self.parsed_graph is not None:
            return self.parsed_graph.ByteSize()
        return sum(end - start for start, end in self.graph_spans)


class SavedModelFile:
    """An open ``saved_model.pb``/``.pbtxt``: the envelope parsed, the graphs lazy."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self.path = location.file
        self._source: storage.Source | None = None
        # The wire scanner's view of the file: the memory map, or a RangeBuffer over a URL.
        self._buffer: Any = b""
        self.schema_version = 0
        self.meta_graphs: tuple[RawMetaGraph, ...] = ()
        if location.kind == "pb":
            self._open_binary()
        else:
            self._open_text()

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None
            self._buffer = b""

    @property
    def size(self) -> int:
        return self._source.size if self._source is not None else storage.size(self.path)

    # -- binary ------------------------------------------------------------
    def _open_binary(self) -> None:
        source = self._source = storage.open_source(self.path)
        if source.size == 0:
            raise CorruptFileError(
                "the file is empty (0 bytes); the export did not finish or the copy was truncated",
                path=self.path,
                reason=Reason.EMPTY,
            )
        head = bytes(source.read(0, 512))
        problem = sniff.sniff_problem(head)
        if problem is not None:
            foreign = sniff.foreign_text(head.decode("ascii", "replace"))
            if problem[0] is Reason.TEXT_FILE and foreign is not None:
                raise sniff.not_a_saved_model(self.path, foreign, " in text format")
            raise CorruptFileError(problem[1], path=self.path, reason=problem[0])
        buf = self._buffer = source.buffer()
        metas: list[RawMetaGraph] = []
        try:
            first = next(wire.iter_fields(buf), None)
            if first is not None and (first.number, first.wire_type) != (1, wire.VARINT):
                foreign = sniff.foreign_message(buf)
                if foreign is not None:
                    raise sniff.not_a_saved_model(self.path, foreign)
            for field in wire.iter_fields(buf):
                if field.number == 1 and field.wire_type == wire.VARINT:
                    self.schema_version = field.value
                elif field.number == 2 and field.wire_type == wire.LEN:
                    metas.append(self._scan_meta_graph(len(metas), field.start, field.end))
        except wire.WireError as e:
            raise CorruptFileError(
                f"not a valid SavedModel protocol buffer ({e}); the file is truncated or damaged",
                path=self.path,
                offset=e.offset,
            ) from e
        if not metas and self.schema_version == sniff.HUB_MODULE_FORMAT:
            raise sniff.not_a_saved_model(self.path, Reason.HUB_MODULE)
        self.meta_graphs = tuple(metas)

    def _scan_meta_graph(self, index: int, start: int, end: int) -> RawMetaGraph:
        buf = self._buffer
        pieces: list[bytes] = []
        graph_spans: list[tuple[int, int]] = []
        for field in wire.iter_fields(buf, start, end):
            if field.number == 2 and field.wire_type == wire.LEN:
                graph_spans.append((field.start, field.end))
                if self._source is not None:
                    # Over the network: everything after the graph in one request.
                    self._source.prefetch(field.end, end)
            else:
                pieces.append(bytes(buf[field.key_start : field.end]))
        header = pb.MetaGraphDef()
        try:
            header.ParseFromString(b"".join(pieces))
        except DecodeError as e:
            raise CorruptFileError(
                f"meta graph #{index} cannot be parsed: {e}{_DECODE_HINT}",
                path=self.path,
                offset=start,
            ) from e
        return RawMetaGraph(index, header, tuple(graph_spans))

    # -- text --------------------------------------------------------------
    def _open_text(self) -> None:
        data = storage.read_bytes(self.path)
        if lfs.is_pointer(data):
            problem = sniff.sniff_problem(data[:512])
            assert problem is not None
            raise CorruptFileError(problem[1], path=self.path, reason=problem[0])
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CorruptFileError(
                "a text-format SavedModel must be UTF-8 text; this looks binary",
                path=self.path,
                offset=e.start,
                reason=Reason.NOT_TEXT,
            ) from e
        message = pb.SavedModel()
        try:
            text_format.Parse(_to_smlite_any_urls(text), message)
        except text_format.ParseError as e:
            foreign = sniff.foreign_text(text)
            if foreign is not None:
                raise sniff.not_a_saved_model(self.path, foreign, " in text format") from e
            raise CorruptFileError(
                f"cannot parse text-format SavedModel: {e}", path=self.path
            ) from e
        _restore_any_urls(message)
        self.schema_version = message.saved_model_schema_version
        metas = []
        for i, mg in enumerate(message.meta_graphs):
            graph = pb.GraphDef()
            graph.CopyFrom(mg.graph_def)
            has_graph = mg.HasField("graph_def")
            mg.ClearField("graph_def")
            metas.append(RawMetaGraph(i, mg, (), graph if has_graph else None))
        self.meta_graphs = tuple(metas)

    # -- lazy pieces -------------------------------------------------------
    def contents(self) -> memoryview:
        """The whole binary file: a view of the memory map, or (behind a URL) fetched once.

        Empty once the file is closed (and for a text-format SavedModel).
        """
        if self._source is None:
            return memoryview(b"")
        return memoryview(self._source.whole())

    def graph_bytes(self, meta: RawMetaGraph) -> bytes | memoryview:
        """The serialized GraphDef of ``meta`` (empty when it has none)."""
        if meta.parsed_graph is not None:
            return meta.parsed_graph.SerializeToString()
        view = self.contents()
        if len(meta.graph_spans) == 1:
            start, end = meta.graph_spans[0]
            return view[start:end]
        return b"".join(bytes(view[s:e]) for s, e in meta.graph_spans)

    def graph_def(self, meta: RawMetaGraph) -> pb.GraphDef:
        """Parse and return the GraphDef of ``meta``."""
        if meta.parsed_graph is not None:
            return meta.parsed_graph
        graph = pb.GraphDef()
        view = self.contents()
        for start, end in meta.graph_spans:
            try:
                graph.MergeFromString(bytes(view[start:end]))
            except DecodeError as e:
                raise CorruptFileError(
                    f"the GraphDef of meta graph #{meta.index} cannot be parsed: {e}{_DECODE_HINT}",
                    path=self.path,
                    offset=start,
                ) from e
        return graph

    def meta_graph_def(self, meta: RawMetaGraph) -> pb.MetaGraphDef:
        """The complete MetaGraphDef (header plus parsed GraphDef)."""
        full = pb.MetaGraphDef()
        full.CopyFrom(meta.header)
        if meta.has_graph:
            full.graph_def.CopyFrom(self.graph_def(meta))
        return full

    def saved_model(self) -> pb.SavedModel:
        """The whole file as a SavedModel message (parses every graph)."""
        message = pb.SavedModel()
        message.saved_model_schema_version = self.schema_version
        for meta in self.meta_graphs:
            message.meta_graphs.append(self.meta_graph_def(meta))
        return message


# Text format spells expanded Any values as ``[type.googleapis.com/tensorflow.X]``;
# our classes live under ``smlite.tensorflow``, so the parser is pointed at
# them and the type URLs are put back afterwards, keeping TensorFlow's.
_TF_URL = "type.googleapis.com/tensorflow."
_SMLITE_URL = "type.googleapis.com/smlite.tensorflow."


def _to_smlite_any_urls(text: str) -> str:
    return text.replace("[" + _TF_URL, "[" + _SMLITE_URL)


def _is_repeated(fd: FieldDescriptor) -> bool:
    # ``is_repeated`` replaced ``label`` in newer protobuf releases.
    flag = getattr(fd, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return bool(getattr(fd, "label", None) == FieldDescriptor.LABEL_REPEATED)


def _restore_any_urls(message: Message) -> None:
    if message.DESCRIPTOR.full_name == "google.protobuf.Any":
        url = getattr(message, "type_url", "")
        if url.startswith(_SMLITE_URL):
            message.type_url = _TF_URL + url[len(_SMLITE_URL) :]  # type: ignore[attr-defined]
        return
    for fd, value in message.ListFields():
        if fd.message_type is None:
            continue
        if fd.message_type.GetOptions().map_entry:
            value_fd = fd.message_type.fields_by_name["value"]
            if value_fd.message_type is not None:
                for item in value.values():
                    _restore_any_urls(item)
        elif _is_repeated(fd):
            for item in value:
                _restore_any_urls(item)
        else:
            _restore_any_urls(value)


def read(location: Location) -> SavedModelFile:
    """Open the SavedModel file found by :func:`locate`."""
    return SavedModelFile(location)
