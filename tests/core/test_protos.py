"""The generated bindings are up to date, and the ``smlite.pb`` facade works.

Runs without TensorFlow.  The comparison with TensorFlow's own descriptors and
real TensorFlow output lives in ``tests/tf/test_proto_descriptors.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from smlite import pb
from smlite.errors import CorruptFileError

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "src" / "smlite" / "_proto"
PROTOS = ROOT / "protos" / "smlite" / "_proto"


def _tree(base: Path) -> dict[str, bytes]:
    return {
        p.relative_to(base).as_posix(): p.read_bytes()
        for p in sorted(base.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _gencode_version(text: str) -> str:
    found = re.search(r"^# Protobuf Python Version: (\S+)$", text, re.MULTILINE)
    return found.group(1) if found else "?"


def test_committed_bindings_match_a_fresh_generation(tmp_path: Path) -> None:
    # The script brings its own pinned grpcio-tools (see its header).
    env = dict(os.environ)
    env.pop("PROTOC_PYTHON", None)
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "gen_protos.sh"), str(tmp_path)],
        check=True,
        env=env,
        capture_output=True,
    )
    fresh = _tree(tmp_path / "smlite" / "_proto")
    committed = _tree(GENERATED)

    problems = [
        f"missing from src/smlite/_proto: {name}"
        for name in sorted(fresh.keys() - committed.keys())
    ]
    problems += [
        f"stale in src/smlite/_proto: {name}" for name in sorted(committed.keys() - fresh.keys())
    ]
    problems += [
        f"differs: {name}"
        for name in sorted(fresh.keys() & committed.keys())
        if fresh[name] != committed[name]
    ]
    if problems:
        new = _gencode_version(fresh["saved_model_pb2.py"].decode())
        old = _gencode_version(committed.get("saved_model_pb2.py", b"").decode())
        problems.append(
            f"(generator output version {new}, committed files say {old}; "
            "run scripts/gen_protos.sh with the pinned grpcio-tools and commit the result)"
        )
    assert not problems, "\n".join(problems)


def test_every_proto_file_is_compiled_and_imported_by_the_facade() -> None:
    protos = sorted(p.stem for p in PROTOS.glob("*.proto"))
    modules = sorted(p.name.removesuffix("_pb2.py") for p in GENERATED.glob("*_pb2.py"))
    assert protos == modules
    facade = {m.__name__.rsplit(".", 1)[1] for m in pb._modules()}
    assert {f"{name}_pb2" for name in protos} <= facade


def test_every_exported_name_exists() -> None:
    missing = [name for name in pb.__all__ if not hasattr(pb, name)]
    assert not missing


def test_descriptors_live_under_smlite_names_only() -> None:
    pool = descriptor_pool.Default()
    desc = pool.FindMessageTypeByName("smlite.tensorflow.SavedModel")
    assert desc is pb.SavedModel.DESCRIPTOR
    assert desc.file.name == "smlite/_proto/saved_model.proto"
    for module in pb._modules():
        name = module.DESCRIPTOR.name
        assert name.startswith(("smlite/_proto/", "google/protobuf/")), name
        assert not name.startswith("tensorflow/")


@pytest.mark.parametrize(
    ("full_name", "cls"),
    [
        ("tensorflow.SavedModel", pb.SavedModel),
        ("tensorflow.SavedObjectGraph", pb.SavedObjectGraph),
        ("smlite.tensorflow.SavedObjectGraph", pb.SavedObjectGraph),
        ("tensorflow.MetaGraphDef.MetaInfoDef", pb.MetaInfoDef),
        ("tensorflow.TensorInfo.CooSparse", pb.TensorInfo.CooSparse),
        ("tensorflow.AssetFileDef", pb.AssetFileDef),
        ("tensorflow.Example", pb.Example),
        ("google.protobuf.BoolValue", pb.BoolValue),
    ],
)
def test_message_class_knows_tensorflow_and_smlite_names(full_name: str, cls: type) -> None:
    assert pb.message_class(full_name) is cls


@pytest.mark.parametrize(
    "full_name",
    [
        "tensorflow.NoSuchMessage",
        "",
        "SavedModel",
        "tensorflowSavedModel",
        "other.SavedModel",
        # map entries are an implementation detail, not messages anyone packs
        "tensorflow.SignatureDef.InputsEntry",
        # enums are not messages
        "tensorflow.DataType",
    ],
)
def test_message_class_returns_none_for_unknown_names(full_name: str) -> None:
    assert pb.message_class(full_name) is None


def test_tf_full_name() -> None:
    assert pb.tf_full_name(pb.SavedModel) == "tensorflow.SavedModel"
    assert pb.tf_full_name(pb.MetaInfoDef()) == "tensorflow.MetaGraphDef.MetaInfoDef"
    assert pb.tf_full_name(pb.Any()) == "google.protobuf.Any"


def test_unpack_any_with_tensorflow_type_url() -> None:
    asset = pb.AssetFileDef(filename="vocab.txt")
    asset.tensor_info.name = "Const:0"
    packed = pb.Any(
        type_url="type.googleapis.com/tensorflow.AssetFileDef", value=asset.SerializeToString()
    )
    unpacked = pb.unpack_any(packed)
    assert isinstance(unpacked, pb.AssetFileDef)
    assert unpacked == asset


def test_unpack_any_ignores_the_url_host() -> None:
    packed = pb.Any(type_url="example.com/x/y/tensorflow.VersionDef", value=b"\x08\x05")
    unpacked = pb.unpack_any(packed)
    assert isinstance(unpacked, pb.VersionDef)
    assert unpacked.producer == 5


def test_unpack_any_unknown_type_gives_none() -> None:
    assert pb.unpack_any(pb.Any(type_url="type.googleapis.com/foo.Bar", value=b"\x08\x01")) is None
    assert pb.unpack_any(pb.Any()) is None


def test_unpack_any_corrupt_payload_raises_located_error() -> None:
    # field 1 (string), length 10, but only two bytes follow
    packed = pb.Any(type_url="type.googleapis.com/tensorflow.AssetFileDef", value=b"\x12\x0aab")
    with pytest.raises(CorruptFileError) as info:
        pb.unpack_any(packed, path="/models/m/saved_model.pb")
    err = info.value
    assert err.path == "/models/m/saved_model.pb"
    assert "type.googleapis.com/tensorflow.AssetFileDef" in str(err)
    assert "tensorflow.AssetFileDef" in str(err)
    assert isinstance(err.__cause__, pb.DecodeError)


def test_pack_any_uses_tensorflow_type_url_and_round_trips() -> None:
    msg = pb.SaverDef(filename_tensor_name="save/Const:0", version=pb.SaverDef.V2)
    packed = pb.pack_any(msg)
    assert packed.type_url == "type.googleapis.com/tensorflow.SaverDef"
    assert pb.unpack_any(packed) == msg


def test_data_type_enum_wrapper() -> None:
    assert pb.DataType.Name(1) == "DT_FLOAT"
    assert pb.DataType.Value("DT_BFLOAT16") == 14
    assert pb.DataType.Value("DT_FLOAT4_E2M1FN") == 33
    assert pb.DataType.Value("DT_RESOURCE_REF") == 120


# Hand-assembled wire bytes pin the field numbers and wire types that matter
# most, independently of TensorFlow.  Each tag byte is (field << 3) | wire type.
def test_saved_model_wire_layout() -> None:
    meta = (
        b"\x0a\x07"  # 1 meta_info_def, len 7
        b"\x22\x05serve"  # 4 tags
        b"\x2a\x18"  # 5 signature_def entry, len 24
        b"\x0a\x01s"  # key "s"
        b"\x12\x13"  # value SignatureDef, len 19
        b"\x0a\x0e"  # 1 inputs entry, len 14
        b"\x0a\x01x"  # key "x"
        b"\x12\x09"  # value TensorInfo, len 9
        b"\x0a\x03x:0"  # 1 name
        b"\x10\x01"  # 2 dtype DT_FLOAT
        b"\x1a\x00"  # 3 tensor_shape (empty)
        b"\x1a\x01m"  # 3 method_name
    )
    data = b"\x08\x01" + b"\x12" + bytes([len(meta)]) + meta
    sm = pb.SavedModel.FromString(data)
    assert sm.saved_model_schema_version == 1
    (mg,) = sm.meta_graphs
    assert list(mg.meta_info_def.tags) == ["serve"]
    sig = mg.signature_def["s"]
    assert sig.method_name == "m"
    info = sig.inputs["x"]
    assert info.WhichOneof("encoding") == "name"
    assert (info.name, info.dtype) == ("x:0", pb.DataType.Value("DT_FLOAT"))
    assert info.HasField("tensor_shape")
    assert sm.SerializeToString() == data


def test_tensor_proto_wire_layout() -> None:
    data = (
        b"\x08\x13"  # 1 dtype DT_HALF
        b"\x12\x04\x12\x02\x08\x02"  # 2 tensor_shape {dim {size: 2}}
        b"\x6a\x05\x80\x78\x80\x80\x01"  # 13 half_val, packed varints 0x3c00 0x4000
    )
    t = pb.TensorProto.FromString(data)
    assert t.dtype == pb.DataType.Value("DT_HALF")
    assert [d.size for d in t.tensor_shape.dim] == [2]
    assert list(t.half_val) == [0x3C00, 0x4000]
    assert t.SerializeToString() == data


def test_structured_value_int64_is_zigzag() -> None:
    # 12 int64_value as sint64: -1 encodes as 1
    assert pb.StructuredValue.FromString(b"\x60\x01").int64_value == -1


def test_bundle_entry_wire_layout() -> None:
    data = (
        b"\x08\x09"  # 1 dtype DT_INT64
        b"\x20\x10"  # 4 offset 16
        b"\x28\x08"  # 5 size 8
        b"\x35\x78\x56\x34\x12"  # 6 crc32c, fixed32 little-endian
    )
    entry = pb.BundleEntryProto.FromString(data)
    assert (entry.dtype, entry.offset, entry.size, entry.crc32c) == (9, 16, 8, 0x12345678)


def test_graph_debug_info_is_proto2_with_presence() -> None:
    file_proto = descriptor_pb2.FileDescriptorProto()
    pb.GraphDebugInfo.DESCRIPTOR.file.CopyToProto(file_proto)
    assert file_proto.syntax in ("", "proto2")
    frame = pb.GraphDebugInfo.FileLineCol(line=0)
    assert frame.HasField("line")
    assert not frame.HasField("col")


def test_tensor_slice_length_has_presence() -> None:
    extent = pb.TensorSliceProto.Extent(start=3)
    assert extent.WhichOneof("has_length_hack") is None
    extent.length = 0
    assert extent.WhichOneof("has_length_hack") == "length"
