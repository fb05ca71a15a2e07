"""``smlite diff`` results as rich text, a JSON document and SARIF 2.1.0.

* Text: the verdict, then the changes by severity (breaking first) and area
  (tag-sets, signatures, functions, ops, variables, assets), each with its
  kind, location and message; every name from a file is escaped.
* Every format spells a change's typed values the same way (:func:`spell`):
  dtypes by name, shapes as ``(None, 3)``, decoded TypeSpecs and input
  signatures as TensorFlow's ``repr()`` (:mod:`smlite.render.tf_repr`).
* JSON: ``{"smlite_json": 1, "kind": "diff", ...}`` (``docs/diff.md``).
* SARIF: one result per breaking change, the change kinds as rules, the new
  side's model file as the artifact and the location inside it as a logical
  location, so GitHub code scanning shows each breaking change.

Markdown for pull-request comments is :mod:`smlite.render.diff_markdown`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from smlite.model.diff import (
    KINDS,
    Change,
    ChangeKind,
    Decoded,
    Diff,
    Severity,
    SideInfo,
    Value,
)
from smlite.model.diff.kinds import AREAS
from smlite.model.dtypes import DType
from smlite.model.tensors import TensorShape
from smlite.render.escape import escape
from smlite.render.sarif import artifact_location, display_path, partial_fingerprint, sarif_log
from smlite.render.tf_repr import tf_repr

__all__ = [
    "AREA_TITLES",
    "MAX_SHOWN",
    "diff_document",
    "diff_renderable",
    "diff_sarif",
    "grouped",
    "message_text",
    "side_text",
    "spell",
    "summary_line",
]

#: Headings of the areas, in report order.
AREA_TITLES = {
    "meta_graph": "meta graphs",
    "signature": "signatures",
    "function": "functions",
    "op": "ops",
    "variable": "variables",
    "asset": "assets",
}
#: Changes shown per severity and area in text and Markdown (JSON has all).
MAX_SHOWN = 100
_STYLES = {Severity.BREAKING: "bold red", Severity.COMPATIBLE: "yellow", Severity.INFO: "cyan"}
_INFO_URI = "https://github.com/smlite/smlite/blob/main/docs/diff.md"


def grouped(d: Diff) -> Iterator[tuple[Severity, str, tuple[Change, ...]]]:
    """``(severity, area, changes)`` in report order, non-empty groups only."""
    for severity in Severity:
        of = d.of(severity)
        for area in AREAS:
            group = tuple(c for c in of if c.area == area)
            if group:
                yield severity, area, group


def spell(value: Value) -> str:
    """A change's value as smlite shows it: ``float32``, ``(None, 3)``, TensorFlow's repr."""
    if isinstance(value, str):
        return value
    if isinstance(value, DType):
        return value.name
    if isinstance(value, TensorShape):
        return str(value)
    assert isinstance(value, Decoded)
    return tf_repr(value.value)


def message_text(change: Change) -> str:
    """The change's message, its values spelled."""
    return "".join(spell(part) for part in change.message)


def side_text(side: SideInfo) -> str:
    """How a side is named: the path given, plus the TF Serving version it resolved to."""
    shown = side.path.as_posix()
    if side.version is not None:
        shown += f" (version {side.version})"
    if side.kind == "checkpoint":
        shown += " (checkpoint)"
    return shown


def summary_line(d: Diff, fail_on: str) -> str:
    counts = ", ".join(f"{len(d.of(s))} {s.value}" for s in Severity)
    status = "fails" if d.failed(fail_on) else "passes"
    return f"{counts}; {status} --fail-on {fail_on}"


def _change_text(change: Change) -> Text:
    line = Text("      ")
    line.append(change.kind, style=_STYLES[change.severity])
    line.append(f"  {escape(change.path)}", style="magenta")
    # Messages are one line and quote names from the file: newlines are escaped too.
    message = message_text(change)
    line.append("\n        " + escape(message))
    if change.old is not None and change.new is not None:
        old, new = spell(change.old), spell(change.new)
        if old and new and not (old in message and new in message):
            line.append(f"\n        {escape(old)} -> {escape(new)}", style="dim")
    return line


def diff_renderable(
    d: Diff, *, fail_on: str = "breaking", base: Path | None = None
) -> RenderableType:
    """Rich text: the two sides, the verdict, the changes by severity and area, a summary."""
    parts: list[RenderableType] = []
    head = Text()
    head.append("old  ", style="dim")
    head.append(escape(side_text(d.old)), style="bold")
    head.append("\nnew  ", style="dim")
    head.append(escape(side_text(d.new)), style="bold")
    parts.append(head)
    verdict = Text("verdict: ", style="bold")
    verdict.append(d.verdict.text, style="bold green" if not d.breaking else "bold red")
    verdict.append(f"  ({escape(d.verdict.basis)})", style="dim")
    parts.append(verdict)
    for severity, area, changes in grouped(d):
        parts.append(
            Text(
                f"  {severity.value}: {AREA_TITLES[area]} ({len(changes)})", style=_STYLES[severity]
            )
        )
        for change in changes[:MAX_SHOWN]:
            parts.append(_change_text(change))
        if len(changes) > MAX_SHOWN:
            parts.append(
                Text(f"      ... and {len(changes) - MAX_SHOWN} more (--format json lists all)")
            )
    if not d.changes:
        parts.append(Text("  no changes", style="green"))
    for note in d.notes:
        parts.append(Text(f"  note: {escape(note)}", style="dim"))
    parts.append(Text(summary_line(d, fail_on), style="bold"))
    return Group(*parts)


# ---------------------------------------------------------------------------
# JSON.
# ---------------------------------------------------------------------------


def _number(x: float | None) -> float | str | None:
    if x is None or math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _side_json(side: SideInfo, base: Path | None) -> dict[str, Any]:
    return {
        "path": side.path.as_posix(),
        "kind": side.kind,
        "model_dir": display_path(side.model_dir, base) or None,
        "file": display_path(side.file, base) or None,
        "version": side.version,
    }


def _change_json(c: Change) -> dict[str, Any]:
    values = None
    if c.values is not None:
        v = c.values
        values = {
            "elements": v.elements,
            "changed": v.changed,
            "max_abs_diff": _number(v.max_abs_diff),
            "relative_l2": _number(v.relative_l2),
            "from_checksums": v.from_checksums,
        }
    return {
        "kind": c.kind,
        "severity": c.severity.value,
        "area": c.area,
        "path": c.path,
        "message": message_text(c),
        "old": None if c.old is None else spell(c.old),
        "new": None if c.new is None else spell(c.new),
        "values": values,
    }


def diff_document(
    d: Diff, *, fail_on: str = "breaking", base: Path | None = None
) -> dict[str, Any]:
    """The ``--format json`` document of ``smlite diff``."""
    return {
        "smlite_json": 1,
        "kind": "diff",
        "old": _side_json(d.old, base),
        "new": _side_json(d.new, base),
        "verdict": {"code": d.verdict.code, "text": d.verdict.text, "basis": d.verdict.basis},
        "variables_only": d.variables_only,
        "values_compared": d.values_compared,
        "fail_on": fail_on,
        "failed": d.failed(fail_on),
        "counts": {s.value: len(d.of(s)) for s in Severity},
        "changes": [_change_json(c) for c in d.changes],
        "notes": list(d.notes),
    }


# ---------------------------------------------------------------------------
# SARIF.
# ---------------------------------------------------------------------------

_SARIF_LEVELS = {Severity.BREAKING: "error", Severity.COMPATIBLE: "warning", Severity.INFO: "note"}


def _rule_json(kind: ChangeKind) -> dict[str, Any]:
    return {
        "id": kind.name,
        "name": "".join(part.capitalize() for part in kind.name.split("-")),
        "shortDescription": {"text": kind.summary},
        "fullDescription": {"text": f"{kind.summary}. {kind.why}"},
        "help": {"text": kind.why, "markdown": f"**{kind.name}**: {kind.why}"},
        "helpUri": f"{_INFO_URI}#change-kinds",
        "defaultConfiguration": {"level": _SARIF_LEVELS[kind.severity]},
        "properties": {"tags": ["savedmodel", "compatibility", kind.area]},
    }


def diff_sarif(d: Diff, *, tool_version: str, base: Path | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one result per breaking change, located in the new model."""
    kinds = list(KINDS.values())
    index = {k.name: i for i, k in enumerate(kinds)}
    artifact = artifact_location(d.new.file or d.new.model_dir or d.new.path, base)
    results = []
    for change in d.breaking:
        sides = ("" if v is None else spell(v) for v in (change.old, change.new))
        identity = "\x00".join([change.kind, change.path, *sides])
        results.append(
            {
                "ruleId": change.kind,
                "ruleIndex": index[change.kind],
                "level": "error",
                "message": {"text": message_text(change)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": artifact,
                            "region": {"startLine": 1},
                        },
                        "logicalLocations": [{"fullyQualifiedName": change.path, "kind": "member"}],
                    }
                ],
                "partialFingerprints": {
                    "smliteDiff/v1": partial_fingerprint(identity, errors="surrogateescape")
                },
            }
        )
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "smlite diff",
                "version": tool_version,
                "semanticVersion": tool_version,
                "informationUri": _INFO_URI,
                "rules": [_rule_json(k) for k in kinds],
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {"verdict": d.verdict.code, "old": side_text(d.old)},
    }
    return sarif_log(run, base)
