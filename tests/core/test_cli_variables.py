"""``smlite variables`` through the CLI runner."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from smlite.cli import run
from tests.support.bundle_writer import BundleWriter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KERAS = FIXTURES / "models" / "tf_keras_model"
SHARDED = FIXTURES / "models" / "variables_sharded"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(["variables", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_with_totals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(KERAS))
    assert code == 0 and err == ""
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert lines[0].split() == ["variable", "dtype", "shape", "size", "trainable"]
    assert lines[2].split() == ["keras_api.metrics.0.count", "float32", "[]", "4", "B", "no"]
    assert "layer_with_weights-0.embeddings float32 [5, 2] 40 B yes" in " ".join(out.split())
    assert lines[-1] == "5 variables, 68 B (3 trainable, 60 B)"


def test_keys_filter_and_trainable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, str(KERAS), "--keys", "--trainable", "-k", "*kernel*", "-k", "*bias*"
    )
    assert code == 0
    assert "layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in out
    assert "layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE" in out
    assert "embeddings" not in out
    assert out.strip().splitlines()[-1] == "2 of 5 variables, 20 B (2 trainable, 20 B)"
    code, out, _ = _run(capsys, str(KERAS), "--non-trainable")
    assert "2 of 5 variables, 8 B (0 trainable, 0 B)" in out


def test_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(SHARDED), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["smlite_json"] == 1 and doc["kind"] == "variables" and doc["source"] == "saved_model"
    assert doc["num_shards"] == 5 and doc["totals"]["variables"] == 10
    big = doc["variables"][0]
    assert big["key"] == "big/.ATTRIBUTES/VARIABLE_VALUE"
    assert big["object_path"] == "big" and big["partitions"] == 10 and big["shard"] is None
    assert big["dtype"] == {"name": "float32", "enum": "DT_FLOAT", "value": 1}
    assert big["shape"] == [32, 16] and big["nbytes"] == 2048


def test_checkpoint_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, str(FIXTURES / "checkpoints" / "ckpt-1.index"), "-k", "optimizer.m*"
    )
    assert code == 0
    assert "optimizer.m[model.bias]" in out and "optimizer.m[model.kernel]" in out
    assert "2 of 13 variables, 24 B" in out


def test_verify_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(SHARDED), "--verify")
    assert code == 0
    assert "verify: all 10 checked variables match their checksums" in out


def _damaged_copy(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    shutil.copytree(KERAS, model)
    shard = model / "variables" / "variables.data-00000-of-00001"
    data = bytearray(shard.read_bytes())
    data[5] ^= 0xFF
    shard.write_bytes(bytes(data))
    return model


def test_verify_finds_damage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _damaged_copy(tmp_path)
    code, out, _ = _run(capsys, str(model), "--verify")
    assert code == 1
    assert "verify: 1 damaged of 5 checked:" in out
    assert "checksum mismatch" in " ".join(out.split())
    code, out, _ = _run(capsys, str(model), "--verify", "--format", "json")
    assert code == 1
    verify = json.loads(out)["verify"]
    assert not verify["ok"] and len(verify["problems"]) == 1
    assert "data-00000-of-00001 at offset" in verify["problems"][0]["message"]


def test_unreadable_index_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "model"
    shutil.copytree(KERAS, model)
    index = model / "variables" / "variables.index"
    index.write_bytes(index.read_bytes()[:-3])
    code, out, err = _run(capsys, str(model))
    assert code == 2 and out == ""
    assert err.startswith(f"smlite: error: {index} at offset")
    assert "bad SSTable magic number" in err


def test_missing_path_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, str(tmp_path / "nothing"))
    assert code == 2 and "smlite: error:" in err


def test_dump_prints_value(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(KERAS), "--dump", "layer_with_weights-1.kernel")
    assert code == 0
    assert out.startswith(
        "layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE: float32 [4, 1]\n"
    )


def test_dump_to_npy_and_overwrite_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "k.npy"
    key = "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"
    code, _, err = _run(capsys, str(KERAS), "--dump", key, "-o", str(out_file))
    assert code == 0 and f"wrote {out_file}" in err
    value = np.load(out_file)
    assert value.shape == (5, 2) and value.dtype == np.float32
    code, _, err = _run(capsys, str(KERAS), "--dump", key, "-o", str(out_file))
    assert code == 2 and "already exists; add --overwrite" in err
    code, _, _ = _run(capsys, str(KERAS), "--dump", key, "-o", str(out_file), "--overwrite")
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.npy"]  # no temporary left over


def test_dump_unknown_variable(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, str(KERAS), "--dump", "nope")
    assert code == 2 and "variable 'nope' not found; valid choices:" in err


def test_never_writes_over_the_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model"
    shutil.copytree(KERAS, model)
    shard = model / "variables" / "variables.data-00000-of-00001"
    before = shard.read_bytes()
    code, _, err = _run(
        capsys, str(model), "--dump", "layer_with_weights-1.bias", "-o", str(shard), "--overwrite"
    )
    assert code == 2 and "refusing to write inside the SavedModel directory" in err
    assert shard.read_bytes() == before


def test_never_writes_over_a_plain_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = tmp_path / "ckpt"
    shutil.copytree(FIXTURES / "checkpoints", ckpt)
    index = ckpt / "ckpt-1.index"
    before = index.read_bytes()
    code, _, err = _run(capsys, str(index), "--export", str(index), "--overwrite")
    assert code == 2 and "writes .npz or .safetensors" in err
    shard = ckpt / "ckpt-1.data-00000-of-00001"
    code, _, err = _run(
        capsys,
        str(index),
        "--dump",
        "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
        "-o",
        str(shard),
        "--overwrite",
    )
    assert code == 2 and "refusing to write over a file of the checkpoint itself" in err
    assert index.read_bytes() == before
    # Beside a plain checkpoint (not a SavedModel directory) new files are fine.
    code, _, err = _run(capsys, str(index), "--export", str(ckpt / "all.npz"))
    assert code == 0, err


def test_export_npz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "all.npz"
    model = FIXTURES / "models" / "dtype_zoo"
    code, _, err = _run(capsys, str(model), "--export", str(out_file))
    assert code == 0
    assert "bfloat16 stored as uint16 bit patterns" in err
    assert "allow_pickle=True" in err
    with np.load(out_file, allow_pickle=True) as npz:
        assert len(npz.files) == 29
        assert npz["by_dtype/float32/.ATTRIBUTES/VARIABLE_VALUE"].dtype == np.float32
        assert npz["by_dtype/bfloat16/.ATTRIBUTES/VARIABLE_VALUE"].dtype == np.uint16
        words = npz["by_dtype/string/.ATTRIBUTES/VARIABLE_VALUE"]
        assert words.reshape(-1)[2] == b"a\x00b"


def test_export_needs_a_known_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, str(KERAS), "--export", str(tmp_path / "x.bin"))
    assert code == 2 and "writes .npz or .safetensors files" in err


def test_export_safetensors_without_the_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    code, _, err = _run(capsys, str(KERAS), "--export", str(tmp_path / "m.safetensors"))
    assert code == 2
    assert "needs the safetensors package (pip install safetensors)" in err
    assert not (tmp_path / "m.safetensors").exists()


def test_export_safetensors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = pytest.importorskip("safetensors.numpy")
    out_file = tmp_path / "m.safetensors"
    code, _, _ = _run(capsys, str(KERAS), "--export", str(out_file))
    assert code == 0
    loaded = st.load_file(str(out_file))
    assert loaded["layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE"].shape == (4, 1)


def test_model_without_variables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m"
    shutil.copytree(FIXTURES / "models" / "module_one_signature", model)
    shutil.rmtree(model / "variables")
    code, out, _ = _run(capsys, str(model))
    assert code == 0 and out.startswith("no variables: ")


def test_names_from_the_file_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = BundleWriter(tmp_path / "ckpt")
    w.add("evil\x1b[2J/name", np.ones(1, np.float32))
    prefix = w.finish()
    code, out, _ = _run(capsys, str(prefix))
    assert code == 0 and "\x1b" not in out and "evil\\x1b[2J/name" in out


def test_conflicting_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, str(KERAS), "--trainable", "--non-trainable")
    assert code == 2 and "at most one of --trainable and --non-trainable" in err
    code, _, err = _run(capsys, str(KERAS), "--format", "yaml")
    assert code == 2 and "Invalid value for '--format'" in err
    code, _, err = _run(capsys, str(KERAS), "-o", "x.npy")
    assert code == 2 and "-o/--output goes with --dump" in err


# -- what a path that is not a V2 checkpoint is ------------------------------------------------


def _v1_table(path: Path) -> Path:
    """An SSTable as a TF1 V1 (TensorSlice) checkpoint file: no ``.index`` beside it."""
    from tests.support.bundle_writer import build_table

    path.write_bytes(build_table([(b"", b"\x0a\x00"), (b"w", b"\x12\x00")]))
    return path


@pytest.mark.parametrize("layout", ["sharded", "single", "state file"])
def test_v1_checkpoint_is_named_as_such(
    layout: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smlite.errors import Reason, UnsupportedError
    from smlite.model.variables import open_checkpoint

    export = tmp_path / "export"
    if layout == "sharded":  # TF Serving's old half_plus_two: export-00000-of-00001 + export.meta
        _v1_table(tmp_path / "export-00000-of-00001")
        (tmp_path / "export.meta").write_bytes(b"")
        target = export
    elif layout == "single":
        target = _v1_table(tmp_path / "model.ckpt")
    else:
        _v1_table(tmp_path / "model.ckpt-7")
        (tmp_path / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-7"\n')
        target = tmp_path
    with pytest.raises(UnsupportedError) as info:
        open_checkpoint(target)
    assert info.value.reason is Reason.V1_CHECKPOINT
    code, out, err = _run(capsys, str(target))
    assert code == 2 and out == ""
    assert "a TensorFlow V1 checkpoint (the TensorSlice format" in err
    assert "not found" not in err


def test_a_missing_prefix_is_still_not_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, str(tmp_path / "export"))
    assert code == 2
    assert "checkpoint" in err and "not found" in err


def test_base_path_without_model_names_the_real_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base"
    shutil.copytree(FIXTURES / "models" / "serving_base", base)
    (base / "3" / "variables").mkdir(parents=True)
    expected = f"version 3 of TF Serving base path {base} holds no saved_model.pb"
    code, _, err = _run(capsys, str(base))
    assert code == 2 and expected in err
    # The same words as every command that resolves the base path.
    assert run(["summary", str(base)]) == 2
    assert expected in capsys.readouterr().err
