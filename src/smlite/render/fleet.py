"""Fleet audit results as a stream of lines, a progress bar, a summary table, JSON Lines and SARIF.

* Text: one line per model as it completes (``ok``/``FAIL``/``ERROR``, the
  path, the failing findings under it), a transient progress bar with counts
  and throughput on stderr, and a summary table at the end.
* ``--format jsonl``: one JSON object per model, written as it completes
  (the ``check --format json`` model entry, plus status, timing and what was
  fetched).
* ``--format json``: one document holding every model object and the summary.
* SARIF: one run for the whole fleet; a model that could not be audited is a
  tool execution notification, so code scanning shows it instead of a clean
  bill.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from smlite.model.rules import Severity
from smlite.model.units import format_bytes
from smlite.render.escape import escape, escape_text
from smlite.render.findings import check_document, finding_text, sarif_document

if TYPE_CHECKING:
    from rich.console import Console

    from smlite.model.fleet import ModelResult

__all__ = [
    "FleetProgress",
    "fleet_document",
    "fleet_sarif",
    "jsonl_line",
    "result_json",
    "result_text",
    "summary",
    "summary_json",
    "summary_renderable",
]

_STATUS_STYLE = {"ok": "bold green", "findings": "bold red", "error": "bold magenta"}
_STATUS_WORD = {"ok": "ok", "findings": "FAIL", "error": "ERROR"}


def _where(path: str, base: Path | None) -> str:
    if base is not None and "://" not in path:
        try:
            return Path(path).resolve().relative_to(base.resolve()).as_posix() or "."
        except ValueError:
            pass
    return path


# -- one model -------------------------------------------------------------------------


def result_text(result: ModelResult, *, strict: bool = False, base: Path | None = None) -> Text:
    """The line (and failing findings) printed when a model completes."""
    status = result.status
    line = Text()
    line.append(f"{_STATUS_WORD[status]:<5}", style=_STATUS_STYLE[status])
    line.append(f" {escape(_where(result.target.path, base))}", style="bold")
    if result.target.kind == "serving-base" and result.report is not None:
        line.append(f"  (TF Serving base, serves version {result.report.served_version})")
    if result.error is not None:
        line.append(f"\n      {escape_text(result.error)}", style="magenta")
    if result.report is not None:
        floor = Severity.WARNING if strict or status == "findings" else Severity.ERROR
        for finding in result.report.findings:
            if finding.level >= floor:
                line.append("\n")
                line.append_text(finding_text(finding, base))
    if result.fingerprint is not None and result.fingerprint.mismatches:
        line.append(
            f"\n      fingerprint differs: {', '.join(result.fingerprint.mismatches)}", style="red"
        )
    return line


def result_json(
    result: ModelResult, *, strict: bool = False, base: Path | None = None
) -> dict[str, Any]:
    """The ``--format jsonl`` object of one model."""
    doc: dict[str, Any] = {
        "smlite_json": 1,
        "kind": "fleet-model",
        "command": result.command,
        "path": _where(result.target.path, base),
        "target": result.target.kind,
        "root": result.target.root,
        "status": result.status,
        "error": result.error,
        "reason": result.reason,
        "seconds": round(result.seconds, 6),
        "fetched": result.fetched.as_dict(),
        "size": result.target.size,
        "worker": result.worker,
    }
    if result.report is not None:
        entry = check_document([result.report], kind=result.command, strict=strict, base=base)
        doc["report"] = entry["models"][0]
    if result.fingerprint is not None:
        from smlite.render.fingerprint import fingerprint_document

        fp = fingerprint_document(result.fingerprint)
        doc["fingerprint"] = {k: v for k, v in fp.items() if k not in ("smlite_json", "kind")}
    return doc


# -- the whole fleet -------------------------------------------------------------------


def summary(results: Sequence[ModelResult], elapsed: float) -> dict[str, Any]:
    """Counts, throughput and the most frequent failing rules."""
    statuses = Counter(r.status for r in results)
    rules = Counter(
        f.rule.id
        for r in results
        if r.report is not None
        for f in r.report.findings
        if f.level >= Severity.WARNING
    )
    size = sum(r.target.size or 0 for r in results)
    fetched = sum(r.fetched.bytes for r in results)
    return {
        "models": len(results),
        "ok": statuses["ok"],
        "findings": statuses["findings"],
        "errors": statuses["error"],
        "seconds": round(elapsed, 3),
        "models_per_second": round(len(results) / elapsed, 2) if elapsed > 0 else None,
        "size_bytes": size,
        "size_bytes_per_second": round(size / elapsed) if elapsed > 0 else None,
        "fetched_bytes": fetched,
        "requests": sum(r.fetched.requests for r in results),
        "list_requests": sum(r.fetched.list_requests for r in results),
        "retries": sum(r.fetched.retries for r in results),
        "top_rules": dict(rules.most_common(10)),
        "workers": len({r.worker for r in results if r.worker}),
    }


def summary_json(results: Sequence[ModelResult], elapsed: float) -> dict[str, Any]:
    """The last ``--format jsonl`` record: the summary of the whole fleet."""
    return {"smlite_json": 1, "kind": "fleet-summary", **summary(results, elapsed)}


def summary_renderable(results: Sequence[ModelResult], elapsed: float) -> RenderableType:
    s = summary(results, elapsed)
    table = Table(title="fleet summary", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("models", str(s["models"]))
    table.add_row("ok", Text(str(s["ok"]), style="green"))
    table.add_row("with findings", Text(str(s["findings"]), style="red" if s["findings"] else ""))
    table.add_row("not audited", Text(str(s["errors"]), style="magenta" if s["errors"] else ""))
    rate = s["models_per_second"]
    table.add_row("time", f"{elapsed:.1f} s" + (f"  ({rate:g} models/s)" if rate else ""))
    if s["size_bytes"]:
        per_s = s["size_bytes_per_second"]
        rate_text = f"  ({format_bytes(per_s)}/s)" if per_s else ""
        table.add_row("model bytes", format_bytes(s["size_bytes"]) + rate_text)
    if s["requests"] or s["list_requests"]:
        retries = f", {s['retries']} retries" if s["retries"] else ""
        table.add_row(
            "fetched",
            f"{format_bytes(s['fetched_bytes'])} in {s['requests']} reads "
            f"+ {s['list_requests']} listings{retries}",
        )
    table.add_row("workers", str(s["workers"]))
    parts: list[RenderableType] = [table]
    if s["top_rules"]:
        rules = ", ".join(f"{rule_id} x{n}" for rule_id, n in s["top_rules"].items())
        parts.append(Text(f"most frequent: {rules}"))
    return Group(*parts)


def fleet_document(
    results: Sequence[ModelResult],
    elapsed: float,
    *,
    strict: bool = False,
    base: Path | None = None,
) -> dict[str, Any]:
    """The ``--format json`` document of a fleet audit (models sorted by path)."""
    ordered = sorted(results, key=lambda r: r.target.path)
    return {
        "smlite_json": 1,
        "kind": "fleet",
        "command": ordered[0].command if ordered else None,
        "strict": strict,
        "failed": any(r.failed for r in ordered),
        "summary": summary(ordered, elapsed),
        "models": [result_json(r, strict=strict, base=base) for r in ordered],
    }


def fleet_sarif(
    results: Sequence[ModelResult], *, tool_version: str, base: Path | None = None
) -> dict[str, Any]:
    """One SARIF run for the fleet; models that could not be audited are notifications."""
    ordered = sorted(results, key=lambda r: r.target.path)
    doc = sarif_document(
        [r.report for r in ordered if r.report is not None], tool_version=tool_version, base=base
    )
    errors = [r for r in ordered if r.error is not None]
    doc["runs"][0]["invocations"] = [
        {
            "executionSuccessful": not errors,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {"text": f"{r.target.path}: {r.error}"},
                    "descriptor": {"id": r.reason or "error"},
                }
                for r in errors
            ],
        }
    ]
    return doc


def jsonl_line(doc: dict[str, Any]) -> str:
    """One JSON Lines record (compact, one line, keys sorted)."""
    # ASCII only (json's default), as every JSON smlite writes: names from files
    # cannot reach a terminal raw.
    return json.dumps(doc, sort_keys=True, allow_nan=False, separators=(",", ":")) + "\n"


# -- progress ----------------------------------------------------------------------------


class FleetProgress:
    """A transient progress bar: models done of total, their statuses, models/s and bytes/s."""

    def __init__(self, total: int, console: Console, *, enabled: bool = True) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._started = time.perf_counter()
        self._counts = Counter[str]()
        self._bytes = 0
        self._progress = Progress(
            TextColumn("auditing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not enabled,
        )
        self._task = self._progress.add_task("fleet", total=total, counts="", rate="")

    def __enter__(self) -> FleetProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def advance(self, result: ModelResult) -> None:
        self._counts[result.status] += 1
        self._bytes += result.target.size or 0
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        done = sum(self._counts.values())
        counts = ", ".join(f"{n} {_STATUS_WORD[k]}" for k, n in sorted(self._counts.items()))
        rate = f"{done / elapsed:.1f} models/s, {format_bytes(int(self._bytes / elapsed))}/s"
        self._progress.update(self._task, advance=1, counts=counts, rate=rate)
