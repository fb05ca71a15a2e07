"""smlite.run.validate and smlite.run.prepare: inputs checked against real signatures, no TF."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import smlite
from smlite import pb
from smlite.errors import SignatureNotFoundError, SmliteError, TagSetNotFoundError, UnsupportedError
from smlite.formats.graph_index import GraphIndex, Node
from smlite.model.saved_model import Signature
from smlite.model.tensors import TensorInfo
from smlite.run import plan_output_files, prepare, save_outputs
from smlite.run.inputs import InputError
from smlite.run.validate import (
    InputKeyNotFoundError,
    check_outputs,
    coerce,
    required_inputs,
    validate_feeds,
)

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"
INPUTS = Path(__file__).resolve().parents[1] / "fixtures" / "inputs"
TF1 = MODELS / "tf1_multi_tag"
ZOO = MODELS / "dtype_zoo"
KERAS = MODELS / "keras_multi_export"


def signature(model: Path, tags: str, key: str) -> Signature:
    with smlite.open(model) as sm:
        return sm.meta_graph(tags).signature(key)


@pytest.fixture(scope="module")
def zoo() -> Signature:
    return signature(ZOO, "serve", "serving_default")


@pytest.fixture(scope="module")
def exotic() -> Signature:
    return signature(ZOO, "serve", "exotic")


# ---------------------------------------------------------------------------
# prepare(): the whole pre-TensorFlow pipeline on fixtures
# ---------------------------------------------------------------------------


def test_prepare_tf1_with_input_examples() -> None:
    plan = prepare(
        TF1,
        tag_set="serve",
        signature_def="classify_x",
        input_examples='inputs=[{"x":[1.0,2.0]},{"x":[-1.5,0.5]}]',
    )
    assert plan.backend == "session"
    assert plan.tags == ("serve",)
    feed = plan.feeds["inputs"]
    assert feed.dtype == object and feed.shape == (2,)
    example = pb.Example.FromString(feed[1])
    assert list(example.features.feature["x"].float_list.value) == [-1.5, 0.5]


def test_prepare_npy_and_npz_inputs() -> None:
    plan = prepare(TF1, tag_set="serve,gpu", inputs=f"x={INPUTS / 'tf1_multi_tag' / 'x.npy'}")
    assert plan.feeds["x"].dtype == np.float32 and plan.feeds["x"].shape[1] == 2
    npz = INPUTS / "keras_multi_export" / "ab.npz"
    plan = prepare(KERAS, tag_set="serve", inputs=f"a={npz}[a];b={npz}[b]")
    assert plan.backend == "function"  # a TF2 export
    assert [plan.feeds[k].shape[1] for k in ("a", "b")] == [3, 2]


def test_prepare_tag_set_spaces_are_stripped_like_saved_model_cli() -> None:
    plan = prepare(TF1, tag_set=" gpu , serve", input_exprs="x=[[1, 2]]")
    assert set(plan.tags) == {"serve", "gpu"}
    assert plan.feeds["x"].dtype == np.float32


def test_prepare_backend_choice() -> None:
    plan = prepare(KERAS, tag_set="serve", input_exprs="a=[[1,2,3]];b=[[1,2]]", backend="session")
    assert plan.backend == "session"
    with pytest.raises(SmliteError, match="unknown backend 'tpu'"):
        prepare(KERAS, tag_set="serve", backend="tpu")


def test_prepare_unknown_input_key_lists_the_valid_ones() -> None:
    with pytest.raises(InputKeyNotFoundError) as info:
        prepare(
            TF1, tag_set="serve", signature_def="classify_x", input_examples='nope=[{"x":[1.0]}]'
        )
    assert str(info.value) == (
        "input key 'nope' not found; valid choices: 'inputs'. "
        "These are the inputs of signature 'classify_x'"
    )
    assert info.value.choices == ("inputs",)


def test_unknown_keys_are_reported_before_files_are_read(tmp_path: Path) -> None:
    with pytest.raises(InputKeyNotFoundError, match="also unknown: 'other'"):
        prepare(TF1, tag_set="serve,gpu", inputs=f"zz={tmp_path / 'missing.npy'};other=a.npy")


def test_prepare_missing_inputs(zoo: Signature) -> None:
    with pytest.raises(InputError) as info:
        prepare(KERAS, tag_set="serve", input_exprs="a=[[1.0, 2.0, 3.0]]")
    assert str(info.value) == (
        "signature 'serving_default' needs a value for input 'b' (float32, shape (None, 2)); "
        "give it with --inputs, --input_exprs or --input_examples"
    )
    with pytest.raises(InputError, match=r"needs a value for inputs 'a' .* 'b' .*give them"):
        prepare(KERAS, tag_set="serve")


def test_prepare_tag_set_and_signature_not_found() -> None:
    with pytest.raises(TagSetNotFoundError, match="valid choices"):
        prepare(TF1, tag_set="serve,tpu", input_exprs="x=1")
    with pytest.raises(TagSetNotFoundError, match="give one with --tag_set"):
        prepare(TF1, input_exprs="x=1")
    with pytest.raises(
        SignatureNotFoundError, match=r"'nope' not found; valid choices: .*'predict_y'"
    ):
        prepare(TF1, tag_set="serve", signature_def="nope", input_exprs="x=1")


def test_prepare_refuses_sparse_signatures() -> None:
    with pytest.raises(UnsupportedError, match="output 'sparse' of signature 'sparse_loss'"):
        prepare(TF1, tag_set="train", signature_def="sparse_loss", input_exprs="sp=1")


def test_prepare_warnings_for_overridden_keys(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((1, 2), dtype=np.float32))
    plan = prepare(
        TF1, tag_set="serve,gpu", inputs=f"x={tmp_path / 'x.npy'}", input_exprs="x=[[5, 6]]"
    )
    np.testing.assert_array_equal(plan.feeds["x"], [[5, 6]])
    assert len(plan.warnings) == 1 and "the --input_exprs value is used" in plan.warnings[0]


# ---------------------------------------------------------------------------
# coerce(): dtype and shape rules
# ---------------------------------------------------------------------------


def zoo_feed(sig: Signature, key: str, value: Any) -> np.ndarray:
    return coerce(value, sig.inputs[key], where=f"input {key!r}", source="--input_exprs")


@pytest.mark.parametrize(
    ("key", "value", "dtype"),
    [
        ("float16", [1.5], np.float16),
        ("float32", [1, 2], np.float32),
        ("float64", [True], np.float64),
        ("int8", [-128, 127], np.int8),
        ("uint8", [0, 255], np.uint8),
        ("uint64", [2**64 - 1], np.uint64),
        ("int64", np.array([1, 2], dtype=np.int32), np.int64),
        ("bool", [True, False], np.bool_),
        ("complex64", [1 + 2j, 3], np.complex64),
        ("complex128", [1.5], np.complex128),
        ("string", ["a", b"b\x00"], object),
        ("string", np.array([b"ab", b"c"]), object),
    ],
)
def test_coerce_accepts(zoo: Signature, key: str, value: Any, dtype: Any) -> None:
    array = zoo_feed(zoo, key, value)
    assert array.dtype == np.dtype(dtype)
    if key == "string" and isinstance(value, list):
        assert list(array) == ["a", b"b\x00"]  # trailing NULs kept (numpy 'S' would drop them)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("float32", ["a"], "is a float32 input but the value holds strings"),
        ("float32", [b"a"], "holds bytes"),
        ("float32", [1 + 2j], "holds complex numbers (complex128), which do not convert"),
        (
            "int32",
            [1.5],
            "holds floats (float64), which do not convert to int32 without loss; give integers",
        ),
        ("uint8", [256], "holds 256, outside [0, 255]"),
        ("int8", [-129], "holds -129, outside [-128, 127]"),
        ("uint64", [-1], "holds -1, outside [0, 18446744073709551615]"),
        ("int64", [2**70], "values that are not numbers"),
        ("float32", [1.0, None], "values that are not numbers"),
        ("float32", [[1.0], [1.0, 2.0]], "not a rectangular array"),
        ("bool", [0, 1], "give True/False"),
        ("string", [1.0], "is a string input but the value holds 1.0 of type float"),
        ("string", [["a"], ["b", "c"]], "nested lists of different lengths"),
        ("string", np.array([1, 2]), "is a string input but the value holds integers (int64)"),
    ],
)
def test_coerce_rejects(zoo: Signature, key: str, value: Any, message: str) -> None:
    with pytest.raises(InputError) as info:
        zoo_feed(zoo, key, value)
    assert message in str(info.value)
    assert str(info.value).startswith(f"input {key!r}")
    assert str(info.value).endswith("(from --input_exprs)") or "rectangular" in str(info.value)


def test_coerce_shapes(zoo: Signature) -> None:
    with pytest.raises(
        InputError, match=r"expects shape \(None,\) \(float32\) but the value has shape \(\)"
    ):
        zoo_feed(zoo, "float32", 1.0)
    with pytest.raises(InputError, match=r"expects shape \(None,\) .* has shape \(1, 1\)"):
        zoo_feed(zoo, "float32", [[1.0]])
    x = signature(TF1, "serve,gpu", "serving_default").inputs["x"]
    with pytest.raises(
        InputError, match=r"expects shape \(None, 2\) \(float32\) but the value has shape \(1, 3\)"
    ):
        coerce([[1.0, 2.0, 3.0]], x, where="input 'x'")
    assert coerce(np.zeros((0, 2)), x, where="input 'x'").shape == (0, 2)
    # Unknown rank: anything goes (a scalar too).
    any_rank = signature(MODELS / "module_one_signature", "serve", "serving_default").inputs["x"]
    assert coerce(3.5, any_rank, where="input 'x'").shape == ()
    assert coerce([[[1.0]]], any_rank, where="input 'x'").shape == (1, 1, 1)


def test_coerce_low_precision_dtypes(exotic: Signature) -> None:
    grid = [[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]
    assert coerce(grid, exotic.inputs["bfloat16"], where="i").dtype == ml_dtypes.bfloat16
    assert coerce(grid, exotic.inputs["float8_e5m2"], where="i").dtype == ml_dtypes.float8_e5m2
    ints = [[1, 2, 3], [-8, 7, 0]]
    assert coerce(ints, exotic.inputs["int4"], where="i").dtype == ml_dtypes.int4
    with pytest.raises(InputError, match=r"holds 8, outside \[-8, 7\]"):
        coerce([[1, 2, 3], [8, 0, 0]], exotic.inputs["int4"], where="i")
    assert coerce(ints, exotic.inputs["qint8"], where="i").dtype == np.int8


def test_coerce_refuses_handles() -> None:
    info = TensorInfo.from_proto(pb.TensorInfo(name="h:0", dtype=pb.DataType.DT_RESOURCE))
    with pytest.raises(UnsupportedError, match="dtype resource, which cannot be fed"):
        coerce([1], info, where="input 'h'")


def test_validate_feeds_keeps_signature_order_and_converts(zoo: Signature) -> None:
    values = {"string": ["x"], "bool": [True], "float32": [1]}
    feeds = validate_feeds(zoo, values, required=frozenset())
    assert list(feeds) == ["bool", "float32", "string"]
    assert feeds["float32"].dtype == np.float32


def test_check_outputs_names_composite_kinds() -> None:
    sig = signature(MODELS / "sparse_ragged", "serve", "ragged")
    with pytest.raises(
        UnsupportedError, match="output 'doubled' of signature 'ragged' is a Ragged"
    ):
        check_outputs(sig)


# ---------------------------------------------------------------------------
# required_inputs(): which Placeholders must be fed
# ---------------------------------------------------------------------------


def _sig_with_inputs(names: dict[str, str]) -> Signature:
    proto = pb.SignatureDef(method_name="tensorflow/serving/predict")
    for key, tensor in names.items():
        proto.inputs[key].name = tensor
        proto.inputs[key].dtype = pb.DataType.DT_FLOAT
    proto.outputs["y"].name = "y:0"
    return Signature.from_proto("s", proto)


def test_required_inputs_follow_the_graph_ops() -> None:
    sig = _sig_with_inputs({"a": "a:0", "b": "b:0", "c": "mid:1", "d": "absent:0"})
    scan = GraphIndex(
        nodes=tuple(
            Node(name, op, (), (), (), (0, 0))
            for name, op in (
                ("a", "Placeholder"),
                ("b", "PlaceholderWithDefault"),
                ("mid", "Split"),
            )
        ),
        library=(),
        functions={},
    )
    mg = SimpleNamespace(graph_scan=scan)
    assert required_inputs(mg, sig) == frozenset({"a", "d"})  # type: ignore[arg-type]
    feeds = validate_feeds(sig, {"a": [1.0]}, required=required_inputs(mg, sig) - {"d"})  # type: ignore[arg-type]
    assert list(feeds) == ["a"]


def test_required_inputs_on_fixtures() -> None:
    with smlite.open(TF1) as sm:
        mg = sm.meta_graph("serve")
        assert required_inputs(mg, mg.signature("classify_x")) == frozenset({"inputs"})


# ---------------------------------------------------------------------------
# --outdir planning and writing
# ---------------------------------------------------------------------------


def test_plan_output_files_spells_paths_like_saved_model_cli(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    assert plan_output_files(out, ["y", "z"]) == {
        "y": os.path.join(out, "y.npy"),
        "z": os.path.join(out, "z.npy"),
    }


def test_plan_output_files_refuses_existing_files(tmp_path: Path) -> None:
    (tmp_path / "y.npy").write_bytes(b"old")
    with pytest.raises(SmliteError, match=r"y\.npy already exists; add --overwrite"):
        plan_output_files(tmp_path, ["y"])
    assert plan_output_files(tmp_path, ["y"], overwrite=True)
    # A dangling symlink counts as existing: writing through it would create its target.
    (tmp_path / "z.npy").symlink_to(tmp_path / "elsewhere.npy")
    with pytest.raises(SmliteError, match="already exists"):
        plan_output_files(tmp_path, ["z"])


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/b", "", "nul\0"])
def test_plan_output_files_refuses_keys_that_are_not_file_names(tmp_path: Path, key: str) -> None:
    with pytest.raises(SmliteError, match="cannot be used as a file name"):
        plan_output_files(tmp_path, [key])


def test_plan_output_files_refuses_the_model_directory(tmp_path: Path) -> None:
    with pytest.raises(SmliteError, match="inside the SavedModel directory"):
        plan_output_files(TF1 / "out", ["y"], model_dir=TF1)
    with pytest.raises(SmliteError, match="inside the SavedModel directory"):
        plan_output_files(TF1, ["y"], model_dir=TF1)
    (tmp_path / "file").write_text("x")
    with pytest.raises(SmliteError, match="is not a directory"):
        plan_output_files(tmp_path / "file", ["y"])


def test_save_outputs_writes_numpy_save_bytes(tmp_path: Path) -> None:
    outputs = {
        "y": np.arange(4, dtype=np.float32).reshape(2, 2),
        "s": np.array([b"a", b"bc"], dtype=object),
        "k": np.float32(3.5),
    }
    files = plan_output_files(tmp_path / "new", outputs)
    save_outputs(outputs, files)
    for key, value in outputs.items():
        reference = tmp_path / f"ref-{key}.npy"
        np.save(reference, value)
        assert Path(files[key]).read_bytes() == reference.read_bytes()


def test_save_outputs_replaces_symlinks_instead_of_following_them(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "y.npy").symlink_to(target)
    files = plan_output_files(tmp_path, ["y"], overwrite=True)
    save_outputs({"y": np.ones(1)}, files, overwrite=True)
    assert target.read_text() == "keep me"
    assert not (tmp_path / "y.npy").is_symlink()
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), [1.0])
