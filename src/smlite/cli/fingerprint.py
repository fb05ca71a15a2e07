"""``smlite fingerprint``: recompute the hashes of ``fingerprint.pb`` and compare.

Exit status: 0 when every stored hash is what the writing TensorFlow release
would have stored (or the model has no ``fingerprint.pb``, in which case the
values TensorFlow would write are shown, or its hashes cannot be compared),
1 when a stored hash differs, 2 when the model cannot be read.
"""

from __future__ import annotations

import sys
from enum import Enum

import typer

__all__ = ["register"]


class _Format(str, Enum):
    text = "text"
    json = "json"


_HELP = (
    "Recompute a SavedModel's fingerprint (fingerprint.pb) and compare it with the stored one.\n\n"
    "Shows every hash TensorFlow stores (saved_model_checksum, graph_def_program_hash, "
    "signature_def_hash, saved_object_graph_hash, checkpoint_hash), stored and recomputed with "
    "the formula of the TensorFlow release that wrote the model, which algorithm matched, and "
    "the singleprint.  Models without fingerprint.pb (TF1 exports) get the values TensorFlow "
    "2.21 would write.  Exit status 1 when a stored hash differs."
)


def register(app: typer.Typer) -> None:
    app.command("fingerprint", help=_HELP)(fingerprint)


def fingerprint(
    path: str = typer.Argument(..., metavar="PATH", help="SavedModel directory."),
    version: int | None = typer.Option(
        None,
        "--version",
        metavar="N",
        show_default=False,
        help="For a TF Serving base path: the version to read (default: the highest).",
    ),
    format_: _Format = typer.Option(_Format.text, "--format", help="text or json."),  # noqa: B008
) -> int:
    from pathlib import Path

    import smlite
    from smlite.model.fingerprint import fingerprint as compute
    from smlite.render.json_doc import dumps

    with smlite.open(path, version=version) as sm:
        fp = compute(sm)
        shown = Path(path) if sm.serving is None else sm.path
    if format_ is _Format.json:
        from smlite.render.fingerprint import fingerprint_document

        sys.stdout.write(dumps(fingerprint_document(fp, shown_path=shown)))
    else:
        from rich.console import Console

        from smlite.render.fingerprint import fingerprint_renderable

        Console(highlight=False, soft_wrap=True).print(fingerprint_renderable(fp, shown_path=shown))
    return 1 if fp.status == "mismatch" else 0
