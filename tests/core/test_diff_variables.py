"""smlite diff: variables (from the index, and --values), assets and the verdict."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from smlite import pb
from smlite.formats.bundle import Bundle
from smlite.model.diff import Diff, Severity, diff
from smlite.model.diff.values import CHUNK_ELEMENTS, value_stats
from smlite.model.policy import Policy
from tests.support.bundle_writer import BundleWriter
from tests.support.diff_edit import MODELS, copy_model, edit_model, kinds, only

B, C, N = Severity.BREAKING, Severity.COMPATIBLE, Severity.INFO


def run(old: Path, new: Path, **kw: object) -> Diff:
    return diff(old, new, policy=Policy(), **kw)  # type: ignore[arg-type]


def _checkpoint(prefix: Path, tensors: dict[str, np.ndarray]) -> Path:
    w = BundleWriter(prefix)
    for key, value in tensors.items():
        w.add(key, value)
    return w.finish()


W = np.arange(6, dtype=np.float32).reshape(2, 3)
OLD = {
    "w": W,
    "b": np.ones(3, np.float32),
    "s": np.array([b"a", b"bc"], dtype=object),
    "i": np.array(7, np.int64),
    "k": np.zeros((2, 2), np.float32),
}


@pytest.fixture
def no_data_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("variable data was read")

    monkeypatch.setattr(Bundle, "read_bytes", refuse)
    monkeypatch.setattr(Bundle, "read_strings", refuse)


def test_checkpoint_diff_from_the_index_alone(tmp_path: Path, no_data_reads: None) -> None:
    old = _checkpoint(tmp_path / "old" / "ckpt-1", OLD)
    changed_w = W.copy()
    changed_w[0, 1] += 0.5
    new = _checkpoint(
        tmp_path / "new" / "ckpt-2",
        {
            "w": changed_w,
            "s": OLD["s"],
            "i": np.array(7, np.int32),
            "k": np.zeros((4,), np.float32),
            "c": np.zeros(2, np.float32),
        },
    )
    d = run(old, new)
    assert d.variables_only and d.old.kind == "checkpoint" and d.new.kind == "checkpoint"
    assert [(c.kind, c.severity, c.path) for c in d.changes] == [
        ("variable-removed", B, "variables[b]"),
        ("variable-added", B, "variables[c]"),
        ("variable-dtype-changed", B, "variables[i]"),
        ("variable-shape-changed", B, "variables[k]"),
        ("variable-values-changed", N, "variables[w]"),
    ]
    assert d.verdict.code == "new-variables"
    assert d.changes[-1].values is None


def test_variables_are_matched_by_checkpoint_key_only(tmp_path: Path) -> None:
    """A key on one side that is another variable's object path on the other is no match."""
    from smlite.model.variables import OBJECT_GRAPH_KEY
    from tests.core.test_variables import _trackable_graph

    old = _checkpoint(tmp_path / "old" / "ckpt", {"model.kernel": np.ones(2, np.float32)})
    w = BundleWriter(tmp_path / "new" / "ckpt")
    graph = _trackable_graph()
    w.add(OBJECT_GRAPH_KEY, np.array(graph.SerializeToString(), dtype=object))
    for node in graph.nodes:
        for attr in node.attributes:
            w.add(attr.checkpoint_key, np.ones(2, np.float32))
    d = run(old, w.finish())
    assert ("variable-removed", "variables[model.kernel]") in [(c.kind, c.path) for c in d.changes]
    assert kinds(d).count("variable-added") == 5 and len(d.changes) == 6


def test_values_measured_with_values(tmp_path: Path) -> None:
    old = _checkpoint(tmp_path / "old" / "ckpt", {"w": W, "same": W})
    new_w = W.copy()
    new_w[0, 1] += 0.5
    new_w[1, 2] -= 2.0
    new = _checkpoint(tmp_path / "new" / "ckpt", {"w": new_w, "same": W})
    d = run(old, new, values=True)
    (change,) = d.changes
    assert change.kind == "variable-values-changed" and d.values_compared
    stats = change.values
    assert stats is not None
    assert (stats.elements, stats.changed) == (6, 2)
    assert stats.max_abs_diff == 2.0
    assert stats.relative_l2 == pytest.approx(math.sqrt(0.25 + 4.0) / np.linalg.norm(W), 1e-6)
    assert d.verdict.code == "new-weights" and d.verdict.text == "same variables, new weights"


def test_equal_checksums_are_not_read_even_with_values(tmp_path: Path, no_data_reads: None) -> None:
    old = _checkpoint(tmp_path / "old" / "ckpt", OLD)
    new = _checkpoint(tmp_path / "new" / "ckpt", OLD)
    d = run(old, new, values=True)
    assert d.changes == () and d.verdict.code == "same-weights"


def test_partitioned_variables_compared_by_their_slices(no_data_reads: None) -> None:
    model = MODELS / "tf1_partitioned"
    assert run(model, model).changes == ()


def test_saved_model_variable_changes_are_info(tmp_path: Path) -> None:
    old = copy_model("module_one_signature", tmp_path / "old")
    new = copy_model("module_one_signature", tmp_path / "new")
    with Bundle.open(old / "variables" / "variables") as b:
        (key,) = [k for k in b.listed_keys() if not k.startswith("_CHECKPOINTABLE")]
    shutil.rmtree(new / "variables")
    _checkpoint(
        new / "variables" / "variables", {key: np.float32(9.0), "extra": np.zeros(1, np.float32)}
    )
    d = run(old, new)
    assert {c.severity for c in d.changes} == {N}
    assert kinds(d) == ["variable-added", "variable-values-changed"]
    assert d.verdict.code == "new-weights"


def test_serving_versions_differ_in_weights_only() -> None:
    d = diff(MODELS / "serving_base", policy=Policy())
    assert (d.old.version, d.new.version) == (1, 2)
    assert kinds(d) == ["variable-values-changed"]
    assert d.verdict.text == "same program, new weights"


# -- value statistics ----------------------------------------------------------------------


def test_value_stats_exact_bits_and_nan() -> None:
    a = np.array([0.0, np.nan, 1.0, 2.0], np.float32)
    b = np.array([-0.0, np.nan, 1.0, 5.0], np.float32)
    s = value_stats(a, b)
    assert (s.elements, s.changed) == (4, 2)  # -0.0 is another value; the same NaN is not
    assert s.max_abs_diff == 3.0
    assert s.relative_l2 is not None and math.isnan(s.relative_l2)


def test_value_stats_of_zeros_and_other_dtypes() -> None:
    zeros = np.zeros(3, np.float32)
    assert value_stats(zeros, zeros + 1).relative_l2 == math.inf
    assert value_stats(zeros, zeros).relative_l2 == 0.0
    ints = value_stats(np.array([127, 0], np.int8), np.array([-128, 0], np.int8))
    assert (ints.changed, ints.max_abs_diff) == (1, 255.0)
    bools = value_stats(np.array([True, False]), np.array([False, False]))
    assert (bools.changed, bools.max_abs_diff) == (1, 1.0)
    strings = value_stats(np.array([b"a", b"b"], object), np.array([b"a", b"c"], object))
    assert (strings.changed, strings.max_abs_diff, strings.relative_l2) == (1, None, None)
    bf = np.array([1.0, 2.0], ml_dtypes.bfloat16)
    assert value_stats(bf, bf * 2).max_abs_diff == 2.0
    c = np.array([1 + 1j, 2j], np.complex128)
    cs = value_stats(c, c + np.array([0, 3], np.complex128))
    assert (cs.changed, cs.max_abs_diff) == (1, pytest.approx(3.0))


def test_value_stats_across_chunks_match_numpy() -> None:
    rng = np.random.default_rng(1)
    n = 3 * CHUNK_ELEMENTS + 17
    a = rng.standard_normal(n).astype(np.float32)
    b = a.copy()
    b[::1000] += rng.standard_normal(b[::1000].size).astype(np.float32)
    s = value_stats(a.reshape(-1, 1), b.reshape(-1, 1))
    d = b.astype(np.float64) - a.astype(np.float64)
    assert s.changed == int(np.count_nonzero(d))
    assert s.max_abs_diff == pytest.approx(np.abs(d).max(), rel=1e-6)
    assert s.relative_l2 == pytest.approx(np.linalg.norm(d) / np.linalg.norm(a), rel=1e-4)


def _bytes_changed(a: np.ndarray, b: np.ndarray) -> int:
    """Elements whose stored bytes differ: the definition of ``changed``."""
    width = a.dtype.itemsize
    raw_a = np.frombuffer(a.tobytes(), np.uint8).reshape(-1, width)
    raw_b = np.frombuffer(b.tobytes(), np.uint8).reshape(-1, width)
    return int(np.count_nonzero((raw_a != raw_b).any(axis=1)))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # every element differs: counted without comparing bytes
        (np.arange(1, 9, dtype=np.float32), np.arange(1, 9, dtype=np.float32) * 1.5),
        # the same NaN, inf and -0.0 vs 0.0: the differences (NaN, NaN, 0) do not tell
        (
            np.array([np.nan, np.inf, 0.0, 1.0], np.float32),
            np.array([np.nan, np.inf, -0.0, 2.0], np.float32),
        ),
        # the same NaN and inf beside changed elements: no zero difference, but NaN
        (np.array([np.nan, 1.0], np.float32), np.array([np.nan, 2.0], np.float32)),
        (np.array([np.inf, 1.0], np.float64), np.array([np.inf, 2.0], np.float64)),
        # int64 values 1 apart above 2**53 are equal as float64: d == 0, bytes differ
        (np.array([2**60, 5], np.int64), np.array([2**60 + 1, 6], np.int64)),
        # float32 differences that overflow when squared
        (np.array([-3e38, 1.0], np.float32), np.array([3e38, 2.0], np.float32)),
        (np.array([1.0, 2.0], ml_dtypes.bfloat16), np.array([1.0, 3.0], ml_dtypes.bfloat16)),
        (np.array([1 + 1j, 2j, 0j], np.complex64), np.array([1 + 2j, 2j, -0j], np.complex64)),
    ],
)
def test_changed_counts_stored_bytes(old: np.ndarray, new: np.ndarray) -> None:
    assert value_stats(old, new).changed == _bytes_changed(old, new)
    assert value_stats(old, old).changed == 0


# -- assets ---------------------------------------------------------------------------------


def _with_asset(model: Path, name: str, content: bytes | None) -> Path:
    def add(m: pb.SavedModel) -> None:
        asset = m.meta_graphs[0].asset_file_def.add()
        asset.filename = name
        asset.tensor_info.name = "asset_path:0"

    edit_model(model, add)
    if content is not None:
        (model / "assets").mkdir(exist_ok=True)
        (model / "assets" / name).write_bytes(content)
    return model


@pytest.mark.parametrize(
    ("old_content", "new_content", "expected"),
    [
        (b"abc", b"abd", ["asset-changed"]),
        (b"abc", b"abcd", ["asset-changed"]),
        (b"abc", b"abc", []),
    ],
)
def test_assets_compared_by_content(
    tmp_path: Path, old_content: bytes, new_content: bytes, expected: list[str]
) -> None:
    old = _with_asset(copy_model("module_one_signature", tmp_path / "old"), "v.txt", old_content)
    new = _with_asset(copy_model("module_one_signature", tmp_path / "new"), "v.txt", new_content)
    d = run(old, new)
    assert kinds(d) == expected
    assert {c.severity for c in d.changes} <= {N}


def test_assets_added_removed_and_outside_the_model(tmp_path: Path) -> None:
    plain = copy_model("module_one_signature", tmp_path / "plain")
    with_vocab = _with_asset(copy_model("module_one_signature", tmp_path / "v"), "v.txt", b"x")
    assert only(run(plain, with_vocab)) == ("asset-added", N, "assets[v.txt]")
    assert only(run(with_vocab, plain)) == ("asset-removed", N, "assets[v.txt]")
    # A name leading outside assets/ is compared by name only: nothing outside is read.
    (tmp_path / "secret").write_bytes(b"1")
    a = _with_asset(copy_model("module_one_signature", tmp_path / "a"), "../../secret", None)
    (tmp_path / "secret").write_bytes(b"2")
    b = _with_asset(copy_model("module_one_signature", tmp_path / "b"), "../../secret", None)
    assert run(a, b).changes == ()


# -- verdict --------------------------------------------------------------------------------


def test_verdict_without_fingerprint_uses_the_file_bytes(tmp_path: Path) -> None:
    old = copy_model("module_one_signature", tmp_path / "old")
    new = copy_model("module_one_signature", tmp_path / "new")
    (old / "fingerprint.pb").unlink()
    d = run(old, new)
    assert d.verdict.code == "identical"
    assert "no fingerprint.pb on the old side" in d.verdict.basis
    model = MODELS / "tf1_multi_tag"
    assert run(model, model).verdict.code == "identical"


def test_verdict_same_program_exported_again(tmp_path: Path) -> None:
    old = copy_model("module_one_signature", tmp_path / "old")
    new = copy_model("module_one_signature", tmp_path / "new")
    # An unknown field changes the file (and its checksum) but not the program.
    data = (new / "saved_model.pb").read_bytes()
    (new / "saved_model.pb").write_bytes(data + b"\xf8\x07\x01")  # field 127, varint 1
    stored = pb.FingerprintDef.FromString((new / "fingerprint.pb").read_bytes())
    stored.saved_model_checksum += 1
    (new / "fingerprint.pb").write_bytes(stored.SerializeToString())
    d = run(old, new)
    assert d.changes == ()
    assert d.verdict.code == "same-program-re-exported"
