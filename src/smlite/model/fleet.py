"""Fleet audits: every SavedModel under some roots, checked once each, in parallel.

:func:`discover` walks local folders or remote prefixes (one recursive listing
on object stores) and yields a :class:`Target` per SavedModel directory and
per TF Serving base path; :func:`audit_one` is the whole per-model job
(``check``, ``scan`` or ``fingerprint``) and never raises for a bad model;
:func:`audit` runs it for every target — in this process (``jobs=1``), in a
pool of local processes, or as Dask tasks on an existing cluster
(``client=``) — and yields the :class:`ModelResult` of each model as soon as
it is done.

What travels to a worker is the target (a path or URL, as a string) and the
:class:`AuditOptions`; workers open the URLs themselves; only results travel
back.  The scheduling is concurrent.futures' or Dask's, nothing home-made.

A TF Serving base path is one target: its layout plus the version TF Serving
would serve (what ``smlite check BASE`` reports).  Its other version folders
that hold a model are targets of their own, so every model is checked once.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any, Literal

from smlite.errors import SmliteError
from smlite.formats import saved_model as sm_format
from smlite.formats import storage
from smlite.formats.storage_stats import Fetched

if TYPE_CHECKING:
    from smlite.formats.remote import RemoteSettings
    from smlite.model.checks import ModelReport
    from smlite.model.fingerprint import Fingerprint
    from smlite.model.policy import Policy
    from smlite.model.scan import OpRegistry

__all__ = [
    "COMMANDS",
    "AuditOptions",
    "ModelResult",
    "Target",
    "audit",
    "audit_one",
    "audit_targets",
    "discover",
]

COMMANDS = ("check", "scan", "fingerprint")
Command = Literal["check", "scan", "fingerprint"]
_MODEL_FILES = frozenset({sm_format.PB_NAME, sm_format.PBTXT_NAME, sm_format.CPB_NAME})
_VERSION_RE = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class Target:
    """One unit of a fleet audit."""

    #: The model directory or TF Serving base path: a local path or a URL.
    path: str
    kind: Literal["model", "serving-base"]
    #: The root given on the command line that it was found under.
    root: str
    #: Bytes of all files below ``path`` (what ``--verify`` reads at most); None if unknown.
    size: int | None = None


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What the per-model job needs; sent to every worker, so keep it small and picklable."""

    command: Command = "check"
    #: Skip the variable data checksums (``check --fast``).
    fast: bool = False
    strict: bool = False
    #: Loaded once by the caller (a worker may not see the caller's files).
    policy: Policy | None = None
    registry: OpRegistry | None = None
    #: fsspec options for URLs (credentials travel to the workers, never back).
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    settings: RemoteSettings | None = None


@dataclass(frozen=True, slots=True)
class ModelResult:
    """The outcome for one target: a report, a fingerprint, or why neither could be made."""

    target: Target
    command: Command
    status: Literal["ok", "findings", "error"]
    report: ModelReport | None = None
    fingerprint: Fingerprint | None = None
    #: Why the model could not be audited (status ``error``).
    error: str | None = None
    #: The error's machine-readable reason where it has one (e.g. a RemoteError's).
    reason: str | None = None
    seconds: float = 0.0
    #: Requests and bytes this model cost (see :mod:`smlite.formats.storage_stats`).
    fetched: Fetched = field(default_factory=Fetched)
    #: Which process did the work (``host:pid``), for throughput per worker.
    worker: str = ""

    @property
    def failed(self) -> bool:
        return self.status != "ok"


# -- discovery ----------------------------------------------------------------------


def _has_model_file(entries: Iterable[storage.DirEntry]) -> bool:
    return any(e.name in _MODEL_FILES and not e.is_dir() for e in entries)


def _tree_size(path: storage.AnyPath) -> int | None:
    """Bytes of the files below ``path`` from the listings; None where they do not say (http)."""
    try:
        sizes = [e.size for e in storage.walk(path) if e.kind == "file"]
    except SmliteError:
        return None
    return None if None in sizes else sum(s or 0 for s in sizes)


def discover(
    roots: Sequence[str],
    *,
    recursive: bool = True,
    storage_options: Mapping[str, Any] | None = None,
    settings: RemoteSettings | None = None,
) -> Iterator[Target]:
    """Every SavedModel directory and TF Serving base path under ``roots``, in path order.

    Without ``recursive`` each root is one target, as ``smlite check ROOT``
    takes it.  Folders are listed, never read; symlinked folders are not
    followed.  A root that does not exist raises :class:`SmliteError`.
    """
    for root in roots:
        options = storage_options if storage.is_url(root) else None
        top = storage.as_path(root, storage_options=options, settings=settings)
        # A remote prefix is listed whole in one call (its listings are then cached);
        # only an empty answer needs the question "does it exist at all".
        listed = recursive and isinstance(top, storage.RemotePath) and bool(top.store.find(top))
        if not listed and not storage.exists(top):
            raise SmliteError(f"{root}: no such file or directory", path=root)
        if not recursive:
            kind: Literal["model", "serving-base"] = "model"
            if top.is_dir() and not _has_model_file(storage.listdir(top)):
                kind = "serving-base"
            yield Target(str(top), kind, root, _tree_size(top) if top.is_dir() else None)
            continue
        yield from _walk(top, root)


def _walk(top: storage.AnyPath, root: str) -> Iterator[Target]:
    pending: list[storage.AnyPath] = [top]
    while pending:
        folder = pending.pop()
        entries = storage.listdir(folder)
        if _has_model_file(entries):
            yield Target(str(folder), "model", root, _tree_size(folder))
            continue
        versions = [e for e in entries if e.is_dir() and _VERSION_RE.fullmatch(e.name)]
        with_model = [v for v in versions if _has_model_file(storage.listdir(v.path))]
        children = [e for e in entries if e.kind == "dir"]
        if with_model:
            # What TF Serving serves: the highest number; of "1" and "001", the first by name.
            highest = max(int(v.name) for v in versions)
            served = min((v for v in versions if int(v.name) == highest), key=lambda v: v.name)
            yield Target(str(folder), "serving-base", root, _tree_size(served.path))
            for v in with_model:
                if v is not served:
                    yield Target(str(v.path), "model", root, _tree_size(v.path))
            children = [e for e in children if e not in versions]
        pending.extend(e.path for e in sorted(children, key=lambda e: e.name, reverse=True))


# -- one model --------------------------------------------------------------------------


def audit_one(target: Target, options: AuditOptions) -> ModelResult:
    """Run ``options.command`` on one target; any failure becomes a result, never a raise."""
    import socket

    started = time.perf_counter()
    report = fingerprint = None
    error = reason = None
    with storage.measure() as stats, storage.using(options.storage_options, options.settings):
        try:
            path = storage.as_path(target.path)
            if options.command == "fingerprint":
                fingerprint = _fingerprint(path)
            else:
                report = _check(path, options)
        except SmliteError as e:
            error, reason = str(e), e.reason.value
        except Exception as e:  # one broken model must not stop the fleet
            error, reason = f"internal error: {type(e).__name__}: {e}", "internal"
    if error is not None:
        status: Literal["ok", "findings", "error"] = "error"
    elif report is not None:
        status = "findings" if report.failed(strict=options.strict) else "ok"
    else:
        assert fingerprint is not None
        status = "findings" if fingerprint.status == "mismatch" else "ok"
    return ModelResult(
        target=target,
        command=options.command,
        status=status,
        report=report,
        fingerprint=fingerprint,
        error=error,
        reason=reason,
        seconds=time.perf_counter() - started,
        fetched=stats.totals(),
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )


def _check(path: storage.AnyPath, options: AuditOptions) -> ModelReport:
    from smlite.model.checks import check_path

    scan = options.command == "scan"
    return check_path(
        path,
        policy=options.policy,
        registry=options.registry,
        fast=options.fast or scan,
        ops_only=scan,
    )


def _fingerprint(path: storage.AnyPath) -> Fingerprint:
    from smlite.model.fingerprint import fingerprint
    from smlite.model.saved_model import SavedModel

    with SavedModel.open(path) as sm:
        return fingerprint(sm)


# -- many models ------------------------------------------------------------------------


def audit(
    paths: Sequence[str],
    *,
    options: AuditOptions | None = None,
    recursive: bool = True,
    jobs: int | None = None,
    client: Any = None,
) -> Iterator[ModelResult]:
    """Audit every model under ``paths``; yield each result as soon as it is ready.

    ``jobs`` local processes (default: the number of CPUs; 1 runs in this
    process), or the Dask ``client``'s cluster when one is given::

        from dask.distributed import Client
        with Client("tcp://scheduler:8786") as client:
            for result in smlite.fleet.audit(["s3://registry/models"], client=client):
                print(result.target.path, result.status)

    Results come in completion order; one damaged or unreadable model gives
    a result with ``status == "error"`` and the others go on.
    """
    options = options or AuditOptions()
    targets = discover(
        paths,
        recursive=recursive,
        storage_options=options.storage_options,
        settings=options.settings,
    )
    yield from audit_targets(list(targets), options, jobs=jobs, client=client)


def audit_targets(
    targets: Sequence[Target],
    options: AuditOptions,
    *,
    jobs: int | None = None,
    client: Any = None,
) -> Iterator[ModelResult]:
    """:func:`audit` of targets already discovered (the CLI counts them first)."""
    if client is not None:
        yield from _on_dask(client, list(targets), options)
    elif (jobs or os.cpu_count() or 1) <= 1 or len(targets) <= 1:
        for target in targets:
            yield audit_one(target, options)
    else:
        yield from _on_processes(list(targets), options, jobs or os.cpu_count() or 1)


def _lost(target: Target, options: AuditOptions, how: str, e: BaseException) -> ModelResult:
    return ModelResult(
        target, options.command, "error", error=f"{how}: {type(e).__name__}: {e}", reason="worker"
    )


def _on_processes(targets: list[Target], options: AuditOptions, jobs: int) -> Iterator[ModelResult]:
    # "spawn": a forked child would inherit fsspec's event-loop thread in an unknown state.
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(targets)), mp_context=context) as pool:
        futures: dict[Future[ModelResult], Target] = {
            pool.submit(audit_one, t, options): t for t in targets
        }
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as e:  # the worker process died (e.g. out of memory)
                yield _lost(futures[future], options, "the worker process failed", e)


def _on_dask(client: Any, targets: list[Target], options: AuditOptions) -> Iterator[ModelResult]:
    try:
        from distributed import as_completed as dask_completed
    except ImportError:
        raise SmliteError(
            "a Dask client was given but dask.distributed is not installed: "
            "pip install 'smlite[fleet]'"
        ) from None
    # A task holds a few models when there are many, so that the scheduler's cost per
    # task (milliseconds) does not outweigh a small model's audit; audit_one never
    # raises, so a task fails only when it cannot run at all (and then alone).
    workers = max(1, sum(client.nthreads().values()))
    size = max(1, min(_MAX_BATCH, len(targets) // (8 * workers)))
    batches = [targets[i : i + size] for i in range(0, len(targets), size)]
    futures = {client.submit(audit_batch, b, options, pure=False): b for b in batches}
    for future in dask_completed(list(futures)):
        try:
            yield from future.result()
        except Exception as e:  # the task or its worker failed outside audit_one
            for target in futures[future]:
                yield _lost(target, options, "the Dask task failed", e)
        finally:
            future.release()


#: Most models one Dask task audits.
_MAX_BATCH = 16


def audit_batch(targets: Sequence[Target], options: AuditOptions) -> list[ModelResult]:
    """:func:`audit_one` of each target, in order (one Dask task)."""
    return [audit_one(t, options) for t in targets]
