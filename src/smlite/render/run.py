"""``smlite run`` output: saved_model_cli's text, or a JSON document.

The text is ``saved_model_cli run``'s (TensorFlow 2.21), byte for byte: for
each output key in sorted order ``Result for output key <key>:`` and the
value as numpy prints it (``str()``, numpy's default print options), then
``Output <key> is saved to <path>`` when it was written under ``--outdir``.
Output keys come from the model and are escaped; numpy already prints bytes
and strings in their ``repr`` form, so values need no escaping.

The JSON document (``"kind": "run"``) gives each output's dtype, shape and
value as nested lists: numbers as JSON numbers (a non-finite float as the
string ``"nan"``/``"inf"``/``"-inf"``, a complex number as ``[real, imag]``),
strings as text when every element is UTF-8 and as base64 otherwise (the
output's ``"encoding"`` says which).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from smlite.model.dtypes import DType
from smlite.render.escape import escape, escape_text
from smlite.render.json_doc import SMLITE_JSON_VERSION, dtype_json

__all__ = ["output_json", "result_text", "run_document", "run_text", "saved_text"]


def result_text(key: str, value: Any) -> str:
    """``Result for output key <key>:`` and the value, as saved_model_cli prints them."""
    return f"Result for output key {escape(key)}:\n{escape_text(str(value))}\n"


def saved_text(key: str, file: str) -> str:
    """The line saved_model_cli prints after writing ``<outdir>/<key>.npy``."""
    return f"Output {escape(key)} is saved to {escape(file)}\n"


def run_text(outputs: Mapping[str, Any], saved: Mapping[str, str] | None = None) -> str:
    """All of ``saved_model_cli run``'s standard output for these outputs."""
    parts = []
    for key in sorted(outputs):
        parts.append(result_text(key, outputs[key]))
        if saved and key in saved:
            parts.append(saved_text(key, saved[key]))
    return "".join(parts)


def _float(x: float) -> float | str:
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _nested(value: Any, leaf: Any) -> Any:
    if isinstance(value, list):
        return [_nested(v, leaf) for v in value]
    return leaf(value)


def output_json(value: Any, dtype: DType | None = None) -> dict[str, Any]:
    """One output: ``{"dtype": ..., "shape": [...], "value": ...}`` (+ ``"encoding"``)."""
    array = np.asarray(value)
    doc: dict[str, Any] = {
        "dtype": dtype_json(dtype) if dtype is not None else {"name": str(array.dtype)},
        "shape": list(array.shape),
    }
    kind = array.dtype.kind
    if kind in "SUO":
        items = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in array.flat]
        try:
            texts: list[Any] = [v.decode("utf-8") for v in items]
            doc["encoding"] = "utf-8"
        except UnicodeDecodeError:
            texts = [base64.b64encode(v).decode("ascii") for v in items]
            doc["encoding"] = "base64"
        doc["value"] = np.array(texts, dtype=object).reshape(array.shape).tolist()
    elif kind == "c":
        pairs = np.stack([array.real, array.imag], axis=-1).astype(np.float64)
        doc["value"] = _nested(pairs.tolist(), lambda x: _float(float(x)))
    elif kind in "biu":
        doc["value"] = array.tolist()
    else:
        # float16/32/64 and the ml_dtypes floats; float64 holds each of them exactly.
        doc["value"] = _nested(array.astype(np.float64).tolist(), lambda x: _float(float(x)))
    return doc


def run_document(
    *,
    model_path: str,
    tags: tuple[str, ...],
    signature_def: str,
    backend: str,
    outputs: Mapping[str, Any],
    dtypes: Mapping[str, DType] | None = None,
    saved: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``smlite run --format json`` document."""
    return {
        "smlite_json": SMLITE_JSON_VERSION,
        "kind": "run",
        "model": {"path": model_path},
        "tag_set": list(tags),
        "signature_def": signature_def,
        "backend": backend,
        "outputs": {
            key: output_json(outputs[key], (dtypes or {}).get(key)) for key in sorted(outputs)
        },
        "saved": dict(sorted((saved or {}).items())),
    }
