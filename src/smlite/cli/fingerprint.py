"""``smlite fingerprint``: recompute the hashes of ``fingerprint.pb`` and compare.

Exit status: 0 when every stored hash is what the writing TensorFlow release
would have stored (or the model has no ``fingerprint.pb``, in which case the
values TensorFlow would write are shown, or its hashes cannot be compared),
1 when a stored hash differs, 2 when the model cannot be read.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from smlite.cli import ExitCode
from smlite.cli._options import OutputFormat, ServingVersionOption

__all__ = ["fingerprint", "register"]

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
    path: Annotated[str, typer.Argument(metavar="PATH", help="SavedModel directory.")],
    version: ServingVersionOption = None,
    format_: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.text,
) -> ExitCode:
    from pathlib import Path

    import smlite
    from smlite.model.fingerprint import fingerprint as compute
    from smlite.render.json_doc import dumps

    with smlite.open(path, version=version) as sm:
        fp = compute(sm)
        shown = Path(path) if sm.serving is None else sm.path
    if format_ is OutputFormat.json:
        from smlite.render.fingerprint import fingerprint_document

        sys.stdout.write(dumps(fingerprint_document(fp, shown_path=shown)))
    else:
        from rich.console import Console

        from smlite.render.fingerprint import fingerprint_renderable

        Console(highlight=False, soft_wrap=True).print(fingerprint_renderable(fp, shown_path=shown))
    return ExitCode.FINDINGS if fp.status == "mismatch" else ExitCode.OK
