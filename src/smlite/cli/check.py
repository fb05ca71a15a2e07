"""``smlite check``: validate SavedModels and TF Serving base directories.

Exit status: 0 when no errors were found, 1 when errors were found (warnings
too with ``--strict`` or the policy's ``warnings-as-errors``), 2 when smlite
could not run (bad flags, a path that does not exist, an unreadable policy).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smlite.cli import ExitCode, refuse_write_inside
from smlite.cli._options import (
    ConfigOption,
    DaskOption,
    FastOption,
    FindingsFormat,
    FindingsFormatOption,
    JobsOption,
    OpsFromOption,
    OutputFileOption,
    RecursiveOption,
    StorageOption,
    StrictOption,
    VerboseOption,
    write_output,
)

if TYPE_CHECKING:
    from smlite.model.checks import ModelReport, Progress

__all__ = ["check", "register", "run_checks", "write_reports"]

_HELP = (
    "Validate SavedModels (or TF Serving base directories): files, signatures, variables, "
    "assets, fingerprint, serving layout and op policy.\n\n"
    "Every finding has a stable rule id, a severity and a location.  The policy comes from "
    "[tool.smlite] in the nearest pyproject.toml above each model, or --config.  Paths may "
    "be URLs (s3://, gs://, az://, http(s)://; pip install 'smlite[remote]').  With "
    "--recursive (or -j, --dask, --format jsonl) every model under the ROOTs is audited once, "
    "in parallel, streamed as each completes.  Exit status: 0 no errors, 1 errors (warnings "
    "too with --strict), 2 smlite could not run (or could not audit a model)."
)


def register(app: typer.Typer) -> None:
    app.command("check", help=_HELP)(check)


def check(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...", help="Model or base directories (or URLs); ROOTs with --recursive."
        ),
    ],
    format_: FindingsFormatOption = FindingsFormat.text,
    output: OutputFileOption = None,
    strict: StrictOption = False,
    fast: FastOption = False,
    config: ConfigOption = None,
    ops_from: OpsFromOption = None,
    progress: Annotated[
        bool,
        typer.Option(
            "--progress/--no-progress", help="Progress bar while verifying variables (on a tty)."
        ),
    ] = True,
    recursive: RecursiveOption = False,
    jobs: JobsOption = None,
    dask: DaskOption = None,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    from smlite.cli._fleet import FleetFlags, audit_fleet

    fleet = FleetFlags(recursive, jobs, dask)
    if fleet.wanted(format_.value):
        return audit_fleet(
            "check",
            paths,
            fleet,
            format_=format_,
            output=output,
            strict=strict,
            fast=fast,
            config=config,
            ops_from=ops_from,
            progress=progress,
        )
    reports = run_checks(
        paths, config=config, ops_from=ops_from, fast=fast, ops_only=False, progress=progress
    )
    return write_reports(reports, format_=format_, output=output, strict=strict, kind="check")


def run_checks(
    paths: Sequence[str],
    *,
    config: str | None,
    ops_from: str | None,
    fast: bool,
    ops_only: bool,
    progress: bool,
) -> list[ModelReport]:
    from smlite.model.checks import check_path
    from smlite.model.policy import load_policy
    from smlite.model.scan import OpRegistry

    policy = load_policy(config) if config is not None else None
    registry = OpRegistry.from_file(ops_from) if ops_from is not None else None
    reports = []
    for path in paths:
        with _progress_bar(progress and not ops_only and not fast, path) as callback:
            reports.append(
                check_path(
                    path,
                    policy=policy,
                    registry=registry,
                    fast=fast,
                    ops_only=ops_only,
                    progress=callback,
                )
            )
    return reports


class _progress_bar:
    """A rich progress bar on stderr for the variable checksums, when stderr is a terminal."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.label = label
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress | None:
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        from smlite.render.escape import escape

        self._progress = Progress(
            TextColumn(f"verifying {escape(self.label)}"),
            BarColumn(),
            DownloadColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task("variables", total=None)

        def update(done: int, total: int) -> None:
            assert self._progress is not None and self._task is not None
            self._progress.update(self._task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def write_reports(
    reports: Sequence[ModelReport],
    *,
    format_: FindingsFormat,
    output: str | None,
    strict: bool,
    kind: str,
) -> ExitCode:
    from smlite import __version__
    from smlite.render.json_doc import dumps

    base = Path.cwd()
    if output is not None:
        refuse_write_inside(Path(output), (f for r in reports for f in (r.path, r.model_dir)))
    if format_ is FindingsFormat.text:
        from smlite.render.findings import findings_renderable

        write_output(findings_renderable(reports, strict=strict, base=base), output)
    else:
        from smlite.render.findings import check_document, sarif_document

        doc = (
            check_document(reports, kind=kind, strict=strict, base=base)
            if format_ is FindingsFormat.json
            else sarif_document(reports, tool_version=__version__, base=base)
        )
        write_output(dumps(doc), output)
    return ExitCode.FINDINGS if any(r.failed(strict=strict) for r in reports) else ExitCode.OK
