"""Meta graphs and signatures (SML101-SML105): present, distinct, required, resolvable."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from smlite.model.checks.base import CheckContext, Emit, Stage, check
from smlite.model.graph_walk import input_node
from smlite.model.rules import Severity, Where
from smlite.model.saved_model import Asset, MetaGraph, format_tag_set

_SERVE = frozenset({"serve"})


def quoted_tags(tags: Iterable[str]) -> str:
    return "'" + format_tag_set(tags) + "'"


@check("meta_graphs", "SML101", "SML102", "SML103", "SML104", stage=Stage.MODEL, order=0)
def tag_sets_and_signatures(ctx: CheckContext, emit: Emit) -> None:
    """At least one meta graph, distinct tag-sets, the required tag-sets and signatures."""
    sm = ctx.sm
    assert sm is not None
    file = sm.file
    if not sm.meta_graphs:
        emit("SML101", "the SavedModel holds no meta graph", Where(file))
        return
    seen: dict[frozenset[str], int] = {}
    for mg in sm.meta_graphs:
        first = seen.setdefault(mg.tag_set, mg.index)
        if first != mg.index:
            emit(
                "SML102",
                f"meta graphs #{first} and #{mg.index} both have tag-set "
                f"{quoted_tags(mg.tag_set)}; loaders always pick #{first}",
                Where(file, mg.index, mg.tags),
            )
    policy = ctx.policy
    required = set(policy.required_tag_sets) | set(policy.required_signatures)
    for tag_set in sorted(required | {_SERVE}, key=sorted):
        if tag_set in seen:
            continue
        is_required = tag_set in required
        available = ", ".join(quoted_tags(t) for t in seen) or "(none)"
        emit(
            "SML103",
            f"no meta graph has tag-set {quoted_tags(tag_set)}"
            + (" (required by the policy)" if is_required else "")
            + f"; tag-sets present: {available}",
            Where(file),
            Severity.ERROR if is_required else None,
        )
    by_tags = {mg.tag_set: mg for mg in reversed(sm.meta_graphs)}
    wanted = dict(policy.required_signatures)
    for tag_set, mg in by_tags.items():
        keys = wanted.get(tag_set)
        if keys is None and tag_set == _SERVE:
            keys = ("serving_default",)
            required_here = False
        else:
            required_here = True
        for key in keys or ():
            if key in mg.signatures:
                continue
            callable_keys = [k for k, s in mg.signatures.items() if not s.is_internal]
            listed = ", ".join(callable_keys) or "none"
            emit(
                "SML104",
                f"meta graph {quoted_tags(tag_set)} has no signature {key!r}"
                + (" (required by the policy)" if required_here else "")
                + f"; its signatures: {listed}",
                Where(file, mg.index, mg.tags, detail=f"signature_def[{key}]"),
                Severity.ERROR if required_here else None,
            )


def _tensor_references(mg: MetaGraph, assets: tuple[Asset, ...]) -> Iterator[tuple[str, str, str]]:
    """(tensor name, who names it, detail) for every tensor a meta graph's header names."""
    for key, sig in mg.signatures.items():
        for direction, infos in (("input", sig.inputs), ("output", sig.outputs)):
            for arg, info in infos.items():
                for name in info.tensor_names:
                    yield (
                        name,
                        f"signature {key!r} {direction} {arg!r}",
                        f"signature_def[{key}].{direction}s[{arg}]",
                    )
    saver = mg.header.saver_def
    for field_name in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
        detail = f"saver_def.{field_name}"
        yield getattr(saver, field_name), detail, detail
    for asset in assets:
        for tensor in asset.tensor_names:
            yield tensor, f"asset {asset.filename!r}", f"asset[{asset.filename}]"


@check("meta_graphs", "SML105", stage=Stage.MODEL, order=20)
def tensor_references(ctx: CheckContext, emit: Emit) -> None:
    """Every tensor a signature, the saver or an asset names is a node of the graph."""
    sm = ctx.sm
    assert sm is not None
    for mg in sm.meta_graphs:
        if not mg.graph_size and not mg.signatures:
            continue
        graph = ctx.graph(mg)
        if graph is None:
            continue  # reported by the op audit as SML107
        node_names = {n.name for n in graph.nodes}
        for name, what, detail in _tensor_references(mg, ctx.assets(mg)):
            node = input_node(name)
            if name and node not in node_names:
                emit(
                    "SML105",
                    f"{what} names tensor {name!r}, but the graph has no node {node!r}",
                    Where(sm.file, mg.index, mg.tags, detail=detail),
                )
