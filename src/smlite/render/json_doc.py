"""smlite's versioned JSON documents (``--format json``).

Every document is a JSON object that starts with ``"smlite_json": 1`` (the
document schema version, raised on any incompatible change) and ``"kind"``
(``"show"``, ``"summary"``).  ``docs/json-schema.md`` describes every field.

Values are the true strings from the file, not escaped for a terminal: JSON
escaping (``ensure_ascii``) already makes every control or bidi character a
``\\uXXXX`` escape, so the output is safe to print and exact to parse.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from smlite.model.dtypes import DType
from smlite.model.saved_model import MetaGraph, SavedModel, Signature
from smlite.model.structure import (
    DictValue,
    ListValue,
    NamedTupleValue,
    NumpyValue,
    Structure,
    TensorValue,
)
from smlite.model.structure_decoder import composite_value_spec, decode_type_spec
from smlite.model.tensors import TensorInfo, TensorShape
from smlite.model.type_specs import BoundedTensorSpec, SpecSource, TensorSpec, TypeSpec

__all__ = [
    "SMLITE_JSON_VERSION",
    "dtype_json",
    "dumps",
    "meta_graph_json",
    "model_json",
    "serving_json",
    "shape_json",
    "show_document",
    "signature_json",
    "structure_json",
    "tensor_info_json",
]

#: Version of the documents' schema; see docs/json-schema.md.
SMLITE_JSON_VERSION = 1

JSON = dict[str, Any]


def dumps(doc: Mapping[str, Any]) -> str:
    """Serialize a document: indented, ASCII-only (so terminal-safe), newline-terminated."""
    return json.dumps(doc, indent=2, ensure_ascii=True, allow_nan=False) + "\n"


def dtype_json(dtype: DType) -> JSON:
    """``{"name": "float32", "enum": "DT_FLOAT", "value": 1}``."""
    return {"name": dtype.name, "enum": dtype.enum_name, "value": dtype.value}


def shape_json(shape: TensorShape) -> list[int | None] | None:
    """Dimensions with ``null`` for unknown sizes; ``null`` for an unknown rank."""
    dims = shape.dims
    return None if dims is None else list(dims)


def structure_json(value: Structure) -> Any:
    """A decoded ``StructuredValue`` (TensorFlow's nested Python structure) as JSON.

    Python scalars map to JSON scalars (``None`` to ``null``; a non-finite
    float to the string ``"nan"``/``"inf"``/``"-inf"``); everything else is a
    one-key object naming what it is: ``{"tuple": [...]}``, ``{"list": [...]}``,
    ``{"dict": {...}}``, ``{"named_tuple": {"name": ..., "fields": {...}}}``,
    ``{"shape": [...]}``, ``{"dtype": {...}}``, ``{"tensor_spec": {...}}``,
    ``{"bounded_tensor_spec": {...}}``, ``{"type_spec": {...}}`` (the stored
    TypeSpecProto), ``{"tensor": {...}}`` (dtype and shape of a captured
    constant).  What could not be decoded is ``null``.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, TensorShape):
        return {"shape": shape_json(value)}
    if isinstance(value, DType):
        return {"dtype": dtype_json(value)}
    if isinstance(value, (TensorSpec, BoundedTensorSpec)):
        key = "tensor_spec" if isinstance(value, TensorSpec) else "bounded_tensor_spec"
        return {
            key: {
                "name": value.name if value.name is not None else "",
                "dtype": dtype_json(value.dtype),
                "shape": shape_json(value.shape),
            }
        }
    if isinstance(value, TypeSpec):
        return {"type_spec": _type_spec_json(value)}
    if isinstance(value, (ListValue, tuple)):
        items = [structure_json(v) for v in value]
        return {"list" if isinstance(value, ListValue) else "tuple": items}
    if isinstance(value, DictValue):
        return {"dict": {k: structure_json(v) for k, v in value.entries}}
    if isinstance(value, NamedTupleValue):
        fields = {k: structure_json(v) for k, v in value.fields}
        return {"named_tuple": {"name": value.name, "fields": fields}}
    if isinstance(value, (TensorValue, NumpyValue)):
        return {
            "tensor": {
                "numpy": isinstance(value, NumpyValue),
                "dtype": dtype_json(value.dtype),
                "shape": shape_json(value.shape),
            }
        }
    return None  # UnknownValue


def _type_spec_json(spec: TypeSpec) -> JSON:
    """The TypeSpecProto a spec was decoded from, as stored."""
    source = spec.source
    if source is None:  # not read from a file: what TensorFlow's _serialize() gives
        source = SpecSource(0, spec.type_name, 0, spec.serialized())
    return {
        "type_spec_class": source.class_enum_name,
        "type_spec_class_name": source.class_name,
        "num_flat_components": source.num_flat_components,
        "type_state": structure_json(source.state),
    }


def tensor_info_json(info: TensorInfo) -> JSON:
    """One signature input or output, as what it is (Tensor, SparseTensor, RaggedTensor...)."""
    doc: JSON = {"kind": info.kind, "encoding": info.encoding}
    if info.encoding == "composite_tensor":
        dtype, shape = composite_value_spec(info)
        doc["dtype"] = dtype_json(dtype) if dtype is not None else None
        doc["shape"] = shape_json(shape) if shape is not None else None
    else:
        doc["dtype"] = dtype_json(info.dtype)
        doc["shape"] = shape_json(info.shape)
    doc["tensor_name"] = info.name
    if info.coo_sparse is not None:
        c = info.coo_sparse
        doc["sparse"] = {
            "values_tensor_name": c.values_tensor_name,
            "indices_tensor_name": c.indices_tensor_name,
            "dense_shape_tensor_name": c.dense_shape_tensor_name,
        }
    spec = decode_type_spec(info.type_spec) if info.type_spec is not None else None
    if isinstance(spec, TypeSpec):
        composite = _type_spec_json(spec)
        composite["components"] = [tensor_info_json(c) for c in info.components]
        doc["composite"] = composite
    return doc


def signature_json(sig: Signature) -> JSON:
    return {
        "method_name": sig.method_name,
        "internal": sig.is_internal,
        "inputs": {k: tensor_info_json(v) for k, v in sorted(sig.inputs.items())},
        "outputs": {k: tensor_info_json(v) for k, v in sorted(sig.outputs.items())},
    }


def meta_graph_json(
    mg: MetaGraph,
    *,
    signatures: Iterable[str] | None = None,
    all_signatures: bool = False,
    ops: bool = False,
) -> JSON:
    """One meta graph.

    ``signatures`` lists the keys to include (or ``all_signatures``); without
    either the ``signatures`` member is left out.  With ``ops`` the sorted op
    types the graph uses are included (this scans the GraphDef).
    """
    doc: JSON = {
        "index": mg.index,
        "tags": list(mg.tags),
        "tensorflow_version": mg.tensorflow_version,
        "tensorflow_git_version": mg.tensorflow_git_version,
    }
    keys = sorted(mg.signatures) if all_signatures else signatures
    if keys is not None:
        doc["signatures"] = {k: signature_json(mg.signature(k)) for k in keys}
    if ops:
        doc["ops"] = sorted(mg.ops_used)
    return doc


def serving_json(sm: SavedModel) -> JSON | None:
    """The TF Serving layout ``sm`` was opened through, or None."""
    layout = sm.serving
    if layout is None:
        return None
    return {
        "base_path": str(layout.base_path),
        "versions": [{"version": v, "path": str(p)} for v, p in layout.versions],
        "served_version": layout.chosen,
        "served_path": str(layout.chosen_path),
        "requested": layout.requested,
        "ignored": list(layout.ignored),
        "duplicates": {
            str(v): [str(p) for p in paths] for v, paths in sorted(layout.duplicates.items())
        },
    }


def model_json(sm: SavedModel) -> JSON:
    """Where the model is and how it is stored."""
    return {
        "path": str(sm.path),
        "file": str(sm.file),
        "format": sm.format,
        "saved_model_schema_version": sm.schema_version,
        "serving": serving_json(sm),
    }


def _functions_json(sm: SavedModel) -> Any | None:
    """The object graph's functions in ``show --all`` (``smlite.render.functions``).

    ``None`` (a TF1 model) leaves the ``functions`` member out of the document.
    """
    # Imported here: smlite.render.functions uses this module's encoders.
    from smlite.render.functions import functions_json

    return functions_json(sm)


def _keras_json(sm: SavedModel) -> Any | None:
    """What Keras recorded (``smlite.render.keras``), in ``show --all``."""
    from smlite.render.keras import keras_json

    return keras_json(sm)


def show_document(
    sm: SavedModel,
    *,
    query: Mapping[str, Any],
    meta_graphs: Iterable[JSON],
    warnings: Iterable[str] = (),
    with_functions: bool = False,
) -> JSON:
    """The ``show --format json`` document around already rendered meta graphs."""
    doc: JSON = {
        "smlite_json": SMLITE_JSON_VERSION,
        "kind": "show",
        "model": model_json(sm),
        "query": dict(query),
        "warnings": list(warnings),
        "meta_graphs": list(meta_graphs),
    }
    if with_functions:
        functions = _functions_json(sm)
        if functions is not None:
            doc["functions"] = functions
        doc["keras"] = _keras_json(sm)
    return doc
