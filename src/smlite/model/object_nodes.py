"""The nodes of a SavedObjectGraph as typed views: one per kind of saved object.

:class:`ObjectNode` is one ``SavedObject``; its ``detail`` is the typed view
of the kind (:class:`UserObject`, :class:`SavedVariable`, a
:class:`~smlite.model.functions.Function`, :class:`SavedAsset`, ...).
:class:`~smlite.model.object_graph.ObjectGraph` builds them and knows how they
connect; :func:`checkpoint_key` turns a node's path into the key of its value.

Wire layout (``tensorflow/core/protobuf/saved_object_graph.proto``)::

    SavedVariable := { 1: DataType dtype, 2: TensorShapeProto shape, 3: bool trainable,
                       4: VariableSynchronization synchronization,
                       5: VariableAggregation aggregation, 6: string name, 7: string device,
                       8: SavedVariable experimental_distributed_variable_components* }
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smlite import pb
from smlite.model.dtypes import DType
from smlite.model.functions import Function
from smlite.model.tensors import TensorShape
from smlite.model.units import format_dims

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

__all__ = [
    "CapturedTensor",
    "Detail",
    "ObjectNode",
    "ObjectRef",
    "ObjectTree",
    "SavedAsset",
    "SavedConstant",
    "SavedResource",
    "SavedVariable",
    "UserObject",
    "checkpoint_key",
    "object_refs",
    "policy_name",
    "saved_variable",
]


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """An edge of the object graph: ``local_name`` of a parent names ``node_id``."""

    node_id: int
    local_name: str


@dataclass(frozen=True, slots=True)
class UserObject:
    """A Python object: ``identifier`` says which kind (``_generic_user_object``,
    ``_tf_keras_layer``, ``trackable_list_wrapper``, ``signature_map`` ...)."""

    identifier: str
    version: tuple[int, int, tuple[int, ...]] = (0, 0, ())


@dataclass(frozen=True, slots=True)
class SavedVariable:
    """A ``tf.Variable`` as the object graph describes it (its value is in the checkpoint)."""

    name: str
    dtype: DType
    shape: TensorShape
    trainable: bool
    synchronization: str
    aggregation: str
    device: str = ""
    #: For a distributed variable, one component per device.
    components: tuple[SavedVariable, ...] = ()

    @property
    def tensor_name(self) -> str:
        """The name a loaded variable reports, e.g. ``dense/kernel:0``."""
        return f"{self.name}:0"


@dataclass(frozen=True, slots=True)
class SavedAsset:
    """An asset file: an index into ``MetaGraphDef.asset_file_def``."""

    asset_file_def_index: int
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class SavedConstant:
    """A captured constant: the graph operation that holds it."""

    operation: str


@dataclass(frozen=True, slots=True)
class SavedResource:
    """A resource (e.g. a lookup table) created by a saved function."""

    device: str


@dataclass(frozen=True, slots=True)
class CapturedTensor:
    """A tensor a function captured, produced by ``concrete_function``."""

    name: str
    concrete_function: str


#: The typed view of a node's kind.
Detail = (
    UserObject
    | SavedVariable
    | Function
    | SavedAsset
    | SavedConstant
    | SavedResource
    | CapturedTensor
    | None
)


@dataclass(frozen=True, slots=True)
class ObjectNode:
    """One SavedObject.

    ``kind`` is the name of the proto's ``kind`` field (``user_object``,
    ``variable``, ``function``, ``bare_concrete_function``, ``asset``,
    ``constant``, ``resource``, ``captured_tensor``) or ``unknown``;
    ``detail`` the matching typed view.  A function's detail lists its traces
    in file order and is named ``#<id>``; :attr:`ObjectGraph.functions` and
    :attr:`ObjectGraph.all_functions` give them named, in saved_model_cli's
    order.
    """

    id: int
    kind: str
    children: tuple[ObjectRef, ...]
    dependencies: tuple[ObjectRef, ...] = ()
    detail: Detail = None
    registered_name: str = ""
    proto: pb.SavedObject = field(default_factory=pb.SavedObject, repr=False, compare=False)

    def child(self, name: str) -> int | None:
        """The node id of the child called ``name`` (the last one, as attribute setting goes)."""
        found = None
        for ref in self.children:
            if ref.local_name == name:
                found = ref.node_id
        return found

    @property
    def label(self) -> str:
        """A short description: ``user_object _tf_keras_layer``, ``variable float32[3, 2]``."""
        text = self._label()
        return f"{text} ({self.registered_name})" if self.registered_name else text

    def _label(self) -> str:
        d = self.detail
        if isinstance(d, UserObject):
            return f"{self.kind} {d.identifier}"
        if isinstance(d, SavedVariable):
            shape = format_dims(d.shape.dims, unknown_rank="[?]")
            return f"{self.kind} {d.dtype.name}{shape} {d.name!r}"
        if isinstance(d, Function):
            return f"{self.kind} ({len(d.concrete_functions)} concrete)"
        if isinstance(d, SavedAsset):
            return f"{self.kind} {d.filename!r}" if d.filename is not None else self.kind
        if isinstance(d, SavedConstant):
            return f"{self.kind} {d.operation!r}"
        if isinstance(d, CapturedTensor):
            return f"{self.kind} {d.name!r}"
        return self.kind


@dataclass(frozen=True, slots=True)
class ObjectTree:
    """The object graph unfolded from the root.

    A node reached a second time (the graph is not a tree: Keras layers are
    reachable as ``layer-1`` and ``layer_with_weights-0``) appears with
    ``repeated=True`` and no children.
    """

    name: str
    node: ObjectNode
    children: tuple[ObjectTree, ...] = ()
    repeated: bool = False

    def walk(self, depth: int = 0) -> Iterator[tuple[int, ObjectTree]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


def policy_name(enum: EnumTypeWrapper, value: int) -> str | None:
    """A variable's synchronization or aggregation: ``VARIABLE_AGGREGATION_SUM`` -> ``SUM``.

    ``enum`` is ``pb.VariableSynchronization`` or ``pb.VariableAggregation``;
    None for a value this schema does not know.
    """
    name = pb.enum_name(enum, value)
    return None if name is None else name.split("_", 2)[2]


def saved_variable(v: pb.SavedVariable) -> SavedVariable:
    """The typed view of a SavedVariable proto (distributed components included)."""
    sync = policy_name(pb.VariableSynchronization, v.synchronization)
    aggregation = policy_name(pb.VariableAggregation, v.aggregation)
    return SavedVariable(
        name=v.name,
        dtype=DType(v.dtype),
        shape=TensorShape.from_proto(v.shape),
        trainable=v.trainable,
        synchronization=sync or f"UNKNOWN_{v.synchronization}",
        aggregation=aggregation or f"UNKNOWN_{v.aggregation}",
        device=v.device,
        components=tuple(saved_variable(c) for c in v.experimental_distributed_variable_components),
    )


def object_refs(refs: object) -> tuple[ObjectRef, ...]:
    """The typed views of a repeated ObjectReference field."""
    return tuple(ObjectRef(r.node_id, r.local_name) for r in refs)  # type: ignore[attr-defined]


def checkpoint_key(path: tuple[str, ...], attribute: str = "VARIABLE_VALUE") -> str:
    """The variables-bundle key of an object's attribute, from its path from the root.

    ``("layer-1", "kernel")`` -> ``layer-1/kernel/.ATTRIBUTES/VARIABLE_VALUE``
    (``.`` and ``/`` in names are escaped as TensorFlow's trackable_utils does).
    """

    def esc(name: str) -> str:
        return name.replace(".", "..").replace("/", ".S")

    return "/".join([*(esc(p) for p in path), ".ATTRIBUTES", esc(attribute)])
