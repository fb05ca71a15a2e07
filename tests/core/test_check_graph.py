"""Checks that follow the graph: who reads an asset, TensorFlow's own saver, kernels of served ops.

No false alarm on a genuine export, no miss of a real problem: each rule is
tried on the shape real exports have (TF Serving's TF 2.4 exports with an unread
asset, TFX Estimator exports with unreferenced traced saver functions, a TFX
export using BoostedTreesBucketize) and on the shape that must still fire.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smlite import pb
from smlite.model.checks import check_path
from smlite.model.op_registry import OpRegistry
from smlite.model.rules import Finding
from tests.support.model_builder import func_attr, function, node, write_model

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def rules(findings: tuple[Finding, ...]) -> list[str]:
    return [f.rule.id for f in findings]


def const(name: str, value: bytes) -> pb.NodeDef:
    tensor = pb.TensorProto(dtype=7, string_val=[value])
    return node(name, "Const", value=pb.AttrValue(tensor=tensor), dtype=pb.AttrValue(type=7))


def x() -> pb.NodeDef:
    return node("x", "Placeholder", dtype=pb.AttrValue(type=1))


# -- assets (issue 12.2) ---------------------------------------------------------------------


def test_unread_missing_asset_is_a_warning(tmp_path: Path) -> None:
    # TF Serving's TF 2.4 test exports: the asset is only in saved_model_assets, no assets/.
    model = write_model(
        tmp_path / "m", [x(), const("vocab", b"v.txt")], assets=[("v.txt", "vocab:0")]
    )
    report = check_path(model)
    (finding,) = report.findings
    assert finding.rule.id == "SML303" and finding.rule.severity.label == "warning"
    assert finding.where.file == model / "assets" / "v.txt"
    assert not report.failed() and report.failed(strict=True)


@pytest.mark.parametrize(
    "reader",
    [
        [node("init", "InitializeTableFromTextFileV2", "table", "vocab")],
        # through Identity, as TF1 graphs often feed it
        [
            node("id", "Identity", "vocab"),
            node("init", "InitializeTableFromTextFileV2", "table", "id"),
        ],
        # through the second output of an IdentityN
        [
            node("idn", "IdentityN", "x", "vocab"),
            node("init", "InitializeTableFromTextFileV2", "table", "idn:1"),
        ],
        # passed to a function
        [node("call", "StatefulPartitionedCall", "vocab", f=func_attr("__inference_f_1"))],
    ],
    ids=["table-init", "identity", "identity-n", "function-call"],
)
def test_read_missing_asset_stays_an_error(reader: list[pb.NodeDef], tmp_path: Path) -> None:
    nodes = [x(), const("vocab", b"v.txt"), node("table", "HashTableV2"), *reader]
    functions = [function("__inference_f_1", [node("n", "Identity", "a")], ["a"])]
    model = write_model(
        tmp_path / "m",
        nodes,
        assets=[("v.txt", "vocab:0")],
        functions=functions,
        main_op=reader[-1].name,
    )
    report = check_path(model)
    assert "SML301" in rules(report.findings) and "SML303" not in rules(report.findings)
    assert report.failed()


def test_a_control_input_reads_nothing(tmp_path: Path) -> None:
    nodes = [x(), const("vocab", b"v.txt"), node("noop", "NoOp", "^vocab")]
    model = write_model(tmp_path / "m", nodes, assets=[("v.txt", "vocab:0")])
    assert rules(check_path(model).findings) == ["SML303"]


def test_present_asset_is_fine_either_way(tmp_path: Path) -> None:
    model = write_model(
        tmp_path / "m", [x(), const("vocab", b"v.txt")], assets=[("v.txt", "vocab:0")]
    )
    (model / "assets").mkdir()
    (model / "assets" / "v.txt").write_text("a\nb\n")
    assert check_path(model).findings == ()


def test_tf2_asset_is_read_by_its_variable_initializer(tmp_path: Path) -> None:
    model = tmp_path / "lookup_table"
    shutil.copytree(MODELS / "lookup_table", model)
    (model / "assets" / "vocab.txt").unlink()
    assert "SML301" in rules(check_path(model).findings)


# -- TensorFlow's own saver functions (issue 12.4) -------------------------------------------


def _module_without_saver(tmp_path: Path) -> Path:
    """A TF2 export whose traced saver functions nothing references (as in TFX's Estimator ones)."""
    model = tmp_path / "m"
    shutil.copytree(MODELS / "module_one_signature", model)
    (model / "fingerprint.pb").unlink()
    path = model / "saved_model.pb"
    message = pb.SavedModel.FromString(path.read_bytes())
    message.meta_graphs[0].ClearField("saver_def")
    path.write_bytes(message.SerializeToString())
    return model


def test_unreferenced_traced_saver_functions_are_tensorflows_own(tmp_path: Path) -> None:
    model = _module_without_saver(tmp_path)
    report = check_path(model, ops_only=True)
    assert report.findings == ()


def test_a_save_op_in_any_other_function_still_fires(tmp_path: Path) -> None:
    model = _module_without_saver(tmp_path)
    path = model / "saved_model.pb"
    data = path.read_bytes().replace(b"__inference__traced_save_", b"__inference__my_own_save_")
    path.write_bytes(data)
    report = check_path(model, ops_only=True)
    found = [f for f in report.findings if f.rule.id == "SML606"]
    assert found and {f.where.function for f in found} == {"__inference__my_own_save_450"}


# -- kernels (issue 12.5) ------------------------------------------------------------------------


def test_op_without_kernel_names_op_and_nodes(tmp_path: Path) -> None:
    nodes = [
        x(),
        node("b1", "BoostedTreesBucketize", "x"),
        node("b2", "BoostedTreesBucketize", "b1"),
    ]
    model = write_model(tmp_path / "m", nodes, outputs={"y": "b2:0"})
    (finding,) = check_path(model).findings
    assert finding.rule.id == "SML613" and finding.level.label == "error"
    assert finding.message.startswith(
        "op BoostedTreesBucketize in the graph, node 'b1' (and 1 more node(s) in this scope): "
        "registered, but TensorFlow 2.21.0 has no kernel for it on any device"
    )
    assert finding.where.detail == "op[BoostedTreesBucketize]"


def test_kernels_are_checked_in_called_functions(tmp_path: Path) -> None:
    fn = function("__inference_f_3", [node("b", "BoostedTreesBucketize", "a")], ["a"])
    call = node("c", "StatefulPartitionedCall", "x", f=func_attr("__inference_f_3"))
    model = write_model(tmp_path / "m", [x(), call], outputs={"y": "c:0"}, functions=[fn])
    (finding,) = check_path(model).findings
    assert finding.rule.id == "SML613" and finding.where.function == "__inference_f_3"


def test_functions_nothing_calls_need_no_kernel(tmp_path: Path) -> None:
    # A library leftover, or the GPU variant of a Keras LSTM (CudnnRNN) that Grappler may
    # swap in on a GPU: TensorFlow places a function only when a node calling it runs.
    unused = function("__inference_gpu_lstm_1", [node("r", "CudnnRNNV3", "a")], ["a"])
    nodes = [x(), node("y", "Identity", "x")]
    model = write_model(tmp_path / "m", nodes, outputs={"y": "y:0"}, functions=[unused])
    assert check_path(model).findings == ()


def test_every_top_level_node_needs_a_kernel(tmp_path: Path) -> None:
    # A session places the whole graph on its first run: TF 2.21 fails on a kernel-less
    # node even when nothing fetches it (tests/tf/test_check_live.py shows it live).
    nodes = [x(), node("train", "BoostedTreesBucketize", "x"), node("y", "Identity", "x")]
    model = write_model(tmp_path / "m", nodes, outputs={"y": "y:0"})
    assert rules(check_path(model).findings) == ["SML613"]


def test_ops_tensorflow_rewrites_need_no_kernel(tmp_path: Path) -> None:
    # AccumulateNV2 has no kernel: AccumulateNV2RemovePass replaces it before running.
    nodes = [x(), node("acc", "AccumulateNV2", "x", "x")]
    model = write_model(tmp_path / "m", nodes, outputs={"y": "acc:0"})
    assert check_path(model).findings == ()


def test_op_without_cpu_kernel(tmp_path: Path) -> None:
    nodes = [x(), node("g", "GenerateBoundingBoxProposals", "x")]
    model = write_model(tmp_path / "m", nodes, outputs={"y": "g:0"})
    (finding,) = check_path(model).findings
    assert finding.rule.id == "SML614" and finding.level.label == "error"
    assert "has kernels for it only on GPU" in finding.message


def test_default_and_xla_kernels_count_for_the_cpu(tmp_path: Path) -> None:
    registry = OpRegistry.default()
    no_op = registry.kernel_devices("NoOp") or frozenset()
    assert "DEFAULT" in no_op and "CPU" not in no_op
    assert registry.kernel_devices("SegmentSumV2") == frozenset({"XLA_CPU_JIT", "XLA_GPU_JIT"})
    nodes = [x(), node("n", "NoOp", "^x"), node("s", "SegmentSumV2", "x", "x", "x", "^n")]
    model = write_model(tmp_path / "m", nodes, outputs={"y": "s:0"})
    assert check_path(model).findings == ()


def test_ops_from_with_and_without_kernels(tmp_path: Path) -> None:
    nodes = [x(), node("b", "BoostedTreesBucketize", "x")]
    model = write_model(tmp_path / "m", nodes, outputs={"y": "b:0"})
    names_only = tmp_path / "ops.txt"
    names_only.write_text("# my runtime\nPlaceholder\nBoostedTreesBucketize\n")
    report = check_path(model, registry=OpRegistry.from_file(names_only))
    assert report.findings == ()
    assert report.skipped == (f"op kernels not checked: {names_only} lists op names only",)
    with_kernels = tmp_path / "kernels.txt"
    with_kernels.write_text("[CPU]\nPlaceholder\n[]\nBoostedTreesBucketize\n")
    (finding,) = check_path(model, registry=OpRegistry.from_file(with_kernels)).findings
    assert finding.rule.id == "SML613" and f"but {with_kernels} has no kernel" in finding.message
    with_kernels.write_text("[CPU]\nPlaceholder\n[CPU GPU]\nBoostedTreesBucketize\n")
    assert check_path(model, registry=OpRegistry.from_file(with_kernels)).findings == ()


def test_kernel_snapshot_covers_the_op_snapshot() -> None:
    registry = OpRegistry.default()
    assert registry.kernels is not None
    assert set(registry.kernels) == registry.names
    assert registry.kernel_devices("BoostedTreesBucketize") == frozenset()
    assert "CPU" in (registry.kernel_devices("MatMul") or ())


@pytest.mark.parametrize("name", sorted(p.name for p in MODELS.iterdir() if p.is_dir()))
def test_no_fixture_op_lacks_a_kernel(name: str) -> None:
    report = check_path(MODELS / name, ops_only=True)
    assert not [f for f in report.findings if f.rule.id in ("SML613", "SML614")]
