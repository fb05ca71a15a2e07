"""``smlite size``: where the bytes of a SavedModel go, and its headroom to protobuf's 2 GiB.

Exit status: 0 when the sizes were measured (size findings are shown but do
not fail: ``smlite check`` is the gate), 2 when the model cannot be read.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from smlite.cli import ExitCode, shown_location
from smlite.cli._options import (
    ModelOrBasePathArgument,
    OutputFormat,
    ServingVersionOption,
    StorageOption,
    VerboseOption,
)

__all__ = ["register", "size"]

_HELP = (
    "Where the bytes of a SavedModel go: saved_model.pb attributed exactly (per meta graph: "
    "graph nodes, each function, object graph, signatures, stripped op list; the largest "
    "constants), the other files, the variables by layer, and the headroom to protobuf's "
    "2 GiB limit.  --top N sets how many entries each list shows."
)


def register(app: typer.Typer) -> None:
    app.command("size", help=_HELP)(size)


def size(
    path: ModelOrBasePathArgument,
    version: ServingVersionOption = None,
    top: Annotated[
        int,
        typer.Option("--top", metavar="N", help="Entries shown in each list (0: totals only)."),
    ] = 10,
    format_: Annotated[
        OutputFormat,
        typer.Option("--format", help="Output format: a rich tree, or a JSON document."),
    ] = OutputFormat.text,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    import smlite
    from smlite.cli._console import stdout_console
    from smlite.model.size import size_findings, size_report
    from smlite.render.cli_text import serving_notice

    with smlite.open(path, version=version) as sm:
        sys.stderr.write(serving_notice(sm))
        report = size_report(sm, top=top)
        shown = shown_location(path, sm)
    findings = size_findings(report)
    if format_ is OutputFormat.json:
        from smlite.render.json_doc import dumps
        from smlite.render.size import size_document

        sys.stdout.write(dumps(size_document(report, findings, shown_path=shown)))
    else:
        from smlite.render.size import size_renderable

        stdout_console().print(size_renderable(report, findings, shown_path=shown))
    return ExitCode.OK
