"""``smlite report``: one self-contained HTML page about a SavedModel.

The page holds the ``summary`` overview, every signature as a card, the
concrete functions, a picture of the call structure (signatures -> graph ->
functions -> functions, with op counts; functions with risky or custom ops
highlighted from ``check``'s findings), a treemap of ``smlite size``'s
attribution, the variables (sortable, filterable), the findings of ``check``
and the fingerprint.

Everything is inline -- CSS, the page's own script and dagre (the graph
layout library, vendored by ``scripts/vendor_report_assets.py``) -- and a
Content-Security-Policy forbids every fetch, so the page works from a CI
artifact with no network.  The page is made with Jinja2 with autoescaping on:
every name from the model is HTML-escaped, and the call-graph data travels as
JSON that the script inserts as text only.  Large models stay usable: the
picture keeps ``max_functions`` functions, the tables a bounded number of rows,
and the page says what it left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smlite.errors import PathOrUrl, SmliteError, UnsupportedError
from smlite.model.calls import call_graph
from smlite.model.disk import DiskUsage
from smlite.model.rules import Finding, Severity
from smlite.model.size import SizeReport, layer_of
from smlite.model.units import format_bytes, format_dims
from smlite.render.findings import finding_json, sorted_findings
from smlite.render.functions import functions_json
from smlite.render.report.treemap import directory_tree, layout_treemap
from smlite.render.summary import summary_json
from smlite.render.variables import trainable_text

if TYPE_CHECKING:
    from smlite.model.checks import ModelReport
    from smlite.model.fingerprint import StoredFingerprint
    from smlite.model.saved_model import MetaGraph, SavedModel

__all__ = ["ReportLimits", "report_html"]

_PACKAGE = "smlite.render.report"
_COLORS = {
    "default": "#c9d3e0",
    "saved_model": "#9fb7da",
    "meta_graph": "#9fb7da",
    "graph_nodes": "#7fa6e0",
    "function_library": "#a9c8a0",
    "function": "#b9dcb0",
    "more": "#d7dde5",
    "object_graph": "#e2c48f",
    "signatures": "#d9a7c7",
    "stripped_op_list": "#b7b0e0",
    "variables": "#f0b089",
    "variables_data": "#f0b089",
    "layer": "#f6c9a8",
    "variables_index": "#e8a070",
    "asset": "#9bd0cf",
    "assets_extra": "#9bd0cf",
    "debug_info": "#e6a3a3",
    "fingerprint": "#c8c8c8",
    "other": "#dfe3e8",
    "framing": "#eceff3",
}
_RISKY_RULES_PREFIX = "SML6"
_CUSTOM_RULE = "SML609"


@dataclass(frozen=True, slots=True)
class ReportLimits:
    """How much the page draws and lists; what is left out is said on the page."""

    functions: int = 150
    variables: int = 5000
    findings: int = 2000
    signatures: int = 200
    treemap_width: int = 1100
    treemap_height: int = 520


@lru_cache(maxsize=1)
def _assets() -> dict[str, str]:
    root = resources.files(_PACKAGE)
    vendor = root.joinpath("vendor")
    found = {
        "template": root.joinpath("templates", "report.html.j2").read_text(encoding="utf-8"),
        "css": root.joinpath("static", "report.css").read_text(encoding="utf-8"),
        "js": root.joinpath("static", "report.js").read_text(encoding="utf-8"),
        "dagre": vendor.joinpath("dagre.min.js").read_text(encoding="utf-8"),
        "dagre_license": vendor.joinpath("dagre.LICENSE").read_text(encoding="utf-8"),
        "dagre_vendor": vendor.joinpath("VENDOR.json").read_text(encoding="utf-8"),
    }
    for name in ("css", "js", "dagre"):
        # Inlined raw: none may close the element that holds it.
        if "</script" in found[name].lower() or "</style" in found[name].lower():
            raise AssertionError(f"report asset {name} cannot be inlined")
    if "*/" in found["dagre_license"]:
        raise AssertionError("dagre's license text would end the comment that holds it")
    return found


def _environment() -> Any:
    try:
        import jinja2
    except ImportError as e:
        raise UnsupportedError(
            "smlite report needs Jinja2 and squarify: pip install 'smlite[report]'"
        ) from e
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["bytes"] = format_bytes
    env.filters["shape"] = format_dims
    return env


def _flags(findings: Sequence[Finding]) -> dict[tuple[int | None, str | None], list[Finding]]:
    """Op findings by (meta graph, function or None for the graph)."""
    found: dict[tuple[int | None, str | None], list[Finding]] = {}
    for f in findings:
        if f.rule.id.startswith(_RISKY_RULES_PREFIX):
            found.setdefault((f.where.meta_graph, f.where.function), []).append(f)
    return found


def _call_graph_json(
    mg: MetaGraph, size: SizeReport, flags: Mapping[tuple[int | None, str | None], list[Finding]],
    limit: int,
) -> dict[str, Any]:  # fmt: skip
    graph = call_graph(mg, limit=limit)
    sized = next((m for m in size.meta_graphs if m.index == mg.index), None)
    function_bytes = {f.name: f.bytes for f in sized.functions} if sized else {}
    nodes = []
    for n in graph.nodes:
        key = (mg.index, n.name if n.kind == "function" else None)
        found = flags.get(key, []) if n.kind in ("function", "graph") else []
        rules = sorted({f.rule.id for f in found})
        nbytes = function_bytes.get(n.name, 0) if n.kind == "function" else 0
        nodes.append(
            {
                "id": n.id,
                "kind": n.kind,
                "name": n.name,
                "nodes": n.nodes,
                "op_types": n.op_types,
                "bytes": nbytes,
                "size": format_bytes(nbytes),
                "custom": _CUSTOM_RULE in rules,
                "risky": any(r != _CUSTOM_RULE for r in rules),
                "notes": [f"{f.rule.id} {f.rule.name}: {f.message}" for f in found[:5]],
            }
        )
    return {
        "nodes": nodes,
        "edges": [list(e) for e in graph.edges],
        "left_out": graph.functions_left_out,
        "total": graph.functions_total,
    }


def _variables(sm: SavedModel, limit: int) -> dict[str, Any]:
    try:
        variables = sm.variables
        ranked = sorted(variables.values(), key=lambda v: v.nbytes, reverse=True)
    except SmliteError as e:
        return {"error": str(e), "rows": [], "count": 0, "bytes": 0, "left_out": 0}
    rows = [
        {
            "name": v.display_name,
            "layer": layer_of(v.display_name),
            "dtype": v.tf_dtype.name,
            "shape": list(v.shape),
            "elements": v.size,
            "bytes": v.nbytes,
            "trainable": trainable_text(v.trainable),
        }
        for v in ranked[:limit]
    ]
    return {
        "error": None,
        "rows": rows,
        "count": len(ranked),
        "bytes": sum(v.nbytes for v in ranked),
        "left_out": max(0, len(ranked) - limit),
    }


def _fingerprint(
    stored: StoredFingerprint | None, error: str | None, check: ModelReport | None
) -> dict[str, Any]:
    if error is not None or stored is None:
        return {"error": error, "stored": None}
    ids = {f.rule.id for f in check.findings} if check is not None else set()
    skipped = check is not None and any(s.startswith("fingerprint") for s in check.skipped)
    mismatch = "SML402" in ids
    verified = check is not None and not mismatch and not skipped and "SML403" not in ids
    if mismatch:
        status = "check recomputed the hashes: they differ from fingerprint.pb (see the findings)"
    elif verified:
        status = "check recomputed every hash: all match fingerprint.pb"
    else:
        status = "the hashes were not recomputed"
    values = dict(stored.values.as_dict())
    return {
        "error": None,
        "stored": {
            **values,
            "singleprint": stored.values.singleprint,
            "producer": stored.producer,
            "uuid": stored.uuid,
        },
        "verified": verified,
        "mismatch": mismatch,
        "status": status,
    }


def _files_line(size: SizeReport) -> str:
    kinds: dict[str, int] = {}
    for f in size.files:
        kinds[f.kind] = kinds.get(f.kind, 0) + f.bytes
    parts = ", ".join(
        f"{k} {format_bytes(n)}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])
    )
    return f"{len(size.files)} files, {format_bytes(size.directory_bytes)}: {parts}"


def report_html(
    sm: SavedModel,
    *,
    disk: DiskUsage,
    size: SizeReport,
    check: ModelReport | None,
    check_error: str | None = None,
    fingerprint: StoredFingerprint | None = None,
    fingerprint_error: str | None = None,
    shown_path: PathOrUrl | None = None,
    tool_version: str = "",
    limits: ReportLimits = ReportLimits(),
) -> str:
    """The report page for ``sm`` as one HTML string."""
    from markupsafe import Markup

    env = _environment()
    assets = _assets()
    vendor = json.loads(assets["dagre_vendor"])
    findings = sorted_findings(check.findings) if check is not None else []
    flags = _flags(findings)
    call_graphs = []
    for mg in sm.meta_graphs:
        entry: dict[str, Any] = {
            "index": mg.index,
            "tags": list(mg.tags),
            "error": None,
            "data": None,
        }
        try:
            entry["data"] = _call_graph_json(mg, size, flags, limits.functions)
        except SmliteError as e:
            entry["error"] = str(e)
        call_graphs.append(entry)
    tree = directory_tree(size)
    boxes, hidden = layout_treemap(tree, limits.treemap_width, limits.treemap_height)
    base = check.path if check is not None and isinstance(check.path, Path) else None
    counts = {s.label: sum(1 for f in findings if f.level == s) for s in Severity}
    share = 100 * size.encoded_bytes / 2**31
    title = str(shown_path if shown_path is not None else sm.path)
    context = {
        "title": title,
        "headline": (
            f"{_files_line(size)} · saved_model.pb {format_bytes(size.encoded_bytes)} "
            f"({share:.1f}% of protobuf's 2 GiB limit)"
        ),
        "tool_version": tool_version,
        "summary": summary_json(sm, disk),
        "size": size,
        "files_line": _files_line(size),
        "headroom_pct": f"{share:.1f}%",
        "findings": [finding_json(f, base) for f in findings[: limits.findings]],
        "findings_left_out": max(0, len(findings) - limits.findings),
        "counts": counts,
        "policy": str(check.policy.source) if check is not None and check.policy.source else None,
        "skipped": list(check.skipped) if check is not None else [],
        "check_error": check_error,
        "max_signatures": limits.signatures,
        "functions": functions_json(sm),
        "call_graphs": call_graphs,
        "treemap": {
            "width": limits.treemap_width,
            "height": limits.treemap_height,
            "boxes": boxes,
            "hidden": hidden,
        },
        "colors": _COLORS,
        "variables": _variables(sm, limits.variables),
        "fingerprint": _fingerprint(fingerprint, fingerprint_error, check),
        "css": Markup(assets["css"]),
        "js": Markup(assets["js"]),
        "dagre": {
            "version": vendor["version"],
            "license": vendor["license"],
            "license_text": Markup(assets["dagre_license"]),
            "script": Markup(assets["dagre"]),
        },
    }
    return str(env.from_string(assets["template"]).render(context))
