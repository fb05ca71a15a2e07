"""Op types used by the graph and every library function, compared.

A serving binary loads a model only if it registers every op the graph and
its functions use.  A newly used op therefore matters when the binary may
lack it (it is not registered in TensorFlow 2.21, the registry snapshot
``smlite scan`` uses) or when the scan policy forbids it.  That judgement
is ``smlite scan``'s (:func:`smlite.model.scan.scan_meta_graph`, under the
policy's disable/severity overrides): the new meta graph is scanned only
when a newly used op could be one of those, so a diff that adds no op, or
only stock ones, reads each graph once (its op types, :attr:`MetaGraph.all_ops`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smlite.model.diff.recorder import Recorder, location
from smlite.model.policy import Policy
from smlite.model.rules import Severity as RuleSeverity
from smlite.model.saved_model import MetaGraph, SavedModel

if TYPE_CHECKING:
    from smlite.model.scan import OpRegistry

__all__ = ["compare_ops", "default_registry"]


def default_registry(policy: Policy) -> OpRegistry:
    """The serving runtime's op names: the policy's ``ops-from``, else TensorFlow 2.21's."""
    from smlite.model.scan import OpRegistry

    if policy.ops_from is not None:
        return OpRegistry.from_file(policy.ops_from)
    return OpRegistry.default()


def _may_be_flagged(op: str, policy: Policy, registry: OpRegistry) -> bool:
    """Whether scan could report ``op`` (a superset test; scan itself decides)."""
    from smlite.model.scan import OP_RISKS

    return (
        op in OP_RISKS
        or op not in registry
        or op in policy.deny_ops
        or (policy.allow_ops is not None and op not in policy.allow_ops)
    )


def compare_ops(
    new_sm: SavedModel,
    old: MetaGraph,
    new: MetaGraph,
    rec: Recorder,
    mg_path: str,
    *,
    policy: Policy,
    registry: OpRegistry | None,
) -> None:
    """Op types newly used (judged by scan when they might be flagged) and no longer used.

    ``registry`` None: :func:`default_registry`, read only when an op was added.
    """
    before, after = old.all_ops, new.all_ops
    added = sorted(after - before)
    flagged: dict[str, str] = {}
    if added and registry is None:
        registry = default_registry(policy)
    if registry is not None and any(_may_be_flagged(op, policy, registry) for op in added):
        from smlite.model.scan import scan_meta_graph

        wanted = {f"op[{op}]": op for op in added}
        for finding in scan_meta_graph(new_sm, new, policy=policy, registry=registry):
            kept = policy.apply(finding)
            op = wanted.get(kept.where.detail or "") if kept is not None else None
            if kept is None or op is None or kept.level < RuleSeverity.ERROR:
                continue
            flagged.setdefault(op, f"{kept.rule.id} {kept.rule.name}: {kept.message}")
    for op in added:
        path = f"{mg_path}/{location(('op', op))}"
        if op in flagged:
            rec.add("flagged-op-added", path, f"op {op} is newly used; {flagged[op]}", new=op)
        else:
            rec.add("op-added", path, f"op {op} is newly used", new=op)
    for op in sorted(before - after):
        rec.add(
            "op-removed", f"{mg_path}/{location(('op', op))}", f"op {op} is no longer used", old=op
        )
