"""``smlite diff``: what changed between two exports, and does it break the clients?

:func:`diff` compares two SavedModels (or two versions of a TF Serving base
path, or the variables of two checkpoints) through the same typed views
``smlite show`` reads, and classifies every change as ``breaking``,
``compatible`` or ``info`` for the clients of the old model (the rules and
their reasons: :mod:`smlite.model.diff.kinds`).  Meta graphs are matched by
tag-set; within each: signatures (:mod:`.signatures`), the object graph's
functions (:mod:`.functions`) and op types (:mod:`.ops`); then variables
(:mod:`.variables`) and assets (:mod:`.assets`), and a verdict
(:mod:`.verdict`).

Both sides are read lazily: headers when opened, each graph once for its op
types, the variables index for keys, shapes and checksums.  No variable data
is read unless ``values=True``.

>>> import smlite
>>> d = smlite.diff("exports/1", "exports/2")                   # doctest: +SKIP
>>> d.verdict.text, [c.kind for c in d.breaking]                # doctest: +SKIP
('same weights, new graph', ['input-added'])
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from smlite.errors import TagSetNotFoundError
from smlite.model.diff.assets import compare_assets
from smlite.model.diff.functions import compare_functions
from smlite.model.diff.kinds import KINDS, ChangeKind, Severity
from smlite.model.diff.ops import compare_ops
from smlite.model.diff.policy import DiffPolicy
from smlite.model.diff.recorder import Recorder, location
from smlite.model.diff.records import (
    FAIL_ON,
    Change,
    Decoded,
    Diff,
    Message,
    SideInfo,
    Value,
    ValueStats,
    Verdict,
)
from smlite.model.diff.records import sort_changes as _sort
from smlite.model.diff.sides import open_pair
from smlite.model.diff.signatures import compare_signatures
from smlite.model.diff.variables import compare_variables
from smlite.model.diff.verdict import model_verdict, variables_verdict
from smlite.model.policy import Policy, find_policy
from smlite.model.saved_model import MetaGraph, SavedModel, format_tag_set, parse_tag_set

if TYPE_CHECKING:
    from smlite.model.scan import OpRegistry

__all__ = [
    "FAIL_ON",
    "KINDS",
    "Change",
    "ChangeKind",
    "Decoded",
    "Diff",
    "DiffPolicy",
    "Message",
    "Severity",
    "SideInfo",
    "Value",
    "ValueStats",
    "Verdict",
    "diff",
]


def diff(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str] | None = None,
    *,
    version: int | None = None,
    against: int | None = None,
    tag_set: str | None = None,
    values: bool = False,
    policy: Policy | None = None,
    registry: OpRegistry | None = None,
    progress: Callable[[int], None] | None = None,
) -> Diff:
    """Compare ``old`` with ``new`` and classify every change.

    Each side is a SavedModel directory, its ``saved_model.pb``/``.pbtxt``, a
    TF Serving base path (``against`` picks the old side's version, ``version``
    the new side's; default the highest) or a checkpoint prefix (then only
    variables are compared).  With ``new`` omitted, ``old`` is a TF Serving base
    path and its served version is compared with the one before.  ``tag_set``
    compares one meta graph only.  ``values`` reads the variables whose
    checksums differ and measures the change; ``progress`` is called with the
    bytes read.  ``policy`` defaults to the ``[tool.smlite]`` table above the
    new side; ``registry`` (the serving runtime's ops) to the policy's
    ``ops-from`` or TensorFlow 2.21's.  Raises :class:`~smlite.SmliteError`
    when a side cannot be read.
    """
    old_side, new_side = open_pair(old, new, version=version, against=against)
    try:
        if policy is None:
            policy = find_policy(new_side.info.model_dir or new_side.info.path)
        a, b = old_side.model, new_side.model
        diff_policy = DiffPolicy.from_policy(policy)
        rec = Recorder(diff_policy, variables_only=a is None or b is None)
        if a is not None and b is not None:
            _compare_models(a, b, rec, tag_set=tag_set, policy=policy, registry=registry)
        compare_variables(
            old_side.variables, new_side.variables, rec, values=values, progress=progress
        )
        if a is not None and b is not None:
            compare_assets(a, b, rec)
            verdict = model_verdict(a, b, rec.changes, rec.notes)
        else:
            verdict = variables_verdict(rec.changes)
        for v in (old_side.variables, new_side.variables):
            rec.notes.extend(f"{v.prefix}: {w}" for w in v.warnings)
        return Diff(
            old=old_side.info,
            new=new_side.info,
            changes=_sort(rec.changes),
            verdict=verdict,
            variables_only=rec.variables_only,
            values_compared=values,
            notes=tuple(rec.notes),
            fail_on=diff_policy.fail_on,
        )
    finally:
        old_side.close()
        new_side.close()


def _by_tag_set(sm: SavedModel) -> dict[frozenset[str], MetaGraph]:
    # Loaders take the first meta graph of a tag-set; `smlite check` reports duplicates.
    found: dict[frozenset[str], MetaGraph] = {}
    for mg in sm.meta_graphs:
        found.setdefault(mg.tag_set, mg)
    return found


def _compare_models(
    old: SavedModel,
    new: SavedModel,
    rec: Recorder,
    *,
    tag_set: str | None,
    policy: Policy,
    registry: OpRegistry | None,
) -> None:
    a, b = _by_tag_set(old), _by_tag_set(new)
    keys = set(a) | set(b)
    if tag_set is not None:
        wanted = parse_tag_set(tag_set)
        if wanted not in keys:
            choices = sorted(format_tag_set(t) for t in keys)
            raise TagSetNotFoundError(format_tag_set(wanted), choices, path=new.path)
        keys = {wanted}
    for tags in sorted(keys, key=lambda t: sorted(t)):
        path = location(("meta_graph", format_tag_set(tags)))
        x, y = a.get(tags), b.get(tags)
        if y is None:
            kind = "serving-tag-set-removed" if "serve" in tags else "tag-set-removed"
            rec.add(
                kind, path, f"the meta graph with tag-set {{{format_tag_set(tags)}}} was removed"
            )
            continue
        if x is None:
            rec.add(
                "tag-set-added",
                path,
                f"a meta graph with tag-set {{{format_tag_set(tags)}}} was added",
            )
            continue
        if x.tensorflow_version != y.tensorflow_version:
            rec.add(
                "tensorflow-version-changed",
                path,
                f"written by TensorFlow {y.tensorflow_version or '(unknown)'}, "
                f"was {x.tensorflow_version or '(unknown)'}",
                old=x.tensorflow_version,
                new=y.tensorflow_version,
            )
        compare_signatures(x, y, rec, path)
        compare_functions(x, y, rec, path)
        compare_ops(new, x, y, rec, path, policy=policy, registry=registry)
