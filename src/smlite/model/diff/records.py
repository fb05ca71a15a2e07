"""The result of ``smlite.diff``: typed, frozen change records and the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from smlite.formats.storage import AnyPath
from smlite.model.diff.kinds import AREAS, KINDS, Severity
from smlite.model.dtypes import DType
from smlite.model.structure import Structure
from smlite.model.tensors import TensorShape

__all__ = [
    "Change",
    "Decoded",
    "Diff",
    "FAIL_ON",
    "Message",
    "SideInfo",
    "Value",
    "ValueStats",
    "Verdict",
]

#: ``--fail-on`` choices: which changes make ``smlite diff`` exit 1.
FAIL_ON = ("breaking", "any", "never")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A value decoded from a nested structure: a TypeSpec, an input signature, a constant.

    Kept as the typed object (compared by value); :func:`smlite.render.diff.spell`
    shows it as TensorFlow's ``repr()`` of the object it stands for.
    """

    value: Structure


#: One side of a change: a name or words (``str``), a dtype, a shape, or a decoded value.
Value: TypeAlias = str | DType | TensorShape | Decoded
#: A message: words and the values they quote, kept typed; render joins the spelled parts.
Message: TypeAlias = tuple[str | Value, ...]


@dataclass(frozen=True, slots=True)
class ValueStats:
    """How much one variable's values changed (``--values``).

    ``changed`` counts elements whose stored bytes differ.  ``max_abs_diff``
    and ``relative_l2`` (``||new - old|| / ||old||``) are None for strings
    and other non-numeric dtypes; ``relative_l2`` is ``inf`` when the old
    values are all zero and the new ones are not, ``nan`` if a value is NaN.
    ``from_checksums`` is true when equal CRC32C and sizes decided that
    nothing changed without reading the data.
    """

    elements: int
    changed: int
    max_abs_diff: float | None
    relative_l2: float | None
    from_checksums: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between the old and the new model.

    ``kind`` is a stable name from :data:`~smlite.model.diff.kinds.KINDS`;
    ``path`` says where (``meta_graph[serve]/signature[serving_default]/input[x]``);
    ``old``/``new`` are the two sides, typed (a :class:`DType`, a
    :class:`TensorShape`, a :class:`Decoded` TypeSpec or input signature, or a
    name), None where the thing is absent; ``message`` says what changed and
    what that means for the clients, as parts.  :mod:`smlite.render.diff` spells
    them all as TensorFlow does (``spell``, ``message_text``).
    """

    kind: str
    severity: Severity
    path: str
    message: Message
    old: Value | None = None
    new: Value | None = None
    values: ValueStats | None = None

    @property
    def area(self) -> str:
        return KINDS[self.kind].area

    def __repr__(self) -> str:
        return f"Change({self.severity.value} {self.kind} at {self.path!r})"


@dataclass(frozen=True, slots=True)
class SideInfo:
    """What one side of a diff is."""

    #: The path as given.
    path: AnyPath
    kind: Literal["saved_model", "checkpoint"]
    #: The SavedModel directory (a serving base path's chosen version), or None.
    model_dir: AnyPath | None = None
    #: ``saved_model.pb``/``.pbtxt``, or the checkpoint's ``.index``.
    file: AnyPath | None = None
    #: The TF Serving version, when the side came from a base path.
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The one-line answer: what kind of change this is.

    ``code`` is one of ``identical``, ``same-program-re-exported``,
    ``new-weights``, ``new-graph``, ``new-graph-and-weights`` (SavedModels) or
    ``same-weights``, ``new-weights``, ``new-variables`` (variables-only);
    ``text`` the sentence shown; ``basis`` what decided it.
    """

    code: str
    text: str
    basis: str


@dataclass(frozen=True, slots=True)
class Diff:
    """Every change between two models, most severe first, with the verdict.

    >>> import smlite
    >>> d = smlite.diff("models/ranker/1", "models/ranker/2")      # doctest: +SKIP
    >>> [c.kind for c in d.breaking]                                # doctest: +SKIP
    ['input-added']
    """

    old: SideInfo
    new: SideInfo
    changes: tuple[Change, ...]
    verdict: Verdict
    #: True when only variables were compared (a checkpoint on either side).
    variables_only: bool = False
    #: True when ``values=True`` read the variables that changed.
    values_compared: bool = False
    #: What was left out or could not be compared (ignored signatures, ...).
    notes: tuple[str, ...] = ()
    #: The policy's ``fail-on``: what :meth:`failed` uses when not told.
    fail_on: str = "breaking"

    def of(self, severity: Severity) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.severity is severity)

    @property
    def breaking(self) -> tuple[Change, ...]:
        return self.of(Severity.BREAKING)

    @property
    def compatible(self) -> tuple[Change, ...]:
        return self.of(Severity.COMPATIBLE)

    @property
    def info(self) -> tuple[Change, ...]:
        return self.of(Severity.INFO)

    def failed(self, fail_on: str | None = None) -> bool:
        """Whether ``smlite diff --fail-on FAIL_ON`` exits 1 (default: the policy's fail-on)."""
        fail_on = fail_on or self.fail_on
        if fail_on not in FAIL_ON:
            raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
        if fail_on == "never":
            return False
        return bool(self.breaking) if fail_on == "breaking" else bool(self.changes)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s.value}={len(self.of(s))}" for s in Severity)
        return f"Diff({self.verdict.code!r}, {counts})"


def sort_changes(changes: list[Change]) -> tuple[Change, ...]:
    """Most severe first, then by area in report order, then by location."""
    order = {area: i for i, area in enumerate(AREAS)}
    return tuple(sorted(changes, key=lambda c: (c.severity.rank, order[c.area], c.path, c.kind)))
