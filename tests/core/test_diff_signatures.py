"""smlite diff: tag-sets and signatures, each rule from both sides of an edited proto."""

from __future__ import annotations

from pathlib import Path

import pytest

from smlite import pb
from smlite.errors import TagSetNotFoundError
from smlite.model.diff import Decoded, Diff, Severity, diff
from smlite.model.dtypes import DType
from smlite.model.policy import Policy, PolicyError
from smlite.model.type_specs import RaggedTensorSpec
from smlite.render.diff import diff_document, message_text, spell
from tests.support.diff_edit import (
    MODELS,
    copy_model,
    edit_model,
    edited_pair,
    kinds,
    only,
    serve_signature,
)

B, C, N = Severity.BREAKING, Severity.COMPATIBLE, Severity.INFO
SIG = "meta_graph[serve]/signature[serving_default]"


def run(old: Path, new: Path, **kw: object) -> Diff:
    return diff(old, new, policy=kw.pop("policy", Policy()), **kw)  # type: ignore[arg-type]


def both_ways(tmp_path: Path, name: str, edit: object) -> tuple[Diff, Diff]:
    old, new = edited_pair(tmp_path, name, edit)  # type: ignore[arg-type]
    return run(old, new), run(new, old)


def test_a_model_against_itself_is_identical() -> None:
    model = MODELS / "module_multi_signature"
    d = run(model, model)
    assert d.changes == ()
    assert d.verdict.code == "identical"
    assert not d.failed("breaking") and not d.failed("any")


def test_signature_removed_breaks_added_is_compatible(tmp_path: Path) -> None:
    def drop(m: pb.SavedModel) -> None:
        del m.meta_graphs[0].signature_def["array_input"]

    removed, added = both_ways(tmp_path, "module_multi_signature", drop)
    assert only(removed) == ("signature-removed", B, "meta_graph[serve]/signature[array_input]")
    assert only(added) == ("signature-added", C, "meta_graph[serve]/signature[array_input]")
    assert removed.verdict.code == "new-graph" and removed.failed()
    assert not added.failed()


def _add_input(m: pb.SavedModel) -> None:
    sig = serve_signature()(m)
    sig.inputs["z"].name = "serving_default_z:0"
    sig.inputs["z"].dtype = 1
    sig.inputs["z"].tensor_shape.dim.add(size=-1)


def test_new_required_input_breaks_removed_input_breaks(tmp_path: Path) -> None:
    added, removed = both_ways(tmp_path, "module_multi_signature", _add_input)
    assert only(added) == ("input-added", B, f"{SIG}/input[z]")
    assert added.changes[0].new == "float32 (None,)"
    assert only(removed) == ("input-removed", B, f"{SIG}/input[z]")


def test_new_input_with_a_default_is_compatible(tmp_path: Path) -> None:
    def add_optional(m: pb.SavedModel) -> None:
        _add_input(m)
        default = serve_signature()(m).defaults["z"]
        default.dtype = 1
        default.float_val.append(0.5)

    added, _ = both_ways(tmp_path, "module_multi_signature", add_optional)
    assert only(added) == ("optional-input-added", C, f"{SIG}/input[z]")


def test_output_added_is_compatible_removed_breaks(tmp_path: Path) -> None:
    def add_output(m: pb.SavedModel) -> None:
        out = serve_signature()(m).outputs["extra"]
        out.name = "StatefulPartitionedCall_1:1"
        out.dtype = 3

    added, removed = both_ways(tmp_path, "module_multi_signature", add_output)
    assert only(added) == ("output-added", C, f"{SIG}/output[extra]")
    assert only(removed) == ("output-removed", B, f"{SIG}/output[extra]")


@pytest.mark.parametrize("side", ["inputs", "outputs"])
def test_dtype_change_breaks_both_ways(tmp_path: Path, side: str) -> None:
    def retype(m: pb.SavedModel) -> None:
        entries = getattr(serve_signature()(m), side)
        entries[next(iter(entries))].dtype = 2

    there, back = both_ways(tmp_path, "module_multi_signature", retype)
    kind = f"{side[:-1]}-dtype-changed"
    assert only(there)[:2] == (kind, B) and only(back)[:2] == (kind, B)
    assert (there.changes[0].old, there.changes[0].new) == (DType(1), DType(2))
    assert spell(DType(1)) == "float32"


def _reshape(side: str, alias: str, dims: list[int] | None) -> object:
    def edit(m: pb.SavedModel) -> None:
        shape = getattr(serve_signature()(m), side)[alias].tensor_shape
        shape.Clear()
        if dims is None:
            shape.unknown_rank = True
        for d in dims or ():
            shape.dim.add(size=d)

    return edit


# polymorphic's serving_default: input 'inputs' float32 (2,), output 'first' float32 (2,).
@pytest.mark.parametrize(
    ("side", "alias", "dims", "there", "back"),
    [
        ("inputs", "inputs", [-1], ("input-shape-widened", C), ("input-shape-narrowed", B)),
        ("inputs", "inputs", None, ("input-shape-widened", C), ("input-shape-narrowed", B)),
        ("inputs", "inputs", [3], ("input-shape-changed", B), ("input-shape-changed", B)),
        ("inputs", "inputs", [2, 1], ("input-shape-changed", B), ("input-shape-changed", B)),
        ("outputs", "first", [-1], ("output-shape-widened", C), ("output-shape-narrowed", C)),
        ("outputs", "first", [5], ("output-shape-changed", B), ("output-shape-changed", B)),
        ("outputs", "first", [], ("output-shape-changed", B), ("output-shape-changed", B)),
    ],
)
def test_shape_rules(
    tmp_path: Path,
    side: str,
    alias: str,
    dims: list[int] | None,
    there: tuple[str, Severity],
    back: tuple[str, Severity],
) -> None:
    forward, backward = both_ways(tmp_path, "polymorphic", _reshape(side, alias, dims))
    assert only(forward)[:2] == there
    assert only(backward)[:2] == back


def test_dense_to_sparse_input_breaks(tmp_path: Path) -> None:
    def to_sparse(m: pb.SavedModel) -> None:
        x = serve_signature()(m).inputs["x"]
        x.coo_sparse.values_tensor_name = "v:0"
        x.coo_sparse.indices_tensor_name = "i:0"
        x.coo_sparse.dense_shape_tensor_name = "s:0"

    there, back = both_ways(tmp_path, "module_multi_signature", to_sparse)
    assert only(there)[:2] == ("input-kind-changed", B)
    assert there.changes[0].new == "SparseTensor float32 <unknown>"
    assert only(back)[:2] == ("input-kind-changed", B)


def _ragged(dims: list[int], dtype: int, ragged_rank: int, splits: int = 9) -> object:
    """Make input 'x' a composite RaggedTensor with this TypeSpec state."""

    def edit(m: pb.SavedModel) -> None:
        x = serve_signature()(m).inputs["x"]
        x.Clear()
        spec = x.composite_tensor.type_spec
        spec.type_spec_class = pb.TypeSpecProto.RAGGED_TENSOR_SPEC
        spec.type_spec_class_name = "RaggedTensorSpec"
        state = spec.type_state.tuple_value.values
        shape = state.add().tensor_shape_value
        for d in dims:
            shape.dim.add(size=d)
        state.add().tensor_dtype_value = dtype  # type: ignore[assignment]
        state.add().int64_value = ragged_rank
        state.add().tensor_dtype_value = splits  # type: ignore[assignment]
        for name in ("x_values:0", "x_splits:0"):
            x.composite_tensor.components.add(name=name, dtype=dtype)  # type: ignore[arg-type]

    return edit


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (_ragged([2, -1], 1, 1), _ragged([-1, -1], 1, 1), [("input-shape-widened", C)]),
        (_ragged([-1, -1], 1, 1), _ragged([2, -1], 1, 1), [("input-shape-narrowed", B)]),
        (_ragged([-1, -1], 1, 1), _ragged([-1, -1], 3, 1), [("input-dtype-changed", B)]),
        (_ragged([-1, -1, -1], 1, 1), _ragged([-1, -1, -1], 1, 2), [("input-spec-changed", B)]),
        (_ragged([-1, -1], 1, 1, 9), _ragged([-1, -1], 1, 1, 3), [("input-spec-changed", B)]),
        (_ragged([-1, -1], 1, 1), _ragged([-1, -1], 1, 1), []),
    ],
)
def test_composite_specs_compared_structurally(
    tmp_path: Path, old: object, new: object, expected: list[tuple[str, Severity]]
) -> None:
    a = edit_model(copy_model("module_multi_signature", tmp_path / "a"), old)  # type: ignore[arg-type]
    b = edit_model(copy_model("module_multi_signature", tmp_path / "b"), new)  # type: ignore[arg-type]
    d = run(a, b)
    assert [(c.kind, c.severity) for c in d.changes] == expected


def test_composite_values_are_typed_and_spelled_as_tensorflow_does(tmp_path: Path) -> None:
    a = copy_model("module_multi_signature", tmp_path / "a")
    b = copy_model("module_multi_signature", tmp_path / "b")
    edit_model(b, _ragged([-1, -1], 1, 1))  # type: ignore[arg-type]
    (change,) = [c for c in run(a, b).changes if c.kind == "input-kind-changed"]
    assert isinstance(change.new, Decoded) and isinstance(change.new.value, RaggedTensorSpec)
    doc = diff_document(run(a, b))
    (entry,) = [c for c in doc["changes"] if c["kind"] == "input-kind-changed"]
    assert (entry["old"], entry["new"]) == (
        "float32 <unknown>",
        "RaggedTensorSpec(TensorShape([None, None]), tf.float32, 1, tf.int64)",
    )
    c, d = copy_model(a, tmp_path / "c"), copy_model(a, tmp_path / "d")
    edit_model(c, _ragged([-1, -1, -1], 1, 1))  # type: ignore[arg-type]
    edit_model(d, _ragged([-1, -1, -1], 1, 2))  # type: ignore[arg-type]
    ragged_rank = run(c, d)
    assert message_text(ragged_rank.changes[0]) == "input 'x': value at .ragged_rank 1 became 2"


def test_tensor_name_change_is_info(tmp_path: Path) -> None:
    def rename(m: pb.SavedModel) -> None:
        serve_signature()(m).inputs["x"].name = "renamed_x:0"

    d, _ = both_ways(tmp_path, "module_multi_signature", rename)
    assert only(d) == ("tensor-name-changed", N, f"{SIG}/input[x]")
    assert (d.changes[0].old, d.changes[0].new) == ("serving_default_x:0", "renamed_x:0")
    assert not d.failed("breaking") and d.failed("any")


@pytest.mark.parametrize(
    ("fixture", "key", "method", "expected"),
    [
        ("polymorphic", "serving_default", "tensorflow/serving/classify", C),
        ("polymorphic", "serving_default", "custom/method", B),
        ("tf1_multi_tag", "classify_x", "tensorflow/serving/predict", B),
        ("tf1_multi_tag", "regress_x", "tensorflow/serving/classify", B),
    ],
)
def test_method_names(
    tmp_path: Path, fixture: str, key: str, method: str, expected: Severity
) -> None:
    def rename(m: pb.SavedModel) -> None:
        for mg in m.meta_graphs:
            if key in mg.signature_def:
                mg.signature_def[key].method_name = method

    old, new = edited_pair(tmp_path, fixture, rename)
    d = run(old, new, tag_set="serve")
    kind = "method-name-changed" if expected is B else "predict-method-name-changed"
    assert only(d) == (kind, expected, f"meta_graph[serve]/signature[{key}]")


def test_init_op_rewiring_is_info(tmp_path: Path) -> None:
    def rewire(m: pb.SavedModel) -> None:
        init = m.meta_graphs[0].signature_def["__saved_model_init_op"]
        init.outputs["__saved_model_init_op"].name = "OtherNoOp"

    d, _ = both_ways(tmp_path, "module_multi_signature", rewire)
    assert only(d) == (
        "internal-signature-changed",
        N,
        "meta_graph[serve]/signature[__saved_model_init_op]",
    )


def _drop_meta_graph(tags: set[str]) -> object:
    def edit(m: pb.SavedModel) -> None:
        keep = [mg for mg in m.meta_graphs if set(mg.meta_info_def.tags) != tags]
        del m.meta_graphs[:]
        m.meta_graphs.extend(keep)

    return edit


def test_tag_sets(tmp_path: Path) -> None:
    removed, added = both_ways(tmp_path / "a", "tf1_multi_tag", _drop_meta_graph({"serve", "gpu"}))
    assert only(removed) == ("serving-tag-set-removed", B, "meta_graph[gpu,serve]")
    assert only(added) == ("tag-set-added", C, "meta_graph[gpu,serve]")
    removed, _ = both_ways(tmp_path / "b", "tf1_multi_tag", _drop_meta_graph({"train"}))
    assert only(removed) == ("tag-set-removed", N, "meta_graph[train]")


def test_tag_set_option_compares_one_meta_graph(tmp_path: Path) -> None:
    def change_serve(m: pb.SavedModel) -> None:
        for mg in m.meta_graphs:
            if list(mg.meta_info_def.tags) == ["serve"]:
                del mg.signature_def["predict_y"]

    old, new = edited_pair(tmp_path, "tf1_multi_tag", change_serve)
    assert kinds(run(old, new)) == ["signature-removed"]
    assert kinds(run(old, new, tag_set="serve")) == ["signature-removed"]
    assert kinds(run(old, new, tag_set="gpu,serve")) == []
    with pytest.raises(TagSetNotFoundError) as e:
        run(old, new, tag_set="nope")
    assert e.value.choices == ("gpu,serve", "serve", "train")


def _policy(tmp_path: Path, text: str) -> Policy:
    from smlite.model.policy import load_policy

    path = tmp_path / "policy.toml"
    path.write_text(text)
    return load_policy(path)


def test_policy_ignores_signatures_and_overrides_severity(tmp_path: Path) -> None:
    old, new = edited_pair(tmp_path, "module_multi_signature", _add_input)
    ignoring = _policy(tmp_path, '[diff]\nignore-signatures = ["serving_*"]\n')
    d = run(old, new, policy=ignoring)
    assert d.changes == ()
    assert any("ignored by the policy" in n for n in d.notes)
    relaxed = _policy(tmp_path, '[diff]\nseverity = { input-added = "info" }\nfail-on = "any"\n')
    d = run(old, new, policy=relaxed)
    assert only(d) == ("input-added", N, f"{SIG}/input[z]")
    assert d.fail_on == "any" and d.failed()
    assert not d.failed("breaking")


@pytest.mark.parametrize(
    "text",
    [
        '[diff]\nseverity = { no-such-kind = "info" }\n',
        '[diff]\nseverity = { input-added = "fatal" }\n',
        '[diff]\nignore-signatures = "x"\n',
        '[diff]\nfail-on = "sometimes"\n',
        "[diff]\nunknown = 1\n",
        "diff = 3\n",
    ],
)
def test_bad_diff_policy_is_a_located_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(PolicyError) as e:
        policy = _policy(tmp_path, text)
        model = MODELS / "module_one_signature"
        run(model, model, policy=policy)
    assert "policy.toml" in str(e.value)
