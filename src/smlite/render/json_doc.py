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

from smlite import pb
from smlite.model.dtypes import DType
from smlite.model.saved_model import MetaGraph, SavedModel, Signature
from smlite.model.tensors import TensorInfo, TensorShape

__all__ = [
    "SMLITE_JSON_VERSION",
    "composite_value_spec",
    "dtype_json",
    "dumps",
    "meta_graph_json",
    "model_json",
    "serving_json",
    "shape_json",
    "show_document",
    "signature_json",
    "structured_value_json",
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


def _type_spec_class_enum(spec: pb.TypeSpecProto) -> str:
    enum = spec.DESCRIPTOR.fields_by_name["type_spec_class"].enum_type
    value = enum.values_by_number.get(spec.type_spec_class) if enum is not None else None
    return value.name if value is not None else f"UNKNOWN_{spec.type_spec_class}"


def structured_value_json(value: pb.StructuredValue) -> Any:
    """A ``StructuredValue`` (TensorFlow's nested Python structure) as JSON.

    Python scalars map to JSON scalars (``None`` to ``null``; a non-finite
    float to the string ``"nan"``/``"inf"``/``"-inf"``); everything else is a
    one-key object naming what it is: ``{"tuple": [...]}``, ``{"list": [...]}``,
    ``{"dict": {...}}``, ``{"named_tuple": {"name": ..., "fields": {...}}}``,
    ``{"shape": [...]}``, ``{"dtype": {...}}``, ``{"tensor_spec": {...}}``,
    ``{"bounded_tensor_spec": {...}}``, ``{"type_spec": {...}}``,
    ``{"tensor": {...}}`` (dtype and shape of a captured constant).
    """
    which = value.WhichOneof("kind")
    if which is None or which == "none_value":
        return None
    if which == "float64_value":
        f = value.float64_value
        if math.isfinite(f):
            return f
        return "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")
    if which in ("int64_value", "string_value", "bool_value"):
        return getattr(value, which)
    if which == "tensor_shape_value":
        return {"shape": shape_json(TensorShape.from_proto(value.tensor_shape_value))}
    if which == "tensor_dtype_value":
        return {"dtype": dtype_json(DType(value.tensor_dtype_value))}
    if which in ("tensor_spec_value", "bounded_tensor_spec_value"):
        spec = getattr(value, which)
        key = "tensor_spec" if which == "tensor_spec_value" else "bounded_tensor_spec"
        return {
            key: {
                "name": spec.name,
                "dtype": dtype_json(DType(spec.dtype)),
                "shape": shape_json(TensorShape.from_proto(spec.shape)),
            }
        }
    if which == "type_spec_value":
        return {"type_spec": _type_spec_json(value.type_spec_value)}
    if which in ("list_value", "tuple_value"):
        items = [structured_value_json(v) for v in getattr(value, which).values]
        return {"list" if which == "list_value" else "tuple": items}
    if which == "dict_value":
        fields = value.dict_value.fields
        return {"dict": {k: structured_value_json(fields[k]) for k in sorted(fields)}}
    if which == "named_tuple_value":
        nt = value.named_tuple_value
        return {
            "named_tuple": {
                "name": nt.name,
                "fields": {pair.key: structured_value_json(pair.value) for pair in nt.values},
            }
        }
    if which in ("tensor_value", "numpy_value"):
        tensor = getattr(value, which)
        return {
            "tensor": {
                "numpy": which == "numpy_value",
                "dtype": dtype_json(DType(tensor.dtype)),
                "shape": shape_json(TensorShape.from_proto(tensor.tensor_shape)),
            }
        }
    return {"unknown": which}


def _type_spec_json(spec: pb.TypeSpecProto) -> JSON:
    return {
        "type_spec_class": _type_spec_class_enum(spec),
        "type_spec_class_name": spec.type_spec_class_name,
        "num_flat_components": spec.num_flat_components,
        "type_state": structured_value_json(spec.type_state),
    }


def composite_value_spec(info: TensorInfo) -> tuple[DType | None, TensorShape | None]:
    """The dtype and shape of the value a composite TensorInfo stands for.

    A composite entry's own ``dtype``/``tensor_shape`` are unused (TensorFlow
    leaves them DT_INVALID and ``()``); the TypeSpec's state holds the truth.
    RaggedTensorSpec serializes ``(shape, dtype, ragged_rank,
    row_splits_dtype[, flat_values_spec])`` and SparseTensorSpec
    ``(shape, dtype)``; for other TypeSpecs both are ``None``.
    """
    spec = info.type_spec
    if spec is None or spec.type_spec_class not in (
        pb.TypeSpecProto.RAGGED_TENSOR_SPEC,
        pb.TypeSpecProto.SPARSE_TENSOR_SPEC,
    ):
        return None, None
    state = spec.type_state
    if state.WhichOneof("kind") != "tuple_value":
        return None, None
    items = state.tuple_value.values
    shape = dtype = None
    if len(items) >= 1 and items[0].WhichOneof("kind") == "tensor_shape_value":
        shape = TensorShape.from_proto(items[0].tensor_shape_value)
    if len(items) >= 2 and items[1].WhichOneof("kind") == "tensor_dtype_value":
        dtype = DType(items[1].tensor_dtype_value)
    return dtype, shape


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
    spec = info.type_spec
    if spec is not None:
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
