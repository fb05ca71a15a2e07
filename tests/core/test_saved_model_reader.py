"""Finding and reading a SavedModel: every bad input gives exit 2 and a precise message.

Covers ``smlite.formats.saved_model`` (locate, the lazy reader) and
``smlite.model.saved_model`` (the handle's lookups) through both the Python API
and the CLI error boundary.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

import smlite
from smlite import pb
from smlite.cli import run
from smlite.errors import (
    CorruptFileError,
    NotASavedModelError,
    SignatureNotFoundError,
    SmliteError,
    TagSetNotFoundError,
    UnsupportedError,
)
from smlite.formats.saved_model import VersionNotFoundError
from tests.support.samcli import FIXTURES

MODELS = FIXTURES / "models"
ONE_SIG = MODELS / "module_one_signature"
TF1 = MODELS / "tf1_multi_tag"
SERVING = MODELS / "serving_base"
needs_fixtures = pytest.mark.skipif(not ONE_SIG.is_dir(), reason="fixtures not generated")


def _show(
    path: Path | str, capsys: pytest.CaptureFixture[str], *flags: str
) -> tuple[int, str, str]:
    code = run(["show", str(path), *flags])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def _tiny_model(tags: tuple[str, ...] = ("serve",)) -> bytes:
    sm = pb.SavedModel(saved_model_schema_version=1)
    mg = sm.meta_graphs.add()
    mg.meta_info_def.tags.extend(tags)
    sig = mg.signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/predict"
    x = sig.inputs["x"]
    x.name = "x:0"
    x.dtype = 1
    mg.graph_def.node.add(name="x", op="Placeholder")
    return sm.SerializeToString()


def _model_dir(root: Path, data: bytes, name: str = "saved_model.pb") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(data)
    return root


# -- locating ------------------------------------------------------------------------------


def test_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(NotASavedModelError):
        smlite.open(missing)
    code, out, err = _show(missing, capsys)
    assert (code, out) == (2, "")
    assert err == f"smlite: error: {missing}: no such file or directory\n"


def test_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _show(tmp_path, capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"smlite: error: {tmp_path}: not a SavedModel directory: no saved_model.pb or "
        "saved_model.pbtxt, and no numbered version folders (the directory is empty)\n"
    )


def test_directory_with_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "model.h5").write_bytes(b"x")
    (tmp_path / "variables").mkdir()
    code, _, err = _show(tmp_path, capsys)
    assert code == 2
    assert err.endswith("numbered version folders (it contains: model.h5, variables)\n")


def test_only_chunked_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "saved_model.cpb").write_bytes(b"\x00" * 16)
    with pytest.raises(UnsupportedError):
        smlite.open(tmp_path)
    code, out, err = _show(tmp_path, capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"smlite: error: {tmp_path}: only saved_model.cpb (the chunked SavedModel format) is "
        "present; smlite does not read chunked SavedModels yet (neither do open-source "
        "TensorFlow loaders). Re-export without the proto splitter to get saved_model.pb.\n"
    )


def test_pb_file_path_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _model_dir(tmp_path / "m", _tiny_model())
    code, out, _ = _show(model / "saved_model.pb", capsys)
    assert code == 0
    assert out == "The given SavedModel contains the following tag-sets:\n'serve'\n"


def test_other_file_path_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "model.onnx"
    other.write_bytes(b"\x08\x01")
    code, _, err = _show(other, capsys)
    assert code == 2
    assert err == (
        f"smlite: error: {other}: is a file; give the SavedModel directory (the folder holding "
        "saved_model.pb or saved_model.pbtxt)\n"
    )


def test_pb_wins_over_pbtxt(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, _tiny_model(("from_pb",)))
    (model / "saved_model.pbtxt").write_text("this is not parsed\n")
    with smlite.open(model) as sm:
        assert sm.format == "pb"
        assert sm.meta_graphs[0].tags == ("from_pb",)


# -- damaged saved_model.pb ------------------------------------------------------------------


def test_git_lfs_pointer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pointer = (
        b"version https://git-lfs.github.com/spec/v1\n"
        b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        b"size 12345\n"
    )
    model = _model_dir(tmp_path, pointer)
    with pytest.raises(CorruptFileError):
        smlite.open(model)
    code, out, err = _show(model, capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"smlite: error: {model / 'saved_model.pb'}: this is a Git LFS pointer file, not the real "
        "file; install git-lfs and run `git lfs pull` in the repository to fetch the content\n"
    )


def test_empty_pb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _model_dir(tmp_path, b"")
    code, _, err = _show(model, capsys)
    assert code == 2
    assert err == (
        f"smlite: error: {model / 'saved_model.pb'}: the file is empty (0 bytes); the export did "
        "not finish or the copy was truncated\n"
    )


def test_text_format_in_pb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _model_dir(tmp_path, b"saved_model_schema_version: 1\nmeta_graphs {\n}\n")
    code, _, err = _show(model, capsys)
    assert code == 2
    assert err == (
        f"smlite: error: {model / 'saved_model.pb'}: this is a text-format SavedModel; text "
        "belongs in saved_model.pbtxt, rename the file\n"
    )


def test_other_text_in_pb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _model_dir(tmp_path, b"<html><body>404 Not Found</body></html>\n")
    code, _, err = _show(model, capsys)
    assert code == 2
    assert err == (
        f"smlite: error: {model / 'saved_model.pb'}: this is a text file, not a binary "
        "protocol buffer\n"
    )


@needs_fixtures
@pytest.mark.parametrize("fraction", [0.0001, 0.01, 0.1, 0.5, 0.9, 0.999])
def test_truncated_pb(tmp_path: Path, fraction: float, capsys: pytest.CaptureFixture[str]) -> None:
    data = (ONE_SIG / "saved_model.pb").read_bytes()
    # Cut inside the single meta graph (bytes 0-1 are the schema version field).
    cut = max(3, min(len(data) - 1, int(len(data) * fraction)))
    model = _model_dir(tmp_path, data[:cut])
    with pytest.raises(CorruptFileError) as info:
        smlite.open(model)
    assert info.value.offset is not None
    code, out, err = _show(model, capsys)
    assert (code, out) == (2, "")
    prefix = f"smlite: error: {model / 'saved_model.pb'} at offset "
    assert err.startswith(prefix)
    assert ": not a valid SavedModel protocol buffer (" in err
    assert err.endswith("); the file is truncated or damaged\n")


@needs_fixtures
def test_truncated_after_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = (ONE_SIG / "saved_model.pb").read_bytes()
    model = _model_dir(tmp_path, data[:1])
    code, _, err = _show(model, capsys)
    assert code == 2
    assert err.startswith(f"smlite: error: {model / 'saved_model.pb'} at offset 1: ")


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 6, 7])
def test_garbage_bytes(tmp_path: Path, seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(seed)
    # Non-text garbage: the high bit set in the first byte rules out the text sniffers.
    data = bytes([0x80 | rng.randrange(128)]) + rng.randbytes(4095)
    model = _model_dir(tmp_path, data)
    code, out, err = _show(model, capsys, "--all")
    assert (code, out) == (2, "")
    assert err.startswith(f"smlite: error: {model / 'saved_model.pb'}")
    assert err.count("\n") == 1


def test_bad_utf8_in_a_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _tiny_model(("serveXX",)).replace(b"serveXX", b"serve\xff\xfe")
    model = _model_dir(tmp_path, data)
    code, _, err = _show(model, capsys)
    assert code == 2
    assert err.startswith(
        f"smlite: error: {model / 'saved_model.pb'} at offset 4: meta graph #0 cannot be parsed: "
    )
    # protobuf's own wording differs between releases; smlite's hint does not.
    assert "not valid UTF-8" in err


def _meta_graph_with_raw_graph(graph_bytes: bytes) -> bytes:
    """A SavedModel whose meta graph's ``graph_def`` field holds ``graph_bytes`` as is."""
    header = pb.MetaGraphDef()
    header.meta_info_def.tags.append("serve")
    header.signature_def["s"].inputs["x"].name = "x:0"
    body = header.SerializeToString() + _len_field(2, graph_bytes)
    return b"\x08\x01" + _len_field(2, body)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def test_damaged_graph_only_fails_when_the_graph_is_needed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A node field (1) claiming more bytes than the graph holds.
    model = _model_dir(tmp_path, _meta_graph_with_raw_graph(b"\x0a\x7f\x01"))
    assert _show(model, capsys)[0] == 0
    assert _show(model, capsys, "--tag_set", "serve")[0] == 0
    assert _show(model, capsys, "--tag_set", "serve", "--signature_def", "s")[0] == 0
    code, out, err = _show(model, capsys, "--tag_set", "serve", "--list_ops")
    assert (code, out) == (2, "")
    assert err.startswith(f"smlite: error: {model / 'saved_model.pb'} at offset ")
    assert "the GraphDef of meta graph #0 is damaged: " in err


# -- text format -----------------------------------------------------------------------------


def test_pbtxt_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from google.protobuf import text_format

    sm = pb.SavedModel()
    sm.ParseFromString(_tiny_model(("serve", "gpu")))
    _model_dir(tmp_path, text_format.MessageToString(sm).encode(), "saved_model.pbtxt")
    code, out, _ = _show(tmp_path, capsys, "--tag_set", "gpu,serve", "--list_ops")
    assert code == 0
    assert out.startswith(
        "The MetaGraph with tag set ['serve', 'gpu'] contains the following ops: {'Placeholder'}\n"
    )


def test_damaged_pbtxt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _model_dir(
        tmp_path, b"meta_graphs { meta_info_def { tags: 'serve' }\n", "saved_model.pbtxt"
    )
    code, _, err = _show(model, capsys)
    assert code == 2
    assert err.startswith(
        f"smlite: error: {model / 'saved_model.pbtxt'}: cannot parse text-format SavedModel: "
    )


def test_binary_pbtxt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _model_dir(tmp_path, b"\x08\x01\x12\xff\xfe", "saved_model.pbtxt")
    code, _, err = _show(model, capsys)
    assert code == 2
    assert err == (
        f"smlite: error: {model / 'saved_model.pbtxt'} at offset 3: a text-format SavedModel "
        "must be UTF-8 text; this looks binary\n"
    )


# -- lookups -----------------------------------------------------------------------------------


def test_tag_set_and_signature_errors_carry_choices(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, _tiny_model(("serve", "gpu")))
    with smlite.open(model) as sm:
        assert sm.meta_graph("gpu, serve").tags == ("serve", "gpu")
        with pytest.raises(TagSetNotFoundError) as tag_err:
            sm.meta_graph("serve")
        assert tag_err.value.choices == ("gpu,serve",)
        assert str(tag_err.value) == "tag-set 'serve' not found; valid choices: 'gpu,serve'"
        with pytest.raises(SignatureNotFoundError) as sig_err:
            sm.meta_graph().signature("predict")
        assert sig_err.value.choices == ("serving_default",)
        assert str(sig_err.value) == (
            "signature 'predict' not found; valid choices: 'serving_default'"
        )


def test_no_meta_graph_tags_given_with_several(tmp_path: Path) -> None:
    sm = pb.SavedModel()
    sm.ParseFromString(_tiny_model(("serve",)) + _tiny_model(("train",))[2:])
    model = _model_dir(tmp_path, sm.SerializeToString())
    with smlite.open(model) as handle:
        assert [m.tags for m in handle.meta_graphs] == [("serve",), ("train",)]
        with pytest.raises(TagSetNotFoundError) as err:
            handle.meta_graph()
        assert str(err.value) == (
            "tag-set '(none given)' not found; valid choices: 'serve', 'train'. "
            "give one with --tag_set"
        )


def test_empty_tag_set_matches_a_tagless_meta_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # saved_model_cli drops empty tags: --tag_set '' names the empty tag-set.
    model = _model_dir(tmp_path, _tiny_model(()))
    code, out, _ = _show(model, capsys, "--tag_set", "")
    assert code == 0
    assert out.endswith('SignatureDef key: "serving_default"\n')


# -- TF Serving base paths ---------------------------------------------------------------------


def _serving_base(root: Path, versions: dict[str, tuple[str, ...]]) -> Path:
    for folder, tags in versions.items():
        _model_dir(root / folder, _tiny_model(tags))
    return root


def test_serving_base_highest_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _serving_base(tmp_path, {"1": ("v1",), "10": ("v10",), "9": ("v9",), "tmp-11": ("x",)})
    (base / "12").write_text("a file named like a version is not a version\n")
    code, out, err = _show(base, capsys)
    assert code == 0
    assert out == "The given SavedModel contains the following tag-sets:\n'v10'\n"
    assert err == f"smlite: serving version 10 of {base} (highest of 1, 9, 10)\n"
    with smlite.open(base) as sm:
        assert sm.serving is not None
        assert sm.serving.ignored == ("12", "tmp-11")
        assert sm.path == base / "10"


def test_serving_base_requested_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _serving_base(tmp_path, {"1": ("v1",), "2": ("v2",)})
    code, out, err = _show(base, capsys, "--version", "1")
    assert code == 0
    assert out.endswith("'v1'\n")
    assert (
        err == f"smlite: serving version 1 of {base} (requested with --version; versions: 1, 2)\n"
    )


def test_serving_base_missing_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _serving_base(tmp_path, {"1": ("v1",), "2": ("v2",)})
    with pytest.raises(VersionNotFoundError) as info:
        smlite.open(base, version=7)
    assert info.value.choices == ("1", "2")
    code, out, err = _show(base, capsys, "--version", "7")
    assert (code, out) == (2, "")
    assert err == "smlite: error: version '7' not found; valid choices: '1', '2'\n"


def test_serving_version_flag_is_numeric(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _serving_base(tmp_path, {"1": ("v1",)})
    code, out, err = _show(base, capsys, "--version", "latest")
    assert (code, out) == (2, "")
    assert "Invalid value for '--version'" in err


def test_serving_version_without_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _serving_base(tmp_path, {"1": ("v1",)})
    (base / "2").mkdir()
    (base / "2" / "variables").mkdir()
    code, _, err = _show(base, capsys)
    assert code == 2
    assert err == (
        f"smlite: error: {base / '2'}: version 2 of TF Serving base path {base} holds no "
        "saved_model.pb or saved_model.pbtxt (it contains: variables)\n"
    )


def test_serving_zero_padded_duplicates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _serving_base(tmp_path, {"002": ("padded",), "2": ("plain",)})
    code, out, err = _show(base, capsys)
    assert code == 0
    assert out.endswith("'padded'\n")
    assert err == f"smlite: serving version 2 of {base} (highest of 2) from folder 002\n"


@needs_fixtures
def test_fixture_serving_base_ignores_tmp_export(capsys: pytest.CaptureFixture[str]) -> None:
    with smlite.open(SERVING) as sm:
        assert sm.serving is not None
        assert sm.serving.chosen == 2
        assert sm.serving.ignored == ("tmp-export-3",)
        assert [v for v, _ in sm.serving.versions] == [1, 2]


def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    model = _model_dir(tmp_path, _tiny_model())
    (model / "saved_model.pb").chmod(0)
    try:
        code, _, err = _show(model, capsys)
    finally:
        (model / "saved_model.pb").chmod(0o644)
    assert code == 2
    assert "cannot read" in err


@needs_fixtures
def test_model_directory_is_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m"
    shutil.copytree(TF1, model)
    before = sorted((p.relative_to(model), p.stat().st_mtime_ns) for p in model.rglob("*"))
    for flags in ([], ["--all"], ["--tag_set", "serve", "--list_ops"]):
        assert _show(model, capsys, *flags)[0] == 0
    assert run(["summary", str(model)]) == 0
    capsys.readouterr()
    after = sorted((p.relative_to(model), p.stat().st_mtime_ns) for p in model.rglob("*"))
    assert before == after


def test_smlite_error_is_the_root() -> None:
    for cls in (
        NotASavedModelError,
        CorruptFileError,
        UnsupportedError,
        TagSetNotFoundError,
        VersionNotFoundError,
    ):
        assert issubclass(cls, SmliteError)


@needs_fixtures
def test_tf1_assets_come_from_the_collection() -> None:
    # TF1 SavedModelBuilder leaves asset_file_def empty and stores the assets as
    # Any-packed AssetFileDefs in the saved_model_assets collection (repeated per meta graph).
    with smlite.open(TF1) as sm:
        for mg in sm.meta_graphs:
            assert not mg.header.asset_file_def
            assert [(a.filename, a.tensor_name) for a in mg.assets] == [
                ("classes.txt", "class_vocab_path:0")
            ]
            assert mg.assets[0].exists


def test_asset_file_def_wins_over_the_collection(tmp_path: Path) -> None:
    sm = pb.SavedModel()
    mg = sm.meta_graphs.add()
    mg.asset_file_def.add(filename="new.txt").tensor_info.name = "a:0"
    packed = mg.collection_def["saved_model_assets"].any_list.value.add()
    packed.type_url = "type.googleapis.com/tensorflow.AssetFileDef"
    packed.value = pb.AssetFileDef(filename="old.txt").SerializeToString()
    model = _model_dir(tmp_path, sm.SerializeToString())
    with smlite.open(model) as handle:
        assert [a.filename for a in handle.meta_graphs[0].assets] == ["new.txt"]
        assert handle.meta_graphs[0].assets[0].path == model / "assets" / "new.txt"


@pytest.mark.parametrize(
    ("text", "release"),
    [
        ("2.14.1", (2, 14, 1)),
        ("2.15.0-rc1", (2, 15, 0)),
        ("1.15", (1, 15, 0)),
        ("v2.3.0", (2, 3, 0)),
        ("2.21.0+local", (2, 21, 0)),
        ("", None),
        ("unknown", None),
    ],
)
def test_parse_tf_release(text: str, release: tuple[int, int, int] | None) -> None:
    from smlite.model.saved_model import parse_tf_release

    assert parse_tf_release(text) == release
