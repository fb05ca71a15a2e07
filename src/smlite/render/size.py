"""``smlite size`` output: a rich tree of where the bytes go, and its JSON document.

Every name read from the model is escaped and put in ``rich.text.Text``
(never parsed as markup).  The JSON document is described in
``docs/json-schema.md`` (kind ``"size"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from smlite.errors import PathOrUrl
from smlite.model.disk import FileSize
from smlite.model.rules import Finding
from smlite.model.size import (
    PROTOBUF_LIMIT,
    WARNING_SIZE,
    ConstTensor,
    MetaGraphSize,
    SizePart,
    SizeReport,
    VariableEntry,
)
from smlite.model.units import format_bytes, format_dims
from smlite.render.escape import escape
from smlite.render.findings import finding_json, finding_text, sorted_findings
from smlite.render.json_doc import SMLITE_JSON_VERSION, dtype_json

__all__ = ["ranked_children", "size_document", "size_renderable"]

# Parts that are what is left over: listed after the named ones whatever their size.
_LAST_KINDS = ("more", "other", "framing")


def ranked_children(part: SizePart) -> list[SizePart]:
    """Children largest first, leftovers (``N more``, ``other``, framing) last."""

    def key(c: SizePart) -> tuple[int, int]:
        last = _LAST_KINDS.index(c.kind) + 1 if c.kind in _LAST_KINDS else 0
        return last, -c.bytes

    return sorted(part.children, key=key)


def _percent(n: int, total: int) -> str:
    return f"{100 * n / total:5.1f}%" if total else "    -"


# -- text --------------------------------------------------------------------------------


def _label(part: SizePart, total: int) -> Text:
    text = Text(f"{format_bytes(part.bytes):>10}  {_percent(part.bytes, total)}  ")
    text.append(escape(part.name), style="bold" if part.kind == "meta_graph" else "")
    return text


def _tree(part: SizePart, total: int, node: Tree | None = None) -> Tree:
    node = node if node is not None else Tree(_label(part, total))
    for child in ranked_children(part):
        _tree(child, total, node.add(_label(child, total)))
    return node


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False)
    for col in columns:
        numeric = col in ("bytes", "nodes", "count", "traces", "constants")
        table.add_column(col, justify="right" if numeric else "left")
    return table


def _titled(title: str, table: Table) -> Group:
    return Group(Text(title, style="bold"), table)


def _headroom(report: SizeReport) -> Text:
    size = report.encoded_bytes
    share = 100 * size / PROTOBUF_LIMIT
    what = report.file.name if report.format == "pb" else f"{report.file.name} (binary encoding)"
    text = Text(
        f"{escape(what)}: {format_bytes(size)} ({size} bytes), {share:.1f}% of protobuf's "
        "2 GiB limit; "
    )
    style = "green"
    if size >= PROTOBUF_LIMIT:
        text.append(f"{format_bytes(-report.headroom)} over it", style="bold red")
        return text
    if size > WARNING_SIZE:
        style = "yellow"
    text.append(f"headroom {format_bytes(report.headroom)}", style=style)
    return text


def _functions(m: MetaGraphSize) -> list[RenderableType]:
    out: list[RenderableType] = []
    if m.functions:
        table = _table("function", "nodes", "bytes", "constants", "trace of")
        for f in m.functions:
            traced = f.python_name is not None and f.variants > 1
            traces = f"{escape(f.python_name or '')} ({f.variants} traces)" if traced else ""
            table.add_row(
                Text(escape(f.name)), str(f.nodes), format_bytes(f.bytes),
                format_bytes(f.const_bytes), Text(traces),
            )  # fmt: skip
        title = f"largest functions of meta graph #{m.index} ({m.function_count} functions)"
        out.append(_titled(title, table))
    if m.traced:
        table = _table("python function", "traces", "bytes")
        for t in m.traced:
            table.add_row(Text(escape(t.python_name)), str(t.variants), format_bytes(t.bytes))
        out.append(_titled("Python functions traced more than once", table))
    return out


def _consts(m: MetaGraphSize) -> list[RenderableType]:
    if not m.largest_consts:
        return []
    table = _table("constant", "dtype", "shape", "bytes")
    for c in m.largest_consts:
        table.add_row(
            Text(escape(c.path)), c.dtype.name, format_dims(c.shape), format_bytes(c.bytes)
        )
    title = (
        f"largest constants of meta graph #{m.index} ({m.const_count} constants, "
        f"{format_bytes(m.const_bytes)})"
    )
    return [_titled(title, table)]


def _files(report: SizeReport) -> list[RenderableType]:
    files = sorted(report.files, key=lambda f: f.bytes, reverse=True)
    table = _table("file", "kind", "bytes")
    for f in files[: report.top]:
        table.add_row(Text(escape(f.path)), f.kind, format_bytes(f.bytes))
    rest = files[report.top :]
    if rest:
        table.add_row(f"{len(rest)} more files", "", format_bytes(sum(f.bytes for f in rest)))
    return [_titled(f"files ({len(files)} files, {format_bytes(report.directory_bytes)})", table)]


def _variables(report: SizeReport) -> list[RenderableType]:
    v = report.variables
    if v.error is not None:
        return [Text(f"variables: not read: {escape(v.error)}", style="yellow")]
    if not v.count:
        return [Text("variables: none")]
    groups = _table("layer", "count", "bytes")
    for g in v.groups:
        groups.add_row(Text(escape(g.prefix)), str(g.count), format_bytes(g.bytes))
    if v.more_groups:
        groups.add_row(f"{v.more_groups} more layers", "", "")
    largest = _table("variable", "dtype", "shape", "bytes")
    for e in v.largest:
        largest.add_row(
            Text(escape(e.name)), e.dtype.name, format_dims(e.shape), format_bytes(e.bytes)
        )
    return [
        _titled(f"variables by layer ({v.count} variables, {format_bytes(v.bytes)})", groups),
        _titled("largest variables", largest),
    ]


def size_renderable(
    report: SizeReport, findings: Sequence[Finding] = (), *, shown_path: PathOrUrl | None = None
) -> RenderableType:
    """The whole ``smlite size`` text: headroom, the tree, then the tables."""
    path = shown_path if shown_path is not None else report.model_dir
    parts: list[RenderableType] = [
        Text(
            f"SavedModel {escape(str(path))}: {format_bytes(report.directory_bytes)} in "
            f"{len(report.files)} files, {len(report.meta_graphs)} meta graph(s)",
            style="bold",
        ),
        _headroom(report),
        Text(""),
        _tree(report.tree, report.tree.bytes),
    ]
    for m in report.meta_graphs:
        for block in (*_functions(m), *_consts(m)):
            parts.extend((Text(""), block))
    for block in (*_files(report), *_variables(report)):
        parts.extend((Text(""), block))
    if findings:
        parts.append(Text(""))
        parts.extend(finding_text(f, None) for f in sorted_findings(findings))
    return Group(*parts)


# -- JSON --------------------------------------------------------------------------------


def _part_json(part: SizePart) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": part.name, "kind": part.kind, "bytes": part.bytes}
    if part.children:
        doc["children"] = [_part_json(c) for c in part.children]
    return doc


def _const_json(c: ConstTensor) -> dict[str, Any]:
    return {
        "function": c.function,
        "node": c.node,
        "dtype": dtype_json(c.dtype),
        "shape": None if c.shape is None else list(c.shape),
        "bytes": c.bytes,
    }


def _meta_graph_json(m: MetaGraphSize) -> dict[str, Any]:
    return {
        "index": m.index,
        "tags": list(m.tags),
        "bytes": m.bytes,
        "graph_bytes": m.graph_bytes,
        "nodes": m.nodes,
        "functions": {
            "count": m.function_count,
            "largest": [
                {
                    "name": f.name,
                    "bytes": f.bytes,
                    "nodes": f.nodes,
                    "const_bytes": f.const_bytes,
                    "python_name": f.python_name,
                    "traces": f.variants,
                }
                for f in m.functions
            ],
        },
        "traced": [
            {"python_name": t.python_name, "traces": t.variants, "bytes": t.bytes} for t in m.traced
        ],
        "constants": {
            "count": m.const_count,
            "bytes": m.const_bytes,
            "weight_bytes": m.weight_const_bytes,
            "largest": [_const_json(c) for c in m.largest_consts],
        },
    }


def _variable_json(e: VariableEntry) -> dict[str, Any]:
    return {"name": e.name, "dtype": dtype_json(e.dtype), "shape": list(e.shape), "bytes": e.bytes}


def _files_json(report: SizeReport) -> dict[str, Any]:
    files: list[FileSize] = sorted(report.files, key=lambda f: f.bytes, reverse=True)
    by_kind: dict[str, int] = {}
    for f in files:
        by_kind[f.kind] = by_kind.get(f.kind, 0) + f.bytes
    return {
        "count": len(files),
        "bytes": report.directory_bytes,
        "by_kind": dict(sorted(by_kind.items())),
        "largest": [
            {"path": f.path, "kind": f.kind, "bytes": f.bytes} for f in files[: report.top]
        ],
    }


def size_document(
    report: SizeReport, findings: Sequence[Finding] = (), *, shown_path: PathOrUrl | None = None
) -> dict[str, Any]:
    """The ``--format json`` document (``"kind": "size"``)."""
    v = report.variables
    return {
        "smlite_json": SMLITE_JSON_VERSION,
        "kind": "size",
        "path": str(shown_path if shown_path is not None else report.model_dir),
        "top": report.top,
        "saved_model": {
            "file": report.file.name,
            "format": report.format,
            "file_bytes": report.file_bytes,
            "encoded_bytes": report.encoded_bytes,
            "protobuf_limit": PROTOBUF_LIMIT,
            "warning_bytes": WARNING_SIZE,
            "headroom_bytes": report.headroom,
            "parts": _part_json(report.tree),
        },
        "meta_graphs": [_meta_graph_json(m) for m in report.meta_graphs],
        "files": _files_json(report),
        "variables": {
            "count": v.count,
            "bytes": v.bytes,
            "error": v.error,
            "groups": [
                {
                    "prefix": g.prefix,
                    "count": g.count,
                    "bytes": g.bytes,
                    "largest": [_variable_json(e) for e in g.largest],
                }
                for g in v.groups
            ],
            "more_groups": v.more_groups,
            "largest": [_variable_json(e) for e in v.largest],
        },
        "findings": [finding_json(f, None) for f in sorted_findings(findings)],
    }
