"""The op audit behind ``smlite scan``: which ops a SavedModel runs, where, and which are risky.

``saved_model_cli scan`` looks for three ops among those reachable from the
graph's call nodes and says nothing about where they are.  This scan visits
the graph and **every** function of the library (reachable or not, whatever
attribute refers to it), names the meta graph, function and node of every
finding, and applies a policy with a reason per op (:data:`OP_RISKS`).

The ops a SavedModel uses to save and restore its own variables (the saver
of the meta graph: TF1 ``save/...`` nodes, TF2 ``__inference__traced_save_*``
and ``__inference__traced_restore_*`` functions) are not findings; the same ops
anywhere else are.

Ops that are not in stock TensorFlow's registry (a snapshot of TF 2.21's op
names ships in ``smlite/data``; ``--ops-from`` gives another runtime's list)
need a custom op library at serving time and are reported as such.  Registered
ops that TensorFlow places when the model is loaded (every top-level node, and
the nodes of every function that can be called) but that have no kernel at all
(or none for the CPU) are reported too: see :mod:`smlite.model.op_registry`
for the kernel snapshot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from smlite import pb
from smlite.errors import CorruptFileError, SmliteError
from smlite.formats.graph_index import GraphIndex, Node
from smlite.model import graph_walk
from smlite.model.op_registry import CPU_DEVICE_TYPES, REWRITTEN_OPS, OpRegistry
from smlite.model.op_risks import DEFAULT_DENYLIST, OP_RISKS, OpRisk
from smlite.model.policy import Policy
from smlite.model.rules import Finding, Rule, Where, rule
from smlite.model.saved_model import MetaGraph, SavedModel

__all__ = [
    "DEFAULT_DENYLIST",
    "OP_RISKS",
    "OpRegistry",
    "OpRisk",
    "graph_nodes",
    "scan_meta_graph",
]


# ---------------------------------------------------------------------------
# Scanning.
# ---------------------------------------------------------------------------


def graph_nodes(mg: MetaGraph) -> GraphIndex:
    """Nodes of the graph and of every function, with inputs and attributes (the graph index).

    Raises :class:`~smlite.errors.CorruptFileError` when the GraphDef is damaged.
    """
    return mg.graph_index


@dataclass(slots=True)
class _Use:
    op: str
    function: str | None
    node: Node


def _uses(graph: GraphIndex) -> Iterator[_Use]:
    for node in graph.nodes:
        yield _Use(node.op, None, node)
    for fn in graph.functions.values():
        for node in fn.nodes:
            yield _Use(node.op, fn.name, node)


# TensorFlow's own saver functions: ``MultiDeviceSaver.to_proto`` (checkpoint/
# functional_saver.py, used by tf.saved_model.save since TF 1.14/2.0 and unchanged through
# 2.21) traces ``_traced_save`` and ``_traced_restore`` as tf.functions, which the library
# holds as ``__inference__traced_save_<uid>`` and ``__inference__traced_restore_<uid>``.
# Exports that embed a second saver (TFX Estimator exports written by TF 2.x) carry such
# functions that nothing calls; they are the exporter's machinery all the same.
_GENERATED_SAVER = re.compile(r"__inference__traced_(?:save|restore)_[0-9]+")


def _own_saver(mg: MetaGraph, graph: GraphIndex) -> tuple[frozenset[str], frozenset[str]]:
    """Top-level nodes and functions that make up the model's own saving machinery.

    Top level: every node that does not run when the model is served (not needed by
    a signature or an init op) -- that covers the meta graph's saver and the savers
    TF1's SavedModelBuilder leaves behind for its other meta graphs -- plus the saver
    of ``saver_def``.  Functions: those the saver nodes call, TensorFlow's generated
    saver functions wherever they are, the save/restore functions of TF2 resources
    named in the object graph, and whatever these call.
    """
    by_name = {n.name: n for n in graph.nodes}
    saver_nodes = graph_walk.closure(by_name, graph_walk.saver_roots(mg))
    serving = graph_walk.closure(by_name, graph_walk.serving_roots(mg))
    nodes = saver_nodes | (set(by_name) - serving)
    roots = [fn for fn in graph.functions if _GENERATED_SAVER.fullmatch(fn)]
    # TF2 resources (lookup tables, ...) save themselves through functions named in
    # the object graph; those are part of the model's own saving machinery too.
    obj = mg.object_graph_def
    for saved in obj.nodes:
        for saveable in saved.saveable_objects.values():
            for node_id in (saveable.save_function, saveable.restore_function):
                if 0 <= node_id < len(obj.nodes) and obj.nodes[node_id].HasField("function"):
                    roots.extend(obj.nodes[node_id].function.concrete_functions)
    functions = graph_walk.called_functions(graph, (by_name[n] for n in saver_nodes), roots)
    return frozenset(nodes), frozenset(functions)


class _Scope:
    """Node lookup inside one scope (the graph or a function) for tracing inputs."""

    def __init__(self, nodes: Iterable[Node], args: Iterable[str]) -> None:
        self.by_name = {n.name: n for n in nodes}
        self.args = frozenset(args)


@dataclass(slots=True)
class _Context:
    sm: SavedModel
    mg: MetaGraph
    graph: GraphIndex
    policy: Policy
    registry: OpRegistry
    graph_buffer: bytes | memoryview
    asset_tensors: frozenset[str]
    asset_names: frozenset[str]
    scopes: dict[str | None, _Scope]

    def scope(self, function: str | None) -> _Scope:
        found = self.scopes.get(function)
        if found is None:
            if function is None:
                found = _Scope(self.graph.nodes, ())
            else:
                fn = self.graph.functions[function]
                found = _Scope(fn.nodes, fn.args)
            self.scopes[function] = found
        return found

    def const_string(self, node: Node) -> bytes | None:
        """The scalar string value of a Const node, or None."""
        if node.op != "Const":
            return None
        start, end = node.span
        try:
            proto = pb.NodeDef.FromString(bytes(self.graph_buffer[start:end]))
        except pb.DecodeError:
            return None
        values = proto.attr["value"].tensor.string_val
        return bytes(values[0]) if len(values) == 1 else None


def _trace(ctx: _Context, function: str | None, ref: str) -> tuple[str, Node | None]:
    """Follow an input through Identity nodes to a function argument or a node.

    Returns ``("arg", None)``, ``("node", node)`` or ``("?", None)`` (not found).
    """
    scope = ctx.scope(function)
    for _ in range(16):
        name = graph_walk.input_node(ref)
        if ":" not in ref and name in scope.args:
            return "arg", None
        node = scope.by_name.get(name)
        if node is None:
            return "?", None
        if node.op in ("Identity", "IdentityN", "Snapshot") and node.inputs:
            if function is None and ref.split(":")[0] + ":0" in ctx.asset_tensors:
                return "node", node
            ref = node.inputs[0]
            continue
        return "node", node
    return "?", None


def _condition_problem(ctx: _Context, use: _Use, risk: OpRisk) -> str | None:
    """For ops that are risky only in some uses: what makes this use risky, or None."""
    node = use.node
    if risk.condition == "output_stream":
        streams = node.attr_strings("output_stream") or ()
        for s in streams:
            if s.startswith(b"file://"):
                return f"output_stream is {s.decode('utf-8', 'replace')!r}"
        return None
    if risk.condition == "debug_urls":
        urls = [u.decode("utf-8", "replace") for u in node.attr_strings("debug_urls") or ()]
        urls = [u for u in urls if u]
        return f"debug_urls: {', '.join(urls)}" if urls else None
    if risk.condition == "descriptor_source":
        sources = node.attr_strings("descriptor_source") or (b"local://",)
        for s in sources:
            if s and s != b"local://" and not s.startswith(b"bytes://"):
                return f"descriptor_source is {s.decode('utf-8', 'replace')!r}"
        return None
    if risk.condition == "filename":
        # Both InitializeTableFromTextFile* and CacheDataset* take the file name as
        # their second input.
        if len(node.inputs) < 2:
            return None
        kind, source = _trace(ctx, use.function, node.inputs[1])
        if use.op.startswith("CacheDataset"):
            if kind == "node" and source is not None:
                value = ctx.const_string(source)
                if value == b"":
                    return None
                if value is not None:
                    return f"cache file {value.decode('utf-8', 'replace')!r}"
            return "the cache file name is computed at run time"
        # InitializeTableFromTextFile: fine when the file is one of the model's assets.
        if kind == "arg":
            if ctx.asset_names:
                return None
            return "the file name is a function argument and the model ships no assets"
        if kind == "node" and source is not None:
            if source.name + ":0" in ctx.asset_tensors:
                return None
            value = ctx.const_string(source)
            if value is not None:
                base = os.path.basename(value.decode("utf-8", "replace"))
                if base in ctx.asset_names and source.name + ":0" in ctx.asset_tensors:
                    return None
                return f"the file is {value.decode('utf-8', 'replace')!r}, not a model asset"
        return "the file name is computed at run time, not taken from the model's assets"
    return None


def _instantiated(mg: MetaGraph, graph: GraphIndex) -> frozenset[str]:
    """Library functions TensorFlow instantiates when the model is loaded and served.

    A session places the whole top-level graph when it first runs, so every
    top-level node needs a kernel (TF 2.21 fails "No OpKernel was registered"
    even for a node nothing fetches).  A library function is placed only when a
    node that calls it runs, and then whole: the functions the top-level nodes
    call, and for TF2 the functions of the object graph (what
    ``tf.saved_model.load`` makes callable), with everything they call.  A
    function nothing calls (the GPU variant of a Keras LSTM, which Grappler may
    swap in on a GPU; leftovers) is never placed on a CPU.
    """
    roots = list(mg.object_graph_def.concrete_functions)
    return frozenset(graph_walk.called_functions(graph, graph.nodes, roots))


def _kernel_problem(registry: OpRegistry, op: str) -> tuple[str, str] | None:
    """(rule, reason) when the registry knows ``op`` has no kernel, or none for the CPU."""
    devices = registry.kernel_devices(op)
    if devices is None or op in REWRITTEN_OPS:
        return None
    if not devices:
        return "SML613", (
            f"registered, but {registry.kernel_source} has no kernel for it on any device: "
            "TensorFlow cannot run the graph or function that holds it"
        )
    if not devices & CPU_DEVICE_TYPES:
        return "SML614", (
            f"{registry.kernel_source} has kernels for it only on {', '.join(sorted(devices))}: "
            "the graph or function that holds it cannot run on a CPU-only server"
        )
    return None


def damaged_graph(sm: SavedModel, mg: MetaGraph, error: CorruptFileError) -> Finding:
    """The finding for a GraphDef that the graph index cannot read."""
    cause = error.__cause__ if error.__cause__ is not None else error.detail
    return Finding(
        rule("SML107"),
        f"the GraphDef of meta graph #{mg.index} is damaged: {cause}",
        Where(sm.file, mg.index, mg.tags),
    )


def scan_meta_graph(
    sm: SavedModel,
    mg: MetaGraph,
    *,
    policy: Policy | None = None,
    registry: OpRegistry | None = None,
    graph: GraphIndex | None = None,
) -> list[Finding]:
    """Op findings of one meta graph (before the policy's disable/severity overrides).

    ``graph`` is the meta graph's :func:`graph_nodes` when the caller has them already.
    """
    policy = policy or Policy()
    registry = registry or OpRegistry.default()
    file = sm.file
    if graph is None:
        try:
            graph = graph_nodes(mg)
        except CorruptFileError as e:
            return [damaged_graph(sm, mg, e)]
    try:
        assets = mg.assets
    except SmliteError:
        assets = ()  # the assets collection does not parse: reported by check as SML003
    ctx = _Context(
        sm=sm,
        mg=mg,
        graph=graph,
        policy=policy,
        registry=registry,
        graph_buffer=mg.graph_bytes(),
        asset_tensors=frozenset(t for a in assets for t in a.tensor_names),
        asset_names=frozenset(a.filename for a in assets),
        scopes={},
    )
    saver_nodes, saver_functions = _own_saver(mg, graph)
    instantiated = _instantiated(mg, graph)
    functions = graph.functions
    # (rule id, op, function) -> (reason, nodes)
    grouped: dict[tuple[str, str, str | None], tuple[str, list[str]]] = {}

    def report(rule_id: str, reason: str, use: _Use) -> None:
        key = (rule_id, use.op, use.function)
        entry = grouped.setdefault(key, (reason, []))
        entry[1].append(use.node.name)

    missing_functions: dict[tuple[str | None, str, str], str] = {}
    for use in _uses(graph):
        op = use.op
        for attr, fn in use.node.function_attrs:
            if fn and fn not in functions:
                missing_functions.setdefault((use.function, use.node.name, fn), attr)
        if op in functions:
            continue
        risk = OP_RISKS.get(op)
        if risk is not None:
            own = (
                use.node.name in saver_nodes
                if use.function is None
                else (use.function in saver_functions)
            )
            if risk.rule_id == "SML606" and own:
                pass
            elif risk.condition is None:
                report(risk.rule_id, risk.reason, use)
            else:
                problem = _condition_problem(ctx, use, risk)
                if problem is not None:
                    report(risk.rule_id, f"{risk.reason}; {problem}", use)
        if op not in registry and op not in policy.allowed_custom_ops:
            report(
                "SML609",
                f"not registered in {registry.source}: needs a custom op library at serving time",
                use,
            )
        elif use.function is None or use.function in instantiated:
            missing_kernel = _kernel_problem(registry, op)
            if missing_kernel is not None:
                report(*missing_kernel, use)
        if op in policy.deny_ops:
            report("SML610", "denied by the policy (deny-ops)", use)
        if policy.allow_ops is not None and op not in policy.allow_ops:
            report("SML611", "not in the policy's allow-ops", use)

    findings: list[Finding] = []
    for (rule_id, op, function), (reason, nodes) in sorted(
        grouped.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        r: Rule = rule(rule_id)
        more = f" (and {len(nodes) - 1} more node(s) in this scope)" if len(nodes) > 1 else ""
        scope = f"function {function!r}" if function is not None else "the graph"
        findings.append(
            Finding(
                r,
                f"op {op} in {scope}, node {nodes[0]!r}{more}: {reason}",
                Where(file, mg.index, mg.tags, function, nodes[0], f"op[{op}]"),
            )
        )
    for (function, node, fn), attr in sorted(
        missing_functions.items(), key=lambda kv: (kv[0][0] or "", kv[0][1], kv[0][2])
    ):
        findings.append(
            Finding(
                rule("SML106"),
                f"node {node!r} refers to function {fn!r} (attribute {attr!r}), which is "
                "not in the function library",
                Where(file, mg.index, mg.tags, function, node, f"attr[{attr}]"),
            )
        )
    return findings
