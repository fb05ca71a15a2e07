"""What several commands accept: the output formats and the shared options, declared once.

Every parameter of every command is declared ``name: Annotated[type, typer.X(...)] = default``;
the aliases here are the ones more than one command uses, so a flag is spelled,
typed and explained the same way everywhere.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = [
    "ConfigOption",
    "DiffFormat",
    "FastOption",
    "FindingsFormat",
    "FindingsFormatOption",
    "ModelDirOption",
    "ModelOrBasePathArgument",
    "ModelPathArgument",
    "OpsFromOption",
    "OutputFileOption",
    "OutputFormat",
    "ServingVersionOption",
    "StrictOption",
    "write_output",
]


class OutputFormat(str, Enum):
    """``--format`` of the commands that print a model's facts: their text, or a JSON document."""

    text = "text"
    json = "json"


class FindingsFormat(str, Enum):
    """``--format`` of the commands that report findings (``check``, ``scan``)."""

    text = "text"
    json = "json"
    sarif = "sarif"


class DiffFormat(str, Enum):
    """``--format`` of ``diff``: the findings formats plus Markdown for a pull-request comment."""

    text = "text"
    json = "json"
    sarif = "sarif"
    markdown = "markdown"


ModelPathArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="[PATH]", help="SavedModel directory (same as --dir).", show_default=False
    ),
]
ModelOrBasePathArgument = Annotated[
    str, typer.Argument(metavar="PATH", help="SavedModel directory or TF Serving base path.")
]
ModelDirOption = Annotated[
    str | None,
    typer.Option(
        "--dir",
        metavar="DIR",
        help="Directory containing the SavedModel (or a TF Serving base path).",
        show_default=False,
    ),
]
ServingVersionOption = Annotated[
    int | None,
    typer.Option(
        "--version",
        metavar="N",
        help="For a TF Serving base path: the version to read (default: the highest).",
        show_default=False,
    ),
]

FindingsFormatOption = Annotated[
    FindingsFormat,
    typer.Option("--format", help="text, json, or sarif (SARIF 2.1.0 for code scanning)."),
]
OutputFileOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        show_default=False,
        help="Write the report to FILE instead of stdout.",
    ),
]
StrictOption = Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit status 1).")]
FastOption = Annotated[bool, typer.Option("--fast", help="Skip the checksums of variable data.")]
ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        metavar="FILE",
        show_default=False,
        help="Policy file (a pyproject.toml with [tool.smlite], or a TOML file of the same keys).",
    ),
]
OpsFromOption = Annotated[
    str | None,
    typer.Option(
        "--ops-from",
        metavar="FILE",
        show_default=False,
        help="Op names the serving runtime registers, one per line (default: TensorFlow 2.21's).",
    ),
]


def write_output(content: str | RenderableType, output: str | None) -> None:
    """Write a document (text) or a rich renderable to ``output``, or to stdout when None.

    A renderable written to a file is rendered without colour codes.  The caller
    has already refused an ``output`` inside a model directory.
    """
    if isinstance(content, str):
        if output is None:
            sys.stdout.write(content)
        else:
            with open(output, "w", encoding="utf-8") as f:
                f.write(content)
        return
    from rich.console import Console

    if output is None:
        Console(highlight=False, soft_wrap=True).print(content)
    else:
        with open(output, "w", encoding="utf-8") as f:
            Console(file=f, highlight=False, soft_wrap=True, no_color=True).print(content)
