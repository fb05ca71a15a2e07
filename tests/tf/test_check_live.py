"""``smlite check`` on models TensorFlow 2.21 writes now: genuine exports stay clean.

Each finding a rule reports here is checked against TensorFlow itself: a model
that ``check`` passes loads and serves in TensorFlow; a model it fails does not
(or is not what it claims to be).  Exports are written in this process into a
temporary directory: Keras LSTMs (whose GPU variant holds CudnnRNN ops), a TF1
builder graph with and without an asset reader, an op without a kernel, a frozen
GraphDef, a TF-Hub-style empty tag-set and a V1 checkpoint.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import smlite
from smlite import pb
from smlite.cli import run
from smlite.errors import NotASavedModelError, Reason, UnsupportedError
from smlite.model.checks import check_path
from smlite.model.variables import open_checkpoint
from tests.tf.conftest import quiet_tf_env

tf = pytest.importorskip("tensorflow")

# The ops the deliberately unsafe fixtures use (their findings are by design).
UNSAFE = {"custom_op": {"SML609"}, "denylisted_ops": {"SML601", "SML602", "SML603"}}
# Rules that would be false alarms on any of these exports.
NEVER = {"SML303", "SML606", "SML613", "SML614"}


def _tf1_export(path: Path, build: Callable[[], dict[str, Any]], tags: list[str]) -> Path:
    """A TF1 SavedModelBuilder export of the graph ``build`` makes (it returns the signature)."""
    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as sess:
        signature = build()
        sess.run(tf.compat.v1.global_variables_initializer())
        builder = tf.compat.v1.saved_model.Builder(str(path))
        builder.add_meta_graph_and_variables(
            sess,
            tags,
            signature_def_map={"serving_default": signature},
            assets_collection=tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.ASSET_FILEPATHS),
            main_op=tf.compat.v1.tables_initializer(),
        )
        builder.save()
    return path


def _predict(inputs: dict[str, Any], outputs: dict[str, Any]) -> Any:
    return tf.compat.v1.saved_model.predict_signature_def(inputs, outputs)


def _table_graph(vocab: Path, *, read: bool) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        words = tf.compat.v1.placeholder(tf.string, [None], name="words")
        path = tf.constant(str(vocab), name="vocab_path")
        tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.ASSET_FILEPATHS, path)
        if read:
            init = tf.lookup.TextFileInitializer(
                path, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
            )  # fmt: skip
            table = tf.compat.v1.lookup.StaticHashTable(init, -1)
            return _predict({"words": words}, {"ids": table.lookup(words)})
        return _predict({"words": words}, {"same": tf.identity(words)})

    return build


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("check_live")
    vocab = root / "vocab.txt"
    vocab.write_text("a\nb\nc\n")
    made: dict[str, Path] = {}

    import tf_keras

    lstm = tf_keras.Sequential([tf_keras.Input((4, 3)), tf_keras.layers.LSTM(2)])
    made["tf_keras_lstm"] = root / "tf_keras_lstm"
    lstm.save(str(made["tf_keras_lstm"]), save_format="tf")

    import keras

    gru = keras.Sequential([keras.Input((4, 3)), keras.layers.GRU(2)])
    made["keras3_gru"] = root / "keras3_gru"
    gru.export(str(made["keras3_gru"]))

    made["tf1_table"] = _tf1_export(root / "tf1_table", _table_graph(vocab, read=True), ["serve"])
    made["tf1_unread_asset"] = _tf1_export(
        root / "tf1_unread_asset", _table_graph(vocab, read=False), ["serve"]
    )

    def identity() -> dict[str, Any]:
        x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
        return _predict({"x": x}, {"y": tf.identity(x, name="y")})

    made["empty_tags"] = _tf1_export(root / "empty_tags", identity, [])
    # TensorFlow 2.21 cannot even export a graph holding BoostedTreesBucketize (the
    # builder's session fails to place it), so the TF 2.1-era TFX export is derived.
    made["no_kernel"] = _with_bucketize(_tf1_export(root / "no_kernel", identity, ["serve"]))

    frozen = root / "frozen"
    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
        tf.identity(x * 2.0, name="y")
        tf.io.write_graph(graph.as_graph_def(), str(frozen), "saved_model.pb", as_text=False)
    made["frozen"] = frozen

    v1 = root / "v1_checkpoint"
    v1.mkdir()
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        tf.compat.v1.Variable([1.0, 2.0], name="w")
        sess.run(tf.compat.v1.global_variables_initializer())
        saver = tf.compat.v1.train.Saver(write_version=tf.compat.v1.train.SaverDef.V1)
        saver.save(sess, str(v1 / "export"), write_meta_graph=False)
    made["v1_checkpoint"] = v1
    return made


def _with_bucketize(model: Path) -> Path:
    """``model`` with a BoostedTreesBucketize node (and its two constant inputs) added."""
    path = model / "saved_model.pb"
    message = pb.SavedModel.FromString(path.read_bytes())
    graph = message.meta_graphs[0].graph_def
    for name in ("values", "boundaries"):
        const = graph.node.add(name=name, op="Const")
        const.attr["dtype"].type = 1
        const.attr["value"].tensor.dtype = 1
        const.attr["value"].tensor.tensor_shape.dim.add(size=1)
        const.attr["value"].tensor.float_val.append(0.5)
    bucketize = graph.node.add(name="bucketize", op="BoostedTreesBucketize")
    bucketize.input.extend(["values", "boundaries"])
    bucketize.attr["num_features"].i = 1
    path.write_bytes(message.SerializeToString())
    return model


def _rules(path: Path) -> set[str]:
    return {f.rule.id for f in check_path(path).findings}


def test_fresh_fixtures_are_clean(fresh_fixtures: Path, live_subset: tuple[str, ...]) -> None:
    for name in live_subset:
        report = check_path(fresh_fixtures / "models" / name)
        errors = {f.rule.id for f in report.findings if f.level.label == "error"}
        assert errors <= UNSAFE.get(name, set()), (name, report.findings)
        assert not {f.rule.id for f in report.findings} & NEVER, (name, report.findings)


@pytest.mark.parametrize("name", ["tf_keras_lstm", "keras3_gru", "tf1_table"])
def test_genuine_exports_are_clean(name: str, exports: dict[str, Path]) -> None:
    report = check_path(exports[name])
    assert not report.failed(), report.findings
    assert not {f.rule.id for f in report.findings} & NEVER, report.findings


def test_keras_lstm_keeps_its_gpu_variant_unused(exports: dict[str, Path]) -> None:
    # The library holds CudnnRNN (no CPU kernel) in the GPU variant Grappler may swap in;
    # nothing that runs on a CPU calls it, and TensorFlow runs the model on a CPU.
    with smlite.open(exports["tf_keras_lstm"]) as sm:
        assert any(op.startswith("CudnnRNN") for op in sm.meta_graphs[0].all_ops)
    loaded = tf.saved_model.load(str(exports["tf_keras_lstm"]))
    out = loaded.signatures["serving_default"](tf.zeros((1, 4, 3)))
    assert next(iter(out.values())).shape == (1, 2)


def test_unread_asset_is_only_a_warning_and_tensorflow_agrees(exports: dict[str, Path]) -> None:
    model = exports["tf1_unread_asset"]
    (model / "assets" / "vocab.txt").unlink()
    report = check_path(model)
    assert [f.rule.id for f in report.findings] == ["SML303"] and not report.failed()
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        tf.compat.v1.saved_model.loader.load(sess, ["serve"], str(model))
        assert list(sess.run("Identity:0", {"words:0": [b"x"]})) == [b"x"]


def test_read_asset_missing_is_an_error_and_tensorflow_agrees(
    exports: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    model = tmp_path / "tf1_table"
    shutil.copytree(exports["tf1_table"], model)
    (model / "assets" / "vocab.txt").unlink()
    assert "SML301" in _rules(model)
    with (
        tf.Graph().as_default(),
        tf.compat.v1.Session() as sess,
        pytest.raises(tf.errors.NotFoundError),
    ):
        tf.compat.v1.saved_model.loader.load(sess, ["serve"], str(model))


def test_op_without_kernel_is_an_error_and_tensorflow_agrees(exports: dict[str, Path]) -> None:
    model = exports["no_kernel"]
    report = check_path(model)
    (finding,) = [f for f in report.findings if f.rule.id == "SML613"]
    assert "op BoostedTreesBucketize in the graph, node 'bucketize'" in finding.message
    assert report.failed()
    # The node is not fetched by any signature: TensorFlow places the whole graph anyway.
    with (
        tf.Graph().as_default(),
        tf.compat.v1.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="No OpKernel was registered"),
    ):
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], str(model))
        sig = meta.signature_def["serving_default"]
        sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: np.zeros((1, 2))})


def test_frozen_graph_is_refused(exports: dict[str, Path]) -> None:
    with pytest.raises(NotASavedModelError) as info:
        smlite.open(exports["frozen"])
    assert info.value.reason is Reason.GRAPH_DEF
    assert _rules(exports["frozen"]) == {"SML007"}
    with pytest.raises((OSError, RuntimeError, ValueError)):
        tf.saved_model.load(str(exports["frozen"]))


def test_empty_tag_set_like_saved_model_cli(
    exports: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(exports["empty_tags"])
    proc = subprocess.run(
        [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "show", "--dir", model,
         "--tag_set", ""],
        capture_output=True, text=True, env=quiet_tf_env(), timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert run(["show", model, "--tag_set", ""]) == 0
    assert capsys.readouterr().out == proc.stdout
    for flags in (["--list_ops"], ["--signature_def", "serving_default"]):
        assert run(["show", model, "--tag_set", "", *flags]) == 0
    capsys.readouterr()


def test_v1_checkpoint_is_named(
    exports: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = exports["v1_checkpoint"]
    written = sorted(p.name for p in folder.iterdir())
    assert not any(name.endswith(".index") for name in written), written
    with pytest.raises(UnsupportedError) as info:
        open_checkpoint(folder / "export")
    assert info.value.reason is Reason.V1_CHECKPOINT
    assert run(["variables", str(folder / "export")]) == 2
    assert "TensorFlow V1 checkpoint" in capsys.readouterr().err
