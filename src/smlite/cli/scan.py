"""``smlite scan``: audit the ops of SavedModels.

Two modes:

* ``smlite scan --dir D [--tag_set T] [--op_denylist A,B]`` prints what
  ``saved_model_cli scan`` prints (sets sorted), with the same default denylist
  (``ReadFile``, ``WriteFile``, ``PrintV2``) and the same choice of ops (those
  reachable from the graph, as ``saved_model_cli show --list_ops`` counts them),
  but exits 1 when a denylisted op is found.
* ``smlite scan PATH...`` audits every op of the graph and of every library
  function with smlite's op policy and reports findings with meta graph,
  function and node, in the formats and with the exit codes of ``check``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from smlite.cli import ExitCode
from smlite.cli._options import (
    ConfigOption,
    DaskOption,
    FindingsFormat,
    FindingsFormatOption,
    JobsOption,
    OpsFromOption,
    OutputFileOption,
    RecursiveOption,
    StorageOption,
    StrictOption,
    VerboseOption,
)
from smlite.cli.check import run_checks, write_reports

__all__ = ["register", "scan"]

_HELP = (
    "Audit the ops of SavedModels.\n\n"
    "With --dir: saved_model_cli scan's report (same default denylist ReadFile, WriteFile, "
    "PrintV2; --tag_set and --op_denylist as there), exit status 1 when a denylisted op is "
    "found.  With PATH...: every op of the graph and of every function, checked against "
    "smlite's op policy (file access, Python callbacks, network, debug URLs, save/restore "
    "outside the model's saver, custom ops), reported like `smlite check` -- URLs, "
    "--recursive fleets, -j, --dask and --format jsonl included."
)


def register(app: typer.Typer) -> None:
    app.command("scan", help=_HELP)(scan)


def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(metavar="[PATH...]", show_default=False, help="Model or base directories."),
    ] = None,
    dir_: Annotated[
        str | None,
        typer.Option(
            "--dir",
            metavar="DIR",
            show_default=False,
            help="saved_model_cli-compatible mode: the SavedModel directory to scan.",
        ),
    ] = None,
    tag_set: Annotated[
        str | None,
        typer.Option(
            "--tag_set",
            metavar="TAGS",
            show_default=False,
            help="With --dir: the meta graph to scan (default: all).",
        ),
    ] = None,
    op_denylist: Annotated[
        str | None,
        typer.Option(
            "--op_denylist",
            metavar="OPS",
            show_default=False,
            help="With --dir: comma-separated ops to look for "
            "(default: ReadFile,WriteFile,PrintV2).",
        ),
    ] = None,
    format_: FindingsFormatOption = FindingsFormat.text,
    output: OutputFileOption = None,
    strict: StrictOption = False,
    config: ConfigOption = None,
    ops_from: OpsFromOption = None,
    recursive: RecursiveOption = False,
    jobs: JobsOption = None,
    dask: DaskOption = None,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    from smlite.cli._fleet import FleetFlags, audit_fleet
    from smlite.errors import SmliteError

    if dir_ is not None:
        if paths:
            raise SmliteError("give either --dir (saved_model_cli mode) or PATH..., not both")
        if format_ is not FindingsFormat.text:
            raise SmliteError(
                "--dir prints saved_model_cli's text; for JSON or SARIF give the model as PATH"
            )
        return _denylist_scan(dir_, tag_set, op_denylist)
    if tag_set is not None or op_denylist is not None:
        raise SmliteError("--tag_set and --op_denylist belong to the --dir mode")
    if not paths:
        raise SmliteError("no SavedModel given; pass PATH... (or --dir DIR)")
    fleet = FleetFlags(recursive, jobs, dask)
    if fleet.wanted(format_.value):
        return audit_fleet(
            "scan", paths, fleet, format_=format_, output=output, strict=strict, config=config,
            ops_from=ops_from,
        )  # fmt: skip
    reports = run_checks(
        paths, config=config, ops_from=ops_from, fast=True, ops_only=True, progress=False
    )
    return write_reports(reports, format_=format_, output=output, strict=strict, kind="scan")


def _denylist_scan(directory: str, tag_set: str | None, op_denylist: str | None) -> ExitCode:
    """``saved_model_cli scan``: which meta graphs use a denylisted op."""
    import smlite
    from smlite.model.scan import DEFAULT_DENYLIST
    from smlite.render.escape import escape

    denylist = DEFAULT_DENYLIST
    if op_denylist:
        denylist = frozenset(op.strip() for op in op_denylist.split(",") if op and op.strip())
    with smlite.open(directory) as sm:
        if sm.serving is not None:
            # saved_model_cli fails on a TF Serving base path; smlite scans the version
            # TF Serving would serve and says so on stderr, as `show` does.
            from smlite.render.cli_text import serving_notice

            sys.stderr.write(serving_notice(sm.serving))
        # saved_model_cli scans every meta graph when --tag_set is empty or not given
        # (the empty tag-set among them).
        metas = [sm.meta_graph(tag_set)] if tag_set else list(sm.meta_graphs)
        found_any = False
        out = sys.stdout
        for mg in metas:
            tags_repr = repr(list(mg.tags))
            found = denylist & mg.ops_used
            if found:
                found_any = True
                out.write(
                    f"MetaGraph with tag set {escape(tags_repr)} contains the following "
                    f"denylisted ops: {_set_repr(found)}\n"
                )
            else:
                out.write(
                    f"MetaGraph with tag set {escape(tags_repr)} does not contain the default "
                    f"denylisted ops: {_set_repr(denylist)}\n"
                )
    return ExitCode.FINDINGS if found_any else ExitCode.OK


def _set_repr(items: frozenset[str]) -> str:
    from smlite.render.escape import escape

    if not items:
        return "set()"
    return escape("{" + ", ".join(repr(i) for i in sorted(items)) + "}")
