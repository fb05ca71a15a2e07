"""Variables: typed values, partitioned tensors, object-graph matching, fixtures."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import smlite
from smlite import pb
from smlite.errors import ChecksumError, CorruptFileError, UnsupportedError, VariableNotFoundError
from smlite.model.variable_objects import (
    ObjectInfo,
    SavedVariable,
    match_object_graphs,
    tf1_infos,
)
from smlite.model.variables import (
    OBJECT_GRAPH_KEY,
    VariableSet,
    open_checkpoint,
    open_variables,
)
from tests.support.bundle_writer import BundleWriter, slice_key

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

NUMERIC = [
    np.float32,
    np.float64,
    np.float16,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.bool_,
    np.complex64,
    np.complex128,
    ml_dtypes.bfloat16,
    ml_dtypes.float8_e5m2,
    ml_dtypes.float8_e4m3fn,
    ml_dtypes.float8_e4m3fnuz,
    ml_dtypes.float8_e4m3b11fnuz,
    ml_dtypes.float8_e5m2fnuz,
    ml_dtypes.int4,
    ml_dtypes.uint4,
    ml_dtypes.int2,
    ml_dtypes.uint2,
    ml_dtypes.float4_e2m1fn,
]


def _sample(dtype: Any, shape: tuple[int, ...] = (3, 4)) -> np.ndarray:
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return (np.arange(n) % 3 == 0).reshape(shape)
    if dt.kind == "c":
        return (np.arange(n) - 1.5j * np.arange(n)).astype(dt).reshape(shape)
    values = (np.arange(n) % 4) - (1 if dt.kind in "fiV" or dt.isbuiltin == 2 else 0)
    if np.dtype(dtype).name.startswith("uint") or dt.kind == "u":
        values = np.arange(n) % 3
    return values.astype(np.float32).astype(dt).reshape(shape)


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


@pytest.mark.parametrize("big_endian", [False, True], ids=["little", "big"])
@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: np.dtype(d).name)
def test_every_numeric_dtype(tmp_path: Path, dtype: Any, big_endian: bool) -> None:
    value = _sample(dtype)
    w = BundleWriter(tmp_path / "c", big_endian=big_endian)
    w.add("v", value)
    w.add("scalar", value.reshape(-1)[:1].reshape(()))
    w.add("empty", value.reshape(-1)[:0].reshape(0, 4))
    with open_checkpoint(w.finish()) as vs:
        var = vs["v"]
        assert var.dtype == np.dtype(dtype)
        assert var.shape == (3, 4)
        assert var.nbytes == value.nbytes
        got = var.read()
        assert got.dtype == np.dtype(dtype) and got.shape == (3, 4)
        assert _bits(got) == _bits(value)
        assert not got.flags.writeable
        assert vs["scalar"].read().shape == ()
        assert vs["empty"].read().shape == (0, 4)


def test_little_endian_values_are_views_of_the_file(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add("v", np.arange(1000, dtype=np.float32))
    with open_checkpoint(w.finish()) as vs:
        arr = vs["v"].read()
        assert not arr.flags.owndata and not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 1


def test_strings(tmp_path: Path) -> None:
    value = np.array([[b"", b"a\x00b", b"\x00"], [b"\xff", b"x" * 200, b""]], dtype=object)
    for big in (False, True):
        w = BundleWriter(tmp_path / f"c{big}", big_endian=big)
        w.add("s", value)
        with open_checkpoint(w.finish()) as vs:
            got = vs["s"].read()
            assert got.dtype == object and got.shape == (2, 3)
            assert got.tolist() == value.tolist()


SLICES_2D = [  # TF2 MaxShardSizePolicy cuts tensors into boxes like these
    ((0, 3), (0, None)),
    ((3, 2), (0, 2)),
    ((3, 2), (2, 3)),
    ((5, 1), (0, None)),
]


@pytest.mark.parametrize("big_endian", [False, True])
def test_partitioned_tensor_is_reassembled(tmp_path: Path, big_endian: bool) -> None:
    value = np.arange(30, dtype=np.float64).reshape(6, 5)
    w = BundleWriter(tmp_path / "p", num_shards=3, big_endian=big_endian)
    w.add_sliced("emb", value, SLICES_2D, shards=[0, 2, 1, 0])
    words = np.array([b"a", b"", b"c\x00", b"dd"], dtype=object)
    w.add_sliced("words", words, [((0, 1),), ((1, 3),)])
    with open_checkpoint(w.finish()) as vs:
        assert list(vs) == ["emb", "words"]
        emb = vs["emb"]
        assert (emb.partitions, emb.shard, emb.offset, emb.crc) == (4, None, None, None)
        assert emb.nbytes == value.nbytes
        assert np.array_equal(emb.read(), value)
        assert vs["words"].read().tolist() == words.tolist()
        assert vs.verify() == ()


def _partitioned(tmp_path: Path, slices: list[Any], shape: tuple[int, int] = (6, 5)) -> Path:
    w = BundleWriter(tmp_path / "p")
    full = pb.BundleEntryProto(dtype=1)  # type: ignore[arg-type]
    for d in shape:
        full.shape.dim.add(size=d)
    for extents in slices:
        proto = full.slices.add()
        part_shape = []
        for (start, length), dim in zip(extents, shape, strict=True):
            ext = proto.extent.add()
            if length is not None:
                ext.start, ext.length = start, length
            part_shape.append(dim if length is None else length)
        w.add(slice_key("emb", extents), np.zeros(part_shape, np.float32))
    w.entries[b"emb"] = full
    return w.finish()


def test_overlapping_slices(tmp_path: Path) -> None:
    prefix = _partitioned(tmp_path, [((0, 4), (0, None)), ((3, 3), (0, None))])
    with open_checkpoint(prefix) as vs, pytest.raises(CorruptFileError) as info:
        vs["emb"].read()
    assert "partitioned tensor 'emb': slices [0:4, 0:5] and [3:6, 0:5] overlap" in str(info.value)
    assert str(prefix) + ".index" in str(info.value)


def test_slices_leaving_a_gap(tmp_path: Path) -> None:
    prefix = _partitioned(tmp_path, [((0, 2), (0, None)), ((3, 3), (0, None))])
    with (
        open_checkpoint(prefix) as vs,
        pytest.raises(CorruptFileError, match="cover 25 of 30 elements"),
    ):
        vs["emb"].read()


def test_slice_outside_the_tensor(tmp_path: Path) -> None:
    prefix = _partitioned(tmp_path, [((0, 7), (0, None))])
    with (
        open_checkpoint(prefix) as vs,
        pytest.raises(CorruptFileError, match="does not fit its shape"),
    ):
        vs["emb"].read()


def test_slice_stored_with_the_wrong_shape(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "p")
    w.add_sliced("emb", np.zeros((4, 2), np.float32), [((0, 2), (0, None)), ((2, 2), (0, None))])
    w.entries[slice_key("emb", ((2, 2), (0, None)))].shape.dim[0].size = 1
    with (
        open_checkpoint(w.finish()) as vs,
        pytest.raises(
            CorruptFileError, match=r"stored as float32\[1, 2\], expected float32\[2, 2\]"
        ),
    ):
        vs["emb"].read()


def test_missing_slice(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "p")
    w.add_sliced("emb", np.zeros((4, 2), np.float32), [((0, 2), (0, None)), ((2, 2), (0, None))])
    del w.entries[slice_key("emb", ((0, 2), (0, None)))]
    with (
        open_checkpoint(w.finish()) as vs,
        pytest.raises(CorruptFileError, match="slice 0,2:- has no entry"),
    ):
        vs["emb"].read()


def test_size_that_does_not_match_the_shape(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add_bytes("v", bytes(12), dtype=1, shape=[2, 2])
    with open_checkpoint(w.finish()) as vs, pytest.raises(CorruptFileError) as info:
        vs["v"].read()
    assert "entry 'v': stored size 12 bytes does not match float32[2, 2] (16 bytes)" in str(
        info.value
    )


def test_huge_shape_is_refused_before_allocating(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add_bytes("v", bytes(16), dtype=1, shape=[2**40, 2**20])
    with open_checkpoint(w.finish()) as vs, pytest.raises(CorruptFileError, match="does not match"):
        vs["v"].read()


def test_packed_int4_is_unsupported(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add_bytes("v", bytes(2), dtype=29, shape=[4])
    with open_checkpoint(w.finish()) as vs, pytest.raises(UnsupportedError, match="packed layout"):
        vs["v"].read()


@pytest.mark.parametrize(("dtype", "what"), [(21, "a variant"), (20, "of type DT_RESOURCE")])
def test_variant_and_resource_are_unsupported(tmp_path: Path, dtype: int, what: str) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add_bytes("v", b"\x00\x00\x00\x00\x00", dtype=dtype, shape=[1])
    with open_checkpoint(w.finish()) as vs:
        assert vs["v"].dtype == np.dtype(object)
        with pytest.raises(UnsupportedError) as info:
            vs["v"].read()
        assert f"entry 'v' is {what}" in str(info.value)
        assert vs.verify() == ()


def test_verify_lists_damaged_variables(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    for i in range(4):
        w.add(f"v{i}", np.full(8, i, np.int32))
    prefix = w.finish()
    shard = Path(f"{prefix}.data-00000-of-00001")
    data = bytearray(shard.read_bytes())
    data[32] ^= 1  # the first byte of v1
    shard.write_bytes(bytes(data))
    seen: list[int] = []
    with open_checkpoint(prefix) as vs:
        problems = vs.verify(progress=seen.append)
        assert [p.key for p in problems] == ["v1"]
        assert isinstance(problems[0].error, ChecksumError)
        assert sum(seen) == vs.nbytes == 128
        assert vs["v1"].read(verify=False)[0] != 1


# -- object graphs ---------------------------------------------------------------------------


def _trackable_graph() -> pb.TrackableObjectGraph:
    """root -> model (-> kernel, bias), optimizer (-> iter) with slots m for both variables;
    model reachable again through 'alias' (a cycle back to the root too)."""
    g = pb.TrackableObjectGraph()
    root, model, kernel, bias, opt, it, m_k, m_b = (g.nodes.add() for _ in range(8))
    root.children.add(node_id=1, local_name="model")
    root.children.add(node_id=4, local_name="optimizer")
    root.children.add(node_id=1, local_name="alias")
    model.children.add(node_id=2, local_name="kernel")
    model.children.add(node_id=3, local_name="bias")
    model.children.add(node_id=0, local_name="parent")
    opt.children.add(node_id=5, local_name="iter")
    for node, key, full in (
        (kernel, "model/kernel/.ATTRIBUTES/VARIABLE_VALUE", "dense/kernel"),
        (bias, "model/bias/.ATTRIBUTES/VARIABLE_VALUE", "dense/bias"),
        (it, "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", "Adam/iter"),
        (m_k, "model/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE", "Adam/k/m"),
        (m_b, "model/bias/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE", "Adam/b/m"),
    ):
        node.attributes.add(name="VARIABLE_VALUE", full_name=full, checkpoint_key=key)
    opt.slot_variables.add(original_variable_node_id=2, slot_name="m", slot_variable_node_id=6)
    opt.slot_variables.add(original_variable_node_id=3, slot_name="m", slot_variable_node_id=7)
    return g


def _saved_graph() -> pb.SavedObjectGraph:
    """The same objects with other node ids (the C++ loader must not assume equal ids)."""
    s = pb.SavedObjectGraph()
    nodes = [s.nodes.add() for _ in range(8)]
    root, opt, model, m_b, bias, kernel, it, m_k = nodes
    root.children.add(node_id=2, local_name="model")
    root.children.add(node_id=1, local_name="optimizer")
    model.children.add(node_id=5, local_name="kernel")
    model.children.add(node_id=4, local_name="bias")
    opt.children.add(node_id=6, local_name="iter")
    opt.slot_variables.add(original_variable_node_id=5, slot_name="m", slot_variable_node_id=7)
    opt.slot_variables.add(original_variable_node_id=4, slot_name="m", slot_variable_node_id=3)
    for node, name, trainable, sync, agg in (
        (kernel, "conv1/kernel", True, 0, 0),
        (bias, "conv1/bias", True, 0, 0),
        (it, "iter", False, 3, 3),
        (m_k, "conv1/kernel/m", False, 0, 0),
        (m_b, "conv1/bias/m", False, 0, 0),
    ):
        node.variable.name = name
        node.variable.trainable = trainable
        node.variable.synchronization = sync  # type: ignore[assignment]
        node.variable.aggregation = agg  # type: ignore[assignment]
        node.variable.dtype = 1  # type: ignore[assignment]
    return s


def _match_object_graphs(
    graph: pb.TrackableObjectGraph, saved: pb.SavedObjectGraph | None
) -> tuple[dict[str, ObjectInfo], list[str]]:
    match = match_object_graphs(graph, saved)
    return match.infos, list(match.warnings)


def test_object_graph_matching_by_local_name() -> None:
    infos, warnings = _match_object_graphs(_trackable_graph(), _saved_graph())
    assert warnings == []
    k = infos["model/kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert (k.object_path, k.name, k.trainable) == ("model.kernel", "conv1/kernel", True)
    it = infos["optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE"]
    assert (it.object_path, it.name, it.trainable) == ("optimizer.iter", "iter", False)
    assert (it.synchronization, it.aggregation) == ("on_read", "only_first_replica")
    m = infos["model/bias/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"]
    assert (m.object_path, m.name, m.slot_name, m.slot_of) == (
        "optimizer.m[model.bias]",
        "conv1/bias/m",
        "m",
        "model.bias",
    )


def test_object_graph_without_saved_graph_uses_full_names() -> None:
    infos, _ = _match_object_graphs(_trackable_graph(), None)
    k = infos["model/kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert (k.object_path, k.name, k.trainable) == ("model.kernel", "dense/kernel", None)


def test_unmatched_saved_objects_are_reported() -> None:
    saved = _saved_graph()
    saved.nodes[2].children[0].local_name = "renamed"
    infos, warnings = _match_object_graphs(_trackable_graph(), saved)
    assert warnings and "no SavedObject of the same name: model.kernel" in warnings[0]
    assert infos["model/kernel/.ATTRIBUTES/VARIABLE_VALUE"].name == "dense/kernel"
    assert infos["model/bias/.ATTRIBUTES/VARIABLE_VALUE"].name == "conv1/bias"


def test_saved_variables_have_paths_and_keys() -> None:
    """The same walk names the saved graph's variables, with a key or without one."""
    match = match_object_graphs(_trackable_graph(), _saved_graph())
    paths = {v.object_path: v.key for v in match.saved_variables}
    assert paths["model.kernel"] == "model/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    assert paths["optimizer.iter"] == "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE"
    saved = _saved_graph()
    saved.nodes[2].children[0].local_name = "renamed"
    match = match_object_graphs(_trackable_graph(), saved)
    assert SavedVariable("model.renamed", None) in match.saved_variables
    assert "model.kernel" not in {v.object_path for v in match.saved_variables}


def test_object_graph_read_from_the_bundle(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "ckpt-1")
    w.add(OBJECT_GRAPH_KEY, np.array(_trackable_graph().SerializeToString(), dtype=object))
    graph = _trackable_graph()
    for node in graph.nodes:
        for attr in node.attributes:
            w.add(attr.checkpoint_key, np.ones(2, np.float32))
    with smlite.open_checkpoint(str(w.finish()) + ".index") as vs:
        assert OBJECT_GRAPH_KEY not in vs
        assert len(vs) == 5
        assert vs.object_graph is not None and len(vs.object_graph.nodes) == 8
        assert vs["model.kernel"].key == "model/kernel/.ATTRIBUTES/VARIABLE_VALUE"
        assert vs["dense/kernel"].object_path == "model.kernel"
        assert [v.key for v in vs.select(["optimizer.*"])] == [
            "model/bias/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
            "model/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
            "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
        ]


def test_damaged_object_graph_degrades_to_keys(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add(OBJECT_GRAPH_KEY, np.array(b"\xff\xff not a proto", dtype=object))
    w.add("v", np.ones(1, np.float32))
    with open_checkpoint(w.finish()) as vs:
        assert vs["v"].object_path is None
        assert "does not parse as a TrackableObjectGraph" in vs.warnings[0]


def test_tf1_trainable_from_collections() -> None:
    mgd = pb.MetaGraphDef()
    for name, coll in (
        ("w:0", "trainable_variables"),
        ("w:0", "variables"),
        ("step:0", "variables"),
    ):
        mgd.collection_def[coll].bytes_list.value.append(
            pb.VariableDef(variable_name=name).SerializeToString()
        )
    part = pb.VariableDef(variable_name="emb/part_0:0", synchronization=3)  # type: ignore[arg-type]
    part.save_slice_info_def.full_name = "emb"
    mgd.collection_def["trainable_variables"].bytes_list.value.append(part.SerializeToString())
    infos = tf1_infos([mgd], ["emb", "step", "w", "other"])
    assert {k: v.trainable for k, v in infos.items()} == {
        "emb": True,
        "step": False,
        "w": True,
        "other": None,
    }
    assert infos["emb"].synchronization == "on_read"
    assert tf1_infos([pb.MetaGraphDef()], ["w"])["w"].trainable is None


# -- fixtures --------------------------------------------------------------------------------


def _recorded() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    cases = []
    for path in sorted((FIXTURES / "expected").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for record in doc["variables"]:
            cases.append((doc["name"], doc, record))
    return cases


@pytest.mark.parametrize(
    ("name", "doc", "record"), _recorded(), ids=[f"{n}:{r['prefix']}" for n, _, r in _recorded()]
)
def test_fixture_values_equal_tensorflow(
    name: str, doc: dict[str, Any], record: dict[str, Any]
) -> None:
    npz = FIXTURES / "expected" / f"{name}.variables.npz"
    arrays: Any = np.load(npz) if npz.exists() else {}
    prefix = FIXTURES / doc["model"] / record["prefix"]
    entries = [e for e in record["entries"] if e["key"] != OBJECT_GRAPH_KEY]
    with open_checkpoint(prefix) as vs:
        assert list(vs) == [e["key"] for e in entries]
        for e in entries:
            var = vs[e["key"]]
            assert var.tf_dtype.name == e["dtype"]
            assert list(var.shape) == e["shape"]
            value = var.read()
            if e["strings_b64"] is not None:
                expected = [base64.b64decode(s) for s in e["strings_b64"]]
                assert [bytes(s) for s in value.reshape(-1)] == expected
                continue
            assert value.dtype.name == e["numpy_dtype"]
            got = value.view(e["npz_view"]) if e["npz_view"] else value
            want = arrays[e["npz"]]
            assert got.shape == want.shape and got.dtype == want.dtype
            assert _bits(got) == _bits(want), e["key"]
        assert vs.verify() == ()


def test_saved_model_object_paths_names_and_trainable() -> None:
    with smlite.open(FIXTURES / "models" / "tf_keras_model") as sm:
        vs = sm.variables
        assert vs.kind == "saved_model" and vs.exists
        emb = vs["layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"]
        assert (emb.object_path, emb.name, emb.trainable) == (
            "layer_with_weights-0.embeddings",
            "emb/embeddings",
            True,
        )
        count = vs["keras_api.metrics.0.count"]
        assert (count.trainable, count.synchronization, count.aggregation) == (
            False,
            "on_read",
            "sum",
        )
        assert [v.object_path for v in vs.select(trainable=False)] == [
            "keras_api.metrics.0.count",
            "keras_api.metrics.0.total",
        ]
    assert vs is not None


def test_tf1_saved_model_trainable_from_collections() -> None:
    with smlite.open(FIXTURES / "models" / "tf1_partitioned") as sm:
        vs = sm.variables
        assert {k: (v.name, v.trainable, v.partitions) for k, v in vs.items()} == {
            "emb": ("emb", True, 3),
            "words": ("words", True, 0),
        }


def test_saved_model_without_variables(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(FIXTURES / "models" / "module_one_signature", model)
    shutil.rmtree(model / "variables")
    with smlite.open(model) as sm:
        vs = sm.variables
        assert not vs.exists and len(vs) == 0 and list(vs) == []
        assert "has no variables/variables.index" in (vs.missing_reason or "")
        assert repr(vs).endswith("missing)")


def test_open_variables_kinds() -> None:
    with open_variables(FIXTURES / "models" / "serving_base") as vs:
        assert vs.kind == "saved_model"
        assert vs.prefix == FIXTURES / "models" / "serving_base" / "2" / "variables" / "variables"
    with open_variables(FIXTURES / "models" / "serving_base", version=1) as vs:
        assert vs.prefix.parts[-3] == "1"
    with open_variables(FIXTURES / "checkpoints") as vs:
        assert vs.kind == "checkpoint" and len(vs) == 13
        assert vs["model.kernel"].trainable is None


def test_not_found_offers_choices() -> None:
    with open_variables(FIXTURES / "models" / "tf_keras_model") as vs:
        with pytest.raises(VariableNotFoundError) as info:
            vs["layer_with_weights-0/embedding"]
        assert "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE" in info.value.choices
    assert isinstance(VariableSet, type)


def test_get_and_in_agree_with_getitem() -> None:
    """Mapping.get catches only KeyError: get() and `in` must not raise for a missing name."""
    with open_variables(FIXTURES / "models" / "variables_sharded") as vs:
        key = "small/2/.ATTRIBUTES/VARIABLE_VALUE"
        assert vs.get("no/such/variable") is None
        marker = object()
        assert vs.get("no/such/variable", marker) is marker
        assert "no/such/variable" not in vs and 3 not in vs
        assert vs.get(key) is vs[key] and key in vs
        # Found by object path too, as [] finds it; iteration still yields checkpoint keys.
        assert vs.get("small.2") is vs["small.2"] is vs[key] and "small.2" in vs
        assert "small.2" not in set(vs) and dict(vs.items())[key] is vs[key]


def test_repr_and_mapping() -> None:
    with open_variables(FIXTURES / "models" / "variables_sharded") as vs:
        var = vs["small.2"]
        assert repr(var) == (
            "Variable('small/2/.ATTRIBUTES/VARIABLE_VALUE', dtype=float32, shape=[40], "
            "object_path='small.2')"
        )
        assert var.proto.slices and var.size == 40 and var.ndim == 1
        assert "variables=10, shards=5" in repr(vs)
        assert len(vs.select(["small*"])) == 6
        assert len(vs.select(["*/.ATTRIBUTES/*"], trainable=True)) == 10


def test_every_flipped_data_byte_is_found(tmp_path: Path) -> None:
    """A bit flip anywhere in a shard is reported for the variable owning that byte."""
    w = BundleWriter(tmp_path / "c")
    owners: list[str] = []
    for key, value in (
        ("a", np.arange(6, dtype=np.float32)),
        ("s", np.array([b"", b"x\x00y", b"zz"], dtype=object)),
        ("b", np.arange(3, dtype=np.int16)),
    ):
        entry = w.add(key, value)
        owners += [key] * entry.size
    prefix = w.finish()
    shard = Path(f"{prefix}.data-00000-of-00001")
    clean = shard.read_bytes()
    assert len(clean) == len(owners)
    for i, owner in enumerate(owners):
        shard.write_bytes(clean[:i] + bytes([clean[i] ^ 0x04]) + clean[i + 1 :])
        with open_checkpoint(prefix) as vs:
            assert [p.key for p in vs.verify()] == [owner], i


def test_invalid_child_ids_are_reported() -> None:
    graph = pb.TrackableObjectGraph()
    root = graph.nodes.add()
    root.children.add(node_id=7, local_name="ghost")
    infos, warnings = _match_object_graphs(graph, None)
    assert infos == {}
    assert warnings == ["object graph: node 0 names a child 'ghost' with invalid id 7"]


def _meta_with_graph(trainable: list[str], others: list[str]) -> bytes:
    mgd = pb.MetaGraphDef()
    for _ in range(50):
        mgd.graph_def.node.add(name="n", op="Const")
    for name in trainable:
        raw = pb.VariableDef(variable_name=f"{name}:0").SerializeToString()
        mgd.collection_def["trainable_variables"].bytes_list.value.append(raw)
        mgd.collection_def["variables"].bytes_list.value.append(raw)
    for name in others:
        raw = pb.VariableDef(variable_name=f"{name}:0").SerializeToString()
        mgd.collection_def["variables"].bytes_list.value.append(raw)
    return mgd.SerializeToString()


def test_tf1_checkpoint_meta_gives_trainable(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "model.ckpt")
    w.add("w", np.ones(2, np.float32))
    w.add("global_step", np.array(3, np.int64))
    prefix = w.finish()
    with open_checkpoint(prefix) as vs:
        assert vs["w"].trainable is None
    Path(f"{prefix}.meta").write_bytes(_meta_with_graph(["w"], ["global_step"]))
    with open_checkpoint(prefix) as vs:
        assert (vs["w"].trainable, vs["global_step"].trainable) == (True, False)
        assert vs.warnings == ()
    Path(f"{prefix}.meta").write_bytes(b"\x22\xff\x01")
    with open_checkpoint(prefix) as vs:
        assert vs["w"].trainable is None
        assert "trainable flags unknown" in vs.warnings[0]
        assert "model.ckpt.meta" in vs.warnings[0]
