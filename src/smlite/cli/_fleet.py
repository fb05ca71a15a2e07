"""``check|scan|fingerprint ROOT... --recursive``: a fleet audit from the command line.

The library does the work (:mod:`smlite.fleet`: discovery, one job per
model, local processes or a Dask cluster); this module picks the options,
streams each result as it completes -- a line (text), an object (JSON
Lines) -- behind a progress bar with counts and throughput, and ends with a
summary table, one JSON document or one SARIF run.  Exit status: 2 when a
model could not be audited (a remote failure, a worker lost), else 1 when
one has findings, else 0.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from smlite.cli import ExitCode, refuse_write_inside
from smlite.cli._options import FindingsFormat

if TYPE_CHECKING:
    from smlite.model.fleet import AuditOptions, ModelResult, Target

__all__ = ["FleetFlags", "audit_fleet"]


@dataclass(frozen=True, slots=True)
class FleetFlags:
    """``--recursive``, ``-j`` and ``--dask`` as given (each command declares them)."""

    recursive: bool
    jobs: int | None
    dask: str | None

    def wanted(self, format_: str) -> bool:
        """Whether the command line asks for a fleet audit rather than the one-report form."""
        return (
            self.recursive or self.jobs is not None or self.dask is not None or (format_ == "jsonl")
        )


def audit_fleet(
    command: Literal["check", "scan", "fingerprint"],
    roots: Sequence[str],
    flags: FleetFlags,
    *,
    format_: FindingsFormat,
    output: str | None,
    strict: bool = False,
    fast: bool = False,
    config: str | None = None,
    ops_from: str | None = None,
    progress: bool = True,
) -> ExitCode:
    from smlite.errors import SmliteError
    from smlite.fleet import discover

    options = _options(command, strict=strict, fast=fast, config=config, ops_from=ops_from)
    targets = list(
        discover(
            roots,
            recursive=flags.recursive,
            storage_options=options.storage_options,
            settings=options.settings,
        )
    )
    if not targets:
        raise SmliteError(f"no SavedModel found under {', '.join(roots)}")
    if output is not None:
        refuse_write_inside(Path(output), (Path(t.path) for t in targets if "://" not in t.path))
    started = time.perf_counter()
    results: list[ModelResult] = []
    with _sink(output) as out, _results(targets, options, flags) as stream:
        if format_ is FindingsFormat.text:
            _stream_text(stream, results, out, strict=strict, progress=progress, total=len(targets))
        elif format_ is FindingsFormat.jsonl:
            _stream_jsonl(stream, results, out, strict=strict, started=started)
        else:
            results.extend(stream)
            out.write(_document(results, format_, strict=strict, started=started))
    if any(r.status == "error" for r in results):
        return ExitCode.ERROR
    return ExitCode.FINDINGS if any(r.status == "findings" for r in results) else ExitCode.OK


def _options(
    command: Literal["check", "scan", "fingerprint"],
    *,
    strict: bool,
    fast: bool,
    config: str | None,
    ops_from: str | None,
) -> AuditOptions:
    from smlite.fleet import AuditOptions
    from smlite.formats import storage
    from smlite.model.policy import load_policy
    from smlite.model.scan import OpRegistry

    storage_options, settings = storage.current_options()
    return AuditOptions(
        command,
        fast=fast,
        strict=strict,
        policy=load_policy(config) if config is not None else None,
        registry=OpRegistry.from_file(ops_from) if ops_from is not None else None,
        # A plain dict: it travels to the workers (the credentials never come back).
        storage_options=dict(storage_options),
        settings=settings,
    )


@contextlib.contextmanager
def _results(
    targets: list[Target], options: AuditOptions, flags: FleetFlags
) -> Iterator[Iterator[ModelResult]]:
    from smlite.errors import SmliteError
    from smlite.fleet import audit_targets

    dask = flags.dask
    if dask is None:
        yield audit_targets(targets, options, jobs=flags.jobs)
        return
    try:
        from distributed import Client
    except ImportError:
        raise SmliteError("--dask needs dask.distributed: pip install 'smlite[fleet]'") from None
    try:
        client = Client(dask, timeout=30)
    except (OSError, TimeoutError) as e:
        raise SmliteError(f"cannot reach the Dask scheduler at {dask}: {e}") from e
    with client:
        yield audit_targets(targets, options, client=client)


@contextlib.contextmanager
def _sink(output: str | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        return
    with open(output, "w", encoding="utf-8") as f:
        yield f


def _stream_text(
    stream: Iterator[ModelResult],
    results: list[ModelResult],
    out: IO[str],
    *,
    strict: bool,
    progress: bool,
    total: int,
) -> None:
    from rich.console import Console

    from smlite.render.fleet import FleetProgress, result_text, summary_renderable

    base = Path.cwd()
    started = time.perf_counter()
    to_terminal = out is sys.stdout and sys.stdout.isatty()
    console = Console(file=out, highlight=False, soft_wrap=True, no_color=not to_terminal)
    # The bar goes where the lines go when that is a terminal (lines print above it),
    # else to stderr when that is one; never into a file or a pipe.
    bar_console = console if to_terminal else Console(stderr=True)
    show_bar = progress and (to_terminal or sys.stderr.isatty())
    with FleetProgress(total, bar_console, enabled=show_bar) as bar:
        for result in stream:
            results.append(result)
            bar.advance(result)
            # Through the bar's console when it is the same: the line prints above the bar.
            console.print(result_text(result, strict=strict, base=base))
    console.print(summary_renderable(results, time.perf_counter() - started))


def _stream_jsonl(
    stream: Iterator[ModelResult],
    results: list[ModelResult],
    out: IO[str],
    *,
    strict: bool,
    started: float,
) -> None:
    from smlite.render.fleet import jsonl_line, result_json, summary_json

    base = Path.cwd()
    for result in stream:
        results.append(result)
        out.write(jsonl_line(result_json(result, strict=strict, base=base)))
        out.flush()
    out.write(jsonl_line(summary_json(results, time.perf_counter() - started)))


def _document(
    results: list[ModelResult], format_: FindingsFormat, *, strict: bool, started: float
) -> str:
    from smlite import __version__
    from smlite.render.fleet import fleet_document, fleet_sarif
    from smlite.render.json_doc import dumps

    base = Path.cwd()
    doc: dict[str, Any]
    if format_ is FindingsFormat.sarif:
        doc = fleet_sarif(results, tool_version=__version__, base=base)
    else:
        doc = fleet_document(results, time.perf_counter() - started, strict=strict, base=base)
    return dumps(doc)
