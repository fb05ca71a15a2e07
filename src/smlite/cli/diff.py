"""``smlite diff``: compare two exports and say whether the change breaks clients.

Thin on purpose: parse the flags, call :func:`smlite.model.diff.diff`, hand
the result to :mod:`smlite.render.diff`.  Exit status: 0 nothing that
``--fail-on`` counts changed, 1 it did, 2 the two sides could not be compared.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

__all__ = ["diff", "register"]


class DiffFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    markdown = "markdown"


class FailOn(str, Enum):
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
    old: str = typer.Argument(..., metavar="OLD", help="The old model, or a TF Serving base path."),
    new: str | None = typer.Argument(
        None, metavar="NEW", show_default=False, help="The new model."
    ),
    version: int | None = typer.Option(
        None, "--version", metavar="N", show_default=False,
        help="The new side's TF Serving version (default: the highest).",
    ),
    against: int | None = typer.Option(
        None, "--against", metavar="N", show_default=False,
        help="The old side's TF Serving version (default: the highest; with one path, the "
        "version before the new one).",
    ),
    tag_set: str | None = typer.Option(
        None, "--tag_set", metavar="TAGS", show_default=False,
        help="Compare only this meta graph (default: every tag-set, matched by tags).",
    ),
    values: bool = typer.Option(
        False, "--values", help="Read changed variables and report how much they changed."
    ),
    format_: DiffFormat = typer.Option(  # noqa: B008 (Typer declares parameters this way)
        DiffFormat.text, "--format", help="text, json, sarif or markdown (a PR comment)."
    ),
    fail_on: FailOn | None = typer.Option(  # noqa: B008
        None, "--fail-on", show_default=False,
        help="Exit 1 on breaking changes (default), on any change, or never.",
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", metavar="FILE", show_default=False,
        help="Write the report to FILE instead of stdout.",
    ),
    config: str | None = typer.Option(
        None, "--config", metavar="FILE", show_default=False,
        help="Policy file (a pyproject.toml with [tool.smlite], or a TOML file of the same keys).",
    ),
    ops_from: str | None = typer.Option(
        None, "--ops-from", metavar="FILE", show_default=False,
        help="Op names the serving runtime registers, one per line (default: TensorFlow 2.21's).",
    ),
) -> int:  # fmt: skip
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
        from smlite.cli import refuse_write_inside

        sides = (result.old, result.new)
        refuse_write_inside(Path(output), (p for s in sides for p in (s.model_dir, s.path)))
    if format_ is DiffFormat.text:
        from rich.console import Console

        from smlite.render.diff import diff_renderable

        renderable = diff_renderable(result, fail_on=chosen, base=base)
        if output is None:
            Console(highlight=False, soft_wrap=True).print(renderable)
        else:
            with open(output, "w", encoding="utf-8") as f:
                Console(file=f, highlight=False, soft_wrap=True, no_color=True).print(renderable)
        return 1 if result.failed(chosen) else 0
    if format_ is DiffFormat.markdown:
        from smlite.render.diff_markdown import diff_markdown

        text = diff_markdown(result, fail_on=chosen)
    elif format_ is DiffFormat.json:
        from smlite.render.diff import diff_document

        text = dumps(diff_document(result, fail_on=chosen, base=base))
    else:
        from smlite.render.diff import diff_sarif

        text = dumps(diff_sarif(result, tool_version=__version__, base=base))
    if output is None:
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    return 1 if result.failed(chosen) else 0
