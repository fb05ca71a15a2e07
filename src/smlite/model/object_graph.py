"""The object graph of a TF2 SavedModel (``MetaGraphDef.object_graph_def``) as typed views.

A TF2 export records the Python objects it saved as a graph of nodes: node 0
is the object passed to ``tf.saved_model.save``; every node lists its
children by attribute name.  Kinds: user objects (``tf.Module``, Keras
layers, list/dict wrappers, the signature map), variables, polymorphic
functions, bare concrete functions, assets, constants, resources and
captured tensors.  :class:`ObjectGraph` exposes the nodes, a tree view from
the root, and what TensorFlow's loaded object would list:

* :attr:`ObjectGraph.functions` -- the root's function attributes, sorted
  by name (what ``saved_model_cli show --all`` lists);
* :attr:`ObjectGraph.variables` / :attr:`ObjectGraph.trainable_variables`
  -- ``loaded.variables`` / ``loaded.trainable_variables``: the root's
  ``variables`` / ``trainable_variables`` lists (Keras models and
  ``model.export`` archives save them), in list order; None when the root
  has no such attribute (a plain ``tf.Module``: TensorFlow's loaded object
  raises AttributeError).  :attr:`ObjectGraph.all_variables` lists every
  variable node in any case.

Wire layout (``tensorflow/core/protobuf/saved_object_graph.proto``)::

    SavedObjectGraph := { 1: SavedObject nodes*, 2: map<string, SavedConcreteFunction> }
    SavedObject := { 1: ObjectReference children*, 15: ObjectReference dependencies*,
                     oneof kind { 4: user_object, 5: asset, 6: function, 7: variable,
                     8: bare_concrete_function, 9: constant, 10: resource,
                     12: captured_tensor }, 13: string registered_name }
    ObjectReference := { 1: int32 node_id, 2: string local_name }
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

from smlite import pb
from smlite.errors import CorruptFileError, SmliteError
from smlite.model.functions import (
    ConcreteFunction,
    Function,
    FunctionSpec,
    loaded_function_names,
)
from smlite.model.object_nodes import (
    CapturedTensor,
    Detail,
    ObjectNode,
    ObjectRef,
    ObjectTree,
    SavedAsset,
    SavedConstant,
    SavedResource,
    SavedVariable,
    UserObject,
    checkpoint_key,
    object_refs,
    saved_variable,
)

if TYPE_CHECKING:
    from smlite.model.saved_model import MetaGraph

__all__ = [
    "CapturedTensor",
    "ObjectGraph",
    "ObjectNode",
    "ObjectRef",
    "ObjectTree",
    "SavedAsset",
    "SavedConstant",
    "SavedResource",
    "SavedVariable",
    "UserObject",
    "checkpoint_key",
    "object_graph",
]


#: Deepest level :meth:`ObjectGraph.tree` unfolds (Keras models nest a few levels).
MAX_TREE_DEPTH = 64


class ObjectGraph:
    """The typed object graph of one meta graph.

    Build it with :func:`object_graph` (from a :class:`MetaGraph`) or
    :meth:`from_proto`.  ``loaded_names`` maps library function names to
    the names TensorFlow's loader gives them; it orders each function's
    traces as ``saved_model_cli`` does (library names are used without it).
    """

    def __init__(
        self,
        proto: pb.SavedObjectGraph,
        *,
        loaded_names: Callable[[], Mapping[str, str]] | None = None,
        asset_filenames: tuple[str, ...] = (),
    ) -> None:
        self.proto = proto
        self._loaded_names = loaded_names
        self._asset_filenames = asset_filenames

    @classmethod
    def from_proto(
        cls,
        proto: pb.SavedObjectGraph,
        *,
        loaded_names: Mapping[str, str] | None = None,
        asset_filenames: tuple[str, ...] = (),
    ) -> ObjectGraph:
        names = dict(loaded_names) if loaded_names is not None else None
        return cls(
            proto,
            loaded_names=(lambda: names) if names is not None else None,
            asset_filenames=asset_filenames,
        )

    # -- concrete functions ------------------------------------------------
    @cached_property
    def loaded_names(self) -> Mapping[str, str]:
        """Library function name -> the name TensorFlow's loader gives it (computed when used)."""
        return (
            MappingProxyType(dict(self._loaded_names()))
            if self._loaded_names
            else MappingProxyType({})
        )

    @cached_property
    def concrete_functions(self) -> Mapping[str, ConcreteFunction]:
        """Every ``concrete_functions`` entry, by library function name (sorted).

        Argument keywords come from the first bare-concrete-function node
        that names the function.
        """
        bare: dict[str, pb.SavedBareConcreteFunction] = {}
        for node in self.proto.nodes:
            if node.WhichOneof("kind") == "bare_concrete_function":
                b = node.bare_concrete_function
                bare.setdefault(b.concrete_function_name, b)
        out: dict[str, ConcreteFunction] = {}
        for name in sorted(self.proto.concrete_functions):
            cf = self._concrete(name)
            out[name] = cf.with_bare(bare[name]) if name in bare else cf
        return MappingProxyType(out)

    def _concrete(self, name: str) -> ConcreteFunction:
        protos = self.proto.concrete_functions
        proto = protos[name] if name in protos else None  # noqa: SIM401 (a proto map)
        return ConcreteFunction.from_proto(name, proto)

    def concrete_function(self, name: str) -> ConcreteFunction:
        """The concrete function ``name``; one without an object-graph entry has no signature."""
        if name in self.concrete_functions:
            return self.concrete_functions[name]
        return self._concrete(name)

    # -- nodes -------------------------------------------------------------
    @cached_property
    def nodes(self) -> tuple[ObjectNode, ...]:
        return tuple(self._node(i, n) for i, n in enumerate(self.proto.nodes))

    def _node(self, index: int, proto: pb.SavedObject) -> ObjectNode:
        kind = proto.WhichOneof("kind") or "unknown"
        detail: Detail = None
        if kind == "user_object":
            u = proto.user_object
            detail = UserObject(
                u.identifier,
                (u.version.producer, u.version.min_consumer, tuple(u.version.bad_consumers)),
            )
        elif kind == "variable":
            detail = saved_variable(proto.variable)
        elif kind in ("function", "bare_concrete_function"):
            # Traces in file order here (ordering them needs the graph's library).
            detail = self._function(index, proto, name=f"#{index}", ordered=False)
        elif kind == "asset":
            i = proto.asset.asset_file_def_index
            filename = self._asset_filenames[i] if 0 <= i < len(self._asset_filenames) else None
            detail = SavedAsset(i, filename)
        elif kind == "constant":
            detail = SavedConstant(proto.constant.operation)
        elif kind == "resource":
            detail = SavedResource(proto.resource.device)
        elif kind == "captured_tensor":
            detail = CapturedTensor(
                proto.captured_tensor.name, proto.captured_tensor.concrete_function
            )
        return ObjectNode(
            id=index,
            kind=kind,
            children=object_refs(proto.children),
            dependencies=object_refs(proto.dependencies),
            detail=detail,
            registered_name=proto.registered_name,
            proto=proto,
        )

    def _function(
        self, index: int, proto: pb.SavedObject, *, name: str, ordered: bool = True
    ) -> Function:
        where = f"nodes[{index}]"
        if proto.WhichOneof("kind") == "function":
            f = proto.function
            traces = [self.concrete_function(n) for n in f.concrete_functions]
            spec = (
                FunctionSpec.from_proto(f.function_spec, where=f"{where}.function.function_spec")
                if f.HasField("function_spec")
                else None
            )
            kind = "function"
        else:
            b = proto.bare_concrete_function
            traces = [self.concrete_function(b.concrete_function_name).with_bare(b)]
            spec = (
                FunctionSpec.from_proto(
                    b.function_spec, where=f"{where}.bare_concrete_function.function_spec"
                )
                if b.HasField("function_spec")
                else None
            )
            kind = "bare_concrete_function"
        if ordered and len(traces) > 1:
            # saved_model_cli sorts a function's traces by their loaded names.
            names = self.loaded_names
            traces.sort(key=lambda cf: names.get(cf.name, cf.name))
        return Function(name, index, kind, tuple(traces), spec)  # type: ignore[arg-type]

    @property
    def root(self) -> ObjectNode:
        return self.nodes[0]

    def node(self, node_id: int) -> ObjectNode | None:
        return self.nodes[node_id] if 0 <= node_id < len(self.nodes) else None

    # -- paths and the tree ------------------------------------------------
    @cached_property
    def _first_parents(self) -> Mapping[int, tuple[int, str]]:
        """Breadth first from the root: each node's first ``(parent id, local name)``."""
        found: dict[int, tuple[int, str]] = {}
        if not self.nodes:
            return found
        seen = {0}
        queue: deque[int] = deque([0])
        while queue:
            current = queue.popleft()
            for ref in self.nodes[current].children:
                if ref.node_id not in seen and self.node(ref.node_id) is not None:
                    seen.add(ref.node_id)
                    found[ref.node_id] = (current, ref.local_name)
                    queue.append(ref.node_id)
        return found

    @cached_property
    def paths(self) -> Mapping[int, tuple[str, ...]]:
        """Each reachable node's first path from the root, breadth first (as checkpoint keys)."""
        if not self.nodes:
            return MappingProxyType({})
        parents = self._first_parents
        found: dict[int, tuple[str, ...]] = {0: ()}

        def path(node_id: int) -> tuple[str, ...]:
            chain: list[str] = []
            while node_id not in found:
                parent, name = parents[node_id]
                chain.append(name)
                node_id = parent
            return (*found[node_id], *reversed(chain))

        for node_id in parents:
            found[node_id] = path(node_id)
        return MappingProxyType(dict(sorted(found.items())))

    def tree(self, *, max_depth: int = MAX_TREE_DEPTH) -> ObjectTree | None:
        """The graph unfolded from the root; nodes already shown elsewhere are marked ``repeated``.

        Each node is expanded under its first breadth-first path (the one its
        checkpoint key uses).
        """
        if not self.nodes:
            return None
        parents = self._first_parents

        def build(node_id: int, name: str, depth: int) -> ObjectTree:
            node = self.nodes[node_id]
            kids: list[ObjectTree] = []
            if depth < max_depth:
                for ref in node.children:
                    child = self.node(ref.node_id)
                    if child is None:
                        continue
                    if parents.get(ref.node_id) == (node_id, ref.local_name):
                        kids.append(build(ref.node_id, ref.local_name, depth + 1))
                    else:
                        kids.append(ObjectTree(ref.local_name, child, (), True))
            return ObjectTree(name, node, tuple(kids))

        return build(0, "", 0)

    # -- what the loaded root object lists ---------------------------------
    @cached_property
    def functions(self) -> tuple[Function, ...]:
        """The root's function attributes by name, as ``saved_model_cli show --all`` lists them.

        TensorFlow loads the root and lists its children that are
        ``tf.function``s or concrete functions; each child name once (the
        last reference of that name wins, like setting an attribute).
        """
        if not len(self.proto.nodes):
            return ()
        by_name: dict[str, int] = {}
        # The root's references straight from the proto: no need to build every node view.
        for ref in self.proto.nodes[0].children:
            by_name[ref.local_name] = ref.node_id
        out: list[Function] = []
        for name in sorted(by_name):
            node_id = by_name[name]
            if not 0 <= node_id < len(self.proto.nodes):
                continue
            proto = self.proto.nodes[node_id]
            if proto.WhichOneof("kind") in ("function", "bare_concrete_function"):
                out.append(self._function(node_id, proto, name=name))
        return tuple(out)

    @cached_property
    def all_functions(self) -> tuple[Function, ...]:
        """Every function and bare-concrete-function node, named by its path from the root."""
        out: list[Function] = []
        for node_id, path in sorted(self.paths.items()):
            proto = self.proto.nodes[node_id]
            if proto.WhichOneof("kind") in ("function", "bare_concrete_function"):
                out.append(self._function(node_id, proto, name=".".join(path)))
        return tuple(out)

    def _list_attribute(self, name: str) -> tuple[tuple[tuple[str, ...], ObjectNode], ...] | None:
        if not self.nodes:
            return None
        list_id = self.root.child(name)
        lst = self.node(list_id) if list_id is not None else None
        if lst is None or lst.kind != "user_object":
            return None
        if (
            not isinstance(lst.detail, UserObject)
            or lst.detail.identifier != "trackable_list_wrapper"
        ):
            return None
        items: dict[int, int] = {}
        for ref in lst.children:
            if ref.local_name.isdigit():
                items[int(ref.local_name)] = ref.node_id
        out: list[tuple[tuple[str, ...], ObjectNode]] = []
        for index in sorted(items):
            node = self.node(items[index])
            if node is not None and node.kind == "variable":
                out.append((self.paths.get(node.id, (name, str(index))), node))
        return tuple(out)

    @property
    def variables(self) -> tuple[tuple[tuple[str, ...], ObjectNode], ...] | None:
        """``loaded.variables``: ``(path, node)`` of the root's ``variables`` list, or None."""
        return self._list_attribute("variables")

    @property
    def trainable_variables(self) -> tuple[tuple[tuple[str, ...], ObjectNode], ...] | None:
        """``loaded.trainable_variables``: the root's ``trainable_variables`` list, or None."""
        return self._list_attribute("trainable_variables")

    @property
    def non_trainable_variables(self) -> tuple[tuple[tuple[str, ...], ObjectNode], ...] | None:
        return self._list_attribute("non_trainable_variables")

    @cached_property
    def all_variables(self) -> tuple[tuple[tuple[str, ...], ObjectNode], ...]:
        """Every variable node reachable from the root, breadth first, with its first path."""
        return tuple(
            (path, self.nodes[node_id])
            for node_id, path in sorted(self.paths.items(), key=lambda kv: (len(kv[1]), kv[0]))
            if self.nodes[node_id].kind == "variable"
        )

    def __repr__(self) -> str:
        return (
            f"ObjectGraph(nodes={len(self.proto.nodes)}, "
            f"concrete_functions={len(self.proto.concrete_functions)})"
        )


def object_graph(mg: MetaGraph) -> ObjectGraph | None:
    """The object graph of a meta graph, or None for a TF1 export that has none.

    The names TensorFlow's loader gives functions are computed from the
    graph's function library on first use (a wire scan of the GraphDef; a
    damaged GraphDef raises :class:`~smlite.errors.CorruptFileError`).
    """
    if not mg.has_object_graph:
        return None

    def names() -> Mapping[str, str]:
        graph = mg.graph_bytes()
        if len(graph) != mg.graph_size:
            raise SmliteError(
                f"cannot read the function library of meta graph #{mg.index}: "
                "the SavedModel has been closed"
            )
        try:
            library = mg.graph_index
        except CorruptFileError as e:
            cause = e.__cause__ if e.__cause__ is not None else e
            raise CorruptFileError(
                f"the function library of meta graph #{mg.index} is damaged: {cause}",
                path=mg._owner.file,
            ) from cause
        return loaded_function_names(library, mg.header.meta_info_def.stripped_op_list)

    filenames = tuple(a.filename for a in mg.header.asset_file_def)
    return ObjectGraph(mg.object_graph_def, loaded_names=names, asset_filenames=filenames)
