"""Sizes (SML701): the policy's limits on the model directory, the graph and the variables."""

from __future__ import annotations

from smlite.model.checks.base import CheckContext, Emit, Stage, check
from smlite.model.checks.files import walk
from smlite.model.rules import Where


def _size(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"


@check("sizes", "SML701", stage=Stage.MODEL, order=60)
def size_limits(ctx: CheckContext, emit: Emit) -> None:
    """max-model-size, max-graph-size and max-variables-size."""
    sm = ctx.sm
    assert sm is not None
    policy = ctx.policy
    if policy.max_model_size is not None:
        total = sum(p.stat().st_size for p in walk(sm.path) if p.is_file() and not p.is_symlink())
        if total > policy.max_model_size:
            emit(
                "SML701",
                f"the model directory holds {_size(total)}, over the policy's "
                f"max-model-size of {_size(policy.max_model_size)}",
                Where(sm.path),
            )
    if policy.max_graph_size is not None:
        size = sm.file.stat().st_size
        if size > policy.max_graph_size:
            emit(
                "SML701",
                f"{sm.file.name} is {_size(size)}, over the policy's max-graph-size of "
                f"{_size(policy.max_graph_size)}",
                Where(sm.file),
            )
    if policy.max_variables_size is not None:
        variables = sm.path / "variables"
        size = (
            sum(p.stat().st_size for p in walk(variables) if p.is_file())
            if variables.is_dir()
            else 0
        )
        if size > policy.max_variables_size:
            emit(
                "SML701",
                f"variables/ holds {_size(size)}, over the policy's max-variables-size of "
                f"{_size(policy.max_variables_size)}",
                Where(variables),
            )
