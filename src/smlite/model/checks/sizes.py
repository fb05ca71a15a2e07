"""Sizes (SML701-SML704): protobuf's limit and folded weights, the policy's size limits.

SML702-SML704 are :func:`smlite.model.size.size_findings` over ``smlite size``'s
exact attribution of the file (one reading, shared with ``smlite size``).
"""

from __future__ import annotations

from smlite.errors import SmliteError
from smlite.formats import storage
from smlite.formats.storage import DirEntry
from smlite.model.checks.base import CheckContext, Emit, Stage, check
from smlite.model.checks.files import walk
from smlite.model.rules import Where
from smlite.model.units import format_bytes


def _size(n: int) -> str:
    return format_bytes(n, exact=True)


def _followed_size(entry: DirEntry) -> int:
    """A file's size; a symlink's is its target's (0 when that is no file)."""
    if entry.kind == "file":
        return storage.entry_size(entry)
    if entry.kind == "symlink" and entry.path.is_file():
        return storage.size(entry.path)
    return 0


@check("sizes", "SML701", "SML702", "SML703", "SML704", stage=Stage.MODEL, order=60)
def size_limits(ctx: CheckContext, emit: Emit) -> None:
    """Protobuf's 2 GiB limit, folded weights; max-model-, max-graph-, max-variables-size."""
    from smlite.model.size import size_findings, size_report

    sm = ctx.sm
    assert sm is not None
    try:
        for finding in size_findings(size_report(sm, top=1)):
            emit.finding(finding)
    except SmliteError as e:
        ctx.skipped.append(f"sizes not attributed: {e}")
    policy = ctx.policy
    if policy.max_model_size is not None:
        total = sum(storage.entry_size(e) for e in walk(sm.path) if e.kind == "file")
        if total > policy.max_model_size:
            emit(
                "SML701",
                f"the model directory holds {_size(total)}, over the policy's "
                f"max-model-size of {_size(policy.max_model_size)}",
                Where(sm.path),
            )
    if policy.max_graph_size is not None:
        size = storage.size(sm.file)
        if size > policy.max_graph_size:
            emit(
                "SML701",
                f"{sm.file.name} is {_size(size)}, over the policy's max-graph-size of "
                f"{_size(policy.max_graph_size)}",
                Where(sm.file),
            )
    if policy.max_variables_size is not None:
        variables = sm.path / "variables"
        size = sum(_followed_size(e) for e in walk(variables)) if variables.is_dir() else 0
        if size > policy.max_variables_size:
            emit(
                "SML701",
                f"variables/ holds {_size(size)}, over the policy's max-variables-size of "
                f"{_size(policy.max_variables_size)}",
                Where(variables),
            )
