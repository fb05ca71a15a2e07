"""smlite's protos against TensorFlow 2.21's: same schema, same bytes.

Every message and enum smlite declares is compared with TensorFlow's
descriptor of the same name (package names aside), and real SavedModels that
TensorFlow exports here are pushed through smlite's classes and must come out
byte for byte as TensorFlow's own classes write them.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.message import Message

from smlite import pb

tf = pytest.importorskip("tensorflow")

ROOT = Path(__file__).resolve().parents[2]

# smlite proto file stem -> TensorFlow module that holds the same file.
TF_MODULES = {
    "attr_value": "tensorflow.core.framework.attr_value_pb2",
    "example": "tensorflow.core.example.example_pb2",
    "feature": "tensorflow.core.example.feature_pb2",
    "fingerprint": "tensorflow.core.protobuf.fingerprint_pb2",
    "full_type": "tensorflow.core.framework.full_type_pb2",
    "function": "tensorflow.core.framework.function_pb2",
    "graph": "tensorflow.core.framework.graph_pb2",
    "graph_debug_info": "tensorflow.core.framework.graph_debug_info_pb2",
    "meta_graph": "tensorflow.core.protobuf.meta_graph_pb2",
    "node_def": "tensorflow.core.framework.node_def_pb2",
    "op_def": "tensorflow.core.framework.op_def_pb2",
    "resource_handle": "tensorflow.core.framework.resource_handle_pb2",
    "saved_model": "tensorflow.core.protobuf.saved_model_pb2",
    "saved_object_graph": "tensorflow.core.protobuf.saved_object_graph_pb2",
    "saver": "tensorflow.core.protobuf.saver_pb2",
    "struct": "tensorflow.core.protobuf.struct_pb2",
    "tensor": "tensorflow.core.framework.tensor_pb2",
    "tensor_bundle": "tensorflow.core.protobuf.tensor_bundle_pb2",
    "tensor_shape": "tensorflow.core.framework.tensor_shape_pb2",
    "tensor_slice": "tensorflow.core.framework.tensor_slice_pb2",
    "trackable_object_graph": "tensorflow.core.protobuf.trackable_object_graph_pb2",
    "types": "tensorflow.core.framework.types_pb2",
    "variable": "tensorflow.core.framework.variable_pb2",
    "versions": "tensorflow.core.framework.versions_pb2",
}

# smlite proto file stem -> the tf-keras modules whose messages it holds (merged into one file).
KERAS_MODULES = {
    "keras_metadata": (
        "tf_keras.protobuf.saved_metadata_pb2",
        "tf_keras.protobuf.versions_pb2",
    ),
}
KERAS_PACKAGE = "third_party.py.tf_keras.protobuf"
KERAS_SMLITE_PACKAGE = "smlite.tf_keras"


# ---------------------------------------------------------------------------
# Schema comparison
# ---------------------------------------------------------------------------


def _file_proto(module: Any) -> descriptor_pb2.FileDescriptorProto:
    return descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)


def _smlite_path(tf_path: str) -> str:
    if tf_path.startswith("google/protobuf/"):
        return tf_path
    return "smlite/_proto/" + tf_path.rsplit("/", 1)[1]


def _type_name(name: str, *, from_tf: bool) -> str:
    if from_tf and name.startswith(f".{pb.TF_PACKAGE}."):
        return f".{pb.PROTO_PACKAGE}.{name[len(pb.TF_PACKAGE) + 2 :]}"
    return name


Facts = dict[str, Any]


def _enum_facts(enum: descriptor_pb2.EnumDescriptorProto) -> Facts:
    return {
        "values": {v.name: {"number": v.number, "options": str(v.options)} for v in enum.value},
        "reserved_ranges": sorted((r.start, r.end) for r in enum.reserved_range),
        "reserved_names": sorted(enum.reserved_name),
        "options": str(enum.options),
    }


def _message_facts(msg: descriptor_pb2.DescriptorProto, *, from_tf: bool) -> Facts:
    L = descriptor_pb2.FieldDescriptorProto.Label
    T = descriptor_pb2.FieldDescriptorProto.Type
    fields = {}
    for f in msg.field:
        fields[f.name] = {
            "number": f.number,
            "label": L.Name(f.label),
            "type": T.Name(f.type),
            "type_name": _type_name(f.type_name, from_tf=from_tf),
            "oneof": msg.oneof_decl[f.oneof_index].name if f.HasField("oneof_index") else None,
            "proto3_optional": f.proto3_optional,
            "default_value": f.default_value if f.HasField("default_value") else None,
            "json_name": f.json_name if f.HasField("json_name") else None,
            "extendee": f.extendee,
            # packed, deprecated, jstype
            "options": str(f.options),
        }
    return {
        "fields": fields,
        "oneofs": sorted(o.name for o in msg.oneof_decl),
        "nested_types": {n.name: _message_facts(n, from_tf=from_tf) for n in msg.nested_type},
        "enums": {e.name: _enum_facts(e) for e in msg.enum_type},
        "extensions": len(msg.extension),
        "extension_ranges": sorted((r.start, r.end) for r in msg.extension_range),
        "reserved_ranges": sorted((r.start, r.end) for r in msg.reserved_range),
        "reserved_names": sorted(msg.reserved_name),
        # map_entry, deprecated
        "options": str(msg.options),
    }


def _file_facts(fdp: descriptor_pb2.FileDescriptorProto, *, from_tf: bool) -> Facts:
    if from_tf:
        package = pb.PROTO_PACKAGE if fdp.package == pb.TF_PACKAGE else f"?{fdp.package}"
        deps = sorted(_smlite_path(d) for d in fdp.dependency)
    else:
        package = fdp.package
        deps = sorted(fdp.dependency)
    return {
        "syntax": fdp.syntax or "proto2",
        "package": package,
        "dependencies": deps,
        "public_dependencies": len(fdp.public_dependency),
        "messages": {m.name: _message_facts(m, from_tf=from_tf) for m in fdp.message_type},
        "enums": {e.name: _enum_facts(e) for e in fdp.enum_type},
        "services": len(fdp.service),
        "extensions": len(fdp.extension),
    }


def _diff(tf_side: Any, ours: Any, where: str) -> Iterator[str]:
    if isinstance(tf_side, dict) and isinstance(ours, dict):
        for key in sorted(tf_side.keys() | ours.keys(), key=str):
            here = f"{where}.{key}" if where else str(key)
            if key not in ours:
                yield f"{here}: in TensorFlow, missing from smlite"
            elif key not in tf_side:
                yield f"{here}: in smlite, not in TensorFlow"
            else:
                yield from _diff(tf_side[key], ours[key], here)
    elif tf_side != ours:
        yield f"{where}: TensorFlow {tf_side!r}, smlite {ours!r}"


def _smlite_module(stem: str) -> Any:
    # The generated modules are reached through the facade's module list so
    # that this test, like the rest of the code, never imports smlite._proto.
    for module in pb._modules():
        if module.__name__.endswith(f".{stem}_pb2"):
            return module
    raise AssertionError(f"smlite.pb does not load {stem}_pb2")


@pytest.mark.parametrize("stem", sorted(TF_MODULES))
def test_schema_matches_tensorflow(stem: str) -> None:
    theirs = _file_proto(importlib.import_module(TF_MODULES[stem]))
    ours = _file_proto(_smlite_module(stem))
    assert ours.name == f"smlite/_proto/{stem}.proto"
    assert theirs.name.rsplit("/", 1)[1] == f"{stem}.proto"
    problems = list(
        _diff(_file_facts(theirs, from_tf=True), _file_facts(ours, from_tf=False), stem)
    )
    assert not problems, "\n".join(problems)


def test_schema_comparison_is_not_vacuous() -> None:
    theirs = _file_proto(importlib.import_module(TF_MODULES["meta_graph"]))
    ours = _file_proto(_smlite_module("meta_graph"))
    tensor_info = next(m for m in ours.message_type if m.name == "TensorInfo")
    next(f for f in tensor_info.field if f.name == "coo_sparse").number = 9
    tensor_info.nested_type[0].field.pop()
    problems = list(
        _diff(_file_facts(theirs, from_tf=True), _file_facts(ours, from_tf=False), "mg")
    )
    assert problems == [
        "mg.messages.TensorInfo.fields.coo_sparse.number: TensorFlow 4, smlite 9",
        "mg.messages.TensorInfo.nested_types.CooSparse.fields.dense_shape_tensor_name: "
        "in TensorFlow, missing from smlite",
    ]


def test_every_tensorflow_dependency_is_covered() -> None:
    # The import closure of what smlite reads must not reach a TensorFlow file
    # that smlite lacks.
    covered = {f"{stem}.proto" for stem in TF_MODULES}
    missing = set()
    for module_name in TF_MODULES.values():
        for dep in _file_proto(importlib.import_module(module_name)).dependency:
            if not dep.startswith("google/protobuf/") and dep.rsplit("/", 1)[1] not in covered:
                missing.add(dep)
    assert not missing


def test_every_smlite_file_is_compared() -> None:
    stems = {m.__name__.rsplit(".", 1)[1].removesuffix("_pb2") for m in pb._modules()}
    stems -= {"any", "wrappers"}
    assert stems == set(TF_MODULES) | set(KERAS_MODULES)


def _keras_renamed(value: Any) -> Any:
    """Facts with tf-keras's package in type names replaced by smlite's."""
    if isinstance(value, dict):
        return {k: _keras_renamed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keras_renamed(v) for v in value]
    if isinstance(value, str) and value.startswith(f".{KERAS_PACKAGE}."):
        return f".{KERAS_SMLITE_PACKAGE}." + value[len(KERAS_PACKAGE) + 2 :]
    return value


def _keras_facts(fdp: descriptor_pb2.FileDescriptorProto) -> Facts:
    facts = _keras_renamed(_file_facts(fdp, from_tf=False))
    return {"syntax": facts["syntax"], "messages": facts["messages"], "enums": facts["enums"]}


@pytest.mark.parametrize("stem", sorted(KERAS_MODULES))
def test_schema_matches_tf_keras(stem: str) -> None:
    theirs: Facts = {"syntax": None, "messages": {}, "enums": {}}
    for name in KERAS_MODULES[stem]:
        fdp = _file_proto(pytest.importorskip(name))
        assert fdp.package == KERAS_PACKAGE
        facts = _keras_facts(fdp)
        theirs["syntax"] = facts["syntax"]
        theirs["messages"].update(facts["messages"])
        theirs["enums"].update(facts["enums"])
    ours_fdp = _file_proto(_smlite_module(stem))
    assert ours_fdp.name == f"smlite/_proto/{stem}.proto"
    assert ours_fdp.package == KERAS_SMLITE_PACKAGE
    assert not ours_fdp.dependency
    ours = _keras_facts(ours_fdp)
    problems = list(_diff(theirs, ours, stem))
    assert not problems, "\n".join(problems)
    assert set(ours["messages"]) == {"SavedMetadata", "SavedObject", "VersionDef"}


# ---------------------------------------------------------------------------
# Round trips of real TensorFlow output
# ---------------------------------------------------------------------------


def _export_tf2_module(path: Path) -> None:
    class Scaler(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
            self.b = tf.Variable(0.5, name="b")
            self.step = tf.Variable(7, dtype=tf.int64, trainable=False)
            vocab = path.parent / f"{path.name}_vocab.txt"
            vocab.write_text("a\nb\n")
            self.vocab = tf.saved_model.Asset(str(vocab))

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def __call__(self, x: Any) -> Any:
            return {"y": tf.matmul(x, self.w) + self.b, "step": self.step + 0}

        @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
        def lookup(self, s: Any) -> Any:
            return tf.strings.join([s, tf.io.read_file(self.vocab)])

    module = Scaler()
    tf.saved_model.save(
        module,
        str(path),
        signatures={"serving_default": module.__call__, "lookup": module.lookup},
    )


def _export_composite(path: Path) -> None:
    class Composite(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
        def sparse(self, x: Any) -> Any:
            idx = tf.stack([tf.range(tf.size(x, out_type=tf.int64))], axis=1)
            return {"sp": tf.SparseTensor(idx, x, tf.shape(x, out_type=tf.int64))}

        @tf.function(input_signature=[tf.RaggedTensorSpec([None, None], tf.float32, ragged_rank=1)])
        def ragged(self, rt: Any) -> Any:
            return {"rt": rt * 2.0, "sum": tf.reduce_sum(rt, axis=1)}

    module = Composite()
    tf.saved_model.save(
        module, str(path), signatures={"sparse": module.sparse, "ragged": module.ragged}
    )


def _export_tf1_builder(path: Path) -> None:
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as sess:
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        w = v1.get_variable("w", initializer=tf.ones([3, 2]))
        scores = tf.nn.softmax(tf.matmul(x, w), name="scores")
        classes = tf.constant([b"neg", b"pos"], name="classes")
        vocab = path.parent / f"{path.name}_vocab.txt"
        vocab.write_text("neg\npos\n")
        asset = tf.constant(str(vocab), name="asset_path")
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, asset)
        sess.run(v1.global_variables_initializer())

        info = v1.saved_model.utils.build_tensor_info
        predict = v1.saved_model.signature_def_utils.build_signature_def(
            inputs={"x": info(x)},
            outputs={"scores": info(scores)},
            method_name=v1.saved_model.signature_constants.PREDICT_METHOD_NAME,
        )
        classify = v1.saved_model.signature_def_utils.build_signature_def(
            inputs={"inputs": info(x)},
            outputs={"scores": info(scores), "classes": info(classes)},
            method_name=v1.saved_model.signature_constants.CLASSIFY_METHOD_NAME,
        )
        builder = v1.saved_model.Builder(str(path))
        builder.add_meta_graph_and_variables(
            sess,
            ["serve"],
            signature_def_map={"predict": predict, "classify": classify},
            assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS),
            main_op=tf.no_op(name="main_op"),
        )
        builder.add_meta_graph(["serve", "gpu"], signature_def_map={"predict": predict})
        builder.save()


EXPORTS = {
    "tf2_module": _export_tf2_module,
    "composite": _export_composite,
    "tf1_builder": _export_tf1_builder,
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("exports")
    paths = {}
    for name, export in EXPORTS.items():
        paths[name] = base / name
        export(paths[name])
    return paths


def _assert_same_bytes(data: bytes, ours_cls: type[Message], tf_cls: type[Message]) -> Message:
    ours = ours_cls.FromString(data)
    theirs = tf_cls.FromString(data)

    # Same re-serialization, canonical and default.
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(
        deterministic=True
    )
    assert ours.SerializeToString() == theirs.SerializeToString()

    # Unknown fields would be carried along and hide a missing field above;
    # once dropped, the bytes must still agree.
    stripped = ours_cls.FromString(data)
    stripped.DiscardUnknownFields()
    assert stripped.SerializeToString(deterministic=True) == theirs.SerializeToString(
        deterministic=True
    )

    # What smlite writes, TensorFlow reads back as the same message.
    assert tf_cls.FromString(ours.SerializeToString()) == theirs
    return ours


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_saved_model_round_trip(exported: dict[str, Path], name: str) -> None:
    from tensorflow.core.protobuf import saved_model_pb2

    data = (exported[name] / "saved_model.pb").read_bytes()
    ours = _assert_same_bytes(data, pb.SavedModel, saved_model_pb2.SavedModel)
    assert isinstance(ours, pb.SavedModel)
    assert ours.meta_graphs


# The TF1 builder writes no fingerprint.pb.
@pytest.mark.parametrize("name", ["tf2_module", "composite"])
def test_fingerprint_round_trip(exported: dict[str, Path], name: str) -> None:
    from tensorflow.core.protobuf import fingerprint_pb2

    data = (exported[name] / "fingerprint.pb").read_bytes()
    _assert_same_bytes(data, pb.FingerprintDef, fingerprint_pb2.FingerprintDef)


def test_keras_metadata_round_trip(tmp_path: Path) -> None:
    tf_keras = pytest.importorskip("tf_keras")
    from tf_keras.protobuf import saved_metadata_pb2

    inputs = tf_keras.Input((3,), name="x")
    outputs = tf_keras.layers.Dense(2, name="out")(
        tf_keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    )
    model = tf_keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    model.save(str(tmp_path / "m"), save_format="tf")
    data = (tmp_path / "m" / "keras_metadata.pb").read_bytes()
    ours = _assert_same_bytes(data, pb.KerasSavedMetadata, saved_metadata_pb2.SavedMetadata)
    assert isinstance(ours, pb.KerasSavedMetadata)
    assert {n.identifier for n in ours.nodes} >= {"_tf_keras_network", "_tf_keras_layer"}
    assert all(n.version.producer > 0 for n in ours.nodes)


@pytest.mark.parametrize("name", ["tf2_module", "composite"])
def test_checkpoint_object_graph_round_trip(exported: dict[str, Path], name: str) -> None:
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    reader = tf.train.load_checkpoint(str(exported[name] / "variables" / "variables"))
    data = reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH")
    ours = _assert_same_bytes(
        data, pb.TrackableObjectGraph, trackable_object_graph_pb2.TrackableObjectGraph
    )
    assert isinstance(ours, pb.TrackableObjectGraph)
    assert ours.nodes


def test_composite_encodings_survive(exported: dict[str, Path]) -> None:
    sm = pb.SavedModel.FromString((exported["composite"] / "saved_model.pb").read_bytes())
    sigs = sm.meta_graphs[0].signature_def
    encodings = {
        (sig_name, key): info.WhichOneof("encoding")
        for sig_name, sig in sigs.items()
        for key, info in sig.outputs.items()
    }
    assert encodings[("sparse", "sp")] == "coo_sparse"
    assert encodings[("ragged", "rt")] == "composite_tensor"
    spec = sigs["ragged"].outputs["rt"].composite_tensor.type_spec
    assert spec.type_spec_class == pb.TypeSpecProto.RAGGED_TENSOR_SPEC


def test_unpack_any_reads_tf1_asset_collection(exported: dict[str, Path]) -> None:
    sm = pb.SavedModel.FromString((exported["tf1_builder"] / "saved_model.pb").read_bytes())
    collection = sm.meta_graphs[0].collection_def["saved_model_assets"]
    (packed,) = collection.any_list.value
    assert packed.type_url == "type.googleapis.com/tensorflow.AssetFileDef"
    asset = pb.unpack_any(packed)
    assert isinstance(asset, pb.AssetFileDef)
    assert asset.filename == "tf1_builder_vocab.txt"


def test_pack_any_is_readable_by_tensorflow() -> None:
    from tensorflow.core.protobuf import meta_graph_pb2

    packed = pb.pack_any(pb.AssetFileDef(filename="x.txt"))
    theirs = meta_graph_pb2.AssetFileDef()
    assert packed.Unpack(theirs)
    assert theirs.filename == "x.txt"


# ---------------------------------------------------------------------------
# Both in one process
# ---------------------------------------------------------------------------

_BOTH = """
import sys
{first}
{second}
from smlite import pb
from tensorflow.core.protobuf import saved_model_pb2
theirs = saved_model_pb2.SavedModel(saved_model_schema_version=1)
theirs.meta_graphs.add().meta_info_def.tags.append("serve")
ours = pb.SavedModel.FromString(theirs.SerializeToString())
assert list(ours.meta_graphs[0].meta_info_def.tags) == ["serve"], ours
assert type(ours).DESCRIPTOR.full_name == "smlite.tensorflow.SavedModel"
assert type(theirs).DESCRIPTOR.full_name == "tensorflow.SavedModel"
print("ok")
"""


@pytest.mark.parametrize(
    "order",
    [("import smlite.pb", "import tensorflow"), ("import tensorflow", "import smlite.pb")],
    ids=["smlite-first", "tensorflow-first"],
)
def test_smlite_and_tensorflow_in_one_process(order: tuple[str, str]) -> None:
    code = textwrap.dedent(_BOTH).format(first=order[0], second=order[1])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")
