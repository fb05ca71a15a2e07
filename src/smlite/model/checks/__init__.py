"""``smlite check``: every problem of a SavedModel (or a TF Serving base directory) as findings.

:func:`check_path` runs every registered check on one path and returns a
:class:`ModelReport`; nothing here prints or exits.  Checks are registered by
rule family, one module each, and read a shared :class:`CheckContext`:

* :mod:`.files` -- SML001-SML007 and symlinks (SML302): the SavedModel file
  exists and opens; Git LFS pointers; text in a ``.pb``; stray ``.pbtxt``;
  other messages saved as ``saved_model.pb``;
* :mod:`.meta_graphs` -- SML101-SML105: present, distinct tag-sets, required
  tag-sets and signatures, every tensor named resolves to a node;
* :mod:`.ops` -- SML106, SML107, SML601-SML614: :func:`smlite.model.scan.scan_meta_graph`;
* :mod:`.keras` -- SML801-SML806: :func:`smlite.model.keras_findings.keras_findings`;
* :mod:`.assets` -- SML301-SML303: present under ``assets/``, no ``..``/absolute
  names, missing-but-unread assets only a warning;
* :mod:`.variables` -- SML201-SML207: the index reads, the shards match it,
  every entry lies inside its shard and (unless ``fast``) matches its CRC32C,
  every variable has a value;
* :mod:`.fingerprint` -- SML401-SML403: :func:`smlite.model.fingerprint.fingerprint`'s
  judgement by the writing release;
* :mod:`.serving` -- SML501-SML504: the version that will be served,
  duplicates, ignored entries, the warmup file;
* :mod:`.sizes` -- SML701-SML704: protobuf's limit, folded weights, the policy's limits.

A model that cannot be opened still gets a report (that is the point of a
gate); only a path that does not exist raises -- and a model behind a URL
that could not be read: a :class:`~smlite.errors.RemoteError` (access denied,
timeout, a body cut short) says nothing about the model, so it is raised
("could not audit"), never reported as a finding nor as a clean bill.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from smlite.errors import NotASavedModelError, Reason
from smlite.formats import saved_model as sm_format
from smlite.formats import storage
from smlite.formats.storage import AnyPath
from smlite.formats.storage_stats import Fetched
from smlite.model.checks import (
    assets,
    files,
    fingerprint,
    keras,
    meta_graphs,
    ops,
    serving,
    sizes,
    variables,
)
from smlite.model.checks.base import REGISTRY, Check, CheckContext, Emit, Progress, Stage
from smlite.model.checks.serving import WARMUP_FILE
from smlite.model.policy import Policy, find_policy
from smlite.model.rules import Finding, Severity
from smlite.model.scan import OpRegistry

__all__ = [
    "REGISTRY",
    "WARMUP_FILE",
    "Check",
    "CheckContext",
    "ModelReport",
    "Progress",
    "check_path",
    "model_root_for",
]

# The family modules register their checks when imported (above).
_FAMILIES = (files, meta_graphs, ops, keras, assets, variables, fingerprint, serving, sizes)


@dataclass(frozen=True, slots=True)
class ModelReport:
    """The findings for one path given to ``check``."""

    #: The path as given (a model directory or a TF Serving base directory; or a URL).
    path: AnyPath
    findings: tuple[Finding, ...]
    #: The model directory checked (for a base directory: the served version's).
    model_dir: AnyPath | None = None
    #: For a TF Serving base directory: the version it will serve.
    served_version: int | None = None
    policy: Policy = field(default_factory=Policy)
    #: Checks that could not run and why (e.g. variables without a readable index).
    skipped: tuple[str, ...] = ()
    #: What checking it read: bytes, read requests and listings (over the network).
    fetched: Fetched | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.level == severity)

    def failed(self, *, strict: bool = False) -> bool:
        """True when an error was found (or a warning, with ``strict`` or warnings-as-errors)."""
        floor = Severity.WARNING if strict or self.policy.warnings_as_errors else Severity.ERROR
        return any(f.level >= floor for f in self.findings)


def model_root_for(path: str | os.PathLike[str]) -> Path:
    """The model directory a file of a SavedModel belongs to.

    ``m/saved_model.pb``, ``m/fingerprint.pb`` -> ``m``; ``m/variables/variables.index``
    -> ``m``; ``m/assets/sub/vocab.txt`` and ``m/assets.extra/x`` -> ``m``.
    """
    p = Path(os.fspath(path))
    parts = p.parts
    if p.name in (*files.MODEL_FILES, "fingerprint.pb"):
        return p.parent
    if len(parts) >= 2 and parts[-2] == "variables":
        return p.parent.parent
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] in ("assets", "assets.extra"):
            return Path(*parts[:i]) if i else Path(".")
    return p.parent


def check_path(
    path: str | os.PathLike[str] | AnyPath,
    *,
    policy: Policy | None = None,
    registry: OpRegistry | None = None,
    fast: bool = False,
    ops_only: bool = False,
    progress: Progress | None = None,
) -> ModelReport:
    """Check the SavedModel or TF Serving base directory at ``path``.

    ``policy`` defaults to the one found above the path (:func:`find_policy`);
    ``registry`` to the policy's ``ops-from`` or TensorFlow 2.21's ops and kernels;
    ``fast`` skips the variable data checksums; ``ops_only`` runs only what
    ``smlite scan`` reports (ops and the graph they are read from).
    Raises :class:`NotASavedModelError` only when ``path`` does not exist, and
    :class:`~smlite.errors.RemoteError` when a URL could not be read.
    """
    with storage.measure() as reads:
        report = _check(storage.as_path(path), policy, registry, fast, ops_only, progress)
    if reads.failures:
        raise reads.failures[0]
    return dataclasses.replace(report, fetched=reads.totals())


def _check(
    p: AnyPath,
    policy: Policy | None,
    registry: OpRegistry | None,
    fast: bool,
    ops_only: bool,
    progress: Progress | None,
) -> ModelReport:
    storage.list_ahead(p)
    if not p.exists() and not p.is_symlink():
        raise NotASavedModelError("no such file or directory", path=p, reason=Reason.NOT_FOUND)
    if p.is_file() and p.name in files.MODEL_FILES:
        p = p.parent
    policy = policy if policy is not None else find_policy(p)
    if registry is None:
        registry = (
            OpRegistry.from_file(policy.ops_from)
            if policy.ops_from is not None
            else OpRegistry.default()
        )
    ctx = CheckContext(
        p, policy=policy, registry=registry, fast=fast, ops_only=ops_only, progress=progress
    )
    try:
        _locate(ctx)
        _run(ctx)
    finally:
        ctx.close()
    findings = tuple(f for f in (policy.apply(f) for f in ctx.findings) if f is not None)
    return ModelReport(
        path=p,
        findings=findings,
        model_dir=ctx.model_dir,
        served_version=ctx.layout.chosen if ctx.layout is not None else None,
        policy=policy,
        skipped=tuple(ctx.skipped),
    )


def _has_model_file(folder: AnyPath) -> bool:
    storage.list_ahead(folder)  # one listing behind a URL, not a question per name
    return any((folder / name).is_file() for name in files.MODEL_FILES)


def _locate(ctx: CheckContext) -> None:
    """The model directory of ``ctx.path``: itself, or a base path's served version."""
    p = ctx.path
    if not p.is_dir():
        return
    if _has_model_file(p):
        ctx.model_dir = p
        return
    ctx.layout = sm_format.serving_layout(p)
    if ctx.layout is not None:
        served = ctx.layout.chosen_path
        # Without a model file the served version is reported as such (SML503);
        # the op audit alone tries it and says why it does not open.
        if ctx.ops_only or _has_model_file(served):
            ctx.model_dir = served


def _applies(ctx: CheckContext, stage: Stage) -> bool:
    if stage is Stage.SERVING:
        return ctx.layout is not None
    if stage is Stage.FILES:
        return ctx.model_dir is not None
    if stage is Stage.MODEL:
        return ctx.model_dir is not None and ctx.sm is not None
    if stage is Stage.VERDICT:
        return ctx.layout is not None and ctx.model_dir is not None
    return True


def _run(ctx: CheckContext) -> None:
    for stage in Stage:
        if not _applies(ctx, stage):
            continue
        if stage is Stage.FILES:
            ctx.model_findings_start = len(ctx.findings)
        for registered in REGISTRY:
            if registered.stage is stage and (registered.in_scan or not ctx.ops_only):
                registered.run(ctx, Emit(ctx, registered))
