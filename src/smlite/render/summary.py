"""``smlite summary``: a human overview of a SavedModel (rich), and its JSON twin.

The overview shows what a person wants first: where the model is, what wrote
it, how big its parts are, which TF Serving version is served, and per meta
graph its signatures as tables (with SparseTensor/RaggedTensor entries shown
as such and ``__saved_model_init_op`` marked internal) and the size of its
graph.  File sizes are measured by the caller (this layer reads no files) and
passed in as :class:`DiskUsage`.

Every string read from the model is escaped and wrapped in ``rich.text.Text``,
so neither terminal control sequences nor rich markup in a name can take
effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smlite.errors import SmliteError
from smlite.model.disk import DirUsage, DiskUsage
from smlite.model.saved_model import INIT_OP_SIGNATURE_KEY, MetaGraph, SavedModel, Signature
from smlite.model.structure_decoder import composite_value_spec
from smlite.model.tensors import TensorInfo
from smlite.model.units import format_bytes
from smlite.render import json_doc
from smlite.render.escape import escape, escape_text
from smlite.render.keras import keras_json, keras_renderables

#: Above this many signatures in a meta graph, the overview lists them one line
#: each instead of a table each (rich takes milliseconds per table).
SIGNATURE_TABLES_LIMIT = 50

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = [
    "SIGNATURE_TABLES_LIMIT",
    "GraphCounts",
    "VariablesInfo",
    "graph_counts",
    "summary_json",
    "summary_renderable",
    "variables_info",
]


@dataclass(frozen=True, slots=True)
class VariablesInfo:
    """How many variables the checkpoint holds, or why that is not known.

    ``missing`` says why a model has no variables (no ``variables/`` folder);
    ``error`` that the checkpoint could not be read.
    """

    count: int | None
    error: str | None = None
    missing: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GraphCounts:
    """Sizes of one meta graph's GraphDef, from a wire scan (no full parse)."""

    nodes: int | None
    op_types: int | None
    op_types_all: int | None
    functions: int | None
    error: str | None = None


def variables_info(sm: SavedModel) -> VariablesInfo:
    """The variables of ``sm.variables`` (read from ``variables/variables.index``)."""
    try:
        variables = getattr(sm, "variables", None)
        if variables is None:
            return VariablesInfo(None)
        count = len(variables)
    except SmliteError as e:
        return VariablesInfo(None, error=str(e))
    except TypeError:
        return VariablesInfo(None)
    missing = None
    if not getattr(variables, "exists", True):
        missing = getattr(variables, "missing_reason", None) or "no variables"
    warnings = tuple(str(w) for w in getattr(variables, "warnings", ()))
    return VariablesInfo(count, missing=missing, warnings=warnings)


def graph_counts(mg: MetaGraph) -> GraphCounts:
    try:
        return GraphCounts(
            nodes=mg.node_count,
            op_types=len(mg.ops_used),
            op_types_all=len(mg.all_ops),
            functions=len(mg.function_names),
        )
    except SmliteError as e:
        return GraphCounts(None, None, None, None, str(e))


# -- JSON ----------------------------------------------------------------------


def _dir_json(usage: DirUsage | None) -> dict[str, int] | None:
    return None if usage is None else {"files": usage.files, "bytes": usage.bytes}


def summary_json(sm: SavedModel, disk: DiskUsage) -> dict[str, Any]:
    """The ``summary --format json`` document (see docs/json-schema.md)."""
    variables = variables_info(sm)
    metas = []
    for mg in sm.meta_graphs:
        counts = graph_counts(mg)
        metas.append(
            {
                **json_doc.meta_graph_json(mg),
                "object_graph": mg.has_object_graph,
                "graph": {
                    "nodes": counts.nodes,
                    "op_types": counts.op_types,
                    "op_types_all": counts.op_types_all,
                    "functions": counts.functions,
                    "bytes": mg.graph_size,
                    "error": counts.error,
                },
                "assets": [
                    {"filename": a.filename, "tensor_name": a.tensor_name, "exists": a.exists}
                    for a in mg.assets
                ],
                "signatures": {k: json_doc.signature_json(s) for k, s in mg.signatures.items()},
            }
        )
    return {
        "smlite_json": json_doc.SMLITE_JSON_VERSION,
        "kind": "summary",
        "model": json_doc.model_json(sm),
        "disk": {
            "saved_model_file": disk.saved_model_file,
            "variables": _dir_json(disk.variables),
            "assets": _dir_json(disk.assets),
            "assets_extra": _dir_json(disk.assets_extra),
            "fingerprint": disk.fingerprint,
        },
        "variables": {
            "count": variables.count,
            "missing": variables.missing,
            "error": variables.error,
            "warnings": list(variables.warnings),
        },
        "meta_graphs": metas,
        "keras": keras_json(sm),
    }


# -- rich ----------------------------------------------------------------------


def _tag_list(tags: Sequence[str]) -> str:
    return ", ".join(escape(t) for t in tags) if tags else "(no tags)"


def _value_cells(info: TensorInfo) -> tuple[str, str, str]:
    """dtype, shape and graph tensor(s) of an entry, composites as what they are."""
    if info.encoding == "composite_tensor":
        dtype, shape = composite_value_spec(info)
        tensors = ", ".join(escape(n) for n in info.tensor_names)
        return (
            dtype.name if dtype is not None else "",
            str(shape) if shape is not None else "",
            tensors,
        )
    if info.coo_sparse is not None:
        c = info.coo_sparse
        tensors = (
            f"values {escape(c.values_tensor_name)}\n"
            f"indices {escape(c.indices_tensor_name)}\n"
            f"dense_shape {escape(c.dense_shape_tensor_name)}"
        )
        return info.dtype.name, str(info.shape), tensors
    return info.dtype.name, str(info.shape), escape(info.name or "")


def _internal_line(sig: Signature) -> RenderableType:
    from rich.text import Text

    what = (
        "initializer, run once when the model is loaded"
        if (sig.key == INIT_OP_SIGNATURE_KEY)
        else "training op"
    )
    targets = ", ".join(escape(n) for info in sig.outputs.values() for n in info.tensor_names)
    line = Text("  internal ", style="dim")
    line.append(escape(sig.key), style="bold")
    line.append(f"  ({what}: {targets or 'nothing'})", style="dim")
    return line


def _signature_table(sig: Signature) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from smlite.render.functions import composite_spec_text

    title = Text("  signature ", style="bold")
    title.append(f"'{escape(sig.key)}'", style="bold cyan")
    if sig.method_name:
        title.append(f"  {escape(sig.method_name)}", style="dim")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    for column in ("", "key", "kind", "dtype", "shape", "tensor"):
        table.add_column(column, overflow="fold")
    rows = [("in", k, v) for k, v in sig.inputs.items()]
    rows += [("out", k, v) for k, v in sig.outputs.items()]
    for direction, key, info in rows:
        dtype, shape, tensors = _value_cells(info)
        table.add_row(
            Text(direction, style="dim"),
            Text(escape(key)),
            Text(info.kind, style="green" if info.kind != "Tensor" else ""),
            Text(dtype),
            Text(shape),
            Text(tensors),
        )
    if not rows:
        table.add_row(Text("(no inputs or outputs)", style="dim"), "", "", "", "", "")
    # Composite entries (RaggedTensor, ...) are spelled out as their TypeSpec,
    # the way TensorFlow prints it: the table can only show dtype and shape.
    specs = [
        Text(f"{direction} {escape(key)}: {spec}", style="dim")
        for direction, key, info in rows
        if (spec := composite_spec_text(info)) is not None
    ]
    return Group(title, Padding(Group(table, *specs), (0, 0, 0, 4), expand=False))


def _names(keys: Sequence[str], most: int = 4) -> str:
    shown = ", ".join(escape(k) for k in keys[:most])
    return shown + (f", ... ({len(keys) - most} more)" if len(keys) > most else "")


def _signatures_index(sigs: Sequence[Signature], mg: MetaGraph) -> RenderableType:
    """One line per signature, for meta graphs with too many for a table each."""
    from rich.console import Group
    from rich.text import Text

    tags = escape(",".join(sorted(mg.tag_set)))
    note = Text(
        f"  {len(sigs)} signatures, one line each (a table each above "
        f"{SIGNATURE_TABLES_LIMIT}); `smlite show PATH --tag_set {tags} --signature_def KEY` "
        "shows one in full",
        style="dim",
    )
    # Plain aligned columns in one Text: a rich Table costs about a millisecond a row.
    rows = [
        (
            escape(sig.key),
            escape(sig.method_name),
            _names(list(sig.inputs)),
            _names(list(sig.outputs)),
        )
        for sig in sigs
    ]
    header = ("signature", "method", "inputs", "outputs")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    table = Text(no_wrap=True, overflow="ignore")
    for n, row in enumerate([header, *rows]):
        table.append("\n    " if n else "    ")
        styles = ("bold", "bold", "bold", "bold") if n == 0 else ("cyan", "dim", "", "")
        for i, (cell, style) in enumerate(zip(row, styles, strict=True)):
            table.append(cell.ljust(widths[i]) + "  " if i < 3 else cell, style=style)
    return Group(note, table)


def _count(n: int | None, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _counts_line(counts: GraphCounts, mg: MetaGraph) -> RenderableType:
    from rich.text import Text

    if counts.error is not None:
        return Text(f"  graph: unreadable: {escape_text(counts.error)}", style="red")
    parts = [_count(counts.nodes, "node"), _count(counts.op_types, "op type") + " used"]
    if counts.op_types_all != counts.op_types:
        parts.append(f"{counts.op_types_all} incl. unreachable functions")
    parts.append(_count(counts.functions, "function"))
    parts.append(f"GraphDef {format_bytes(mg.graph_size)}")
    return Text("  graph: " + ", ".join(parts))


def _meta_graph_renderables(mg: MetaGraph) -> list[RenderableType]:
    from rich.text import Text

    head = Text(f"MetaGraph #{mg.index}  ", style="bold")
    head.append("tags: ")
    head.append(_tag_list(mg.tags), style="bold magenta")
    if mg.has_object_graph:
        head.append("  (TF2 object graph)", style="dim")
    out: list[RenderableType] = [head]
    if mg.tensorflow_version:
        written = f"  written by TensorFlow {escape(mg.tensorflow_version)}"
        if mg.tensorflow_git_version:
            written += f" ({escape(mg.tensorflow_git_version)})"
        out.append(Text(written))
    out.append(_counts_line(graph_counts(mg), mg))
    if mg.assets:
        assets = Text("  assets: ")
        for i, asset in enumerate(mg.assets):
            if i:
                assets.append(", ")
            assets.append(escape(asset.filename))
            if not asset.exists:
                assets.append(" (missing)", style="red")
        out.append(assets)
    public = [s for s in mg.signatures.values() if not s.is_internal]
    internal = [s for s in mg.signatures.values() if s.is_internal]
    if not public:
        out.append(Text("  no signatures", style="dim"))
    if len(public) > SIGNATURE_TABLES_LIMIT:
        out.append(Text(""))
        out.append(_signatures_index(public, mg))
    else:
        for sig in public:
            out.append(Text(""))
            out.append(_signature_table(sig))
    for sig in internal:
        out.append(_internal_line(sig))
    out.extend(_functions_lines(mg))
    return out


def _functions_lines(mg: MetaGraph) -> list[RenderableType]:
    """The callable functions of the object graph (``smlite.render.functions``)."""
    from rich.text import Text

    from smlite.render.functions import functions_renderables

    try:
        lines = functions_renderables(mg)
    except SmliteError as e:
        return [Text(f"  functions: unreadable: {escape_text(str(e))}", style="red")]
    return [Text(""), *lines] if lines else []


def _serving_lines(sm: SavedModel) -> list[RenderableType]:
    from rich.text import Text

    layout = sm.serving
    if layout is None:
        return []
    versions = ", ".join(str(v) for v in sorted({v for v, _ in layout.versions}))
    how = "as requested" if layout.requested else "the highest"
    line = Text("serving:  ", style="bold")
    line.append(f"TF Serving base {escape(str(layout.base_path))}: version ")
    line.append(str(layout.chosen), style="bold green")
    line.append(f" is served ({how}; versions {versions})")
    lines: list[RenderableType] = [line]
    if layout.ignored:
        ignored = ", ".join(escape(n) for n in layout.ignored)
        lines.append(Text(f"          ignored (not version folders): {ignored}", style="dim"))
    for version, paths in sorted(layout.duplicates.items()):
        names = ", ".join(escape(p.name) for p in paths)
        lines.append(
            Text(f"          version {version} is in several folders: {names}", style="yellow")
        )
    return lines


def _disk_line(sm: SavedModel, disk: DiskUsage) -> RenderableType:
    from rich.text import Text

    def folder(name: str, usage: DirUsage | None) -> str:
        if usage is None:
            return f"{name} absent"
        noun = "file" if usage.files == 1 else "files"
        return f"{name} {format_bytes(usage.bytes)} ({usage.files} {noun})"

    parts = [
        f"{escape(sm.file.name)} {format_bytes(disk.saved_model_file)}",
        folder("variables/", disk.variables),
        folder("assets/", disk.assets),
    ]
    if disk.assets_extra is not None:
        parts.append(folder("assets.extra/", disk.assets_extra))
    if disk.fingerprint:
        parts.append("fingerprint.pb")
    line = Text("files:    ", style="bold")
    line.append(", ".join(parts))
    return line


def _variables_lines(variables: VariablesInfo) -> list[RenderableType]:
    from rich.text import Text

    if variables.count is None and variables.error is None:
        return []
    line = Text("variables:", style="bold")
    if variables.error is not None:
        line.append(f" unreadable: {escape_text(variables.error)}", style="red")
    elif variables.missing is not None:
        line.append(f" none ({escape_text(variables.missing)})", style="dim")
    else:
        line.append(f" {variables.count}")
    lines: list[RenderableType] = [line]
    lines.extend(Text(f"          {escape_text(w)}", style="yellow") for w in variables.warnings)
    return lines


def summary_renderable(sm: SavedModel, disk: DiskUsage) -> RenderableType:
    """The whole overview as one rich renderable."""
    from rich.console import Group
    from rich.text import Text

    title = Text("SavedModel ", style="bold")
    title.append(escape(str(sm.path)), style="bold cyan")
    out: list[RenderableType] = [title]
    fmt = Text("format:   ", style="bold")
    fmt.append(
        f"{escape(sm.file.name)} ({'binary' if sm.format == 'pb' else 'text'}), "
        f"schema version {sm.schema_version}, {len(sm.meta_graphs)} meta graph"
        + ("" if len(sm.meta_graphs) == 1 else "s")
    )
    out.append(fmt)
    out.extend(_serving_lines(sm))
    out.append(_disk_line(sm, disk))
    out.extend(_variables_lines(variables_info(sm)))
    out.extend(keras_renderables(sm))
    for mg in sm.meta_graphs:
        out.append(Text(""))
        out.extend(_meta_graph_renderables(mg))
    return Group(*out)
