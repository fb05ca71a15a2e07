"""The check registry and the context every check reads.

A check is a function ``(ctx, emit) -> None`` registered with :func:`check`,
which records its family, the rule ids it may emit, the stage it runs in and
its place in that stage.  :class:`CheckContext` holds what the checks read --
the path as given, its TF Serving layout, the opened SavedModel or why it could
not be opened, its variables, the scanned graph of each meta graph, the policy
and the op registry -- each worked out once, by the model layer, and shared.
Checks emit findings through an :class:`Emit` bound to them, which refuses a
rule id the check did not declare.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from smlite.errors import CorruptFileError, SmliteError
from smlite.formats import saved_model as sm_format
from smlite.formats.graph_index import GraphIndex
from smlite.formats.storage import AnyPath, RemotePath
from smlite.model.policy import Policy
from smlite.model.rules import RULES, Finding, Severity, Where, rule
from smlite.model.saved_model import Asset, MetaGraph, SavedModel
from smlite.model.scan import OpRegistry, graph_nodes
from smlite.model.variables import VariableSet

__all__ = [
    "REGISTRY",
    "Check",
    "CheckContext",
    "Emit",
    "Progress",
    "Stage",
    "check",
    "message_at",
]

#: Called with (bytes verified so far, total bytes to verify).
Progress = Callable[[int, int], None]


class Stage(enum.IntEnum):
    """When a check runs; stages run in this order."""

    #: The path as given: a SavedModel directory, a TF Serving base path, or neither.
    LOCATE = 0
    #: A TF Serving base path's version folders (only for a base path).
    SERVING = 1
    #: The model directory's files, before and while the SavedModel is opened.
    FILES = 2
    #: The opened SavedModel (only when it opens).
    MODEL = 3
    #: Conclusions drawn from the findings of the model (only after MODEL ran).
    VERDICT = 4


class Emit:
    """Adds findings for one check, and only for the rule ids it declared."""

    def __init__(self, ctx: CheckContext, registered: Check) -> None:
        self._ctx = ctx
        self._check = registered

    def __call__(
        self,
        rule_id: str,
        message: str,
        where: Where | None = None,
        severity: Severity | None = None,
    ) -> None:
        if rule_id not in self._check.rules:
            raise ValueError(
                f"check {self._check.name!r} emitted {rule_id}, which it does not declare "
                f"({', '.join(sorted(self._check.rules))})"
            )
        self._ctx.findings.append(Finding(rule(rule_id), message, where or Where(), severity))

    def finding(self, finding: Finding) -> None:
        """Add a finding made elsewhere (the op audit), under the same declaration rule."""
        self(finding.rule.id, finding.message, finding.where, finding.severity)


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check."""

    name: str
    #: The rule family: files, meta_graphs, variables, assets, serving, ops, fingerprint, sizes.
    family: str
    #: Every rule id this check may emit.
    rules: frozenset[str]
    stage: Stage
    #: Order within the stage (smaller first).
    order: int
    #: Whether ``smlite scan`` (the op audit alone) runs it too.
    in_scan: bool
    run: Callable[[CheckContext, Emit], None]


#: Every registered check, in running order once :mod:`smlite.model.checks` is imported.
REGISTRY: list[Check] = []


def check(
    family: str,
    *rule_ids: str,
    stage: Stage,
    order: int,
    in_scan: bool = False,
) -> Callable[[Callable[[CheckContext, Emit], None]], Callable[[CheckContext, Emit], None]]:
    """Register the decorated function as a check of ``family`` that may emit ``rule_ids``."""
    unknown = [r for r in rule_ids if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule id(s) {unknown}")

    def register(
        fn: Callable[[CheckContext, Emit], None],
    ) -> Callable[[CheckContext, Emit], None]:
        REGISTRY.append(Check(fn.__name__, family, frozenset(rule_ids), stage, order, in_scan, fn))
        REGISTRY.sort(key=lambda c: (c.stage, c.order))
        return fn

    return register


def message_at(error: SmliteError, file: AnyPath | None) -> str:
    """``error``'s message for a finding located at ``file``: without the path when it names it.

    A finding carries its file (and offset) itself, so the text leaves out the
    ``<path>: `` an error puts in front of its message; the offset stays in the text.
    """
    if not error.located or error.path is None or file is None or not _same(error.path, file):
        return str(error)
    if error.offset is not None:
        return f"at offset {error.offset}: {error.detail}"
    return error.detail


def _same(path: str, file: AnyPath) -> bool:
    return path == str(file) if isinstance(file, RemotePath) else Path(path) == file


class CheckContext:
    """What the checks of one path read, each fact worked out once."""

    def __init__(
        self,
        path: AnyPath,
        *,
        policy: Policy,
        registry: OpRegistry,
        fast: bool,
        ops_only: bool,
        progress: Progress | None,
    ) -> None:
        #: The path as given (a ``saved_model.pb`` given by name: its directory).
        self.path = path
        self.policy = policy
        self.registry = registry
        #: Skip the checksums of variable data.
        self.fast = fast
        #: Run only what ``smlite scan`` reports.
        self.ops_only = ops_only
        self.progress = progress
        self.findings: list[Finding] = []
        #: Where the findings of the model directory (not of the base path) start.
        self.model_findings_start = 0
        #: Checks that could not run and why.
        self.skipped: list[str] = []
        #: For a TF Serving base path: its version folders (one reading: formats.saved_model).
        self.layout: sm_format.ServingLayout | None = None
        #: The model directory checked (for a base path: the served version's), once known.
        self.model_dir: AnyPath | None = None
        #: Why the SavedModel of ``model_dir`` could not be opened.
        self.open_error: SmliteError | None = None
        self._graphs: dict[int, GraphIndex | CorruptFileError] = {}

    # -- the model --------------------------------------------------------------------------
    @cached_property
    def sm(self) -> SavedModel | None:
        """The SavedModel of ``model_dir``, or None (``open_error`` says why)."""
        if self.model_dir is None:
            return None
        try:
            return SavedModel.open(self.model_dir)
        except SmliteError as e:
            self.open_error = e
            return None

    @property
    def file(self) -> AnyPath:
        """``saved_model.pb`` (or ``.pbtxt``) of the opened model."""
        assert self.sm is not None
        return self.sm.file

    def graph(self, mg: MetaGraph) -> GraphIndex | None:
        """The graph index of ``mg`` (:attr:`MetaGraph.graph_index`); None when it is damaged."""
        found = self.graph_scan(mg)
        return None if isinstance(found, CorruptFileError) else found

    def graph_scan(self, mg: MetaGraph) -> GraphIndex | CorruptFileError:
        """The graph index of ``mg``, or the damage that stopped it (reported once, SML107)."""
        found = self._graphs.get(mg.index)
        if found is None:
            try:
                found = graph_nodes(mg)
            except CorruptFileError as e:
                found = e
            self._graphs[mg.index] = found
        return found

    def assets(self, mg: MetaGraph) -> tuple[Asset, ...]:
        """``mg.assets``; none when the TF1 assets collection does not parse (SML003)."""
        try:
            return mg.assets
        except SmliteError:
            return ()

    @property
    def variables(self) -> VariableSet:
        """``SavedModel.variables``; raises what opening the checkpoint's index raises."""
        assert self.sm is not None
        return self.sm.variables

    def close(self) -> None:
        """Close the SavedModel if it was opened."""
        opened = self.__dict__.get("sm")
        if opened is not None:
            opened.close()
