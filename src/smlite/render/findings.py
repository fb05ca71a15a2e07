"""Findings of ``smlite check`` / ``smlite scan`` as rich text, a JSON document and SARIF 2.1.0.

* Text: one block per model, findings grouped by severity (errors first),
  each with its rule, file and location; every name from a file is escaped.
* JSON: ``{"smlite_json": 1, "kind": "check", "models": [...]}``.
* SARIF 2.1.0 as GitHub code scanning reads it: one run, every rule in
  ``tool.driver.rules`` (stable ``ruleId``s with descriptions and default
  levels), one result per finding with the model file as the artifact
  location (relative to the base directory, normally the repository root)
  and the meta graph / function / node path as a logical location.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text

from smlite.model.rules import RULES, Finding, Rule, Severity
from smlite.render.escape import escape, escape_text
from smlite.render.sarif import (
    artifact_location,
    display_path,
    partial_fingerprint,
    sarif_log,
)

if TYPE_CHECKING:
    # Annotations only: `smlite size` renders findings without loading the checks.
    from smlite.model.checks import ModelReport

__all__ = [
    "check_document",
    "finding_json",
    "finding_text",
    "findings_renderable",
    "sorted_findings",
    "sarif_document",
    "summary_line",
]

_INFO_URI = "https://github.com/smlite/smlite"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}
_HEADINGS = {Severity.ERROR: "errors", Severity.WARNING: "warnings", Severity.NOTE: "notes"}


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (
            -f.level,
            str(f.where.file or ""),
            f.where.meta_graph if f.where.meta_graph is not None else -1,
            f.where.function or "",
            f.where.node or "",
            f.rule.id,
        ),
    )


# ---------------------------------------------------------------------------
# Text.
# ---------------------------------------------------------------------------


def summary_line(reports: Sequence[ModelReport], *, strict: bool = False) -> str:
    errors = sum(r.count(Severity.ERROR) for r in reports)
    warnings = sum(r.count(Severity.WARNING) for r in reports)
    failed = sum(1 for r in reports if r.failed(strict=strict))
    models = len(reports)
    return (
        f"{models} model{'s' if models != 1 else ''} checked: {errors} error"
        f"{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
        + (f"; {failed} failed" if failed else "; all passed")
    )


def findings_renderable(
    reports: Sequence[ModelReport], *, strict: bool = False, base: Path | None = None
) -> RenderableType:
    """Rich text: per model a heading, then its findings grouped by severity."""
    parts: list[RenderableType] = []
    for report in reports:
        status = "FAIL" if report.failed(strict=strict) else "ok"
        head = Text()
        head.append(status, style="bold red" if status == "FAIL" else "bold green")
        head.append(f"  {escape(display_path(report.path, base))}", style="bold")
        if report.served_version is not None:
            head.append(f"  (TF Serving serves version {report.served_version})")
        parts.append(head)
        for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTE):
            group = [f for f in sorted_findings(report.findings) if f.level == severity]
            if not group:
                continue
            heading = _HEADINGS[severity] if len(group) != 1 else _HEADINGS[severity][:-1]
            parts.append(Text(f"  {len(group)} {heading}:", style=_STYLES[severity]))
            for finding in group:
                parts.append(finding_text(finding, base))
        for note in report.skipped:
            parts.append(Text(f"  skipped: {escape_text(note)}", style="dim"))
    parts.append(Text(summary_line(reports, strict=strict), style="bold"))
    return Group(*parts)


def finding_text(finding: Finding, base: Path | None) -> Text:
    """One finding: rule, file and location, then the message (every name escaped)."""
    line = Text("    ")
    line.append(f"{finding.rule.id}", style=_STYLES[finding.level])
    line.append(f" {finding.rule.name}", style="dim")
    where = finding.where
    location = display_path(where.file, base)
    if where.offset is not None and where.file is not None:
        location += f" @{where.offset}"
    logical = where.logical
    if location:
        line.append(f"  {escape(location)}")
    if logical:
        line.append(f"  {escape(logical)}", style="magenta")
    line.append("\n      " + escape_text(finding.message))
    return line


# ---------------------------------------------------------------------------
# JSON.
# ---------------------------------------------------------------------------


def finding_json(finding: Finding, base: Path | None) -> dict[str, Any]:
    """One finding as the ``findings`` entries of the check document."""
    where = finding.where
    return {
        "rule": finding.rule.id,
        "name": finding.rule.name,
        "severity": finding.level.label,
        "message": finding.message,
        "file": display_path(where.file, base) or None,
        "meta_graph": where.meta_graph,
        "tags": list(where.tags) if where.tags is not None else None,
        "function": where.function,
        "node": where.node,
        "detail": where.detail,
        "offset": where.offset,
        "location": where.logical or None,
    }


def check_document(
    reports: Sequence[ModelReport],
    *,
    kind: str = "check",
    strict: bool = False,
    base: Path | None = None,
) -> dict[str, Any]:
    """The ``--format json`` document of ``check`` or ``scan``."""
    return {
        "smlite_json": 1,
        "kind": kind,
        "strict": strict,
        "failed": any(r.failed(strict=strict) for r in reports),
        "models": [
            {
                "path": display_path(r.path, base),
                "model_dir": display_path(r.model_dir, base) or None,
                "served_version": r.served_version,
                "failed": r.failed(strict=strict),
                "errors": r.count(Severity.ERROR),
                "warnings": r.count(Severity.WARNING),
                "notes": r.count(Severity.NOTE),
                "policy": str(r.policy.source) if r.policy.source else None,
                "skipped": list(r.skipped),
                "fetched": r.fetched.as_dict() if r.fetched is not None else None,
                "findings": [finding_json(f, base) for f in sorted_findings(r.findings)],
            }
            for r in reports
        ],
    }


# ---------------------------------------------------------------------------
# SARIF.
# ---------------------------------------------------------------------------


def _rule_json(rule: Rule) -> dict[str, Any]:
    description = rule.summary.rstrip(".") + "."
    help_text = rule.help or description
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{description} {rule.help}".strip()},
        "help": {"text": help_text, "markdown": f"**{rule.id} {rule.name}**: {help_text}"},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {
            "tags": [
                "savedmodel",
                "security" if rule.id.startswith(("SML6", "SML8")) else "integrity",
            ],
            "precision": "very-high",
            "problem.severity": {
                Severity.ERROR: "error",
                Severity.WARNING: "warning",
                Severity.NOTE: "recommendation",
            }[rule.severity],
        },
    }


def _result(finding: Finding, index: int, base: Path | None) -> dict[str, Any]:
    where = finding.where
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": artifact_location(where.file, base),
            "region": {"startLine": 1},
        }
    }
    if where.offset is not None:
        location["physicalLocation"]["region"]["byteOffset"] = where.offset
    logical = where.logical
    if logical:
        kind = "function" if where.function is not None or where.node is not None else "module"
        location["logicalLocations"] = [{"fullyQualifiedName": logical, "kind": kind}]
    identity = "\x00".join(
        [finding.rule.id, display_path(where.file, base), logical, finding.message]
    )
    return {
        "ruleId": finding.rule.id,
        "ruleIndex": index,
        "level": _LEVELS[finding.level],
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {
            "smliteFinding/v1": partial_fingerprint(identity, errors="replace")
        },
    }


def sarif_document(
    reports: Sequence[ModelReport], *, tool_version: str, base: Path | None = None
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run holding every finding of ``reports``."""
    rules = list(RULES.values())
    index = {r.id: i for i, r in enumerate(rules)}
    results = [
        _result(f, index[f.rule.id], base) for r in reports for f in sorted_findings(r.findings)
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "smlite",
                "version": tool_version,
                "semanticVersion": tool_version,
                "informationUri": _INFO_URI,
                "rules": [_rule_json(r) for r in rules],
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    return sarif_log(run, base)
