"""What the object graphs say about the variables of a checkpoint: one walk, used everywhere.

A TF2 TensorBundle stores its TrackableObjectGraph; a SavedModel also has a
SavedObjectGraph.  They are matched the way TensorFlow's C++ loader does
(``bundle_v2.cc``): both graphs are walked from their roots together, a
trackable child being paired with the saved child of the same ``local_name``,
already-visited trackable nodes skipped.  The walk is breadth-first, so an
object path is the shortest one, the same path the checkpoint key was built
from.  Saved objects that the checkpoint's graph does not have are walked too
(by their own names), so that a variable the checkpoint lacks still has a path.

TF1 bundles have no object graph: keys are variable names (a VariableDef's
``variable_name`` without ``:0``, or a partitioned variable's full name) and
trainability comes from the ``trainable_variables`` collection.

``smlite variables`` (object paths) and ``smlite check`` (variables without a
value) both read these answers; nothing else walks the object graphs for keys.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smlite import pb
from smlite.model.object_nodes import policy_name

__all__ = [
    "ObjectInfo",
    "ObjectMatch",
    "SavedVariable",
    "match_object_graphs",
    "tf1_infos",
    "tf1_key",
    "tf1_variable_defs",
]

VARIABLE_VALUE = "VARIABLE_VALUE"


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What the object graphs say about one checkpoint key."""

    object_path: str | None = None
    name: str | None = None
    trainable: bool | None = None
    synchronization: str | None = None
    aggregation: str | None = None
    slot_name: str | None = None
    slot_of: str | None = None


@dataclass(frozen=True, slots=True)
class SavedVariable:
    """A variable of the SavedObjectGraph and the checkpoint key of its value."""

    #: Dotted path from the root object, as ``smlite variables`` prints it.
    object_path: str
    #: None when the checkpoint's object graph has no such object (or no value for it).
    key: str | None


@dataclass(frozen=True, slots=True)
class ObjectMatch:
    """The result of walking a checkpoint's object graph beside a SavedObjectGraph."""

    #: Checkpoint key -> what the object graphs say about it.
    infos: dict[str, ObjectInfo] = field(default_factory=dict)
    #: Every variable of the SavedObjectGraph reachable from its root, in walk order.
    saved_variables: tuple[SavedVariable, ...] = ()
    warnings: tuple[str, ...] = ()


def _saved_variable_info(saved: pb.SavedObject | None) -> dict[str, Any]:
    if saved is None or saved.WhichOneof("kind") != "variable":
        return {}
    var = saved.variable
    return {"name": var.name or None, "trainable": bool(var.trainable), **_policies(var)}


def _policies(var: pb.SavedVariable | pb.VariableDef) -> dict[str, str | None]:
    """Synchronization and aggregation as ``smlite variables`` spells them (``on_write``)."""
    sync = policy_name(pb.VariableSynchronization, var.synchronization)
    aggregation = policy_name(pb.VariableAggregation, var.aggregation)
    return {
        "synchronization": sync.lower() if sync else None,
        "aggregation": aggregation.lower() if aggregation else None,
    }


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def match_object_graphs(
    graph: pb.TrackableObjectGraph, saved_graph: pb.SavedObjectGraph | None
) -> ObjectMatch:
    """Walk both graphs breadth-first from the roots (see the module docstring)."""
    nodes = graph.nodes
    saved_nodes = saved_graph.nodes if saved_graph is not None and saved_graph.nodes else None
    warnings: list[str] = []
    if not nodes:
        return ObjectMatch()
    paths: dict[int, str] = {0: ""}
    to_saved: dict[int, int] = {0: 0} if saved_nodes is not None else {}
    matched = set(to_saved.values())
    # Saved objects the checkpoint's graph does not have, by their own path.
    saved_only: dict[int, str] = {}
    # Trackable node ids, and (as -1 - id) saved-only node ids, in breadth-first order.
    queue = deque([0])
    unmatched: list[str] = []
    by_name: dict[int, dict[str, int]] = {}

    def saved_children(sid: int) -> dict[str, int]:
        # local_name -> node id; the first of equal names wins, as in TF's loop.
        found = by_name.get(sid)
        if found is None:
            found = {}
            assert saved_nodes is not None
            for sref in saved_nodes[sid].children:
                found.setdefault(sref.local_name, sref.node_id)
            by_name[sid] = found
        return found

    def visit_saved_only(sid: int, parent: str, skip: set[str]) -> None:
        assert saved_nodes is not None
        for name, child in saved_children(sid).items():
            if name in skip or not 0 <= child < len(saved_nodes):
                continue
            if child in saved_only or child in matched:
                continue
            saved_only[child] = _join(parent, name)
            queue.append(-1 - child)

    while queue:
        item = queue.popleft()
        if item < 0:
            visit_saved_only(-1 - item, saved_only[-1 - item], set())
            continue
        tid = item
        sid = to_saved.get(tid)
        for ref in nodes[tid].children:
            child = ref.node_id
            if child in paths:
                continue
            if not 0 <= child < len(nodes):
                warnings.append(
                    f"object graph: node {tid} names a child {ref.local_name!r} with "
                    f"invalid id {child}"
                )
                continue
            paths[child] = _join(paths[tid], ref.local_name)
            if saved_nodes is not None and sid is not None:
                saved_id = saved_children(sid).get(ref.local_name)
                if saved_id is None:
                    unmatched.append(paths[child])
                elif 0 <= saved_id < len(saved_nodes):
                    to_saved[child] = saved_id
                    matched.add(saved_id)
            queue.append(child)
        if saved_nodes is not None and sid is not None:
            visit_saved_only(sid, paths[tid], {ref.local_name for ref in nodes[tid].children})
    if unmatched:
        shown = ", ".join(unmatched[:5]) + (", ..." if len(unmatched) > 5 else "")
        warnings.append(
            f"{len(unmatched)} checkpoint object(s) have no SavedObject of the same name: {shown}"
        )

    # Slot variables hang off the optimizer: (optimizer, slot name, variable)
    # -> slot node, in the trackable graph and, matched, in the saved graph.
    slots: dict[int, tuple[str, str, str]] = {}
    for tid, opt_path in list(paths.items()):
        for slot_ref in nodes[tid].slot_variables:
            slot_id = slot_ref.slot_variable_node_id
            if not 0 <= slot_id < len(nodes) or slot_id in paths:
                continue
            var_path = paths.get(slot_ref.original_variable_node_id, "?")
            slots[slot_id] = (opt_path, slot_ref.slot_name, var_path)
            sid = to_saved.get(tid)
            orig_sid = to_saved.get(slot_ref.original_variable_node_id)
            if saved_nodes is not None and sid is not None:
                for saved_ref in saved_nodes[sid].slot_variables:
                    if (
                        saved_ref.slot_name == slot_ref.slot_name
                        and saved_ref.original_variable_node_id == orig_sid
                        and 0 <= saved_ref.slot_variable_node_id < len(saved_nodes)
                    ):
                        to_saved[slot_id] = saved_ref.slot_variable_node_id
                        break

    infos: dict[str, ObjectInfo] = {}

    def record(tid: int, path: str, slot: tuple[str, str, str] | None) -> None:
        saved = saved_nodes[to_saved[tid]] if saved_nodes is not None and tid in to_saved else None
        extra = _saved_variable_info(saved)
        for attr in nodes[tid].attributes:
            if not attr.checkpoint_key or attr.checkpoint_key in infos:
                continue
            obj_path = path if attr.name == VARIABLE_VALUE else f"{path}.{attr.name}"
            name = extra.get("name") or attr.full_name or None
            infos[attr.checkpoint_key] = ObjectInfo(
                object_path=obj_path or None,
                name=name,
                trainable=extra.get("trainable"),
                synchronization=extra.get("synchronization"),
                aggregation=extra.get("aggregation"),
                slot_name=slot[1] if slot else None,
                slot_of=slot[2] if slot else None,
            )

    for tid, path in paths.items():
        record(tid, path, None)
    for slot_id, (opt_path, slot_name, var_path) in slots.items():
        record(slot_id, f"{opt_path}.{slot_name}[{var_path}]", (opt_path, slot_name, var_path))
    return ObjectMatch(
        infos, _saved_variables(nodes, saved_nodes, paths, to_saved, saved_only), tuple(warnings)
    )


def _saved_variables(
    nodes: Sequence[pb.TrackableObjectGraph.TrackableObject],
    saved_nodes: Sequence[pb.SavedObject] | None,
    paths: dict[int, str],
    to_saved: dict[int, int],
    saved_only: dict[int, str],
) -> tuple[SavedVariable, ...]:
    """The saved graph's variables reached by the walk, with their keys (None when unmatched)."""
    if saved_nodes is None:
        return ()
    found: dict[int, SavedVariable] = {}
    for tid, sid in to_saved.items():
        if tid not in paths or sid in found or saved_nodes[sid].WhichOneof("kind") != "variable":
            continue
        key = None
        for attr in nodes[tid].attributes:
            if attr.name == VARIABLE_VALUE and attr.checkpoint_key:
                key = attr.checkpoint_key
        found[sid] = SavedVariable(paths[tid] or saved_nodes[sid].variable.name, key)
    for sid, path in saved_only.items():
        if sid not in found and saved_nodes[sid].WhichOneof("kind") == "variable":
            found[sid] = SavedVariable(path, None)
    return tuple(found.values())


def tf1_key(vdef: pb.VariableDef) -> str:
    """The checkpoint key of a TF1 variable (a partitioned variable's parts: its full name)."""
    if vdef.HasField("save_slice_info_def") and vdef.save_slice_info_def.full_name:
        return vdef.save_slice_info_def.full_name
    name = vdef.variable_name
    return name[:-2] if name.endswith(":0") else name


def tf1_variable_defs(
    meta_graph_defs: Iterable[pb.MetaGraphDef], collection: str = "variables"
) -> dict[str, pb.VariableDef]:
    """Checkpoint key -> VariableDef of a TF1 variables collection (the first of each key)."""
    known: dict[str, pb.VariableDef] = {}
    for mgd in meta_graph_defs:
        col = mgd.collection_def.get(collection)
        if col is None or col.WhichOneof("kind") != "bytes_list":
            continue
        for raw in col.bytes_list.value:
            try:
                vdef = pb.VariableDef.FromString(raw)
            except pb.DecodeError:
                continue
            known.setdefault(tf1_key(vdef), vdef)
    return known


def tf1_infos(
    meta_graph_defs: Sequence[pb.MetaGraphDef], keys: Iterable[str]
) -> dict[str, ObjectInfo]:
    """Trainability and names of TF1 variables from the meta graphs' variable collections."""
    seen_collections = any(
        mgd.collection_def[c].WhichOneof("kind") == "bytes_list"
        for mgd in meta_graph_defs
        for c in ("variables", "trainable_variables")
        if c in mgd.collection_def
    )
    known = tf1_variable_defs(meta_graph_defs)
    for key, vdef in tf1_variable_defs(meta_graph_defs, "trainable_variables").items():
        known.setdefault(key, vdef)
    trainable = set(tf1_variable_defs(meta_graph_defs, "trainable_variables"))
    infos: dict[str, ObjectInfo] = {}
    for key in keys:
        found = known.get(key)
        if found is None:
            infos[key] = ObjectInfo(name=key)
            continue
        infos[key] = ObjectInfo(
            name=key,
            trainable=(key in trainable) if seen_collections else None,
            **_policies(found),
        )
    return infos
