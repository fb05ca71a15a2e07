"""The SavedModel handle and its typed views: meta graphs, signatures, assets."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from smlite import pb
from smlite.errors import CorruptFileError, SignatureNotFoundError, TagSetNotFoundError
from smlite.formats import saved_model as sm_format
from smlite.formats import storage, wire
from smlite.formats.storage import AnyPath
from smlite.model.tensors import TensorInfo

if TYPE_CHECKING:
    from smlite.formats.graph_index import GraphIndex, Node
    from smlite.model.keras import KerasModel
    from smlite.model.object_graph import ObjectGraph
    from smlite.model.variables import VariableSet

__all__ = [
    "ASSETS_COLLECTION",
    "Asset",
    "MetaGraph",
    "SavedModel",
    "Signature",
    "INIT_OP_SIGNATURE_KEY",
    "TRAIN_OP_SIGNATURE_KEY",
    "format_tag_set",
    "parse_tag_set",
    "parse_tf_release",
]

#: Signatures TensorFlow adds for its own use (not callable entry points).
INIT_OP_SIGNATURE_KEY = "__saved_model_init_op"
TRAIN_OP_SIGNATURE_KEY = "__saved_model_train_op"
_INTERNAL_SIGNATURES = frozenset({INIT_OP_SIGNATURE_KEY, TRAIN_OP_SIGNATURE_KEY})
#: The TF1 collection holding Any-packed AssetFileDefs (constants.ASSETS_KEY).
ASSETS_COLLECTION = "saved_model_assets"
V = TypeVar("V")


def parse_tag_set(tags: str | Iterable[str], *, strip: bool = True) -> frozenset[str]:
    """``"serve,gpu"`` or ``["serve", "gpu"]`` to a tag set: the one reading of tag-set text.

    Tags are split at commas and empty ones dropped, so ``""`` is the empty
    tag-set (TF-Hub modules export one), as in TensorFlow's
    ``saved_model_utils.get_meta_graph_def``.  Spaces around tags are
    stripped unless ``strip`` is false (``saved_model_cli show --tag_set`` matches
    tags as typed when it lists signature keys).
    """
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    if not strip:
        return frozenset(t for t in items if t)
    return frozenset(t.strip() for t in items if t and t.strip())


def format_tag_set(tags: Iterable[str]) -> str:
    """The text :func:`parse_tag_set` reads back: sorted tags joined by commas (``""``: none)."""
    return ",".join(sorted(tags))


_RELEASE_RE = re.compile(r"\s*v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_tf_release(text: str) -> tuple[int, int, int] | None:
    """``"2.14.1"``, ``"2.15.0-rc1"``, ``"1.15.5"`` -> ``(major, minor, patch)``; None if unknown.

    The text is ``meta_info_def.tensorflow_version`` as the writing TensorFlow
    recorded it (``tf.__version__``); pre-release and local suffixes are ignored.
    """
    m = _RELEASE_RE.match(text or "")
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _ro(mapping: dict[str, V]) -> Mapping[str, V]:
    return MappingProxyType(mapping)


@dataclass(frozen=True, slots=True)
class Signature:
    """A SignatureDef: named inputs and outputs plus a method name."""

    key: str
    method_name: str
    inputs: Mapping[str, TensorInfo]
    outputs: Mapping[str, TensorInfo]
    proto: pb.SignatureDef = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, key: str, proto: pb.SignatureDef) -> Signature:
        return cls(
            key=key,
            method_name=proto.method_name,
            inputs=_ro({k: TensorInfo.from_proto(v) for k, v in sorted(proto.inputs.items())}),
            outputs=_ro({k: TensorInfo.from_proto(v) for k, v in sorted(proto.outputs.items())}),
            proto=proto,
        )

    @property
    def is_internal(self) -> bool:
        """True for ``__saved_model_init_op`` and ``__saved_model_train_op``."""
        return self.key in _INTERNAL_SIGNATURES

    @property
    def defaulted_inputs(self) -> frozenset[str]:
        """Inputs the signature gives a default value (``SignatureDef.defaults``): optional."""
        return frozenset(self.proto.defaults)

    def __repr__(self) -> str:
        return (
            f"Signature({self.key!r}, inputs={list(self.inputs)}, "
            f"outputs={list(self.outputs)}, method_name={self.method_name!r})"
        )


@dataclass(frozen=True, slots=True)
class Asset:
    """A file under ``assets/`` and the graph tensors its path is fed to (AssetFileDefs)."""

    filename: str
    #: Every tensor an AssetFileDef of this file names (TF1 graphs may have several).
    tensor_names: tuple[str, ...]
    path: AnyPath

    @property
    def tensor_name(self) -> str:
        """The tensor of the first AssetFileDef of this file."""
        return self.tensor_names[0]

    @property
    def exists(self) -> bool:
        return self.path.is_file()


class MetaGraph:
    """One MetaGraphDef.  Signatures are ready at once; the graph is read on demand."""

    def __init__(self, owner: SavedModel, raw: sm_format.RawMetaGraph) -> None:
        self._owner = owner
        self._raw = raw

    # -- cheap: from the header ----------------------------------------------
    @property
    def index(self) -> int:
        return self._raw.index

    @property
    def header(self) -> pb.MetaGraphDef:
        """Every field of the MetaGraphDef except ``graph_def``."""
        return self._raw.header

    @property
    def tags(self) -> tuple[str, ...]:
        """Tags in file order (TensorFlow prints them in this order)."""
        return tuple(self._raw.header.meta_info_def.tags)

    @property
    def tag_set(self) -> frozenset[str]:
        return frozenset(self.tags)

    @cached_property
    def signatures(self) -> Mapping[str, Signature]:
        """Signatures sorted by key, ``__saved_model_init_op`` included."""
        defs = self._raw.header.signature_def
        return _ro({k: Signature.from_proto(k, defs[k]) for k in sorted(defs)})

    def signature(self, key: str) -> Signature:
        try:
            return self.signatures[key]
        except KeyError:
            raise SignatureNotFoundError(
                key, list(self.signatures), path=self._owner.path
            ) from None

    @property
    def tensorflow_version(self) -> str:
        return self._raw.header.meta_info_def.tensorflow_version

    @property
    def tensorflow_release(self) -> tuple[int, int, int] | None:
        """The writing TensorFlow release as ``(major, minor, patch)``; None when not recorded.

        Rules about what TensorFlow writes (fingerprint.pb, generated functions)
        depend on the writing release and key on this one reading of it.
        """
        return parse_tf_release(self.tensorflow_version)

    @property
    def tensorflow_git_version(self) -> str:
        return self._raw.header.meta_info_def.tensorflow_git_version

    @property
    def has_object_graph(self) -> bool:
        return self._raw.header.HasField("object_graph_def")

    @property
    def object_graph_def(self) -> pb.SavedObjectGraph:
        return self._raw.header.object_graph_def

    @cached_property
    def object_graph(self) -> ObjectGraph | None:
        """The TF2 object graph as typed views (functions, variables, a tree); None for TF1."""
        from smlite.model.object_graph import object_graph

        return object_graph(self)

    @cached_property
    def assets(self) -> tuple[Asset, ...]:
        """The asset files, as TensorFlow's loader finds them.

        TF2 exports list them in ``asset_file_def``; TF1 ``SavedModelBuilder``
        exports keep them only in the ``saved_model_assets`` collection, as
        ``Any``-packed AssetFileDefs (read when ``asset_file_def`` is empty,
        like ``loader_impl.get_asset_tensors`` and TF Serving's C++ loader).
        One :class:`Asset` per file, in first-seen order, with every tensor
        fed its path.  This is the one reading of a meta graph's assets.
        """
        assets_dir = self._owner.path / "assets"
        header = self._raw.header
        protos: list[pb.AssetFileDef] = list(header.asset_file_def)
        if not protos and ASSETS_COLLECTION in header.collection_def:
            for packed in header.collection_def[ASSETS_COLLECTION].any_list.value:
                asset = pb.unpack_any(packed, path=self._owner.file)
                if isinstance(asset, pb.AssetFileDef):
                    protos.append(asset)
        tensors: dict[str, list[str]] = {}
        for a in protos:
            names = tensors.setdefault(a.filename, [])
            if a.tensor_info.name not in names:
                names.append(a.tensor_info.name)
        return tuple(
            Asset(name, tuple(found), assets_dir / name) for name, found in tensors.items()
        )

    @property
    def collection_keys(self) -> tuple[str, ...]:
        return tuple(sorted(self._raw.header.collection_def))

    @property
    def graph_size(self) -> int:
        """Serialized size of the GraphDef in bytes (no parsing needed)."""
        return self._raw.graph_size

    # -- on demand: from the graph -------------------------------------------
    @cached_property
    def graph_index(self) -> GraphIndex:
        """Every node of the graph and of its function library (one pass, then cached).

        Raises :class:`~smlite.errors.CorruptFileError` (caused by the
        :class:`~smlite.formats.wire.WireError`) when the GraphDef is damaged.
        """
        from smlite.formats.graph_index import index_graph  # only when the graph is asked for

        try:
            return index_graph(self._owner._file.graph_bytes(self._raw))
        except wire.WireError as e:
            offset = self._raw.graph_spans[0][0] + e.offset if self._raw.graph_spans else None
            raise CorruptFileError(
                f"the GraphDef of meta graph #{self.index} is damaged: {e}",
                path=self._owner.file,
                offset=offset,
            ) from e

    @property
    def graph_scan(self) -> GraphIndex:
        """The same as :attr:`graph_index` (the name older callers use)."""
        return self.graph_index

    def graph_bytes(self) -> bytes | memoryview:
        """The serialized GraphDef (a view into the memory-mapped file for binary models)."""
        return self._owner._file.graph_bytes(self._raw)

    @property
    def graph_def(self) -> pb.GraphDef:
        """The parsed GraphDef (parses the whole graph: costly on big models)."""
        return self._owner._file.graph_def(self._raw)

    @property
    def proto(self) -> pb.MetaGraphDef:
        """The complete MetaGraphDef, graph included."""
        return self._owner._file.meta_graph_def(self._raw)

    @cached_property
    def ops_used(self) -> frozenset[str]:
        """Op types the graph uses, as ``saved_model_cli --list_ops`` counts them.

        Starts from the graph's nodes and follows functions reached by being
        called as an op or through the ``f`` attribute of (Stateful)PartitionedCall;
        function names themselves are not ops.
        """
        from smlite.formats.graph_index import op_calls

        index = self.graph_index
        functions = index.functions
        used: set[str] = set()
        pending: list[str] = []

        def visit(nodes: Sequence[Node]) -> None:
            ops, calls = op_calls(nodes)
            for op in (*ops, *calls):
                if op not in used and op in functions:
                    pending.append(op)
                used.add(op)

        visit(index.nodes)
        while pending:
            visit(functions[pending.pop()].nodes)
        return frozenset(op for op in used if op not in functions)

    @cached_property
    def all_ops(self) -> frozenset[str]:
        """Every op type in the graph and in every library function, reachable or not."""
        from smlite.formats.graph_index import op_calls

        index = self.graph_index
        ops = set(op_calls(index.nodes)[0])
        for fn in index.functions.values():
            ops.update(op_calls(fn.nodes)[0])
        return frozenset(ops - set(index.functions))

    @property
    def function_names(self) -> tuple[str, ...]:
        return tuple(self.graph_index.functions)

    @property
    def node_count(self) -> int:
        return len(self.graph_index.nodes)

    def __repr__(self) -> str:
        return f"MetaGraph(tags={sorted(self.tag_set)}, signatures={len(self.signatures)})"


class SavedModel:
    """An open SavedModel directory.

    Use :func:`smlite.open` to get one.  Metadata (tag-sets, signatures) is
    parsed on open; graphs and variable data are read only when asked for.
    The handle holds a memory map of ``saved_model.pb`` (or, for a URL, the
    ranges of it fetched so far): close it, or use it as a context manager.

    >>> import smlite
    >>> with smlite.open("tests/fixtures/models/module_one_signature") as sm:  # doctest: +SKIP
    ...     sm.meta_graph("serve").signatures["serving_default"].inputs
    """

    def __init__(self, location: sm_format.Location) -> None:
        self.location = location
        self._file = sm_format.read(location)
        self.meta_graphs: tuple[MetaGraph, ...] = tuple(
            MetaGraph(self, raw) for raw in self._file.meta_graphs
        )

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | AnyPath,
        *,
        version: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> SavedModel:
        location = storage.as_path(path, storage_options=storage_options)
        return cls(sm_format.locate(location, version=version))

    # -- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        self._file.close()
        opened = self.__dict__.get("variables")
        if opened is not None:
            opened.close()

    def __enter__(self) -> SavedModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- files -----------------------------------------------------------------
    @property
    def path(self) -> AnyPath:
        """The model directory (for a serving base path: the chosen version's)."""
        return self.location.model_dir

    @property
    def file(self) -> AnyPath:
        """``saved_model.pb`` or ``saved_model.pbtxt``."""
        return self.location.file

    @property
    def format(self) -> str:
        return self.location.kind

    @property
    def serving(self) -> sm_format.ServingLayout | None:
        """The TF Serving layout when opened through a base path."""
        return self.location.serving

    def contents(self) -> memoryview:
        """The whole binary ``saved_model.pb``: a view of its memory map or, behind a URL,
        its bytes, fetched once (and shared with the graph index).  Empty once closed."""
        return self._file.contents()

    @property
    def schema_version(self) -> int:
        return self._file.schema_version

    @cached_property
    def variables(self) -> VariableSet:
        """The variables in ``variables/``, by checkpoint key (read on first use).

        Each :class:`~smlite.model.variables.Variable` carries what the object
        graphs say (object path, name, trainable).  A model without a
        ``variables/variables.index`` gives an empty set whose ``exists`` is false.
        """
        from smlite.model.variables import saved_model_variables

        return saved_model_variables(self)

    @cached_property
    def keras(self) -> KerasModel | None:
        """What Keras recorded: model class, layers, training config, versions (read on first use).

        None for a model Keras did not write.  Raises
        :class:`~smlite.errors.CorruptFileError` when ``keras_metadata.pb`` is damaged.
        See :mod:`smlite.model.keras`.
        """
        from smlite.model.keras import keras_model

        return keras_model(self)

    # -- meta graphs -----------------------------------------------------------
    @property
    def tag_sets(self) -> tuple[frozenset[str], ...]:
        return tuple(m.tag_set for m in self.meta_graphs)

    def meta_graph(
        self, tags: str | Iterable[str] | None = None, *, strip: bool = True
    ) -> MetaGraph:
        """The meta graph whose tag *set* equals ``tags`` (``"serve"``, ``"serve,gpu"``, ``""``).

        ``tags`` is read by :func:`parse_tag_set` (``""`` names the empty
        tag-set of a TF-Hub module).  With ``tags=None`` the model must have
        exactly one meta graph.  Raises :class:`TagSetNotFoundError` offering
        the tag-sets there are, every one of which this method accepts.
        """
        hint = ""
        if tags is None:
            if len(self.meta_graphs) == 1:
                return self.meta_graphs[0]
            name = "(none given)"
        else:
            wanted = parse_tag_set(tags, strip=strip)
            for mg in self.meta_graphs:
                if mg.tag_set == wanted:
                    return mg
            name = tags if isinstance(tags, str) else format_tag_set(wanted)
            stripped = parse_tag_set(tags)
            if stripped != wanted and any(mg.tag_set == stripped for mg in self.meta_graphs):
                hint = (
                    "Tags are matched as typed when listing signature keys (as saved_model_cli "
                    f"does); without the spaces: {format_tag_set(stripped)!r}"
                )
        choices = sorted(format_tag_set(m.tag_set) for m in self.meta_graphs)
        if tags is None and choices:
            hint = "give one with --tag_set"
        raise TagSetNotFoundError(name, choices, path=self.path, hint=hint)

    @property
    def proto(self) -> pb.SavedModel:
        """The whole SavedModel message (parses every graph: costly on big models)."""
        return self._file.saved_model()

    def __repr__(self) -> str:
        tags = [sorted(t) for t in self.tag_sets]
        return f"SavedModel({str(self.path)!r}, format={self.format!r}, tag_sets={tags})"
