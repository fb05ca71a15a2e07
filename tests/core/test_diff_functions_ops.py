"""smlite diff: object-graph functions and ops, each rule from both sides of an edited proto."""

from __future__ import annotations

from pathlib import Path

import pytest

from smlite import pb
from smlite.model.diff import Decoded, Diff, Severity, diff
from smlite.model.dtypes import DType
from smlite.model.policy import Policy
from smlite.model.type_specs import TensorSpec
from smlite.render.diff import message_text, spell
from tests.support.diff_edit import edited_pair, kinds, only

B, C, N = Severity.BREAKING, Severity.COMPATIBLE, Severity.INFO
FN = "meta_graph[serve]/function"


def both_ways(tmp_path: Path, edit: object, policy: Policy | None = None) -> tuple[Diff, Diff]:
    old, new = edited_pair(tmp_path, "polymorphic", edit)  # type: ignore[arg-type]
    policy = policy or Policy()
    return diff(old, new, policy=policy), diff(new, old, policy=policy)


def _objects(m: pb.SavedModel) -> pb.SavedObjectGraph:
    return m.meta_graphs[0].object_graph_def


def _drop_child(node: int, name: str) -> object:
    def edit(m: pb.SavedModel) -> None:
        children = _objects(m).nodes[node].children
        keep = [c for c in children if c.local_name != name]
        del children[:]
        children.extend(keep)

    return edit


def test_root_function_removed_breaks_added_is_compatible(tmp_path: Path) -> None:
    removed, added = both_ways(tmp_path, _drop_child(0, "jit"))
    assert only(removed) == ("function-removed", B, f"{FN}[jit]")
    assert only(added) == ("function-added", C, f"{FN}[jit]")


def test_nested_function_change_is_info(tmp_path: Path) -> None:
    removed, added = both_ways(tmp_path, _drop_child(2, "count"))
    assert only(removed) == ("nested-function-changed", N, f"{FN}[child.count]")
    assert only(added) == ("nested-function-changed", N, f"{FN}[child.count]")


def test_trace_removed_breaks_added_is_compatible(tmp_path: Path) -> None:
    def drop_trace(m: pb.SavedModel) -> None:
        traces = _objects(m).nodes[4].function.concrete_functions
        traces.remove("__inference_f_3863")

    removed, added = both_ways(tmp_path, drop_trace)
    trace = f"{FN}[f]/trace[__inference_f_3863]"
    assert only(removed) == ("trace-removed", B, trace)
    # The record keeps the decoded input signature; render spells it as TensorFlow does.
    signature = removed.changes[0].old
    assert isinstance(signature, Decoded) and isinstance(signature.value, tuple)
    args = signature.value[0]
    assert isinstance(args, tuple) and isinstance(args[0], TensorSpec)
    assert (args[0].dtype, args[0].name) == (DType(1), "x")
    assert "TensorSpec(shape=(), dtype=tf.float32, name='x'), 0.5, True" in spell(signature)
    assert spell(signature) in message_text(removed.changes[0])
    assert only(added) == ("trace-added", C, trace)
    assert added.changes[0].new == signature


def _jit_arg(m: pb.SavedModel) -> pb.TensorSpecProto:
    signature = _objects(m).concrete_functions["__inference_jit_3914"].canonicalized_input_signature
    return signature.tuple_value.values[0].tuple_value.values[0].tensor_spec_value


def test_trace_inputs_widened_is_compatible_narrowed_breaks(tmp_path: Path) -> None:
    def widen(m: pb.SavedModel) -> None:
        _jit_arg(m).shape.dim[0].size = -1

    widened, narrowed = both_ways(tmp_path, widen)
    assert only(widened)[:2] == ("trace-inputs-widened", C)
    assert only(narrowed)[:2] == ("trace-inputs-changed", B)


def test_trace_input_dtype_breaks(tmp_path: Path) -> None:
    def retype(m: pb.SavedModel) -> None:
        _jit_arg(m).dtype = 3

    there, back = both_ways(tmp_path, retype)
    assert only(there)[:2] == ("trace-inputs-changed", B)
    assert "dtype float32 -> int32" in message_text(there.changes[0])
    assert only(back)[:2] == ("trace-inputs-changed", B)


def _structured_outputs(m: pb.SavedModel) -> pb.DictValue:
    cf = _objects(m).concrete_functions["__inference_structured_3829"]
    return cf.output_signature.dict_value


def test_trace_outputs_extended_is_compatible_reduced_breaks(tmp_path: Path) -> None:
    def add_output(m: pb.SavedModel) -> None:
        extra = _structured_outputs(m).fields["extra"].tensor_spec_value
        extra.dtype = 1
        extra.name = "extra"

    extended, reduced = both_ways(tmp_path, add_output)
    path = f"{FN}[structured]/trace[__inference_structured_3829]"
    assert only(extended) == ("trace-outputs-extended", C, path)
    assert only(reduced) == ("trace-outputs-changed", B, path)


def _add_node(op: str) -> object:
    def edit(m: pb.SavedModel) -> None:
        m.meta_graphs[0].graph_def.node.add(name="smlite_extra", op=op)

    return edit


def test_stock_op_added_is_info_and_scan_is_not_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_scan(*args: object, **kwargs: object) -> object:
        raise AssertionError("a stock op needs no scan")

    monkeypatch.setattr("smlite.model.scan.scan_meta_graph", no_scan)
    added, removed = both_ways(tmp_path, _add_node("Abs"))
    assert only(added) == ("op-added", N, "meta_graph[serve]/op[Abs]")
    assert only(removed) == ("op-removed", N, "meta_graph[serve]/op[Abs]")


@pytest.mark.parametrize(
    ("op", "rule"),
    [("SmliteDiffCustomOp", "SML609"), ("WriteFile", "SML602"), ("PyFunc", "SML603")],
)
def test_custom_or_denylisted_op_added_breaks(tmp_path: Path, op: str, rule: str) -> None:
    added, removed = both_ways(tmp_path, _add_node(op))
    assert only(added) == ("flagged-op-added", B, f"meta_graph[serve]/op[{op}]")
    assert rule in message_text(added.changes[0])
    assert only(removed) == ("op-removed", N, f"meta_graph[serve]/op[{op}]")


def test_policy_decides_which_new_ops_break(tmp_path: Path) -> None:
    denying = Policy(deny_ops=frozenset({"Abs"}))
    added, _ = both_ways(tmp_path / "a", _add_node("Abs"), denying)
    assert only(added)[:2] == ("flagged-op-added", B)
    assert "SML610" in message_text(added.changes[0])
    allowing = Policy(allowed_custom_ops=frozenset({"SmliteDiffCustomOp"}))
    added, _ = both_ways(tmp_path / "b", _add_node("SmliteDiffCustomOp"), allowing)
    assert only(added)[:2] == ("op-added", N)
    disabled = Policy(disabled=frozenset({"SML602"}))
    added, _ = both_ways(tmp_path / "c", _add_node("WriteFile"), disabled)
    assert kinds(added) == ["op-added"]


def test_an_op_the_old_model_used_already_is_not_new(tmp_path: Path) -> None:
    # SaveV2/RestoreV2 are flagged by scan outside the model's own saver, but they are
    # not newly used: only ops that appear are judged.
    added, _ = both_ways(tmp_path, _add_node("SaveV2"))
    assert added.changes == ()
