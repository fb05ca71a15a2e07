"""``smlite diff``: compare two exports and say whether the change breaks clients.

Thin on purpose: parse the flags, call :func:`smlite.model.diff.diff`, hand
the result to :mod:`smlite.render.diff`.  Exit status: 0 nothing that
``--fail-on`` counts changed, 1 it did, 2 the two sides could not be compared.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from smlite.cli import ExitCode, refuse_write_inside
from smlite.cli._options import (
    ConfigOption,
    DiffFormat,
    OpsFromOption,
    OutputFileOption,
    StorageOption,
    VerboseOption,
    write_output,
)

__all__ = ["diff", "register"]


class FailOn(str, Enum):
    """What makes ``diff`` exit 1."""

    breaking = "breaking"
    any = "any"
    never = "never"


_HELP = (
    "Compare two SavedModels and classify every change as breaking, compatible or info for "
    "the clients of the old one (TF Serving, Session API, tf.saved_model.load).\n\n"
    "OLD and NEW are SavedModel directories, saved_model.pb(txt) files, TF Serving base paths "
    "(--against picks OLD's version, --version NEW's) or checkpoint prefixes (variables "
    "only).  With one path, a TF Serving base path: the served (highest) version against "
    "the one before.  Variable values are compared by the checksums in the index; --values "
    "reads them and says by how much.  Policy: [tool.smlite.diff] in the nearest "
    "pyproject.toml above NEW, or --config.  Exit status: 0 nothing breaking (see "
    "--fail-on), 1 breaking changes, 2 smlite could not compare."
)


def register(app: typer.Typer) -> None:
    app.command("diff", help=_HELP)(diff)


def diff(
    old: Annotated[
        str, typer.Argument(metavar="OLD", help="The old model, or a TF Serving base path.")
    ],
    new: Annotated[
        str | None, typer.Argument(metavar="NEW", show_default=False, help="The new model.")
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            metavar="N",
            show_default=False,
            help="The new side's TF Serving version (default: the highest).",
        ),
    ] = None,
    against: Annotated[
        int | None,
        typer.Option(
            "--against",
            metavar="N",
            show_default=False,
            help="The old side's TF Serving version (default: the highest; with one path, the "
            "version before the new one).",
        ),
    ] = None,
    tag_set: Annotated[
        str | None,
        typer.Option(
            "--tag_set",
            metavar="TAGS",
            show_default=False,
            help="Compare only this meta graph (default: every tag-set, matched by tags).",
        ),
    ] = None,
    values: Annotated[
        bool,
        typer.Option("--values", help="Read changed variables and report how much they changed."),
    ] = False,
    format_: Annotated[
        DiffFormat,
        typer.Option("--format", help="text, json, sarif or markdown (a PR comment)."),
    ] = DiffFormat.text,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            show_default=False,
            help="Exit 1 on breaking changes (default), on any change, or never.",
        ),
    ] = None,
    output: OutputFileOption = None,
    config: ConfigOption = None,
    ops_from: OpsFromOption = None,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    from smlite import __version__
    from smlite.model.diff import diff as compare
    from smlite.model.policy import load_policy
    from smlite.model.scan import OpRegistry
    from smlite.render.json_doc import dumps

    result = compare(
        old,
        new,
        version=version,
        against=against,
        tag_set=tag_set,
        values=values,
        policy=load_policy(config) if config is not None else None,
        registry=OpRegistry.from_file(ops_from) if ops_from is not None else None,
    )
    chosen = fail_on.value if fail_on is not None else result.fail_on
    base = Path.cwd()
    if output is not None:
        sides = (result.old, result.new)
        refuse_write_inside(Path(output), (p for s in sides for p in (s.model_dir, s.path)))
    if format_ is DiffFormat.text:
        from smlite.render.diff import diff_renderable

        write_output(diff_renderable(result, fail_on=chosen, base=base), output)
    elif format_ is DiffFormat.markdown:
        from smlite.render.diff_markdown import diff_markdown

        write_output(diff_markdown(result, fail_on=chosen), output)
    elif format_ is DiffFormat.json:
        from smlite.render.diff import diff_document

        write_output(dumps(diff_document(result, fail_on=chosen, base=base)), output)
    else:
        from smlite.render.diff import diff_sarif

        write_output(dumps(diff_sarif(result, tool_version=__version__, base=base)), output)
    return ExitCode.FINDINGS if result.failed(chosen) else ExitCode.OK
