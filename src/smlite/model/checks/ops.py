"""Ops (SML106, SML107, SML601-SML614): the op audit of :mod:`smlite.model.scan`, per meta graph."""

from __future__ import annotations

from smlite.errors import CorruptFileError
from smlite.model.checks.base import CheckContext, Emit, Stage, check
from smlite.model.scan import damaged_graph, scan_meta_graph

_OP_RULES = tuple(f"SML6{n:02d}" for n in range(1, 15))


@check("ops", "SML106", "SML107", *_OP_RULES, stage=Stage.MODEL, order=10, in_scan=True)
def op_audit(ctx: CheckContext, emit: Emit) -> None:
    """Risky, custom, denied and kernel-less ops, and calls of missing functions."""
    sm = ctx.sm
    assert sm is not None
    if ctx.registry.kernels is None:
        ctx.skipped.append(f"op kernels not checked: {ctx.registry.source} lists op names only")
    for mg in sm.meta_graphs:
        graph = ctx.graph_scan(mg)
        if isinstance(graph, CorruptFileError):
            emit.finding(damaged_graph(sm, mg, graph))
            continue
        for finding in scan_meta_graph(
            sm, mg, policy=ctx.policy, registry=ctx.registry, graph=graph
        ):
            emit.finding(finding)
