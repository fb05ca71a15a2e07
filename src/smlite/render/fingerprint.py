"""``smlite fingerprint`` output: stored vs recomputed hashes, as a table or a JSON document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from smlite.model.fingerprint import FIELDS, Fingerprint
from smlite.render.escape import escape, escape_text

__all__ = ["fingerprint_document", "fingerprint_renderable"]


def fingerprint_renderable(fp: Fingerprint, *, shown_path: Path | None = None) -> RenderableType:
    path = escape(str(shown_path if shown_path is not None else fp.model_dir))
    stored = fp.stored
    if stored is None:
        head = Text(f"{path}: no fingerprint.pb; values TensorFlow 2.21 would write:")
    else:
        head = Text(
            f"{path}: fingerprint.pb (version.producer {stored.producer}, "
            f"uuid {escape(stored.uuid) or '-'})"
        )
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("field")
    if stored is not None:
        table.add_column("stored", justify="right")
    table.add_column("recomputed", justify="right")
    if stored is not None:
        table.add_column("")
    for name in FIELDS:
        computed = str(getattr(fp.computed, name))
        if stored is None:
            table.add_row(name, computed)
            continue
        value = str(getattr(stored.values, name))
        ok = value == computed
        table.add_row(
            name,
            value,
            computed,
            Text("ok", style="green") if ok else Text("MISMATCH", style="bold red"),
        )
    parts: list[RenderableType] = [head, table]
    parts.append(Text(f"singleprint: {fp.computed.singleprint}"))
    if fp.farmhash:
        native = "native" if fp.farmhash != "python" else "pure Python, slow on big models"
        parts.append(Text(f"hashed with: {fp.farmhash} ({native})", style="dim"))
    for problem in fp.problems:
        parts.append(Text(f"note: {escape_text(problem)}", style="yellow"))
    if stored is not None:
        if fp.matches:
            parts.append(Text("all hashes match", style="bold green"))
        else:
            parts.append(
                Text(
                    f"{len(fp.mismatches)} hash(es) differ: the files changed after export "
                    "or come from different exports",
                    style="bold red",
                )
            )
    return Group(*parts)


def fingerprint_document(fp: Fingerprint, *, shown_path: Path | None = None) -> dict[str, Any]:
    stored = fp.stored
    return {
        "smlite_json": 1,
        "kind": "fingerprint",
        "path": str(shown_path if shown_path is not None else fp.model_dir),
        "stored": None
        if stored is None
        else {
            **stored.values.as_dict(),
            "singleprint": stored.values.singleprint,
            "version_producer": stored.producer,
            "uuid": stored.uuid,
        },
        "computed": {**fp.computed.as_dict(), "singleprint": fp.computed.singleprint},
        "matches": fp.matches if stored is not None else None,
        "mismatches": list(fp.mismatches),
        "problems": list(fp.problems),
        "farmhash": fp.farmhash,
    }
