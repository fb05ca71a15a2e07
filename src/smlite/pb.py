"""The protobuf classes smlite works with, under TensorFlow's own names.

This facade is the only module that imports the generated code in
``smlite._proto``.  Those bindings are compiled from smlite's own ``.proto``
files (``protos/smlite/_proto``), which are wire-compatible with TensorFlow
2.21 but declared in the proto package ``smlite.tensorflow`` under the file
paths ``smlite/_proto/*.proto``.  The renamed package keeps our descriptors out
of the way of TensorFlow's in the process-wide descriptor pool, so smlite and
TensorFlow can be imported together in either order, while every message
parses the bytes TensorFlow writes.

Keras 2's ``keras_metadata.pb`` is read with smlite's copy of tf-keras'
``saved_metadata.proto`` (package ``third_party.py.tf_keras.protobuf`` there,
``smlite.tf_keras`` here).  Its messages are named here with a ``Keras``
prefix (:data:`KerasSavedMetadata`, :data:`KerasSavedObject`,
:data:`KerasVersionDef`), since TensorFlow has a ``SavedObject`` and a
``VersionDef`` of its own.

The one visible cost of the renaming is ``google.protobuf.Any``: TensorFlow
packs payloads under type URLs such as ``type.googleapis.com/tensorflow.X``,
which ``Any.Unpack`` would refuse to put into ``smlite.tensorflow.X``.  Use
:func:`unpack_any` (and :func:`pack_any` to write one) instead.

>>> from smlite import pb
>>> sm = pb.SavedModel()
>>> sm.meta_graphs.add().meta_info_def.tags.append("serve")
>>> pb.SavedModel.FromString(sm.SerializeToString()) == sm
True
>>> pb.message_class("tensorflow.SignatureDef") is pb.SignatureDef
True
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from google.protobuf import any_pb2, wrappers_pb2
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from smlite.errors import CorruptFileError, PathOrUrl

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

    from smlite._proto.attr_value_pb2 import AttrValue, NameAttrList
    from smlite._proto.example_pb2 import Example, SequenceExample
    from smlite._proto.feature_pb2 import (
        BytesList,
        Feature,
        FeatureList,
        FeatureLists,
        Features,
        FloatList,
        Int64List,
    )
    from smlite._proto.fingerprint_pb2 import FingerprintDef
    from smlite._proto.full_type_pb2 import FullTypeDef, FullTypeId
    from smlite._proto.function_pb2 import (
        FunctionDef,
        FunctionDefLibrary,
        GradientDef,
        RegisteredGradient,
    )
    from smlite._proto.graph_debug_info_pb2 import GraphDebugInfo
    from smlite._proto.graph_pb2 import GraphDef
    from smlite._proto.keras_metadata_pb2 import SavedMetadata as KerasSavedMetadata
    from smlite._proto.keras_metadata_pb2 import SavedObject as KerasSavedObject
    from smlite._proto.keras_metadata_pb2 import VersionDef as KerasVersionDef
    from smlite._proto.meta_graph_pb2 import (
        AssetFileDef,
        CollectionDef,
        MetaGraphDef,
        SignatureDef,
        TensorInfo,
    )
    from smlite._proto.node_def_pb2 import NodeDef
    from smlite._proto.op_def_pb2 import OpDef, OpDeprecation, OpList
    from smlite._proto.resource_handle_pb2 import ResourceHandleProto
    from smlite._proto.saved_model_pb2 import SavedModel
    from smlite._proto.saved_object_graph_pb2 import (
        CapturedTensor,
        FunctionSpec,
        SaveableObject,
        SavedAsset,
        SavedBareConcreteFunction,
        SavedConcreteFunction,
        SavedConstant,
        SavedFunction,
        SavedObject,
        SavedObjectGraph,
        SavedResource,
        SavedUserObject,
        SavedVariable,
    )
    from smlite._proto.saver_pb2 import SaverDef
    from smlite._proto.struct_pb2 import (
        BoundedTensorSpecProto,
        DictValue,
        ListValue,
        NamedTupleValue,
        NoneValue,
        PairValue,
        StructuredValue,
        TensorSpecProto,
        TupleValue,
        TypeSpecProto,
    )
    from smlite._proto.tensor_bundle_pb2 import BundleEntryProto, BundleHeaderProto
    from smlite._proto.tensor_pb2 import TensorProto, VariantTensorDataProto
    from smlite._proto.tensor_shape_pb2 import TensorShapeProto
    from smlite._proto.tensor_slice_pb2 import TensorSliceProto
    from smlite._proto.trackable_object_graph_pb2 import (
        RegisteredSaver,
        TrackableObjectGraph,
    )
    from smlite._proto.types_pb2 import DataType, SerializedDType
    from smlite._proto.variable_pb2 import (
        SaveSliceInfoDef,
        VariableAggregation,
        VariableDef,
        VariableSynchronization,
    )
    from smlite._proto.versions_pb2 import VersionDef

# The generated modules are imported on first use of one of their classes, so a
# command loads only what it touches (``import smlite.pb`` costs the runtime alone).
_LAZY: dict[str, str] = {
    "AssetFileDef": "meta_graph_pb2",
    "AttrValue": "attr_value_pb2",
    "BoundedTensorSpecProto": "struct_pb2",
    "BundleEntryProto": "tensor_bundle_pb2",
    "BundleHeaderProto": "tensor_bundle_pb2",
    "BytesList": "feature_pb2",
    "CapturedTensor": "saved_object_graph_pb2",
    "CollectionDef": "meta_graph_pb2",
    "DataType": "types_pb2",
    "DictValue": "struct_pb2",
    "Example": "example_pb2",
    "Feature": "feature_pb2",
    "FeatureList": "feature_pb2",
    "FeatureLists": "feature_pb2",
    "Features": "feature_pb2",
    "FingerprintDef": "fingerprint_pb2",
    "FloatList": "feature_pb2",
    "FullTypeDef": "full_type_pb2",
    "FullTypeId": "full_type_pb2",
    "FunctionDef": "function_pb2",
    "FunctionDefLibrary": "function_pb2",
    "FunctionSpec": "saved_object_graph_pb2",
    "GradientDef": "function_pb2",
    "GraphDebugInfo": "graph_debug_info_pb2",
    "GraphDef": "graph_pb2",
    "Int64List": "feature_pb2",
    "KerasSavedMetadata": "keras_metadata_pb2:SavedMetadata",
    "KerasSavedObject": "keras_metadata_pb2:SavedObject",
    "KerasVersionDef": "keras_metadata_pb2:VersionDef",
    "ListValue": "struct_pb2",
    "MetaGraphDef": "meta_graph_pb2",
    "NameAttrList": "attr_value_pb2",
    "NamedTupleValue": "struct_pb2",
    "NodeDef": "node_def_pb2",
    "NoneValue": "struct_pb2",
    "OpDef": "op_def_pb2",
    "OpDeprecation": "op_def_pb2",
    "OpList": "op_def_pb2",
    "PairValue": "struct_pb2",
    "RegisteredGradient": "function_pb2",
    "RegisteredSaver": "trackable_object_graph_pb2",
    "ResourceHandleProto": "resource_handle_pb2",
    "SaveSliceInfoDef": "variable_pb2",
    "SaveableObject": "saved_object_graph_pb2",
    "SavedAsset": "saved_object_graph_pb2",
    "SavedBareConcreteFunction": "saved_object_graph_pb2",
    "SavedConcreteFunction": "saved_object_graph_pb2",
    "SavedConstant": "saved_object_graph_pb2",
    "SavedFunction": "saved_object_graph_pb2",
    "SavedModel": "saved_model_pb2",
    "SavedObject": "saved_object_graph_pb2",
    "SavedObjectGraph": "saved_object_graph_pb2",
    "SavedResource": "saved_object_graph_pb2",
    "SavedUserObject": "saved_object_graph_pb2",
    "SavedVariable": "saved_object_graph_pb2",
    "SaverDef": "saver_pb2",
    "SequenceExample": "example_pb2",
    "SerializedDType": "types_pb2",
    "SignatureDef": "meta_graph_pb2",
    "StructuredValue": "struct_pb2",
    "TensorInfo": "meta_graph_pb2",
    "TensorProto": "tensor_pb2",
    "TensorShapeProto": "tensor_shape_pb2",
    "TensorSliceProto": "tensor_slice_pb2",
    "TensorSpecProto": "struct_pb2",
    "TrackableObjectGraph": "trackable_object_graph_pb2",
    "TupleValue": "struct_pb2",
    "TypeSpecProto": "struct_pb2",
    "VariableAggregation": "variable_pb2",
    "VariableDef": "variable_pb2",
    "VariableSynchronization": "variable_pb2",
    "VariantTensorDataProto": "tensor_pb2",
    "VersionDef": "versions_pb2",
}

__all__ = [
    "PROTO_PACKAGE",
    "TF_PACKAGE",
    "TYPE_URL_PREFIX",
    "Any",
    "AssetFileDef",
    "AttrValue",
    "BoolValue",
    "BoundedTensorSpecProto",
    "BundleEntryProto",
    "BundleHeaderProto",
    "BytesList",
    "CapturedTensor",
    "CollectionDef",
    "DataType",
    "DecodeError",
    "DictValue",
    "Example",
    "Feature",
    "FeatureList",
    "FeatureLists",
    "Features",
    "FingerprintDef",
    "FloatList",
    "FullTypeDef",
    "FullTypeId",
    "FunctionDef",
    "FunctionDefLibrary",
    "FunctionSpec",
    "GradientDef",
    "GraphDebugInfo",
    "GraphDef",
    "Int64List",
    "KerasSavedMetadata",
    "KerasSavedObject",
    "KerasVersionDef",
    "ListValue",
    "Message",
    "MetaGraphDef",
    "MetaInfoDef",
    "NameAttrList",
    "NamedTupleValue",
    "NodeDef",
    "NoneValue",
    "OpDef",
    "OpDeprecation",
    "OpList",
    "PairValue",
    "RegisteredGradient",
    "RegisteredSaver",
    "ResourceHandleProto",
    "SaveSliceInfoDef",
    "SaveableObject",
    "SavedAsset",
    "SavedBareConcreteFunction",
    "SavedConcreteFunction",
    "SavedConstant",
    "SavedFunction",
    "SavedModel",
    "SavedObject",
    "SavedObjectGraph",
    "SavedResource",
    "SavedUserObject",
    "SavedVariable",
    "SaverDef",
    "SequenceExample",
    "SerializedDType",
    "SignatureDef",
    "StructuredValue",
    "TensorInfo",
    "TensorProto",
    "TensorShapeProto",
    "TensorSliceProto",
    "TensorSpecProto",
    "TrackableObjectGraph",
    "TupleValue",
    "TypeSpecProto",
    "VariableAggregation",
    "VariableDef",
    "VariableSynchronization",
    "VariantTensorDataProto",
    "VersionDef",
    "enum_name",
    "message_class",
    "pack_any",
    "tf_full_name",
    "unpack_any",
]

TF_PACKAGE = "tensorflow"
"""The proto package TensorFlow declares its messages in."""

PROTO_PACKAGE = "smlite.tensorflow"
"""The proto package of smlite's wire-compatible copies."""

TYPE_URL_PREFIX = "type.googleapis.com/"
"""What TensorFlow (and protobuf's ``Any.Pack``) put before the full name in a type URL."""

Any = any_pb2.Any
BoolValue = wrappers_pb2.BoolValue
if TYPE_CHECKING:
    MetaInfoDef = MetaGraphDef.MetaInfoDef


def __getattr__(name: str) -> object:
    """A generated class, its module imported now (PEP 562)."""
    if name == "MetaInfoDef":
        value: object = __getattr__("MetaGraphDef").MetaInfoDef  # type: ignore[attr-defined]
    elif name in _LAZY:
        # "module" or "module:ClassName" (a class exported under another name).
        module_name, _, attr = _LAZY[name].partition(":")
        module = importlib.import_module(f"smlite._proto.{module_name}")
        value = getattr(module, attr or name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


# Every generated module whose messages message_class() can name.
_MODULE_NAMES = (
    "attr_value_pb2",
    "example_pb2",
    "feature_pb2",
    "fingerprint_pb2",
    "full_type_pb2",
    "function_pb2",
    "graph_debug_info_pb2",
    "graph_pb2",
    "keras_metadata_pb2",
    "meta_graph_pb2",
    "node_def_pb2",
    "op_def_pb2",
    "resource_handle_pb2",
    "saved_model_pb2",
    "saved_object_graph_pb2",
    "saver_pb2",
    "struct_pb2",
    "tensor_bundle_pb2",
    "tensor_pb2",
    "tensor_shape_pb2",
    "tensor_slice_pb2",
    "trackable_object_graph_pb2",
    "types_pb2",
    "variable_pb2",
    "versions_pb2",
)


def _modules() -> list[ModuleType]:
    """Every generated module (imported now), then the well-known types smlite uses."""
    generated = [importlib.import_module(f"smlite._proto.{name}") for name in _MODULE_NAMES]
    return [*generated, any_pb2, wrappers_pb2]


@functools.cache
def _classes_by_name() -> dict[str, type[Message]]:
    """Map full proto names (``smlite.tensorflow.X``, ``google.protobuf.Any``) to classes."""
    found: dict[str, type[Message]] = {}

    def walk(desc: Descriptor) -> None:
        if desc.GetOptions().map_entry:
            return
        found[desc.full_name] = GetMessageClass(desc)
        for nested in desc.nested_types:
            walk(nested)

    for module in _modules():
        for desc in module.DESCRIPTOR.message_types_by_name.values():
            walk(desc)
    return found


def message_class(full_name: str) -> type[Message] | None:
    """Return smlite's class for a proto message full name, or ``None`` if unknown.

    Accepts TensorFlow's names (``tensorflow.SavedObjectGraph``, nested ones such as
    ``tensorflow.MetaGraphDef.MetaInfoDef``), smlite's own
    (``smlite.tensorflow.SavedObjectGraph``) and the well-known types smlite
    uses (``google.protobuf.BoolValue``).

    >>> message_class("tensorflow.TensorProto") is TensorProto
    True
    >>> message_class("tensorflow.NoSuchThing") is None
    True
    """
    if full_name.startswith(TF_PACKAGE + "."):
        full_name = f"{PROTO_PACKAGE}.{full_name[len(TF_PACKAGE) + 1 :]}"
    return _classes_by_name().get(full_name)


def enum_name(enum: EnumTypeWrapper, number: int) -> str | None:
    """The name of ``number`` in a generated enum, or None for a number this schema does not know.

    A newer TensorFlow may write values smlite's copy of its protos lacks;
    callers say so in their own words (``UNKNOWN_7``, ``Composite``).

    >>> from smlite import pb
    >>> pb.enum_name(pb.TypeSpecProto.TypeSpecClass, 1), pb.enum_name(pb.VariableAggregation, 99)
    ('SPARSE_TENSOR_SPEC', None)
    """
    try:
        return enum.Name(number)
    except ValueError:
        return None


def tf_full_name(message: Message | type[Message]) -> str:
    """TensorFlow's full name for one of smlite's messages (``tensorflow.SavedModel``).

    Names outside smlite's package (``google.protobuf.Any``) are returned unchanged.
    """
    name: str = message.DESCRIPTOR.full_name
    if name.startswith(PROTO_PACKAGE + "."):
        return f"{TF_PACKAGE}.{name[len(PROTO_PACKAGE) + 1 :]}"
    return name


def unpack_any(any_msg: any_pb2.Any, *, path: PathOrUrl | None = None) -> Message | None:
    """Parse the payload of a ``google.protobuf.Any`` written by TensorFlow.

    The message class is chosen from the last ``/``-separated part of the type
    URL (``type.googleapis.com/tensorflow.X`` gives :func:`message_class`
    ``tensorflow.X``).  Returns ``None`` when smlite has no class for that
    name, so callers can show the type URL instead.  A payload that does not
    parse raises :class:`~smlite.errors.CorruptFileError`; ``path`` names the
    file it came from, for the message.

    >>> packed = pack_any(VersionDef(producer=7))
    >>> packed.type_url
    'type.googleapis.com/tensorflow.VersionDef'
    >>> unpack_any(packed).producer
    7
    """
    type_name = any_msg.type_url.rpartition("/")[2]
    cls = message_class(type_name)
    if cls is None:
        return None
    message = cls()
    try:
        message.ParseFromString(any_msg.value)
    except DecodeError as e:
        raise CorruptFileError(
            f"google.protobuf.Any payload of type {any_msg.type_url!r} "
            f"({len(any_msg.value)} bytes) does not parse as {type_name}: {e}",
            path=path,
        ) from e
    return message


def pack_any(message: Message) -> any_pb2.Any:
    """Wrap ``message`` in a ``google.protobuf.Any`` under TensorFlow's type URL.

    ``Any.Pack`` would record ``smlite.tensorflow.X``, which TensorFlow cannot
    resolve; this records ``tensorflow.X`` as TensorFlow itself does.
    """
    return any_pb2.Any(
        type_url=TYPE_URL_PREFIX + tf_full_name(message),
        value=message.SerializeToString(deterministic=True),
    )
