"""``smlite summary``: a human overview of a SavedModel (or a JSON document)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from smlite.cli import ExitCode
from smlite.cli._options import OutputFormat, ServingVersionOption, StorageOption, VerboseOption

if TYPE_CHECKING:
    from rich.console import Console

    from smlite.formats.storage import AnyPath
    from smlite.model.saved_model import SavedModel
    from smlite.render.summary import DirUsage, DiskUsage

__all__ = ["register", "summary"]

_HELP = (
    "A human overview of a SavedModel: tag-sets, signatures as tables, graph and variable "
    "counts, assets, file sizes and, for a TF Serving base path, the version served."
)


def register(app: typer.Typer) -> None:
    app.command("summary", help=_HELP)(summary)


def summary(
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="SavedModel directory or TF Serving base path.")
    ],
    version: ServingVersionOption = None,
    format_: Annotated[
        OutputFormat,
        typer.Option("--format", help="Output format: a rich overview, or a JSON document."),
    ] = OutputFormat.text,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    import smlite
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

            _console().print(summary_renderable(sm, disk))
    return ExitCode.OK


_PIPE_WIDTH = 1000


def _console() -> Console:
    """A console that styles only a terminal: no colour or control codes in a pipe."""
    from rich.console import Console

    out = sys.stdout
    tty = out.isatty()
    # Without a terminal rich would wrap at 80 columns; in logs and pipes lines
    # are kept whole instead (tables take only the width their cells need).
    width = None if tty or os.environ.get("COLUMNS") else _PIPE_WIDTH
    return Console(
        file=out,
        force_terminal=tty,
        color_system="auto" if tty else None,
        no_color=not tty,
        highlight=False,
        emoji=False,
        markup=False,
        width=width,
        soft_wrap=False,
    )


def _dir_usage(folder: AnyPath) -> DirUsage | None:
    from smlite.formats import storage
    from smlite.render.summary import DirUsage

    if not folder.is_dir():
        return None
    if not isinstance(folder, Path):  # a URL: one listing per folder, sizes included
        sizes = [storage.entry_size(e) for e in storage.walk(folder) if e.kind == "file"]
        return DirUsage(len(sizes), sum(sizes))
    files = size = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            files += 1
            size += st.st_size
    return DirUsage(files, size)


def disk_usage(sm: SavedModel) -> DiskUsage:
    """Measure the parts of the model directory (read-only: stat calls only)."""
    from smlite.formats import storage
    from smlite.render.summary import DiskUsage

    model_dir = sm.path
    return DiskUsage(
        saved_model_file=storage.size(sm.file),
        variables=_dir_usage(model_dir / "variables"),
        assets=_dir_usage(model_dir / "assets"),
        assets_extra=_dir_usage(model_dir / "assets.extra"),
        fingerprint=(model_dir / "fingerprint.pb").is_file(),
    )
