"""``smlite fingerprint`` output: stored vs recomputed hashes, as a table or a JSON document."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from smlite.errors import PathOrUrl
from smlite.model.fingerprint import FIELDS, Fingerprint
from smlite.model.fingerprint_releases import release_text
from smlite.render.escape import escape, escape_text

__all__ = ["fingerprint_document", "fingerprint_renderable"]


def fingerprint_renderable(
    fp: Fingerprint, *, shown_path: PathOrUrl | None = None
) -> RenderableType:
    path = escape(str(shown_path if shown_path is not None else fp.model_dir))
    stored = fp.stored
    recomputed = fp.recomputed or fp.computed
    if stored is None:
        head = Text(f"{path}: {escape_text(fp.reason)}")
    else:
        head = Text(
            f"{path}: fingerprint.pb (version.producer {stored.producer}, "
            f"uuid {escape(stored.uuid) or '-'}) written by {fp.writer}"
        )
    parts: list[RenderableType] = [head]
    if stored is None and recomputed is not None:
        parts.append(Text("values TensorFlow 2.21 would write:"))
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("field")
    if stored is not None:
        table.add_column("stored", justify="right")
    if recomputed is not None:
        table.add_column("recomputed", justify="right")
    if fp.fields:
        table.add_column("")
    for i, name in enumerate(FIELDS):
        row = [name]
        if stored is not None:
            row.append(str(getattr(stored.values, name)))
        if recomputed is not None:
            row.append(str(getattr(recomputed, name)))
        cells: list[str | Text] = list(row)
        if fp.fields:
            ok = fp.fields[i].matches
            cells.append(Text("ok", style="green") if ok else Text("MISMATCH", style="bold red"))
        table.add_row(*cells)
    if stored is not None or recomputed is not None:
        parts.append(table)
    if recomputed is not None:
        parts.append(Text(f"singleprint: {recomputed.singleprint}"))
    if fp.farmhash:
        native = "native" if fp.farmhash != "python" else "pure Python, slow on big models"
        parts.append(Text(f"hashed with: {fp.farmhash} ({native})", style="dim"))
    for problem in fp.problems:
        parts.append(Text(f"note: {escape_text(problem)}", style="yellow"))
    formula = fp.formula.name if fp.formula is not None else ""
    if fp.fields:
        used = ", ".join(f.algorithm or "none matched" for f in fp.fields)
        parts.append(Text(f"algorithms ({formula} formula): {used}"))
    if fp.status == "match":
        parts.append(Text(f"all hashes match the {formula} formula", style="bold green"))
    elif fp.status == "mismatch":
        parts.append(
            Text(
                f"{len(fp.mismatches)} hash(es) differ from the {formula} formula of "
                f"{fp.writer}: the files changed after export or come from different exports",
                style="bold red",
            )
        )
    elif fp.status == "not-comparable":
        parts.append(Text(f"not compared: {escape_text(fp.reason)}", style="yellow"))
    return Group(*parts)


def fingerprint_document(fp: Fingerprint, *, shown_path: PathOrUrl | None = None) -> dict[str, Any]:
    stored = fp.stored
    computed = fp.computed
    return {
        "smlite_json": 1,
        "kind": "fingerprint",
        "path": str(shown_path if shown_path is not None else fp.model_dir),
        "status": fp.status,
        "reason": fp.reason or None,
        "writer": {
            "tensorflow_version": fp.tensorflow_version,
            "release": None if fp.release is None else release_text(fp.release),
        },
        "formula": None if fp.formula is None else fp.formula.name,
        "expected": fp.expected if fp.status == "absent" else None,
        "stored": None
        if stored is None
        else {
            **stored.values.as_dict(),
            "singleprint": stored.values.singleprint,
            "version_producer": stored.producer,
            "uuid": stored.uuid,
        },
        "computed": None
        if computed is None
        else {**computed.as_dict(), "singleprint": computed.singleprint},
        "fields": [
            {"name": f.name, "stored": f.stored, "recomputed": f.computed, "algorithm": f.algorithm}
            for f in fp.fields
        ],
        "matches": fp.matches if fp.status in ("match", "mismatch") else None,
        "mismatches": list(fp.mismatches),
        "problems": list(fp.problems),
        "farmhash": fp.farmhash,
    }
