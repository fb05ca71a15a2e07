"""What several commands accept: the output formats and the shared options, declared once.

Every parameter of every command is declared ``name: Annotated[type, typer.X(...)] = default``;
the aliases here are the ones more than one command uses, so a flag is spelled,
typed and explained the same way everywhere.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = [
    "ConfigOption",
    "DaskOption",
    "DiffFormat",
    "FastOption",
    "FindingsFormat",
    "FindingsFormatOption",
    "FingerprintFormat",
    "JobsOption",
    "ModelDirOption",
    "ModelOrBasePathArgument",
    "ModelPathArgument",
    "OpsFromOption",
    "OutputFileOption",
    "OutputFormat",
    "RecursiveOption",
    "ServingVersionOption",
    "StorageOption",
    "StrictOption",
    "VerboseOption",
    "verbose_requested",
    "write_output",
]


class OutputFormat(str, Enum):
    """``--format`` of the commands that print a model's facts: their text, or a JSON document."""

    text = "text"
    json = "json"


class FindingsFormat(str, Enum):
    """``--format`` of the commands that report findings (``check``, ``scan``, a fleet's
    ``fingerprint``): JSON Lines is one object per model, written as each completes."""

    text = "text"
    json = "json"
    jsonl = "jsonl"
    sarif = "sarif"


class FingerprintFormat(str, Enum):
    """``--format`` of ``fingerprint``: its text or JSON, or (a fleet) one object per model."""

    text = "text"
    json = "json"
    jsonl = "jsonl"


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
    typer.Option(
        "--format",
        help="text, json, jsonl (one object per model, as each completes) or sarif "
        "(SARIF 2.1.0 for code scanning, one run).",
    ),
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


# -- models where they live, and fleets of them ------------------------------------------


def _use_storage_options(values: list[str] | None) -> None:
    if values:
        from smlite.formats import storage

        storage.configure(storage.parse_storage_options(values))


def _ask_verbose(value: bool) -> None:
    _VERBOSE.set(value)


_VERBOSE: ContextVar[bool] = ContextVar("smlite_cli_verbose", default=False)


def verbose_requested() -> bool:
    """Whether this run was given ``--verbose`` (the CLI's boundary then says what was read)."""
    return _VERBOSE.get()


StorageOption = Annotated[
    list[str] | None,
    typer.Option(
        "--storage-option",
        metavar="KEY=VALUE",
        show_default=False,
        expose_value=False,
        callback=_use_storage_options,
        help="For models behind URLs (s3://, gs://, az://, http(s)://, ...): an option of "
        "the fsspec filesystem, e.g. anon=true or client_kwargs.endpoint_url=http://host:9000 "
        "(a dotted key nests; a JSON value is taken as such).  Repeatable.",
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose",
        expose_value=False,
        callback=_ask_verbose,
        help="Say on stderr how many bytes, read requests and listings the command used.",
    ),
]
RecursiveOption = Annotated[
    bool,
    typer.Option(
        "--recursive",
        "-r",
        help="Audit every SavedModel and TF Serving base path under each ROOT (folders or "
        "URL prefixes), each once, in parallel.",
    ),
]
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        metavar="N",
        min=1,
        show_default=False,
        help="A fleet audit's local worker processes (default: the number of CPUs).",
    ),
]
DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask",
        metavar="ADDRESS",
        show_default=False,
        help="Run a fleet audit's models as tasks on the Dask cluster at ADDRESS "
        "(tcp://scheduler:8786); pip install 'smlite[fleet]'.",
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
