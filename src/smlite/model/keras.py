"""What Keras recorded about a SavedModel: model class, layers, training config, versions.

``sm.keras`` (:func:`keras_model`) reads, in this order:

* ``keras_metadata.pb`` (Keras 2 / tf-keras ``model.save(path, save_format="tf")``,
  TF 2.5+): one JSON description per Keras object, keyed by object-graph node id;
* the deprecated ``metadata`` field of the object graph's user objects (the same JSON,
  as TF 2.0-2.4 wrote it);
* otherwise the object graph's shape: a Keras 3 ``model.export()`` archive or a Keras 3
  model saved with ``tf.saved_model.save`` is recognised, but Keras 3 writes no layer
  metadata, which the view says in :attr:`KerasModel.note`.

A model that is none of these gives None.  The JSON is kept as frozen mappings and
tuples; :attr:`KerasNode.json` is the text as stored (the escape hatch).  A ``Lambda``
layer's Python function is decoded by :mod:`smlite.model.keras_objects` (its bytecode read
by :mod:`smlite.formats.marshal_reader`, never loaded).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from smlite.errors import CorruptFileError
from smlite.formats import keras_metadata as km_format
from smlite.model.keras_objects import LambdaFunction, custom_class, lambda_functions

if TYPE_CHECKING:
    from smlite.formats.storage import AnyPath
    from smlite.model.saved_model import MetaGraph, SavedModel

__all__ = [
    "KerasInput",
    "KerasLayer",
    "KerasModel",
    "KerasNode",
    "KerasSource",
    "TrainingConfig",
    "freeze",
    "keras_model",
    "keras_sources",
    "parse_node",
    "parsed_nodes",
]

_LAYER_IDENTIFIERS = frozenset(
    {
        "_tf_keras_layer",
        "_tf_keras_input_layer",
        "_tf_keras_rnn_layer",
        "_tf_keras_network",
        "_tf_keras_sequential",
        "_tf_keras_model",
    }
)
_MODEL_KINDS = {
    "_tf_keras_sequential": "Sequential",
    "_tf_keras_network": "Functional",
    "_tf_keras_model": "subclassed",
}
# Children the root of a Keras 3 ExportArchive always has (keras/src/export).
_EXPORT_ARCHIVE_CHILDREN = frozenset(
    {"variables", "trainable_variables", "non_trainable_variables", "_all_variables"}
)
# Attributes every Keras 3 Layer tracks (keras/src/layers/layer.py, ops/operation.py).
_KERAS3_LAYER_CHILDREN = frozenset({"_inbound_nodes", "_outbound_nodes", "_build_shapes_dict"})

JSON = Any


def freeze(value: JSON) -> JSON:
    """JSON with dicts as read-only mappings and lists as tuples (the reader bounds the depth)."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


# ---------------------------------------------------------------------------
# The views.
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KerasNode:
    """One Keras object's metadata: a keras_metadata.pb entry or a user object's field."""

    node_id: int
    node_path: str
    identifier: str
    #: The JSON as stored (the escape hatch).
    json: str
    #: The JSON parsed, as frozen mappings and tuples (None when empty).
    metadata: JSON
    version: tuple[int, int, tuple[int, ...]] = (0, 0, ())
    #: Byte offset of the entry in keras_metadata.pb (None for object-graph metadata).
    offset: int | None = None

    def __repr__(self) -> str:
        return f"KerasNode({self.node_id}, {self.node_path!r}, {self.identifier!r})"


@dataclass(frozen=True, slots=True)
class KerasInput:
    """A model input: its name, dtype and batch shape (None for an unknown size)."""

    name: str | None
    dtype: str | None
    shape: tuple[int | None, ...] | None


@dataclass(frozen=True, slots=True)
class KerasLayer:
    """A layer (or nested model) that has its own node in the object graph."""

    node_id: int
    node_path: str
    identifier: str
    name: str
    class_name: str
    trainable: bool | None
    dtype: str | None
    config: Mapping[str, JSON]
    #: For a Lambda layer: its callables.
    functions: tuple[LambdaFunction, ...] = ()
    #: The registered name when the class is not Keras' own.
    custom: str | None = None

    def __repr__(self) -> str:
        return f"KerasLayer({self.name!r}, {self.class_name!r}, node {self.node_id})"


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """What ``model.compile`` was given, as Keras recorded it (``training_config``)."""

    optimizer: str | None
    optimizer_config: Mapping[str, JSON]
    loss: JSON
    metrics: tuple[str, ...]
    raw: Mapping[str, JSON]


@dataclass(frozen=True, slots=True)
class KerasModel:
    """What Keras recorded about the SavedModel."""

    #: ``keras_metadata.pb``, ``object_graph`` (TF 2.0-2.4 metadata), ``keras3_export``
    #: or ``keras3_saved_model`` (no layer metadata).
    source: str
    #: ``Sequential``, ``Functional``, ``subclassed``, ``layer``; None when unknown.
    model_class: str | None = None
    class_name: str | None = None
    name: str | None = None
    keras_version: str | None = None
    backend: str | None = None
    tensorflow_version: str | None = None
    layers: tuple[KerasLayer, ...] = ()
    inputs: tuple[KerasInput, ...] = ()
    training_config: TrainingConfig | None = None
    nodes: tuple[KerasNode, ...] = ()
    #: Why there is no layer metadata, when there is none.
    note: str | None = None

    @property
    def root(self) -> KerasNode | None:
        return next((n for n in self.nodes if n.node_id == 0), None)

    def __repr__(self) -> str:
        return (
            f"KerasModel({self.model_class or self.source!r}, name={self.name!r}, "
            f"layers={len(self.layers)}, keras={self.keras_version!r})"
        )


# ---------------------------------------------------------------------------
# Reading.
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KerasSource:
    """Where the metadata came from, and the entries not yet parsed."""

    kind: str
    #: keras_metadata.pb, or saved_model.pb for object-graph metadata.
    file: AnyPath
    meta_graph: MetaGraph | None
    raw: tuple[km_format.RawKerasNode, ...]


def keras_sources(sm: SavedModel) -> KerasSource | None:
    """The Keras metadata of ``sm`` before its JSON is parsed; None when there is none.

    Raises :class:`CorruptFileError` when keras_metadata.pb is damaged.
    """
    path = sm.path / km_format.KERAS_METADATA_FILENAME
    mg = next((m for m in sm.meta_graphs if m.has_object_graph), None)
    if path.is_file():
        return KerasSource("keras_metadata.pb", path, mg, km_format.read_keras_metadata(path))
    if mg is None:
        return None
    og = mg.object_graph
    paths = og.paths if og is not None else {}
    raw: list[km_format.RawKerasNode] = []
    for node_id, node in enumerate(mg.object_graph_def.nodes):
        if node.WhichOneof("kind") == "user_object" and node.user_object.metadata:
            path_parts = paths.get(node_id, ())
            raw.append(
                km_format.RawKerasNode(
                    index=len(raw),
                    offset=None,
                    node_id=node_id,
                    node_path=".".join(("root", *path_parts)),
                    identifier=node.user_object.identifier,
                    metadata=node.user_object.metadata,
                    version=(0, 0, ()),
                )
            )
    if not raw:
        return None
    return KerasSource("object_graph", sm.file, mg, tuple(raw))


def parse_node(source: KerasSource, raw: km_format.RawKerasNode) -> KerasNode:
    """One entry with its JSON parsed (raises CorruptFileError for bad JSON)."""
    where = f"node {raw.node_id} ({raw.node_path or '?'})"
    value = km_format.parse_json(raw.metadata, where=where, path=source.file)
    return KerasNode(
        node_id=raw.node_id,
        node_path=raw.node_path,
        identifier=raw.identifier,
        json=raw.metadata,
        metadata=freeze(value),
        version=raw.version,
        offset=raw.offset,
    )


def keras_model(sm: SavedModel) -> KerasModel | None:
    """The Keras view of ``sm`` (see the module docstring); raises CorruptFileError."""
    source = keras_sources(sm)
    if source is None:
        return _keras3(sm)
    nodes = tuple(parse_node(source, raw) for raw in source.raw)
    tf_version = source.meta_graph.tensorflow_version if source.meta_graph else None
    return _model(source.kind, nodes, tf_version or None)


def _keras3(sm: SavedModel) -> KerasModel | None:
    mg = next((m for m in sm.meta_graphs if m.has_object_graph), None)
    og = mg.object_graph if mg is not None else None
    if mg is None or og is None or not og.nodes:
        return None
    children = {ref.local_name for ref in og.root.children}
    if children >= _EXPORT_ARCHIVE_CHILDREN:
        kind, note = "keras3_export", "exported by Keras 3 ExportArchive: no layer metadata"
    elif children >= _KERAS3_LAYER_CHILDREN:
        kind = "keras3_saved_model"
        note = "a Keras 3 model saved with tf.saved_model.save: no layer metadata"
    else:
        return None
    return KerasModel(source=kind, tensorflow_version=mg.tensorflow_version or None, note=note)


def _str(value: JSON) -> str | None:
    return value if isinstance(value, str) else None


def _model(kind: str, nodes: tuple[KerasNode, ...], tf_version: str | None) -> KerasModel:
    root = next((n for n in nodes if n.node_id == 0), None)
    meta = root.metadata if root is not None and isinstance(root.metadata, Mapping) else {}
    model_class = None
    if root is not None:
        model_class = _MODEL_KINDS.get(root.identifier)
        if model_class == "subclassed" and meta.get("is_graph_network") is True:
            model_class = "Functional"
        elif model_class is None and root.identifier in _LAYER_IDENTIFIERS:
            model_class = "layer"
    layers = _tree_order([layer for n in nodes if n.node_id != 0 for layer in _layer(n)])
    return KerasModel(
        source=kind,
        model_class=model_class,
        class_name=_str(meta.get("class_name")),
        name=_str(meta.get("name")),
        keras_version=_str(meta.get("keras_version")),
        backend=_str(meta.get("backend")),
        tensorflow_version=tf_version,
        layers=layers,
        inputs=_inputs(layers, meta),
        training_config=_training_config(meta.get("training_config")),
        nodes=nodes,
    )


def _layer(node: KerasNode) -> Iterator[KerasLayer]:
    meta = node.metadata
    if node.identifier not in _LAYER_IDENTIFIERS or not isinstance(meta, Mapping):
        return
    config = meta.get("config")
    config = config if isinstance(config, Mapping) else MappingProxyType({})
    class_name = _str(meta.get("class_name")) or "?"
    trainable = meta.get("trainable")
    yield KerasLayer(
        node_id=node.node_id,
        node_path=node.node_path,
        identifier=node.identifier,
        name=_str(meta.get("name")) or _str(config.get("name")) or node.node_path,
        class_name=class_name,
        trainable=trainable if isinstance(trainable, bool) else None,
        dtype=_str(meta.get("dtype")),
        config=config,
        functions=lambda_functions(config) if class_name == "Lambda" else (),
        custom=custom_class(meta),
    )


def _tree_order(layers: list[KerasLayer]) -> tuple[KerasLayer, ...]:
    """File order, with each nested layer right after the layer whose path it extends."""
    position = {layer.node_path: i for i, layer in enumerate(layers)}

    def key(layer: KerasLayer) -> tuple[int, ...]:
        parts = layer.node_path.split(".")
        prefixes = (".".join(parts[:n]) for n in range(2, len(parts) + 1))
        return tuple(position.get(prefix, len(layers)) for prefix in prefixes)

    return tuple(sorted(layers, key=key))


def _shape(value: JSON) -> tuple[int | None, ...] | None:
    """A shape as Keras' JSON writes it: a list, or ``{"class_name": ..., "items": [...]}``."""
    if isinstance(value, Mapping):
        value = value.get("items")
    if isinstance(value, tuple) and all(v is None or type(v) is int for v in value):
        return tuple(value)
    return None


def _inputs(layers: tuple[KerasLayer, ...], meta: Mapping[str, JSON]) -> tuple[KerasInput, ...]:
    found = [
        KerasInput(
            layer.name,
            _str(layer.config.get("dtype")),
            _shape(layer.config.get("batch_input_shape")),
        )
        for layer in layers
        if layer.class_name == "InputLayer" and layer.node_path.count(".") == 1
    ]
    if found:
        return tuple(found)
    # A subclassed model: the TensorSpecs it was saved with ("save_spec").
    specs = meta.get("save_spec")
    specs = specs if isinstance(specs, tuple) else (specs,)
    for spec in specs:
        if isinstance(spec, Mapping) and spec.get("type_spec") == "tf.TensorSpec":
            items = spec.get("serialized")
            items = items.get("items") if isinstance(items, Mapping) else None
            if isinstance(items, tuple) and len(items) >= 3:
                found.append(KerasInput(_str(items[2]), _str(items[1]), _shape(items[0])))
    return tuple(found)


def _names(value: JSON) -> Iterator[str]:
    """Metric and loss names from strings, ``{"class_name", "config": {"name"}}`` and lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _names(item)
    elif isinstance(value, Mapping):
        config = value.get("config")
        name = config.get("name") if isinstance(config, Mapping) else None
        yield name if isinstance(name, str) else str(value.get("class_name", "?"))


def _training_config(value: JSON) -> TrainingConfig | None:
    if not isinstance(value, Mapping):
        return None
    optimizer = value.get("optimizer_config")
    optimizer = optimizer if isinstance(optimizer, Mapping) else MappingProxyType({})
    opt_config = optimizer.get("config")
    opt_config = opt_config if isinstance(opt_config, Mapping) else MappingProxyType({})
    opt_name = _str(opt_config.get("name")) or _str(optimizer.get("class_name"))
    metrics = (*_names(value.get("metrics")), *_names(value.get("weighted_metrics")))
    return TrainingConfig(
        optimizer=opt_name,
        optimizer_config=optimizer,
        loss=value.get("loss"),
        metrics=tuple(dict.fromkeys(metrics)),
        raw=value,
    )


def parsed_nodes(
    source: KerasSource,
) -> Iterator[tuple[km_format.RawKerasNode, KerasNode | CorruptFileError]]:
    """Each entry parsed, or the error its JSON gave (for findings that go on past damage)."""
    for raw in source.raw:
        try:
            yield raw, parse_node(source, raw)
        except CorruptFileError as e:
            yield raw, e
