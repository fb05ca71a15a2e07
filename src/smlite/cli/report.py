"""``smlite report``: one self-contained HTML page about a SavedModel, for people and CI artifacts.

Exit status: 0 when the page was written (whatever ``check`` found: the page
shows it), 2 when the model cannot be read or the page cannot be written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from smlite.cli import ExitCode, shown_location
from smlite.cli._options import (
    ModelOrBasePathArgument,
    ServingVersionOption,
    StorageOption,
    VerboseOption,
)

__all__ = ["register", "report"]

_HELP = (
    "Write one self-contained HTML page about a SavedModel: the overview, signature cards, "
    "concrete functions, a picture of the call structure, a treemap of the sizes, the "
    "variables, the findings of check and the fingerprint.  The page loads nothing from the "
    "network.  Needs the report extra: pip install 'smlite[report]'."
)


def register(app: typer.Typer) -> None:
    app.command("report", help=_HELP)(report)


def report(
    path: ModelOrBasePathArgument,
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE", help="The HTML file to write.", show_default=False
        ),
    ],
    version: ServingVersionOption = None,
    top: Annotated[
        int,
        typer.Option("--top", metavar="N", help="Entries in the size lists."),
    ] = 20,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    import smlite
    from smlite import __version__
    from smlite.cli import refuse_write_inside
    from smlite.errors import SmliteError
    from smlite.model.checks import check_path
    from smlite.model.disk import disk_usage
    from smlite.model.fingerprint import read_stored
    from smlite.model.size import size_report
    from smlite.render.cli_text import serving_notice
    from smlite.render.report import report_html

    target = Path(output)
    with smlite.open(path, version=version) as sm:
        refuse_write_inside(target, (shown_location(path, sm), sm.path))
        sys.stderr.write(serving_notice(sm))
        check = check_error = stored = stored_error = None
        try:
            check = check_path(sm.path)
        except SmliteError as e:
            check_error = str(e)
        try:
            stored = read_stored(sm.path)
        except SmliteError as e:
            stored_error = str(e)
        page = report_html(
            sm,
            disk=disk_usage(sm),
            size=size_report(sm, top=top),
            check=check,
            check_error=check_error,
            fingerprint=stored,
            fingerprint_error=stored_error,
            shown_path=shown_location(path, sm),
            tool_version=__version__,
        )
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as e:
        raise SmliteError(f"{target}: cannot write: {e.strerror or e}", path=target) from e
    sys.stderr.write(f"wrote {target} ({len(page.encode('utf-8'))} bytes)\n")
    return ExitCode.OK
