"""``smlite show``: ``saved_model_cli show`` without TensorFlow.

Flags, their precedence and the printed text follow TensorFlow 2.21's
``saved_model_cli show`` (see :mod:`smlite.render.cli_text` for the two
deliberate differences).  In saved_model_cli's order:

* ``--all`` prints everything and ignores the other flags;
* without ``--tag_set``: the tag-sets (after a warning when ``--list_ops``
  is given);
* with ``--tag_set``: the ops (``--list_ops``), then the signature keys, or
  with ``--signature_def`` that signature's inputs and outputs.

``--tag_set`` is matched by :meth:`SavedModel.meta_graph`; saved_model_cli
strips spaces around tags for ``--list_ops`` and ``--signature_def``
(``strip=True``) but not when listing signature keys, where ``'serve, gpu'``
therefore names no meta graph; smlite does the same.

Text is written block by block, so a failure half-way leaves the same partial
output saved_model_cli leaves.  Nothing here parses a GraphDef: tag-sets and
signatures come from the meta graph headers, ``--list_ops`` from a wire scan.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smlite.cli import ExitCode, model_argument
from smlite.cli._options import (
    ModelDirOption,
    ModelPathArgument,
    OutputFormat,
    ServingVersionOption,
    StorageOption,
    VerboseOption,
)

if TYPE_CHECKING:
    from smlite.model.saved_model import SavedModel

__all__ = ["register", "show"]


_HELP = (
    "Show tag-sets, signatures and ops of a SavedModel, as `saved_model_cli show` does.\n\n"
    "Without --tag_set: the tag-sets.  With --tag_set: the signature keys of that meta graph "
    "(and its ops with --list_ops); add --signature_def for one signature's inputs and "
    "outputs.  --all shows everything."
)


def register(app: typer.Typer) -> None:
    app.command("show", help=_HELP)(show)


def show(
    path: ModelPathArgument = None,
    dir_: ModelDirOption = None,
    tag_set: Annotated[
        str | None,
        typer.Option(
            "--tag_set",
            metavar="TAGS",
            help="Comma-separated set of tags that identify a meta graph, e.g. 'serve,gpu'.",
            show_default=False,
        ),
    ] = None,
    signature_def: Annotated[
        str | None,
        typer.Option(
            "--signature_def",
            metavar="KEY",
            help="A SignatureDef key whose inputs and outputs to show (needs --tag_set).",
            show_default=False,
        ),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all/--noall", help="Show all available information.")
    ] = False,
    list_ops: Annotated[
        bool,
        typer.Option("--list_ops/--nolist_ops", help="Show the ops of the --tag_set meta graph."),
    ] = False,
    version: ServingVersionOption = None,
    format_: Annotated[
        OutputFormat,
        typer.Option("--format", help="Output format: saved_model_cli's text, or JSON."),
    ] = OutputFormat.text,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    import smlite
    from smlite.render.cli_text import serving_notice

    target = model_argument(path, dir_)
    with smlite.open(target, version=version) as sm:
        sys.stderr.write(serving_notice(sm))
        if format_ is OutputFormat.json:
            _show_json(sm, tag_set, signature_def, all_, list_ops, version)
        else:
            _show_text(sm, tag_set, signature_def, all_, list_ops)
    return ExitCode.OK


def _show_text(
    sm: SavedModel, tag_set: str | None, signature_def: str | None, all_: bool, list_ops: bool
) -> None:
    from smlite.render import cli_text

    out = sys.stdout
    if all_:
        out.write(cli_text.show_all_text(sm))
        return
    if tag_set is None:
        if list_ops:
            out.write(cli_text.LIST_OPS_NEEDS_TAG_SET)
        out.write(cli_text.tag_sets_text(sm))
        return
    if list_ops:
        out.write(cli_text.ops_text(sm.meta_graph(tag_set, strip=True)))
        out.flush()
    if signature_def is None:
        out.write(cli_text.signature_keys_text(sm.meta_graph(tag_set, strip=False)))
    else:
        mg = sm.meta_graph(tag_set, strip=True)
        out.write(cli_text.signature_text(mg.signature(signature_def)))


def _show_json(
    sm: SavedModel,
    tag_set: str | None,
    signature_def: str | None,
    all_: bool,
    list_ops: bool,
    version: int | None,
) -> None:
    from smlite.render import cli_text, json_doc

    query: dict[str, Any] = {
        "tag_set": tag_set,
        "signature_def": signature_def,
        "all": all_,
        "list_ops": list_ops,
        "version": version,
    }
    warnings: list[str] = []
    meta_graphs: list[dict[str, Any]]
    if all_:
        meta_graphs = [
            json_doc.meta_graph_json(mg, all_signatures=True, ops=True)
            for mg in cli_text.meta_graphs_in_show_order(sm)
        ]
    elif tag_set is None:
        if list_ops:
            warnings.append(cli_text.LIST_OPS_NEEDS_TAG_SET.strip())
        ordered = cli_text.meta_graphs_in_show_order(sm)
        meta_graphs = [json_doc.meta_graph_json(mg) for mg in ordered]
    else:
        # The same lookups, in the same order, as the text output makes.
        if list_ops:
            sm.meta_graph(tag_set, strip=True)
        if signature_def is None:
            mg = sm.meta_graph(tag_set, strip=False)
            meta_graphs = [json_doc.meta_graph_json(mg, all_signatures=True, ops=list_ops)]
        else:
            mg = sm.meta_graph(tag_set, strip=True)
            mg.signature(signature_def)
            meta_graphs = [json_doc.meta_graph_json(mg, signatures=[signature_def], ops=list_ops)]
    doc = json_doc.show_document(
        sm, query=query, meta_graphs=meta_graphs, warnings=warnings, with_functions=all_
    )
    sys.stdout.write(json_doc.dumps(doc))
