"""Variables as a rich table, plain totals and a JSON document.  Never reads files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from smlite.model.units import format_bytes
from smlite.render.escape import escape
from smlite.render.json_doc import SMLITE_JSON_VERSION, dtype_json

if TYPE_CHECKING:
    from smlite.model.variables import Problem, Variable, VariableSet

__all__ = [
    "problems_lines",
    "shape_text",
    "totals_line",
    "trainable_text",
    "variable_json",
    "variables_document",
    "variables_table",
]


def shape_text(shape: Sequence[int]) -> str:
    """``[2, 3]``; ``[]`` for a scalar (the way ``tf.train.list_variables`` shows shapes)."""
    return "[" + ", ".join(str(d) for d in shape) + "]"


def trainable_text(trainable: bool | None) -> str:
    return {True: "yes", False: "no", None: "?"}[trainable]


def totals_line(rows: Sequence[Variable], total: int) -> str:
    """``12 of 40 variables, 3.1 MiB (9 trainable, 3.0 MiB)``."""
    nbytes = sum(v.nbytes for v in rows)
    trained = [v for v in rows if v.trainable]
    shown = f"{len(rows)} of {total} variables" if len(rows) != total else f"{total} variables"
    text = f"{shown}, {format_bytes(nbytes)}"
    if any(v.trainable is not None for v in rows):
        text += f" ({len(trained)} trainable, {format_bytes(sum(v.nbytes for v in trained))})"
    return text


def variables_table(rows: Sequence[Variable], *, keys: bool = False) -> str:
    """Aligned columns: name (object path, or the key with ``keys``), dtype, shape, size,
    trainable; one line per variable, names escaped.

    Plain text rather than a rich table: it renders thousands of rows at once
    and pipes into grep unchanged.
    """
    header = ("key" if keys else "variable", "dtype", "shape", "size", "trainable")
    table = [header]
    for var in rows:
        extra = f" ({var.partitions} slices)" if var.partitions else ""
        table.append(
            (
                escape(var.key if keys else var.display_name),
                var.tf_dtype.name,
                shape_text(var.shape) + extra,
                format_bytes(var.nbytes),
                trainable_text(var.trainable),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = []
    for n, r in enumerate(table):
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2])]
        cells += [r[3].rjust(widths[3]), r[4]]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def problems_lines(problems: Sequence[Problem]) -> list[str]:
    return [f"{escape(p.key)}: {escape(p.message)}" for p in problems]


def variable_json(var: Variable) -> dict[str, Any]:
    return {
        "key": var.key,
        "object_path": var.object_path,
        "name": var.name,
        "dtype": dtype_json(var.tf_dtype),
        "shape": list(var.shape),
        "nbytes": var.nbytes,
        "trainable": var.trainable,
        "synchronization": var.synchronization,
        "aggregation": var.aggregation,
        "slot_name": var.slot_name,
        "slot_of": var.slot_of,
        "partitions": var.partitions,
        "shard": var.shard,
        "offset": var.offset,
        "crc32c": var.crc,
    }


def variables_document(
    vs: VariableSet,
    rows: Sequence[Variable],
    *,
    path: str,
    problems: Sequence[Problem] | None = None,
) -> dict[str, Any]:
    """The ``--format json`` document of ``smlite variables``."""
    doc: dict[str, Any] = {
        "smlite_json": SMLITE_JSON_VERSION,
        "kind": "variables",
        "path": path,
        "source": vs.kind,
        "prefix": str(vs.prefix),
        "exists": vs.exists,
        "num_shards": vs.num_shards,
        "endianness": "big" if vs.big_endian else "little",
        "variables": [variable_json(v) for v in rows],
        "totals": {
            "variables": len(vs),
            "selected": len(rows),
            "nbytes": sum(v.nbytes for v in rows),
            "trainable": sum(1 for v in rows if v.trainable),
            "trainable_nbytes": sum(v.nbytes for v in rows if v.trainable),
        },
        "warnings": list(vs.warnings),
    }
    if not vs.exists:
        doc["missing_reason"] = vs.missing_reason
    if problems is not None:
        doc["verify"] = {
            "checked": len(rows),
            "ok": not problems,
            "problems": [{"key": p.key, "message": p.message} for p in problems],
        }
    return doc
