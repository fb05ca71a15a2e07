"""``sm.keras`` as ``summary`` lines and as the ``keras`` member of the JSON documents.

Self-contained so that the summary and ``show`` renderers call it from one line each.
The JSON shape is described in docs/json-schema.md (``Keras``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from smlite.errors import SmliteError
from smlite.model.keras import KerasLayer, KerasModel
from smlite.model.keras_objects import LambdaFunction
from smlite.model.units import format_dims
from smlite.render.escape import escape, escape_text

if TYPE_CHECKING:
    from rich.console import RenderableType

    from smlite.model.saved_model import SavedModel

__all__ = ["LAYER_LINES_LIMIT", "keras_json", "keras_renderables", "plain"]

#: Layers listed one per line in ``summary``; beyond, a count (JSON has them all).
LAYER_LINES_LIMIT = 50
_MAX_NAMES = 8


def plain(value: Any) -> Any:
    """Frozen JSON (mappings, tuples) as plain JSON; non-finite floats as ``"nan"``, ``"inf"``."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


# ---------------------------------------------------------------------------
# JSON.
# ---------------------------------------------------------------------------


def _function_json(fn: LambdaFunction) -> dict[str, Any]:
    code = fn.code
    doc: dict[str, Any] = {
        "role": fn.role,
        "kind": fn.kind,
        "module": fn.module,
        "name": fn.name,
        "payload_bytes": fn.payload_size if fn.has_bytecode else None,
        "error": fn.error,
        "code": None,
    }
    if code is not None:
        doc["code"] = {
            "layout": code.layout,
            "name": code.name,
            "qualname": code.qualname,
            "filename": code.filename,
            "firstlineno": code.firstlineno,
            "arg_names": list(code.arg_names),
            "varnames": list(code.varnames),
            "names": list(code.all_names),
            "strings": [s for s in code.strings if isinstance(s, str)],
            "bytes": [s.hex() for s in code.strings if isinstance(s, bytes)],
            "nested": [c.qualname or c.name for c in list(code.walk())[1:]],
        }
    return doc


def _layer_json(layer: KerasLayer) -> dict[str, Any]:
    return {
        "node_id": layer.node_id,
        "node_path": layer.node_path,
        "identifier": layer.identifier,
        "name": layer.name,
        "class_name": layer.class_name,
        "trainable": layer.trainable,
        "dtype": layer.dtype,
        "custom": layer.custom,
        "functions": [_function_json(fn) for fn in layer.functions],
        "config": plain(layer.config),
    }


def _model_json(model: KerasModel) -> dict[str, Any]:
    training = model.training_config
    return {
        "source": model.source,
        "note": model.note,
        "error": None,
        "model_class": model.model_class,
        "class_name": model.class_name,
        "name": model.name,
        "keras_version": model.keras_version,
        "backend": model.backend,
        "tensorflow_version": model.tensorflow_version,
        "inputs": [
            {"name": i.name, "dtype": i.dtype, "shape": None if i.shape is None else list(i.shape)}
            for i in model.inputs
        ],
        "training_config": None
        if training is None
        else {
            "optimizer": training.optimizer,
            "loss": plain(training.loss),
            "metrics": list(training.metrics),
            "raw": plain(training.raw),
        },
        "layers": [_layer_json(layer) for layer in model.layers],
    }


def keras_json(sm: SavedModel) -> dict[str, Any] | None:
    """The ``keras`` member: None for a model Keras did not write; ``error`` when unreadable."""
    try:
        model = sm.keras
    except SmliteError as e:
        return {"source": None, "error": str(e)}
    return None if model is None else _model_json(model)


# ---------------------------------------------------------------------------
# Rich text.
# ---------------------------------------------------------------------------


def _names(items: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(escape(n) for n in items[:_MAX_NAMES])
    more = len(items) - _MAX_NAMES
    return shown + (f" (+{more})" if more > 0 else "") if items else "-"


def _layer_note(layer: KerasLayer) -> str:
    notes = []
    if layer.custom is not None:
        notes.append("registered custom class")
    for fn in layer.functions:
        role = "" if fn.role == "function" else f"{fn.role}: "
        if fn.kind == "function":
            notes.append(f"{role}function {escape(fn.name or '?')} of {escape(fn.module or '?')}")
        elif fn.kind == "lambda" and fn.code is None:
            notes.append(f"{role}opaque Python bytecode ({fn.payload_size} bytes)")
        elif fn.kind == "lambda" and fn.code is not None:
            code = fn.code
            notes.append(
                f"{role}Python bytecode ({code.layout}): "
                f"{escape(code.qualname or code.name)}({_names(list(code.arg_names))}), "
                f"names: {_names(list(code.all_names))}"
            )
    return "; ".join(notes)


def _layers_table(layers: tuple[KerasLayer, ...]) -> RenderableType:
    from rich.text import Text

    rows = []
    for layer in layers[:LAYER_LINES_LIMIT]:
        indent = "  " * max(layer.node_path.count(".") - 1, 0)
        rows.append((indent + escape(layer.name), escape(layer.class_name), _layer_note(layer)))
    header = ("layer", "class", "notes" if any(note for _, _, note in rows) else "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(2)]
    table = Text(no_wrap=True, overflow="ignore")
    for n, (name, cls, note) in enumerate([header, *rows]):
        table.append("\n    " if n else "    ")
        table.append(name.ljust(widths[0]) + "  ", style="bold" if n == 0 else "cyan")
        if note:
            table.append(cls.ljust(widths[1]) + "  ", style="bold" if n == 0 else "")
            table.append(note, style="bold" if n == 0 else "yellow")
        else:
            table.append(cls, style="bold" if n == 0 else "")
    if len(layers) > LAYER_LINES_LIMIT:
        more = len(layers) - LAYER_LINES_LIMIT
        table.append(
            f"\n    ... {more} more layers (`smlite show PATH --all --format json` lists them)",
            style="dim",
        )
    return table


def keras_renderables(sm: SavedModel) -> list[RenderableType]:
    """The ``keras:`` lines of ``summary`` (none for a model Keras did not write)."""
    from rich.text import Text

    head = Text("keras:    ", style="bold")
    try:
        model = sm.keras
    except SmliteError as e:
        head.append(f"unreadable: {escape_text(str(e))}", style="red")
        return [head]
    if model is None:
        return []
    if model.note is not None:
        head.append(escape_text(model.note))
        return [head]
    what = model.model_class or "Keras"
    if model.class_name and model.class_name not in (model.model_class, None):
        what += f" {escape(model.class_name)}"
    parts = [f"{what} model {escape(repr(model.name)) if model.name else ''}".rstrip()]
    if model.keras_version:
        parts.append(f"Keras {escape(model.keras_version)}")
    parts.append(f"{len(model.layers)} layer" + ("" if len(model.layers) == 1 else "s"))
    parts.append(f"from {model.source}")
    head.append(", ".join(parts))
    out: list[RenderableType] = [head]
    if model.inputs:
        inputs = ", ".join(
            f"{escape(i.name or '?')} {escape(i.dtype or '?')} {format_dims(i.shape)}"
            for i in model.inputs
        )
        out.append(Text(f"          inputs: {inputs}"))
    training = model.training_config
    if training is not None:
        loss = escape_text(str(plain(training.loss)))
        out.append(
            Text(
                f"          compiled: optimizer {escape(training.optimizer or '?')}, loss {loss}, "
                f"metrics {_names(list(training.metrics))}"
            )
        )
    if model.layers:
        out.append(_layers_table(model.layers))
    return out
