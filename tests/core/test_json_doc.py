"""The versioned JSON documents of ``show --format json`` (docs/json-schema.md)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import smlite
from smlite import pb
from smlite.cli import run
from smlite.model.structure_decoder import decode_structure
from smlite.model.tensors import TensorInfo
from smlite.render import json_doc
from tests.support import samcli

MODELS = samcli.FIXTURES / "models"
TF1 = MODELS / "tf1_multi_tag"
SAVED_MODEL_FIXTURES = [
    n for n in samcli.fixture_names() if samcli.load_expected(n)["kind"] != "checkpoint"
]
needs_fixtures = pytest.mark.skipif(not TF1.is_dir(), reason="fixtures not generated")

DTYPE_KEYS = {"name", "enum", "value"}
TENSOR_KEYS = {"kind", "encoding", "dtype", "shape", "tensor_name"}


def _show_json(path: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, Any]:
    code = run(["show", str(path), "--format", "json", *flags])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.isascii()
    doc: dict[str, Any] = json.loads(captured.out)
    return doc


# -- a structural check of the documented schema -----------------------------------------------


def check_dtype(doc: Any) -> None:
    assert set(doc) == DTYPE_KEYS
    assert isinstance(doc["name"], str) and isinstance(doc["enum"], str)
    assert isinstance(doc["value"], int)


def check_shape(doc: Any) -> None:
    assert doc is None or all(d is None or (isinstance(d, int) and d >= 0) for d in doc)


def check_tensor(doc: Any) -> None:
    extra = set(doc) - TENSOR_KEYS
    assert set(doc) >= TENSOR_KEYS
    assert doc["encoding"] in ("name", "coo_sparse", "composite_tensor", "none")
    if doc["dtype"] is not None:
        check_dtype(doc["dtype"])
    check_shape(doc["shape"])
    if doc["encoding"] == "name":
        assert isinstance(doc["tensor_name"], str)
        assert extra == set()
    elif doc["encoding"] == "coo_sparse":
        assert doc["kind"] == "SparseTensor"
        assert doc["tensor_name"] is None
        assert extra == {"sparse"}
        assert set(doc["sparse"]) == {
            "values_tensor_name",
            "indices_tensor_name",
            "dense_shape_tensor_name",
        }
    elif doc["encoding"] == "composite_tensor":
        assert extra == {"composite"}
        composite = doc["composite"]
        assert set(composite) == {
            "type_spec_class",
            "type_spec_class_name",
            "num_flat_components",
            "type_state",
            "components",
        }
        for component in composite["components"]:
            check_tensor(component)


def check_signature(doc: Any) -> None:
    assert set(doc) == {"method_name", "internal", "inputs", "outputs"}
    for side in ("inputs", "outputs"):
        assert list(doc[side]) == sorted(doc[side])
        for tensor in doc[side].values():
            check_tensor(tensor)


def check_meta_graph(doc: Any, *, signatures: bool, ops: bool) -> None:
    base = {"index", "tags", "tensorflow_version", "tensorflow_git_version"}
    want = base | ({"signatures"} if signatures else set()) | ({"ops"} if ops else set())
    assert set(doc) == want
    assert all(isinstance(t, str) for t in doc["tags"])
    if signatures:
        for sig in doc["signatures"].values():
            check_signature(sig)
    if ops:
        assert doc["ops"] == sorted(set(doc["ops"]))


def check_show_document(doc: Any) -> None:
    assert list(doc)[:2] == ["smlite_json", "kind"]
    assert doc["smlite_json"] == 1
    assert doc["kind"] == "show"
    assert (
        {"model", "query", "warnings", "meta_graphs"}
        <= set(doc)
        <= {
            "smlite_json",
            "kind",
            "model",
            "query",
            "warnings",
            "meta_graphs",
            "functions",
            "keras",
        }
    )
    model = doc["model"]
    assert set(model) == {"path", "file", "format", "saved_model_schema_version", "serving"}
    assert model["format"] in ("pb", "pbtxt")
    assert set(doc["query"]) == {"tag_set", "signature_def", "all", "list_ops", "version"}


# -- every fixture, every form --------------------------------------------------------------------


@needs_fixtures
@pytest.mark.parametrize("name", SAVED_MODEL_FIXTURES)
def test_show_json_forms(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    model = samcli.model_dir(name)
    expected_tags = samcli.load_expected(name)["tag_sets"]

    doc = _show_json(model, capsys)
    check_show_document(doc)
    for mg in doc["meta_graphs"]:
        check_meta_graph(mg, signatures=False, ops=False)
    assert sorted(mg["tags"] for mg in doc["meta_graphs"]) == sorted(expected_tags)

    everything = _show_json(model, capsys, "--all")
    check_show_document(everything)
    with smlite.open(model) as sm:
        # The object graph's functions (tests/core/test_functions.py checks their content).
        has_object_graph = any(mg.has_object_graph for mg in sm.meta_graphs)
        assert ("functions" in everything) == has_object_graph
        # What Keras recorded (tests/core/test_keras.py checks its content).
        assert "keras" in everything and "keras" not in doc
        for mg_doc in everything["meta_graphs"]:
            check_meta_graph(mg_doc, signatures=True, ops=True)
            mg = sm.meta_graphs[mg_doc["index"]]
            assert mg_doc["tags"] == list(mg.tags)
            assert mg_doc["ops"] == sorted(mg.ops_used)
            assert list(mg_doc["signatures"]) == sorted(mg.signatures)
            tag_set = ",".join(mg.tags)
            one = _show_json(model, capsys, "--tag_set", tag_set, "--list_ops")
            assert one["meta_graphs"] == [mg_doc]
            for key in mg.signatures:
                single = _show_json(model, capsys, "--tag_set", tag_set, "--signature_def", key)
                (only,) = single["meta_graphs"]
                check_meta_graph(only, signatures=True, ops=False)
                assert only["signatures"] == {key: mg_doc["signatures"][key]}


@needs_fixtures
def test_dense_sparse_and_init_op_entries(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _show_json(TF1, capsys, "--tag_set", "train", "--signature_def", "sparse_loss")
    sig = doc["meta_graphs"][0]["signatures"]["sparse_loss"]
    assert sig["method_name"] == "tensorflow/serving/predict"
    assert sig["internal"] is False
    assert sig["inputs"]["sp"] == {
        "kind": "SparseTensor",
        "encoding": "coo_sparse",
        "dtype": {"name": "float32", "enum": "DT_FLOAT", "value": 1},
        "shape": [None, 2],
        "tensor_name": None,
        "sparse": {
            "values_tensor_name": "sp/values:0",
            "indices_tensor_name": "sp/indices:0",
            "dense_shape_tensor_name": "sp/shape:0",
        },
    }
    assert sig["outputs"]["loss"] == {
        "kind": "Tensor",
        "encoding": "name",
        "dtype": {"name": "float32", "enum": "DT_FLOAT", "value": 1},
        "shape": [],
        "tensor_name": "loss:0",
    }
    init = _show_json(MODELS / "sparse_ragged", capsys, "--tag_set", "serve")
    init_sig = init["meta_graphs"][0]["signatures"]["__saved_model_init_op"]
    assert init_sig["internal"] is True
    assert init_sig["outputs"]["__saved_model_init_op"]["shape"] is None
    assert init_sig["outputs"]["__saved_model_init_op"]["tensor_name"] == "NoOp"


@needs_fixtures
def test_ragged_output_is_a_ragged_tensor(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _show_json(
        MODELS / "sparse_ragged", capsys, "--tag_set", "serve", "--signature_def", "ragged"
    )
    doubled = doc["meta_graphs"][0]["signatures"]["ragged"]["outputs"]["doubled"]
    assert doubled["kind"] == "RaggedTensor"
    assert doubled["encoding"] == "composite_tensor"
    assert doubled["dtype"] == {"name": "int32", "enum": "DT_INT32", "value": 3}
    assert doubled["shape"] == [None, None]
    assert doubled["tensor_name"] is None
    composite = doubled["composite"]
    assert composite["type_spec_class"] == "RAGGED_TENSOR_SPEC"
    assert composite["type_spec_class_name"] == "RaggedTensorSpec"
    assert composite["num_flat_components"] == 2
    assert composite["type_state"] == {
        "tuple": [
            {"shape": [None, None]},
            {"dtype": {"name": "int32", "enum": "DT_INT32", "value": 3}},
            1,
            {"dtype": {"name": "int64", "enum": "DT_INT64", "value": 9}},
        ]
    }
    assert [c["tensor_name"] for c in composite["components"]] == [
        "PartitionedCall:0",
        "PartitionedCall:1",
    ]


@needs_fixtures
def test_unknown_rank_is_null(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _show_json(
        MODELS / "module_one_signature",
        capsys,
        "--tag_set",
        "serve",
        "--signature_def",
        "serving_default",
    )
    x = doc["meta_graphs"][0]["signatures"]["serving_default"]["inputs"]["x"]
    assert x["shape"] is None
    assert x["dtype"]["enum"] == "DT_FLOAT"


@needs_fixtures
def test_list_ops_without_tag_set_warns(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _show_json(TF1, capsys, "--list_ops")
    assert doc["warnings"] == ["--list_ops must be paired with a tag-set or with --all."]
    assert doc["query"]["list_ops"] is True
    assert all("ops" not in mg for mg in doc["meta_graphs"])


@needs_fixtures
def test_serving_layout_in_document(capsys: pytest.CaptureFixture[str]) -> None:
    base = MODELS / "serving_base"
    doc = _show_json(base, capsys, "--version", "1")
    serving = doc["model"]["serving"]
    assert serving == {
        "base_path": str(base),
        "versions": [
            {"version": 1, "path": str(base / "1")},
            {"version": 2, "path": str(base / "2")},
        ],
        "served_version": 1,
        "served_path": str(base / "1"),
        "requested": True,
        "ignored": ["tmp-export-3"],
        "duplicates": {},
    }
    assert doc["model"]["path"] == str(base / "1")
    assert doc["query"]["version"] == 1


@needs_fixtures
def test_errors_print_no_document(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["show", str(TF1), "--format", "json", "--tag_set", "serve, gpu", "--list_ops"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith("smlite: error: tag-set 'serve, gpu' not found")


# -- units ----------------------------------------------------------------------------------------


def test_structure_json() -> None:
    value = pb.StructuredValue()
    items = value.tuple_value.values
    items.add().none_value.SetInParent()
    items.add().float64_value = math.inf
    items.add().float64_value = 1.5
    items.add().int64_value = -3
    items.add().string_value = "s"
    items.add().bool_value = True
    d = items.add().dict_value.fields
    d["b"].list_value.values.add().int64_value = 1
    d["a"].tensor_shape_value.unknown_rank = True
    nt = items.add().named_tuple_value
    nt.name = "Point"
    pair = nt.values.add()
    pair.key = "x"
    pair.value.tensor_dtype_value = 19
    spec = items.add().tensor_spec_value
    spec.name = "x"
    spec.dtype = 1
    spec.shape.dim.add().size = -1
    tensor = items.add().tensor_value
    tensor.dtype = 3
    tensor.tensor_shape.dim.add().size = 2
    type_spec = items.add().type_spec_value
    type_spec.type_spec_class = pb.TypeSpecProto.SPARSE_TENSOR_SPEC
    type_spec.type_spec_class_name = "SparseTensorSpec"
    assert json_doc.structure_json(decode_structure(value)) == {
        "tuple": [
            None,
            "inf",
            1.5,
            -3,
            "s",
            True,
            {"dict": {"a": {"shape": None}, "b": {"list": [1]}}},
            {
                "named_tuple": {
                    "name": "Point",
                    "fields": {"x": {"dtype": {"name": "float16", "enum": "DT_HALF", "value": 19}}},
                }
            },
            {
                "tensor_spec": {
                    "name": "x",
                    "dtype": {"name": "float32", "enum": "DT_FLOAT", "value": 1},
                    "shape": [None],
                }
            },
            {
                "tensor": {
                    "numpy": False,
                    "dtype": {"name": "int32", "enum": "DT_INT32", "value": 3},
                    "shape": [2],
                }
            },
            {
                "type_spec": {
                    "type_spec_class": "SPARSE_TENSOR_SPEC",
                    "type_spec_class_name": "SparseTensorSpec",
                    "num_flat_components": 0,
                    "type_state": None,
                }
            },
        ]
    }
    assert json_doc.structure_json(decode_structure(pb.StructuredValue())) is None


def test_sparse_tensor_spec_composite() -> None:
    proto = pb.TensorInfo()
    spec = proto.composite_tensor.type_spec
    spec.type_spec_class = pb.TypeSpecProto.SPARSE_TENSOR_SPEC
    spec.type_spec_class_name = "SparseTensorSpec"
    state = spec.type_state.tuple_value.values
    shape = state.add().tensor_shape_value
    shape.dim.add().size = 4
    shape.dim.add().size = -1
    state.add().tensor_dtype_value = 2
    for name in ("a:0", "a:1", "a:2"):
        proto.composite_tensor.components.add(name=name, dtype=9)
    doc = json_doc.tensor_info_json(TensorInfo.from_proto(proto))
    assert doc["kind"] == "SparseTensor"
    assert doc["dtype"] == {"name": "float64", "enum": "DT_DOUBLE", "value": 2}
    assert doc["shape"] == [4, None]
    assert doc["composite"]["type_spec_class"] == "SPARSE_TENSOR_SPEC"


def test_other_composites_have_no_value_dtype() -> None:
    proto = pb.TensorInfo()
    spec = proto.composite_tensor.type_spec
    spec.type_spec_class = pb.TypeSpecProto.EXTENSION_TYPE_SPEC
    spec.type_spec_class_name = "MaskedTensor.Spec"
    doc = json_doc.tensor_info_json(TensorInfo.from_proto(proto))
    assert doc["dtype"] is None
    assert doc["shape"] is None
    assert doc["composite"]["type_spec_class_name"] == "MaskedTensor.Spec"


def test_dumps_is_ascii_and_rejects_nan() -> None:
    text = json_doc.dumps({"smlite_json": 1, "name": "\x1b[2J\u202e名"})
    assert text.isascii()
    assert text.endswith("}\n")
    assert json.loads(text)["name"] == "\x1b[2J\u202e名"
    with pytest.raises(ValueError):
        json_doc.dumps({"x": math.nan})
