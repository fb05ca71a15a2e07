"""``smlite summary``: a human overview of a SavedModel (or a JSON document)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from smlite.cli import ExitCode
from smlite.cli._options import (
    ModelOrBasePathArgument,
    OutputFormat,
    ServingVersionOption,
    StorageOption,
    VerboseOption,
)

__all__ = ["register", "summary"]

_HELP = (
    "A human overview of a SavedModel: tag-sets, signatures as tables, graph and variable "
    "counts, assets, file sizes and, for a TF Serving base path, the version served."
)


def register(app: typer.Typer) -> None:
    app.command("summary", help=_HELP)(summary)


def summary(
    path: ModelOrBasePathArgument,
    version: ServingVersionOption = None,
    format_: Annotated[
        OutputFormat,
        typer.Option("--format", help="Output format: a rich overview, or a JSON document."),
    ] = OutputFormat.text,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    import smlite
    from smlite.cli._console import stdout_console
    from smlite.model.disk import disk_usage
    from smlite.render.cli_text import serving_notice

    with smlite.open(path, version=version) as sm:
        sys.stderr.write(serving_notice(sm))
        disk = disk_usage(sm)
        if format_ is OutputFormat.json:
            from smlite.render.json_doc import dumps
            from smlite.render.summary import summary_json

            sys.stdout.write(dumps(summary_json(sm, disk)))
        else:
            from smlite.render.summary import summary_renderable

            stdout_console().print(summary_renderable(sm, disk))
    return ExitCode.OK
