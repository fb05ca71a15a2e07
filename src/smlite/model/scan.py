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
need a custom op library at serving time and are reported as such.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from smlite import pb
from smlite.errors import CorruptFileError, SmliteError
from smlite.formats.graph_index import GraphIndex, Node
from smlite.model.policy import Policy
from smlite.model.rules import Finding, Rule, Where, rule
from smlite.model.saved_model import MetaGraph, SavedModel

__all__ = [
    "DEFAULT_DENYLIST",
    "AssetRef",
    "asset_refs",
    "OP_RISKS",
    "OpRegistry",
    "OpRisk",
    "graph_nodes",
    "scan_meta_graph",
]

#: ``saved_model_cli scan``'s default denylist (TF 2.21 ``_OP_DENYLIST``).
DEFAULT_DENYLIST = frozenset({"WriteFile", "ReadFile", "PrintV2"})


@dataclass(frozen=True, slots=True)
class OpRisk:
    """Why an op is a finding: the rule it breaks and the reason."""

    rule_id: str
    reason: str
    #: Only a finding under a condition checked in code (the attribute or input named here).
    condition: str | None = None


def _risks(rule_id: str, reason: str, *ops: str, condition: str | None = None) -> dict[str, OpRisk]:
    return {op: OpRisk(rule_id, reason, condition) for op in ops}


# The ops below were picked from TensorFlow 2.21's op registry (tensorflow/core/ops/*.cc and
# the tf.data, summary, debug and RPC kernels): every op whose kernel opens, lists, writes,
# renames or deletes files, runs Python, or talks to other hosts.  Ops that only take a
# *resource* created by one of these (ReaderRead, WriteScalarSummary, ...) are not listed: the
# op that creates the resource is the one reported.
OP_RISKS: Mapping[str, OpRisk] = {
    # Reading files named by an input tensor (the path can come from a request).
    **_risks("SML601", "reads the file named by its input (tf.io.read_file)", "ReadFile"),
    **_risks(
        "SML601",
        "lists the file system with a glob pattern (tf.io.matching_files)",
        "MatchingFiles",
        "MatchingFilesDataset",
        "ExperimentalMatchingFilesDataset",
    ),
    **_risks(
        "SML601",
        "a TF1 reader: opens the files named by the queue it reads from",
        "WholeFileReader",
        "WholeFileReaderV2",
        "TextLineReader",
        "TextLineReaderV2",
        "TFRecordReader",
        "TFRecordReaderV2",
        "FixedLengthRecordReader",
        "FixedLengthRecordReaderV2",
        "LMDBReader",
    ),
    **_risks(
        "SML601",
        "a tf.data source that reads the files named by its input",
        "TextLineDataset",
        "TFRecordDataset",
        "TFRecordDatasetV2",
        "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2",
        "CSVDataset",
        "CSVDatasetV2",
        "ExperimentalCSVDataset",
        "LMDBDataset",
        "ExperimentalLMDBDataset",
        "LoadDataset",
        "SnapshotDatasetReader",
        "SnapshotNestedDatasetReader",
        "SnapshotChunkDataset",
        "ListSnapshotChunksDataset",
    ),
    **_risks(
        "SML601",
        "runs an SQL query against a database file (tf.data SqlDataset)",
        "SqlDataset",
        "ExperimentalSqlDataset",
    ),
    **_risks(
        "SML601",
        "memory-maps the file named by its memory_region_name attribute",
        "ImmutableConst",
    ),
    **_risks(
        "SML601", "reads a checkpoint file named by its ckpt_path input", "LoadAndRemapMatrix"
    ),
    **_risks(
        "SML601", "reads the two vocabulary files named by its inputs", "GenerateVocabRemapping"
    ),
    **_risks("SML601", "reads the text corpus named by its filename attribute", "Skipgram"),
    **_risks(
        "SML601",
        "reads a FileDescriptorSet from the file named by descriptor_source",
        "DecodeProtoV2",
        "EncodeProto",
        condition="descriptor_source",
    ),
    # Writing files.
    **_risks(
        "SML602",
        "writes its input to the file named by its filename input (tf.io.write_file)",
        "WriteFile",
    ),
    **_risks(
        "SML602",
        "writes a dataset to files under a path",
        "DatasetToTFRecord",
        "ExperimentalDatasetToTFRecord",
        "SaveDataset",
        "SaveDatasetV2",
        "DistributedSave",
        "SnapshotDataset",
        "SnapshotDatasetV2",
    ),
    **_risks(
        "SML602",
        "caches a dataset in files when its filename input is not empty",
        "CacheDataset",
        "CacheDatasetV2",
        condition="filename",
    ),
    **_risks("SML602", "changes file-system settings of the process", "FileSystemSetConfiguration"),
    # Python.
    **_risks(
        "SML603",
        "calls a Python function registered in the exporting process "
        "(tf.py_function / tf.numpy_function)",
        "PyFunc",
        "PyFuncStateless",
        "EagerPyFunc",
    ),
    # Debugger dumps.
    **_risks(
        "SML604",
        "tfdbg op: sends tensors to the file:// or grpc:// URLs in debug_urls",
        "DebugIdentity",
        "DebugIdentityV2",
        "DebugIdentityV3",
        "DebugNanCount",
        "DebugNumericSummary",
        condition="debug_urls",
    ),
    # Network.
    **_risks(
        "SML605",
        "tf.distribute RPC op: connects to or serves other hosts",
        "RpcClient",
        "RpcCall",
        "RpcServer",
        "RpcServerStart",
        "RpcServerRegister",
    ),
    **_risks(
        "SML605",
        "reads from or registers with a tf.data service at a network address",
        "DataServiceDataset",
        "DataServiceDatasetV2",
        "DataServiceDatasetV3",
        "DataServiceDatasetV4",
        "RegisterDataset",
        "RegisterDatasetV2",
    ),
    # Saving and restoring checkpoints (fine inside the model's own saver).
    **_risks(
        "SML606",
        "writes checkpoint files to a path given at run time",
        "Save",
        "SaveSlices",
        "SaveV2",
    ),
    **_risks(
        "SML606",
        "reads checkpoint files from a path given at run time",
        "Restore",
        "RestoreSlice",
        "RestoreV2",
    ),
    **_risks("SML606", "merges checkpoint files and deletes the originals", "MergeV2Checkpoints"),
    # Lookup tables from text files (fine when the file is one of the model's assets).
    **_risks(
        "SML607",
        "initializes a lookup table from the text file named by its filename input",
        "InitializeTableFromTextFile",
        "InitializeTableFromTextFileV2",
        condition="filename",
    ),
    # Printing to a file.
    **_risks(
        "SML608",
        "appends to the file named in output_stream (file://...)",
        "PrintV2",
        condition="output_stream",
    ),
    # Summary writers.
    **_risks(
        "SML612",
        "creates a summary writer that writes event files or a database",
        "CreateSummaryFileWriter",
        "CreateSummaryDbWriter",
    ),
}



# ---------------------------------------------------------------------------
# The op registry snapshot.
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpRegistry:
    """Op names a runtime knows."""

    names: frozenset[str]
    #: Where the names come from (``TensorFlow 2.21.0 registered ops``, a file path).
    source: str

    def __contains__(self, op: object) -> bool:
        return op in self.names

    @classmethod
    def default(cls) -> OpRegistry:
        """TensorFlow 2.21's registered op names (shipped with smlite)."""
        return _DEFAULT_REGISTRY or _load_default()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> OpRegistry:
        """Op names from a text file: one per line, ``#`` comments, blank lines ignored."""
        p = Path(os.fspath(path))
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise SmliteError(f"{p}: cannot read the op list: {e.strerror or e}", path=p) from e
        except UnicodeDecodeError as e:
            raise SmliteError(f"{p}: the op list must be UTF-8 text ({e})", path=p) from e
        return cls(frozenset(_op_lines(text)), str(p))


def _op_lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line


_DEFAULT_REGISTRY: OpRegistry | None = None
_DATA_FILE = "tf_ops_2.21.txt"


def _load_default() -> OpRegistry:
    global _DEFAULT_REGISTRY
    text = resources.files("smlite").joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    header = text.split("\n", 1)[0].lstrip("# ").split(":")[0]
    _DEFAULT_REGISTRY = OpRegistry(frozenset(_op_lines(text)), header or _DATA_FILE)
    return _DEFAULT_REGISTRY


# ---------------------------------------------------------------------------
# Scanning.
# ---------------------------------------------------------------------------


def graph_nodes(mg: MetaGraph) -> GraphIndex:
    """Nodes of the graph and of every function, with inputs and attributes (the graph index)."""
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


def _input_node(ref: str) -> str:
    """The node an input reference names (``^x`` / ``x:1`` / ``x:output:0`` -> ``x``)."""
    return ref.lstrip("^").split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class AssetRef:
    """An asset of a meta graph: the file under ``assets/`` and the tensor fed its path."""

    filename: str
    tensor_name: str
    #: ``asset_file_def`` (TF2, TF1 >= 1.x builders) or the ``saved_model_assets`` collection.
    source: str


_ASSETS_COLLECTION = "saved_model_assets"
_INIT_COLLECTIONS = ("saved_model_main_op", "legacy_init_op", "main_op", "table_initializer")


def asset_refs(mg: MetaGraph) -> tuple[AssetRef, ...]:
    """Every asset of ``mg``: its ``asset_file_def`` field and the TF1 assets collection."""
    refs = [AssetRef(a.filename, a.tensor_name, "asset_file_def") for a in mg.assets]
    collection = mg.header.collection_def.get(_ASSETS_COLLECTION)
    if collection is not None and collection.WhichOneof("kind") == "any_list":
        for packed in collection.any_list.value:
            try:
                message = pb.unpack_any(packed)
            except SmliteError:
                continue
            if isinstance(message, pb.AssetFileDef):
                ref = AssetRef(message.filename, message.tensor_info.name, _ASSETS_COLLECTION)
                if all(
                    (r.filename, r.tensor_name) != (ref.filename, ref.tensor_name) for r in refs
                ):
                    refs.append(ref)
    return tuple(refs)


def _closure(by_name: Mapping[str, Node], roots: Iterable[str]) -> set[str]:
    """Top-level nodes ``roots`` depend on (data and control inputs), roots included."""
    seen: set[str] = set()
    pending = [r for r in roots if r in by_name]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(i for i in (_input_node(x) for x in by_name[name].inputs) if i in by_name)
    return seen


def _serving_roots(mg: MetaGraph) -> list[str]:
    """Top-level nodes that run when the model is served: signatures and init ops."""
    roots: list[str] = []

    def tensor_info(info: pb.TensorInfo) -> None:
        kind = info.WhichOneof("encoding")
        if kind == "name":
            roots.append(_input_node(info.name))
        elif kind == "coo_sparse":
            c = info.coo_sparse
            roots.extend(
                _input_node(n)
                for n in (c.values_tensor_name, c.indices_tensor_name, c.dense_shape_tensor_name)
            )
        elif kind == "composite_tensor":
            for component in info.composite_tensor.components:
                tensor_info(component)

    for sig in mg.header.signature_def.values():
        for info in (*sig.inputs.values(), *sig.outputs.values()):
            tensor_info(info)
    for key in _INIT_COLLECTIONS:
        collection = mg.header.collection_def.get(key)
        if collection is not None and collection.WhichOneof("kind") == "node_list":
            roots.extend(_input_node(n) for n in collection.node_list.value)
    return roots


def _own_saver(mg: MetaGraph, graph: GraphIndex) -> tuple[frozenset[str], frozenset[str]]:
    """Top-level nodes and functions that make up the model's own saving machinery.

    Top level: every node that does not run when the model is served (not needed by
    a signature or an init op) -- that covers the meta graph's saver and the savers
    TF1's SavedModelBuilder leaves behind for its other meta graphs -- plus the saver
    of ``saver_def``.  Functions: those the saver nodes call, and the save/restore
    functions of TF2 resources named in the object graph.
    """
    saver = mg.header.saver_def
    by_name = {n.name: n for n in graph.nodes}
    saver_nodes = _closure(
        by_name,
        (
            _input_node(name)
            for name in (saver.save_tensor_name, saver.restore_op_name, saver.filename_tensor_name)
            if name
        ),
    )
    serving = _closure(by_name, _serving_roots(mg))
    nodes = saver_nodes | (set(by_name) - serving)
    functions: set[str] = set()
    todo = [fn for n in saver_nodes for _, fn in by_name[n].function_attrs]
    # TF2 resources (lookup tables, ...) save themselves through functions named in
    # the object graph; those are part of the model's own saving machinery too.
    obj = mg.object_graph_def
    for saved in obj.nodes:
        for saveable in saved.saveable_objects.values():
            for node_id in (saveable.save_function, saveable.restore_function):
                if 0 <= node_id < len(obj.nodes) and obj.nodes[node_id].HasField("function"):
                    todo.extend(obj.nodes[node_id].function.concrete_functions)
    while todo:
        fn = todo.pop()
        if fn in functions or fn not in graph.functions:
            continue
        functions.add(fn)
        for node in graph.functions[fn].nodes:
            todo.extend(name for _, name in node.function_attrs)
            if node.op in graph.functions:
                todo.append(node.op)
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
        name = _input_node(ref)
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


def scan_meta_graph(
    sm: SavedModel,
    mg: MetaGraph,
    *,
    policy: Policy | None = None,
    registry: OpRegistry | None = None,
) -> list[Finding]:
    """Op findings of one meta graph (before the policy's disable/severity overrides)."""
    policy = policy or Policy()
    registry = registry or OpRegistry.default()
    file = sm.file
    try:
        graph = mg.graph_index
        buffer = mg.graph_bytes()
    except CorruptFileError as e:
        cause = e.__cause__ if e.__cause__ is not None else e
        return [
            Finding(
                rule("SML107"),
                f"the GraphDef of meta graph #{mg.index} is damaged: {cause}",
                Where(file, mg.index, mg.tags),
            )
        ]
    ctx = _Context(
        sm=sm,
        mg=mg,
        graph=graph,
        policy=policy,
        registry=registry,
        graph_buffer=buffer,
        asset_tensors=frozenset(a.tensor_name for a in asset_refs(mg)),
        asset_names=frozenset(a.filename for a in asset_refs(mg)),
        scopes={},
    )
    saver_nodes, saver_functions = _own_saver(mg, graph)
    functions = graph.functions
    # (rule id, op, function) -> (reason, nodes)
    grouped: dict[tuple[str, str, str | None], tuple[str, list[str]]] = {}

    def report(rule_id: str, use: _Use, reason: str) -> None:
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
                report(risk.rule_id, use, risk.reason)
            else:
                problem = _condition_problem(ctx, use, risk)
                if problem is not None:
                    report(risk.rule_id, use, f"{risk.reason}; {problem}")
        if op not in registry and op not in policy.allowed_custom_ops:
            report(
                "SML609",
                use,
                f"not registered in {registry.source}: needs a custom op library at serving time",
            )
        if op in policy.deny_ops:
            report("SML610", use, "denied by the policy (deny-ops)")
        if policy.allow_ops is not None and op not in policy.allow_ops:
            report("SML611", use, "not in the policy's allow-ops")

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
