"""Export the small, real SavedModels smlite is tested against, and record TensorFlow's answers.

Run with a Python that has ``tensorflow-cpu==2.21.0`` (keras 3 comes with it; ``tf_keras`` is
optional -- install it with ``pip install --no-deps tf-keras==2.21.0``, because its ``tensorflow``
requirement would otherwise pull the non-cpu wheel over ``tensorflow-cpu``)::

    python scripts/make_fixtures.py                       # everything into tests/fixtures
    python scripts/make_fixtures.py --out /tmp/fx --only tf1_multi_tag,polymorphic

The script first *builds* the selected fixtures (one process: TensorFlow, keras, tf_keras), then
*records* TensorFlow's answers about them in a second, fresh process that imports TensorFlow only,
as ``saved_model_cli`` itself does -- so nothing the builder registered (keras classes, traced
functions) can change what ``saved_model_cli show --all`` loads.  Each selected fixture's outputs
are wiped and rewritten; without ``--only`` the whole ``models/``, ``expected/``, ``inputs/`` and
``checkpoints/`` trees are replaced.

Layout written under ``--out`` (default ``tests/fixtures``)::

    models/<name>/                 the SavedModel (serving_base: a TF Serving base directory)
    checkpoints/ckpt-1.*           the ``checkpoint`` fixture (a tf.train.Checkpoint prefix)
    inputs/<name>/                 .npy/.npz input files used by recorded ``run`` cases
    expected/<name>.json           what TensorFlow says about the fixture (schema below)
    expected/<name>.variables.npz  every variable value, as tf.train.load_checkpoint reads it

``expected/<name>.json``::

    {"schema": 1, "name": ..., "tf_version": "2.21.0", "model": "models/<name>", "kind": ...,
     "description": ..., "tag_sets": [["serve", "gpu"], ...]          # file order, stored order
     "cases": [{"argv": ["show", "--dir", "{model}", ...], "stdout": "...", "exit": 0,
                "error": null, "error_type": null}, ...],           # saved_model_cli show / scan
     "run_cases": [...same shape, argv starts with "run"...],         # saved_model_cli run
     "variables": [{"prefix": "variables/variables", "entries": [
         {"key": ..., "dtype": "float32", "shape": [2, 3],          # tf.train.list_variables
          "npz": "v0" | null, "npz_view": null | "uint8" | "uint16",
          "numpy_dtype": "bfloat16" | ... | null,                  # of get_tensor's array
          "strings_b64": null | ["...", ...]}]}],
     "fingerprint": null | {"saved_model_checksum": int, "graph_def_program_hash": int,
          "signature_def_hash": int, "saved_object_graph_hash": int, "checkpoint_hash": int,
          "singleprint": str, "version_producer": int, "uuid": str},   # TF2 exports only
     "notes": [...]}                                                  # what the builder did

* ``argv`` is the ``saved_model_cli`` argv after the program name.  ``{model}`` stands for the
  fixture's directory (``<out>/<model>``), ``{inputs}`` for ``<out>/inputs/<name>`` and
  ``{outdir}`` for a scratch directory.  The same placeholders replace those absolute paths
  wherever they occur in recorded stdout and error text.
* ``stdout`` is exactly what ``saved_model_cli`` printed: backspaces (``, \\b\\b``) and Python sets
  in hash order included.  ``tests/support/samcli.py`` turns it into smlite's deliberate variant.
  Most cases are recorded by calling saved_model_cli's functions in-process; ``show --all`` of a
  model with an object graph (TF2) comes from a fresh ``saved_model_cli`` process, because the
  order of the "Option #n" blocks depends on the process's history (see ``_fresh_show_all``).
* ``exit`` is what the ``saved_model_cli`` process would return: 0, 1 when the command raised (the
  exception's type and text in ``error_type``/``error``), 2 for an argument error.
* ``serving_base``: ``fingerprint`` maps each version folder to the object above, and
  ``variables`` has one group per version folder (prefix ``1/variables/variables``...).
  ``checkpoint``: no cases; one variables group with prefix ``ckpt-1``.
* ``variables.entries`` lists every key ``tf.train.list_variables`` returns, including
  ``_CHECKPOINTABLE_OBJECT_GRAPH`` (its value is not recorded).  Numeric values are in the npz
  under the name given by ``npz``; dtypes numpy cannot store natively (bfloat16, float8, int4, ...)
  are stored as their raw bits viewed as ``npz_view``.  String tensors are in ``strings_b64``
  (flattened in C order), so the npz never needs pickle.

Fixtures (names as used by ``--only``):

=========================  ======================================================================
name                       what it is
=========================  ======================================================================
tf1_multi_tag              TF1 SavedModelBuilder, 3 meta graphs: {serve}, {serve, gpu}, {train};
                           classify/regress/predict signatures over serialized tf.Example, a
                           CooSparse input and output, an asset (classes.txt, TF1 assets
                           collection) read by a lookup table, main_op, assets.extra/ with a
                           TF Serving warmup file (TFRecord of PredictionLog) and a note
tf1_pbtxt                  TF1 builder.save(as_text=True): only saved_model.pbtxt
tf1_partitioned            TF1 builder: a fixed_size_partitioner(3) variable (sliced bundle
                           entries) and a string variable
module_no_signature        TF guide: tf.Module with __call__ and mutate, saved without signatures
module_one_signature       TF guide: the same module, signatures=one concrete function
module_multi_signature     TF guide: serving_default + array_input signatures
module_named_outputs       TF guide: signature returning {'custom_output_name': ...}
keras3_export              keras 3 Sequential, model.export(path) (serve + serving_default)
keras_model                keras 3 functional model with two inputs, tf.saved_model.save
                           (saved_model_cli run cannot run it: recorded)
keras_multi_export         the same two-input model, model.export(path) (runnable)
tf_keras_model             tf_keras functional model, model.save(path, save_format='tf')
                           (keras_metadata.pb); only when tf_keras is importable
sparse_ragged              signatures with SparseTensor / RaggedTensor inputs and outputs
composite_specs            tf.functions taking IndexedSlices, TensorArray, Optional, Dataset,
                           an ExtensionType (TypeSpecs beyond Tensor/Sparse/Ragged)
dtype_zoo                  one variable per dtype TF 2.21 can save (incl. bfloat16, float8,
                           int4/int2, qint, complex, bool, string), scalar and empty variables,
                           and signatures over those dtypes
polymorphic                a tf.function traced several times (shapes, dtypes, Python scalars,
                           keyword and **kwargs arguments, nested dict/tuple/namedtuple/empty
                           list arguments), an untraced function, a bare concrete function,
                           a child module, a jit_compile function
custom_op                  a tf.Module export edited so that a function body and the graph use
                           the unregistered op SmliteTestCustomOp (OpDef in stripped_op_list),
                           fingerprint rewritten; saved_model_cli prints N/A for Concrete
                           Functions
denylisted_ops             PrintV2 in a signature (found by saved_model_cli scan), ReadFile in a
                           tf.cond branch and WriteFile / EagerPyFunc in non-signature
                           functions (missed by saved_model_cli scan)
variables_sharded          TF2 export with MaxShardSizePolicy sharding (several data shards, a
                           tensor split into slices), a string variable, names needing escapes
checkpoint                 tf.train.Checkpoint prefix checkpoints/ckpt-1 (with optimizer slot
                           variables when tf_keras is available); no SavedModel
lookup_table               TF2 StaticHashTable from an asset vocabulary, string input (run)
serving_base               TF Serving base dir: 1/ (y = x), 2/ (y = 2x), tmp-export-3/ (ignored)
=========================  ======================================================================
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "fixtures"
SCHEMA_VERSION = 1
CUSTOM_OP = "SmliteTestCustomOp"
NO_SUCH_TAG = "smlite_no_such_tag"
NO_SUCH_SIGNATURE = "smlite_no_such_signature"


@dataclass(frozen=True)
class Fixture:
    """One fixture: how to build it and what to record about it."""

    name: str
    description: str
    build: Callable[[Path, Path], list[str]]
    # Where the fixture lives, relative to --out (a SavedModel dir unless kind says otherwise).
    model: str = ""
    kind: str = "saved_model"  # saved_model | serving_base | checkpoint
    extra_cases: tuple[tuple[str, ...], ...] = ()
    run_cases: tuple[tuple[str, ...], ...] = ()
    needs: tuple[str, ...] = ()  # optional modules; the fixture is skipped without them

    @property
    def model_path(self) -> str:
        return self.model or f"models/{self.name}"


FIXTURES: dict[str, Fixture] = {}


def fixture(
    description: str,
    *,
    model: str = "",
    kind: str = "saved_model",
    extra_cases: Sequence[str] = (),
    run_cases: Sequence[str] = (),
    needs: Sequence[str] = (),
) -> Callable[[Callable[[Path, Path], list[str]]], Callable[[Path, Path], list[str]]]:
    """Register a builder ``build(target_dir, scratch_dir) -> notes`` under its function name.

    ``extra_cases`` and ``run_cases`` are saved_model_cli command lines (shell-quoted, without the
    program name) recorded on top of the show/scan cases every fixture gets.
    """

    def register(fn: Callable[[Path, Path], list[str]]) -> Callable[[Path, Path], list[str]]:
        name = fn.__name__.removeprefix("build_")
        FIXTURES[name] = Fixture(
            name=name,
            description=description,
            build=fn,
            model=model,
            kind=kind,
            extra_cases=tuple(tuple(shlex.split(c)) for c in extra_cases),
            run_cases=tuple(tuple(shlex.split(c)) for c in run_cases),
            needs=tuple(needs),
        )
        return fn

    return register


# ------------------------------------------------------------------------------------------------
# Build phase.  TensorFlow is imported lazily so that --help works anywhere.
# ------------------------------------------------------------------------------------------------

tf: Any = None
np: Any = None


def _import_tf() -> None:
    global tf, np
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy
    import tensorflow

    tf = tensorflow
    np = numpy
    tf.get_logger().setLevel("ERROR")


def _tf1_builder(path: Path) -> Any:
    return tf.compat.v1.saved_model.Builder(str(path))


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _warmup_record(signature: str, input_key: str, examples: list[bytes]) -> bytes:
    """A serialized tensorflow.serving.PredictionLog holding one PredictRequest.

    TF Serving's protos are not part of TensorFlow, so the few fields needed are written by hand:
    PredictionLog.predict_log = 6 -> PredictLog.request = 1 -> PredictRequest{model_spec = 1
    {name = 1, signature_name = 3}, inputs = 2 (map<string, TensorProto>)}.
    """
    tensor = tf.make_tensor_proto(examples, dtype=tf.string).SerializeToString()
    model_spec = _field(1, b"tf1_multi_tag") + _field(3, signature.encode())
    entry = _field(1, input_key.encode()) + _field(2, tensor)
    request = _field(1, model_spec) + _field(2, entry)
    return _field(6, _field(1, request))


def _example(x: Sequence[float]) -> bytes:
    return tf.train.Example(
        features=tf.train.Features(
            feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=list(x)))}
        )
    ).SerializeToString()


@fixture(
    "TF1 SavedModelBuilder: tag-sets {serve}, {serve, gpu}, {train}; classify/regress/predict "
    "over serialized tf.Example; CooSparse input/output; asset + assets.extra/",
    extra_cases=[
        "show --dir {model} --tag_set gpu,serve",
        "show --dir {model} --tag_set 'serve, gpu'",
        "show --dir {model} --tag_set 'serve, gpu' --list_ops",
        "show --dir {model} --tag_set serve,",
        "show --dir {model} --tag_set serve,serve",
        "show --dir {model} --tag_set ''",
        "show --dir {model} --tag_set '' --list_ops",
        "show --dir {model} --tag_set gpu,serve --signature_def serving_default",
        "scan --dir {model} --tag_set gpu,serve",
        (
            "scan --dir {model} --tag_set train "
            "--op_denylist ResourceApplyGradientDescent,SparseReorder,ApplyGradientDescent"
        ),
    ],
    run_cases=[
        (
            "run --dir {model} --tag_set serve --signature_def classify_x "
            '--input_examples \'inputs=[{"x":[1.0,2.0]},{"x":[-1.5,0.5]}]\''
        ),
        (
            "run --dir {model} --tag_set serve --signature_def regress_x "
            '--input_examples \'inputs=[{"x":[1.0,2.0]},{"x":[-1.5,0.5]}]\''
        ),
        (
            "run --dir {model} --tag_set serve --signature_def predict_y "
            '--input_examples \'examples=[{"x":[0.0,4.0]}]\''
        ),
        (
            "run --dir {model} --tag_set serve,gpu --signature_def serving_default "
            "--input_exprs 'x=[[1.0,2.0],[3.0,4.0]]'"
        ),
        (
            "run --dir {model} --tag_set serve,gpu --signature_def serving_default "
            "--inputs 'x={inputs}/x.npy'"
        ),
        (
            "run --dir {model} --tag_set serve,gpu --signature_def serving_default "
            "--inputs 'x={inputs}/xs.npz[second]'"
        ),
        (
            "run --dir {model} --tag_set serve,gpu --signature_def serving_default "
            "--input_exprs 'x=[[1.0,2.0]]' --outdir {outdir}"
        ),
        (
            "run --dir {model} --tag_set serve --signature_def classify_x "
            '--input_examples \'nope=[{"x":[1.0,2.0]}]\''
        ),
    ],
)
def build_tf1_multi_tag(target: Path, scratch: Path) -> list[str]:
    vocab = _write_text(scratch / "classes.txt", "pos\nneg\n")
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        serialized = tf.compat.v1.placeholder(tf.string, [None], name="tf_example")
        parsed = tf.io.parse_example(
            serialized, {"x": tf.io.FixedLenFeature([2], tf.float32, default_value=[0.0, 0.0])}
        )
        x_example = tf.identity(parsed["x"], name="x_from_example")
        x_dense = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
        w = tf.compat.v1.get_variable("w", initializer=tf.constant([[0.5], [-1.0]]))
        b = tf.compat.v1.get_variable("b", initializer=tf.constant([0.25]))

        def head(x: Any, name: str) -> tuple[Any, Any]:
            y = tf.add(tf.matmul(x, w), b, name=f"{name}_y")
            scores = tf.nn.softmax(tf.concat([y, -y], 1), name=f"{name}_scores")
            return y, scores

        y_ex, scores_ex = head(x_example, "example")
        y_dense, _ = head(x_dense, "dense")
        vocab_path = tf.constant(str(vocab), name="class_vocab_path")
        table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                vocab_path,
                tf.int64,
                tf.lookup.TextFileIndex.LINE_NUMBER,
                tf.string,
                tf.lookup.TextFileIndex.WHOLE_LINE,
            ),
            default_value="UNK",
        )
        batch = tf.shape(x_example)[0]
        class_ids = tf.tile(tf.constant([[0, 1]], tf.int64), tf.stack([batch, 1]))
        classes = tf.identity(table.lookup(class_ids), name="classes")
        if not tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.ASSET_FILEPATHS):
            tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.ASSET_FILEPATHS, vocab_path)
        assets = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.ASSET_FILEPATHS)
        main_op = tf.group(tf.compat.v1.tables_initializer(), name="main_op")
        sess.run(tf.compat.v1.global_variables_initializer())

        sigs = tf.compat.v1.saved_model
        classify = sigs.classification_signature_def(serialized, classes, scores_ex)
        regress = sigs.regression_signature_def(serialized, y_ex)
        predict_ex = sigs.predict_signature_def(
            {"examples": serialized}, {"y": y_ex, "scores": scores_ex, "classes": classes}
        )
        predict_dense = sigs.predict_signature_def({"x": x_dense}, {"y": y_dense})
        builder = _tf1_builder(target)
        builder.add_meta_graph_and_variables(
            sess,
            ["serve"],
            signature_def_map={
                "serving_default": classify,
                "classify_x": classify,
                "regress_x": regress,
                "predict_y": predict_ex,
            },
            assets_collection=assets,
            main_op=main_op,
            strip_default_attrs=True,
        )
        builder.add_meta_graph(
            ["serve", "gpu"],
            signature_def_map={"serving_default": predict_dense},
            assets_collection=assets,
            clear_devices=True,
        )
        # main_op stays in the graph's saved_model_main_op collection for the later meta graphs.
        # The training graph grows the same Graph: a sparse input and an optimizer step, so its
        # op list differs from the serving ones.
        sp = tf.compat.v1.sparse_placeholder(tf.float32, shape=[None, 2], name="sp")
        sp_dense = tf.sparse.to_dense(tf.sparse.reorder(sp), name="sp_dense")
        sp_out = tf.sparse.reorder(sp, name="sp_out")
        loss = tf.reduce_mean(tf.square(tf.matmul(sp_dense, w) + b), name="loss")
        train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
        info = tf.compat.v1.saved_model.build_tensor_info
        sparse_sig = tf.compat.v1.saved_model.build_signature_def(
            inputs={"sp": info(sp)},
            outputs={"dense": info(sp_dense), "sparse": info(sp_out), "loss": info(loss)},
            method_name="tensorflow/serving/predict",
        )
        tf.compat.v1.add_to_collection("smlite_train_op", train_op)
        builder.add_meta_graph(
            ["train"], signature_def_map={"sparse_loss": sparse_sig}, assets_collection=assets
        )
        builder.save()
    extra = target / "assets.extra"
    extra.mkdir()
    with tf.io.TFRecordWriter(str(extra / "tf_serving_warmup_requests")) as writer:
        for xs in ([1.0, 2.0], [3.0, -1.0]):
            writer.write(_warmup_record("predict_y", "examples", [_example(xs)]))
    _write_text(extra / "README.txt", "Free-form extras, not managed by TensorFlow.\n")
    inputs = target.parent.parent / "inputs" / "tf1_multi_tag"
    inputs.mkdir(parents=True, exist_ok=True)
    np.save(inputs / "x.npy", np.array([[1.0, 2.0], [0.5, -0.5]], np.float32))
    np.savez(
        inputs / "xs.npz",
        first=np.zeros((1, 2), np.float32),
        second=np.array([[2.0, 2.0]], np.float32),
    )
    return ["assets.extra/tf_serving_warmup_requests: 2 TFRecords, each a PredictionLog"]


@fixture("TF1 SavedModelBuilder saved as text: saved_model.pbtxt only")
def build_tf1_pbtxt(target: Path, scratch: Path) -> list[str]:
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        w = tf.compat.v1.get_variable("w", initializer=tf.constant([[1.0], [2.0], [3.0]]))
        y = tf.matmul(x, w, name="y")
        sess.run(tf.compat.v1.global_variables_initializer())
        builder = _tf1_builder(target)
        builder.add_meta_graph_and_variables(
            sess,
            ["serve"],
            signature_def_map={
                "serving_default": tf.compat.v1.saved_model.predict_signature_def(
                    {"x": x}, {"y": y}
                )
            },
        )
        builder.save(as_text=True)
    return []


@fixture(
    "TF1 SavedModelBuilder with a fixed_size_partitioner(3) variable and a string variable",
    run_cases=[
        (
            "run --dir {model} --tag_set serve --signature_def serving_default "
            "--input_exprs 'ids=[0,3,9]'"
        ),
    ],
)
def build_tf1_partitioned(target: Path, scratch: Path) -> list[str]:
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        ids = tf.compat.v1.placeholder(tf.int64, [None], name="ids")
        emb = tf.compat.v1.get_variable(
            "emb",
            shape=[10, 4],
            dtype=tf.float32,
            partitioner=tf.compat.v1.fixed_size_partitioner(3),
            initializer=tf.compat.v1.zeros_initializer(),
        )
        words = tf.compat.v1.get_variable(
            "words",
            initializer=tf.constant([b"", b"a\x00b", b"\xff\xfe", "ünï".encode(), b"z" * 200]),
        )
        looked_up = tf.nn.embedding_lookup(emb, ids, name="looked_up")
        picked = tf.gather(words, tf.math.floormod(ids, 5), name="picked")
        sess.run(tf.compat.v1.global_variables_initializer())
        full = np.arange(40, dtype=np.float32).reshape(10, 4) / 4.0
        start = 0
        for part in emb:
            rows = int(part.shape[0])
            sess.run(part.assign(full[start : start + rows]))
            start += rows
        builder = _tf1_builder(target)
        builder.add_meta_graph_and_variables(
            sess,
            ["serve"],
            signature_def_map={
                "serving_default": tf.compat.v1.saved_model.predict_signature_def(
                    {"ids": ids}, {"vectors": looked_up, "words": picked}
                )
            },
        )
        builder.save()
    return []


def _guide_module() -> Any:
    """The tf.Module of TensorFlow's SavedModel guide: a variable, __call__ and mutate."""

    class CustomModule(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.v = tf.Variable(1.0)

        @tf.function
        def __call__(self, x: Any) -> Any:
            return x * self.v

        @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
        def mutate(self, new_v: Any) -> None:
            self.v.assign(new_v)

    module = CustomModule()
    module(tf.constant(0.0))
    return module


@fixture("tf.Module (TF guide) saved without signatures")
def build_module_no_signature(target: Path, scratch: Path) -> list[str]:
    tf.saved_model.save(_guide_module(), str(target))
    return []


@fixture(
    "tf.Module (TF guide) saved with one signature",
    run_cases=[
        (
            "run --dir {model} --tag_set serve --signature_def serving_default "
            "--input_exprs x=3.5"
        ),
    ],
)
def build_module_one_signature(target: Path, scratch: Path) -> list[str]:
    module = _guide_module()
    call = module.__call__.get_concrete_function(tf.TensorSpec(None, tf.float32))
    tf.saved_model.save(module, str(target), signatures=call)
    return []


@fixture("tf.Module (TF guide) saved with serving_default and array_input signatures")
def build_module_multi_signature(target: Path, scratch: Path) -> list[str]:
    module = _guide_module()
    signatures = {
        "serving_default": module.__call__.get_concrete_function(
            tf.TensorSpec(None, tf.float32)
        ),
        "array_input": module.__call__.get_concrete_function(tf.TensorSpec([None], tf.float32)),
    }
    tf.saved_model.save(module, str(target), signatures=signatures)
    return []


@fixture("tf.Module (TF guide) whose signature names its output custom_output_name")
def build_module_named_outputs(target: Path, scratch: Path) -> list[str]:
    class CustomModuleWithOutputName(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.v = tf.Variable(1.0)

        @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
        def __call__(self, x: Any) -> Any:
            return {"custom_output_name": x * self.v}

    module = CustomModuleWithOutputName()
    tf.saved_model.save(module, str(target), signatures={"serving_default": module.__call__})
    return []


def _set_deterministic_weights(model: Any) -> None:
    weights = []
    for i, w in enumerate(model.get_weights()):
        n = int(np.prod(w.shape))
        values = ((np.arange(n, dtype=np.float64) % 7) - 3.0 + i) / 8.0
        weights.append(values.reshape(w.shape).astype(w.dtype))
    model.set_weights(weights)


@fixture(
    "keras 3 Sequential exported with model.export(path)",
    run_cases=[
        (
            "run --dir {model} --tag_set serve --signature_def serving_default "
            "--input_exprs 'features=[[1.0,2.0,3.0,4.0]]'"
        ),
    ],
)
def build_keras3_export(target: Path, scratch: Path) -> list[str]:
    import keras

    model = keras.Sequential(
        [
            keras.Input((4,), name="features"),
            keras.layers.Dense(3, activation="relu", name="hidden"),
            keras.layers.Dense(2, name="logits"),
        ],
        name="tiny_sequential",
    )
    _set_deterministic_weights(model)
    with contextlib.redirect_stdout(io.StringIO()):
        model.export(str(target))
    return [f"keras {keras.__version__}"]


def _keras_two_inputs(keras: Any) -> Any:
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    joined = keras.layers.Concatenate(name="join")([a, b])
    hidden = keras.layers.Dense(4, activation="tanh", name="hidden")(joined)
    out = keras.layers.Dense(2, name="out")(hidden)
    model = keras.Model({"a": a, "b": b}, {"y": out, "h": hidden}, name="two_inputs")
    _set_deterministic_weights(model)
    return model


def _ab_inputs(inputs: Path) -> None:
    inputs.mkdir(parents=True, exist_ok=True)
    np.savez(
        inputs / "ab.npz",
        a=np.array([[1.0, 0.0, -1.0]], np.float32),
        b=np.array([[2.0, 3.0]], np.float32),
    )


@fixture(
    "keras 3 functional model with two named inputs, saved with tf.saved_model.save",
    run_cases=[
        (
            "run --dir {model} --tag_set serve --signature_def serving_default "
            "--input_exprs 'inputs=[[1.0,2.0,3.0]];inputs_1=[[0.5,-0.5]]'"
        ),
    ],
)
def build_keras_model(target: Path, scratch: Path) -> list[str]:
    import keras

    tf.saved_model.save(_keras_two_inputs(keras), str(target))
    _ab_inputs(target.parent.parent / "inputs" / "keras_model")
    return [
        f"keras {keras.__version__}",
        "saved_model_cli run fails on this export (Could not find variable out/bias); "
        "keras_multi_export is the runnable two-input keras model",
    ]


@fixture(
    "keras 3 functional model with two named inputs, exported with model.export(path)",
    run_cases=[
        (
            "run --dir {model} --tag_set serve --signature_def serving_default "
            "--input_exprs 'a=[[1.0,2.0,3.0]];b=[[0.5,-0.5]]'"
        ),
        (
            "run --dir {model} --tag_set serve --signature_def serving_default "
            "--inputs 'a={inputs}/ab.npz[a];b={inputs}/ab.npz[b]'"
        ),
    ],
)
def build_keras_multi_export(target: Path, scratch: Path) -> list[str]:
    import keras

    model = _keras_two_inputs(keras)
    with contextlib.redirect_stdout(io.StringIO()):
        model.export(str(target))
    _ab_inputs(target.parent.parent / "inputs" / "keras_multi_export")
    return [f"keras {keras.__version__}"]


@fixture(
    "tf_keras (Keras 2) functional model saved with model.save(path, save_format='tf')",
    needs=("tf_keras",),
)
def build_tf_keras_model(target: Path, scratch: Path) -> list[str]:
    import tf_keras

    ids = tf_keras.Input((3,), dtype="int32", name="ids")
    dense_in = tf_keras.Input((2,), name="dense")
    emb = tf_keras.layers.Embedding(5, 2, name="emb")(ids)
    pooled = tf_keras.layers.GlobalAveragePooling1D(name="pool")(emb)
    joined = tf_keras.layers.Concatenate(name="join")([pooled, dense_in])
    out = tf_keras.layers.Dense(1, activation="sigmoid", name="prob")(joined)
    model = tf_keras.Model([ids, dense_in], out, name="tf_keras_two_inputs")
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    _set_deterministic_weights(model)
    model.save(str(target), save_format="tf", include_optimizer=False)
    return [f"tf_keras {tf_keras.__version__}"]


@fixture("signatures with SparseTensor and RaggedTensor inputs and outputs")
def build_sparse_ragged(target: Path, scratch: Path) -> list[str]:
    class Composite(tf.Module):
        @tf.function(input_signature=[tf.SparseTensorSpec([None, 4], tf.float32)])
        def sparse(self, st: Any) -> Any:
            st = tf.sparse.reorder(st)
            return {"dense": tf.sparse.to_dense(st), "sparse": st * 2.0}

        @tf.function(input_signature=[tf.RaggedTensorSpec([None, None], tf.int32)])
        def ragged(self, rt: Any) -> Any:
            return {"doubled": rt * 2, "row_lengths": rt.row_lengths()}

        @tf.function(
            input_signature=[
                tf.RaggedTensorSpec(
                    [None, None, None], tf.float32, ragged_rank=2, row_splits_dtype=tf.int32
                ),
                tf.TensorSpec([None], tf.string, name="labels"),
            ]
        )
        def nested(self, rt: Any, labels: Any) -> Any:
            return {"sum": tf.reduce_sum(rt, axis=-1), "labels": labels}

        @tf.function
        def mixed(self, st: Any, rt: Any) -> Any:
            return tf.sparse.to_dense(st), rt.flat_values

    module = Composite()
    module.mixed(
        tf.sparse.SparseTensor([[0, 1]], [1.5], [2, 3]), tf.ragged.constant([[1.0], [2.0, 3.0]])
    )
    tf.saved_model.save(
        module,
        str(target),
        signatures={
            "serving_default": module.sparse,
            "sparse": module.sparse,
            "ragged": module.ragged,
            "ragged_rank2": module.nested,
        },
    )
    return []


@fixture("tf.functions over IndexedSlices, TensorArray, Optional, Dataset and an ExtensionType")
def build_composite_specs(target: Path, scratch: Path) -> list[str]:
    class Pair(tf.experimental.ExtensionType):
        # The registered name saving needs; the recording process does not know the class.
        __name__ = "smlite_fixtures.Pair"
        left: tf.Tensor
        right: tf.Tensor

    class Specs(tf.Module):
        @tf.function
        def slices(self, s: Any) -> Any:
            return tf.convert_to_tensor(s)

        @tf.function
        def array(self, ta: Any) -> Any:
            return ta.stack()

        @tf.function
        def optional(self, opt: Any) -> Any:
            return opt.has_value()

        @tf.function
        def dataset(self, ds: Any) -> Any:
            return ds.reduce(tf.constant(0, tf.int64), lambda a, b: a + b)

        @tf.function
        def pair(self, p: Any) -> Any:
            return p.left + p.right

        @tf.function(input_signature=[tf.TensorSpec([2], tf.float32, name="x")])
        def bounded(self, x: Any) -> Any:
            return x

    module = Specs()
    module.slices(tf.IndexedSlices(tf.ones([2, 3]), tf.constant([0, 2]), tf.constant([4, 3])))
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[3]).write(0, tf.ones([3]))
    module.array(ta.write(1, tf.zeros([3])))
    module.optional(tf.experimental.Optional.from_value(tf.constant([1, 2])))
    module.dataset(tf.data.Dataset.range(4))
    module.pair(Pair(tf.constant([1.0]), tf.constant([2.0])))
    tf.saved_model.save(module, str(target))
    return []


_FLOAT_VALUES = [0.0, -0.0, 1.5, -2.25, float("inf"), float("nan")]

# (name in tf, its values as a list the numpy dtype accepts)
_DTYPE_ZOO: list[tuple[str, Any]] = [
    ("float16", _FLOAT_VALUES),
    ("float32", _FLOAT_VALUES),
    ("float64", _FLOAT_VALUES),
    ("bfloat16", _FLOAT_VALUES),
    ("int8", [-128, -1, 0, 1, 2, 127]),
    ("int16", [-32768, -1, 0, 1, 2, 32767]),
    ("int32", [-(2**31), -1, 0, 1, 2, 2**31 - 1]),
    ("int64", [-(2**63), -1, 0, 1, 2, 2**63 - 1]),
    ("uint8", [0, 1, 2, 127, 128, 255]),
    ("uint16", [0, 1, 2, 255, 256, 65535]),
    ("uint32", [0, 1, 2, 65535, 65536, 2**32 - 1]),
    ("uint64", [0, 1, 2, 2**32, 2**63, 2**64 - 1]),
    ("bool", [True, False, True, True, False, False]),
    ("complex64", [0, 1 + 2j, -1.5j, 2.5, complex("inf"), -3 - 4j]),
    ("complex128", [0, 1 + 2j, -1.5j, 2.5, complex("inf"), -3 - 4j]),
    ("string", [b"", b"a", b"a\x00b", b"\xff\xfe\xfd", "ünï".encode(), b"z" * 200]),
    ("qint8", [-128, -1, 0, 1, 2, 127]),
    ("quint8", [0, 1, 2, 127, 128, 255]),
    ("qint16", [-32768, -1, 0, 1, 2, 32767]),
    ("quint16", [0, 1, 2, 255, 256, 65535]),
    ("qint32", [-(2**31), -1, 0, 1, 2, 2**31 - 1]),
    ("float8_e5m2", [0.0, -0.0, 1.5, -2.0, 0.25, 448.0]),
    ("float8_e4m3fn", [0.0, -0.0, 1.5, -2.0, 0.25, 448.0]),
    ("float8_e4m3fnuz", [0.0, 0.5, 1.5, -2.0, 0.25, 224.0]),
    ("float8_e4m3b11fnuz", [0.0, 0.5, 1.5, -2.0, 0.25, 15.0]),
    ("float8_e5m2fnuz", [0.0, 0.5, 1.5, -2.0, 0.25, 448.0]),
    ("int4", [-8, -1, 0, 1, 2, 7]),
    ("uint4", [0, 1, 2, 7, 8, 15]),
    ("int2", [-2, -1, 0, 1, 1, 0]),
    ("uint2", [0, 1, 2, 3, 3, 0]),
    ("float4_e2m1fn", [0.0, -0.0, 0.5, 1.5, -2.0, 6.0]),
]

_QUANTIZED_BASE = {
    "qint8": "int8", "quint8": "uint8", "qint16": "int16", "quint16": "uint16", "qint32": "int32",
}

# Dtypes a signature of the runnable serving_default carries (session feeds convert these).
_RUNNABLE = [
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
    "uint32", "uint64", "bool", "complex64", "complex128", "string",
]


def _tf_dtype(name: str) -> Any:
    from tensorflow.python.framework import dtypes

    return getattr(tf, name, None) or getattr(dtypes, name)


@fixture(
    "one variable per dtype TF 2.21 can save, scalar and empty variables, dtype signatures",
    run_cases=[
        (
            "run --dir {model} --tag_set serve --signature_def serving_default --input_exprs "
            "'float16=[1.5];float32=[1.5];float64=[1.5];int8=[-3];int16=[-3];int32=[-3];"
            "int64=[-3];uint8=[3];uint16=[3];uint32=[3];uint64=[3];bool=[True];"
            'complex64=[1+2j];complex128=[1+2j];string=["a"]\''
        ),
        (
            "run --dir {model} --tag_set serve --signature_def serving_default "
            "--input_exprs float32=[1.5]"
        ),
    ],
)
def build_dtype_zoo(target: Path, scratch: Path) -> list[str]:
    notes: list[str] = []
    module = tf.Module()
    saved: dict[str, Any] = {}
    for name, values in _DTYPE_ZOO:
        dtype = _tf_dtype(name)
        try:
            if name == "string":
                init = tf.constant(np.array(values, dtype=object).reshape(2, 3))
            else:
                if name in _QUANTIZED_BASE:
                    # Quantized dtypes are one-field structured numpy dtypes.
                    base = np.array(values, dtype=_QUANTIZED_BASE[name])
                    array = base.astype(dtype.as_numpy_dtype).reshape(2, 3)
                else:
                    array = np.array(values, dtype=dtype.as_numpy_dtype).reshape(2, 3)
                init = tf.constant(array, dtype=dtype)
            var = tf.Variable(init, name=f"var_{name}")
            # Probe: a dtype whose AssignVariableOp kernel is missing fails on restore too.
            probe = tf.train.Checkpoint(v=var)
            probe.write(str(scratch / f"probe_{name}" / "ckpt"))
        except Exception as e:  # record why TF refuses the dtype
            notes.append(f"dtype {name} cannot be saved as a variable: {type(e).__name__}")
            continue
        saved[name] = var
    module.by_dtype = saved
    module.scalar = tf.Variable(3.25, name="scalar")
    module.empty = tf.Variable(tf.zeros([0, 3], tf.float32), name="empty")
    module.empty_strings = tf.Variable(tf.constant([], tf.string), name="empty_strings")

    spec = {n: tf.TensorSpec([None], _tf_dtype(n), name=n) for n in _RUNNABLE}

    @tf.function(input_signature=[spec])
    def identity_all(inputs: Any) -> Any:
        return {f"out_{k}": tf.identity(v) for k, v in inputs.items()}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="float32")])
    def scale(x: Any) -> Any:
        return {"scaled": x * module.scalar}

    exotic_names = [n for n, _ in _DTYPE_ZOO if n not in _RUNNABLE and n in saved]
    exotic_spec = {n: tf.TensorSpec([2, 3], _tf_dtype(n), name=n) for n in exotic_names}

    @tf.function(input_signature=[exotic_spec])
    def exotic(inputs: Any) -> Any:
        return {f"out_{k}": tf.identity(v) for k, v in inputs.items()}

    module.identity_all = identity_all
    try:
        exotic_fn = exotic.get_concrete_function()
    except Exception as e:  # then leave the exotic signature out
        notes.append(f"exotic signature not traced: {type(e).__name__}: {e}")
        exotic_fn = None
    signatures = {"serving_default": identity_all.get_concrete_function(), "scale": scale}
    if exotic_fn is not None:
        signatures["exotic"] = exotic_fn
    try:
        tf.saved_model.save(module, str(target), signatures=signatures)
    except Exception as e:  # retry without the exotic signature
        notes.append(f"exotic signature not saveable: {type(e).__name__}: {e}")
        shutil.rmtree(target, ignore_errors=True)
        signatures.pop("exotic", None)
        tf.saved_model.save(module, str(target), signatures=signatures)
    return notes


@fixture(
    "a tf.function traced with many argument kinds; untraced, bare and jit functions; child"
)
def build_polymorphic(target: Path, scratch: Path) -> list[str]:
    from collections import namedtuple

    Point = namedtuple("Point", ["x", "y"])

    class Child(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([], tf.int64, name="n")])
        def count(self, n: Any) -> Any:
            return n + 1

    class Poly(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable([1.0, 2.0], name="w")
            self.child = Child()

        @tf.function
        def f(self, x: Any, scale: Any = 1.0, training: bool = False, config: Any = None) -> Any:
            return x * scale

        @tf.function
        def kw(self, x: Any, *args: Any, **kwargs: Any) -> Any:
            return x + sum(kwargs.values()) + sum(args)

        @tf.function
        def nested(self, inputs: Any, extra: Any = ()) -> Any:
            flat = [tf.cast(tf.reduce_sum(t), tf.float32) for t in tf.nest.flatten(inputs)]
            return tf.add_n(flat)

        @tf.function
        def never_traced(self, x: Any) -> Any:
            return x

        @tf.function(jit_compile=True)
        def jit(self, x: Any) -> Any:
            return tf.reduce_sum(x * self.w)

        @tf.function(
            input_signature=[
                {
                    "ids": tf.TensorSpec([None], tf.int32, name="ids"),
                    "pair": (tf.TensorSpec([2], tf.float32), tf.TensorSpec(None, tf.string)),
                }
            ]
        )
        def structured(self, inputs: Any) -> Any:
            return {"n": tf.size(inputs["ids"]), "first": inputs["pair"][0]}

    module = Poly()
    f = module.f
    f(tf.constant([1.0, 2.0]))
    f(tf.constant([1, 2, 3]), scale=2)
    f(tf.constant(1.0), 0.5, True)
    f(tf.constant([[1.0]]), config={"zeta": 1, "alpha": "a", "mid": (1, "b"), "none": None})
    f(tf.constant([1.0, 2.0]), config=[])
    f(tf.constant([1.0, 2.0]), config={})
    f(tf.constant([1.0, 2.0]), config=Point(1, 2))
    f(tf.constant([1.0, 2.0]), config="text, with comma")
    module.kw(tf.constant(1.0), zeta=tf.constant(2.0), alpha=tf.constant(3.0), mid=tf.constant(4.0))
    module.kw(tf.constant(1.0), 5, 6, beta=tf.constant(2.0))
    module.nested({"b": tf.constant([1.0]), "a": (tf.constant(1), [tf.constant(2.0)])})
    module.nested(
        {"z": {"y": tf.constant(1.0), "x": tf.constant([2.0])}},
        extra={"k2": 2, "k1": 1},
    )
    module.nested(Point(tf.constant(1.0), tf.constant([[2.0]])))
    module.jit(tf.constant([3.0, 4.0]))
    module.child.count(tf.constant(1, tf.int64))
    module.bare = module.f.get_concrete_function(tf.TensorSpec([None, 2], tf.float64, name="m"))
    tf.saved_model.save(
        module,
        str(target),
        signatures={
            "serving_default": module.structured,
            "scaled": f.get_concrete_function(tf.TensorSpec([None], tf.float32, name="x")),
        },
    )
    return []


@fixture(
    f"tf.Module export edited to use the unregistered op {CUSTOM_OP} in a function and the graph"
)
def build_custom_op(target: Path, scratch: Path) -> list[str]:
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.saved_model import fingerprinting_utils

    class Model(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.v = tf.Variable(3.0)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def __call__(self, x: Any) -> Any:
            return {"y": x * self.v}

        @tf.function
        def plus(self, x: Any, n: int = 1) -> Any:
            return x + n

    module = Model()
    module.plus(tf.constant([1.0]))
    module.plus(tf.constant(1.0), n=2)
    tf.saved_model.save(module, str(target), signatures={"serving_default": module.__call__})

    pb_path = target / "saved_model.pb"
    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString(pb_path.read_bytes())
    mg = sm.meta_graphs[0]
    renamed = []
    for fn in mg.graph_def.library.function:
        for node in fn.node_def:
            if node.op == "Mul":
                node.op = CUSTOM_OP
                renamed.append(f"{fn.signature.name}/{node.name}")
    if not renamed:
        raise RuntimeError("custom_op: no Mul node found to rename")
    node = mg.graph_def.node.add()
    node.name = "smlite_custom_op_node"
    node.op = CUSTOM_OP
    node.attr["T"].type = tf.float32.as_datatype_enum
    op_def = op_def_pb2.OpDef(name=CUSTOM_OP)
    op_def.input_arg.add(name="x", type_attr="T")
    op_def.input_arg.add(name="y", type_attr="T")
    op_def.output_arg.add(name="z", type_attr="T")
    op_def.attr.add(name="T", type="type")
    mg.meta_info_def.stripped_op_list.op.append(op_def)
    pb_path.write_bytes(sm.SerializeToString())
    fingerprinting_utils.write_fingerprint(str(target))
    return [
        f"Mul renamed to {CUSTOM_OP} in: " + ", ".join(sorted(renamed)),
        f"graph node smlite_custom_op_node (op {CUSTOM_OP}, no inputs) added to graph_def",
        "fingerprint.pb rewritten after the edit",
    ]


@fixture(
    "PrintV2 in a signature; ReadFile in a cond branch; WriteFile, EagerPyFunc elsewhere",
    extra_cases=[
        "scan --dir {model} --op_denylist ReadFile,WriteFile,EagerPyFunc",
        "scan --dir {model} --tag_set serve --op_denylist PrintV2,StatelessIf",
    ],
)
def build_denylisted_ops(target: Path, scratch: Path) -> list[str]:
    class Risky(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="path")])
        def __call__(self, path: Any) -> Any:
            tf.print("reading", path)
            content = tf.cond(
                tf.strings.length(path) > 0,
                lambda: tf.io.read_file(path),
                lambda: tf.constant(""),
            )
            return {"content": content}

        @tf.function(input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.string)])
        def write(self, path: Any, text: Any) -> Any:
            tf.io.write_file(path, text)
            return tf.constant(True)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def py(self, x: Any) -> Any:
            return tf.py_function(lambda t: t * 2, [x], tf.float32)

    module = Risky()
    tf.saved_model.save(module, str(target), signatures={"serving_default": module.__call__})
    return []


@fixture("TF2 export sharded by MaxShardSizePolicy: several shards, a sliced tensor, strings")
def build_variables_sharded(target: Path, scratch: Path) -> list[str]:
    module = tf.Module()
    module.big = tf.Variable(np.arange(512, dtype=np.float32).reshape(32, 16) / 8.0, name="big")
    module.small = [
        tf.Variable(np.full([40], i, np.float32), name=f"small_{i}") for i in range(6)
    ]
    module.words = tf.Variable(
        tf.constant([b"", b"a\x00b", b"\xff", "ünï".encode(), b"q" * 300]), name="words"
    )
    module.odd_names = {"a/b.c": tf.Variable([1, 2], name="slash_dot"), "x..y": tf.Variable(7)}

    @tf.function(input_signature=[tf.TensorSpec([16], tf.float32, name="x")])
    def project(x: Any) -> Any:
        return {"y": tf.linalg.matvec(module.big, x)}

    module.project = project
    policy = tf.train.experimental.MaxShardSizePolicy(max_shard_size=700)
    options = tf.saved_model.SaveOptions(experimental_sharding_callback=policy)
    signatures = {"serving_default": project}
    tf.saved_model.save(module, str(target), signatures=signatures, options=options)
    shards = sorted(p.name for p in (target / "variables").glob("variables.data-*"))
    if len(shards) < 2:
        raise RuntimeError(f"variables_sharded: expected several shards, got {shards}")
    return [f"{len(shards)} data shards, MaxShardSizePolicy(max_shard_size=700)"]


@fixture(
    "tf.train.Checkpoint prefix checkpoints/ckpt-1 (optimizer slots when tf_keras exists)",
    model="checkpoints",
    kind="checkpoint",
)
def build_checkpoint(target: Path, scratch: Path) -> list[str]:
    notes = []
    module = tf.Module()
    module.kernel = tf.Variable([[1.0, -1.0], [0.5, 2.0]], name="kernel")
    module.bias = tf.Variable([0.1, 0.2], name="bias")
    step = tf.Variable(1, dtype=tf.int64, name="step")
    objects: dict[str, Any] = {"model": module, "step": step}
    try:
        import tf_keras

        opt = tf_keras.optimizers.legacy.Adam(0.1)
        opt.apply_gradients(
            [(tf.ones_like(module.kernel), module.kernel), (tf.ones_like(module.bias), module.bias)]
        )
        objects["optimizer"] = opt
        notes.append("optimizer: tf_keras.optimizers.legacy.Adam after one step (slot variables)")
    except ImportError:
        notes.append("tf_keras not installed: no optimizer slot variables")
    ckpt = tf.train.Checkpoint(**objects)
    prefix = ckpt.save(str(target / "ckpt"))
    if Path(prefix).name != "ckpt-1":
        raise RuntimeError(f"checkpoint: unexpected prefix {prefix}")
    return notes


@fixture(
    "TF2 StaticHashTable initialized from an asset vocabulary; string input",
    run_cases=[
        (
            "run --dir {model} --tag_set serve --signature_def serving_default "
            '--input_exprs \'words=["the","cat","zebra",""]\''
        ),
    ],
)
def build_lookup_table(target: Path, scratch: Path) -> list[str]:
    vocab = _write_text(scratch / "vocab.txt", "the\ncat\nsat\non\nmat\n")

    class Lookup(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            initializer = tf.lookup.TextFileInitializer(
                str(vocab),
                tf.string,
                tf.lookup.TextFileIndex.WHOLE_LINE,
                tf.int64,
                tf.lookup.TextFileIndex.LINE_NUMBER,
            )
            self.table = tf.lookup.StaticHashTable(initializer, default_value=-1)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="words")])
        def __call__(self, words: Any) -> Any:
            return {"ids": self.table.lookup(words), "lengths": tf.strings.length(words)}

    module = Lookup()
    tf.saved_model.save(module, str(target), signatures={"serving_default": module.__call__})
    return []


@fixture(
    "TF Serving base dir: versions 1 and 2, and tmp-export-3 (not numeric, ignored)",
    kind="serving_base",
    run_cases=[
        (
            "run --dir {model}/2 --tag_set serve --signature_def serving_default "
            "--input_exprs 'x=[1.0,2.0]'"
        ),
    ],
)
def build_serving_base(target: Path, scratch: Path) -> list[str]:
    def export(path: Path, factor: float) -> None:
        module = tf.Module()
        module.factor = tf.Variable(factor, name="factor")

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(x: Any) -> Any:
            return {"y": x * module.factor}

        tf.saved_model.save(module, str(path), signatures={"serving_default": serve})

    for version, factor in (("1", 1.0), ("2", 2.0), ("tmp-export-3", 3.0)):
        export(target / version, factor)
    return ["y = x * factor; factor 1.0 in 1/, 2.0 in 2/, 3.0 in tmp-export-3/"]


def build(out: Path, names: list[str]) -> dict[str, list[str]]:
    """Build the named fixtures under ``out``; returns each fixture's notes."""
    _import_tf()
    notes: dict[str, list[str]] = {}
    for name in names:
        fx = FIXTURES[name]
        target = out / fx.model_path
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(out / "inputs" / name, ignore_errors=True)
        for old in (out / "expected").glob(f"{name}.*"):
            old.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"smlite-fx-{name}-") as scratch:
            if fx.kind == "checkpoint":
                target.mkdir(parents=True)
            notes[name] = fx.build(target, Path(scratch))
        print(f"built    {name:24s} {time.monotonic() - started:5.1f} s", file=sys.stderr)
    return notes


# ------------------------------------------------------------------------------------------------
# Record phase (a fresh process: TensorFlow imported, keras not).
# ------------------------------------------------------------------------------------------------


class SavedModelCli:
    """Calls saved_model_cli's own ``show``/``scan``/``run`` functions in this process.

    saved_model_cli keeps its options in absl flags: every call resets the flags it defines to
    their defaults, parses the argv with its own argparse parser (so argument errors behave the
    same) and runs the command's function with stdout captured.  This is ~100x faster than a
    subprocess per call; tests/tf/test_fixtures_live.py checks it against the real command.
    Not for ``show --all`` on TF2 models: see ``_fresh_show_all``.
    """

    def __init__(self) -> None:
        from absl import flags
        from tensorflow.python.tools import saved_model_cli

        self._cli = saved_model_cli
        self._flags = flags.FLAGS
        self._names = [f.name for f in self._flags.get_flags_for_module(saved_model_cli.__name__)]

    def __call__(self, argv: Sequence[str]) -> dict[str, Any]:
        for name in self._names:
            self._flags[name].unparse()
        self._flags.mark_as_parsed()
        out, err = io.StringIO(), io.StringIO()
        result: dict[str, Any] = {"exit": 0, "error": None, "error_type": None}
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                args = self._cli.create_parser().parse_args(list(argv))
                args.func()
            except SystemExit as e:
                result["exit"] = e.code if isinstance(e.code, int) else 1
                result["error"] = err.getvalue()
                result["error_type"] = "SystemExit"
            except Exception as e:  # the CLI would die with this traceback
                result["exit"] = 1
                result["error"] = str(e)
                result["error_type"] = type(e).__name__
        result["stdout"] = out.getvalue()
        return result


# The console script saved_model_cli is ``tensorflow.python.tools.saved_model_cli:main``.
_CLI_MAIN = (
    "import sys; sys.argv[0] = 'saved_model_cli'; "
    "from tensorflow.python.tools.saved_model_cli import main; main()"
)


def _fresh_show_all(model_dir: Path) -> dict[str, Any]:
    """``saved_model_cli show --dir D --all`` in a new process, as a user runs it.

    The Concrete Functions section cannot be recorded in-process: saved_model_cli numbers a
    function's options in the order of the *loaded* concrete functions' names, and loading renames
    every function ``__inference_<name>_<uid>`` from TensorFlow's process-wide uid counter, whose
    value depends on everything the process did before (the names are compared as strings, so
    ``_115`` sorts before ``_18``).  Only a fresh process shows what users see.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    argv = ["show", "--dir", str(model_dir), "--all"]
    proc = subprocess.run(
        [sys.executable, "-c", _CLI_MAIN, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    error = error_type = None
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
        error_type, _, error = last.partition(": ")
        error_type = error_type.rpartition(".")[2]
    return {
        "stdout": proc.stdout,
        "exit": proc.returncode,
        "error": error,
        "error_type": error_type,
    }


def _has_object_graph(sm: Any) -> bool:
    return any(mg.HasField("object_graph_def") for mg in sm.meta_graphs)


def _show_and_scan_cases(sm: Any) -> list[tuple[str, ...]]:
    """Every show form for every tag-set and signature, the odd flag combos, and scan."""
    cases: list[tuple[str, ...]] = [("show",), ("show", "--all")]
    first_tags: str | None = None
    first_sig: str | None = None
    for mg in sm.meta_graphs:
        tags = ",".join(mg.meta_info_def.tags)
        cases.append(("show", "--tag_set", tags))
        cases.append(("show", "--tag_set", tags, "--list_ops"))
        for key in sorted(mg.signature_def):
            cases.append(("show", "--tag_set", tags, "--signature_def", key))
            if first_sig is None:
                first_tags, first_sig = tags, key
        if first_tags is None:
            first_tags = tags
    cases.append(("show", "--list_ops"))
    cases.append(("show", "--all", "--list_ops"))
    cases.append(("show", "--tag_set", NO_SUCH_TAG))
    cases.append(("show", "--tag_set", NO_SUCH_TAG, "--list_ops"))
    cases.append(("show", "--tag_set", NO_SUCH_TAG, "--signature_def", "x"))
    if first_tags is not None:
        cases.append(("show", "--tag_set", first_tags, "--signature_def", NO_SUCH_SIGNATURE))
    if first_sig is not None and first_tags is not None:
        cases.append(("show", "--signature_def", first_sig))
        cases.append(("show", "--tag_set", first_tags, "--signature_def", first_sig, "--list_ops"))
        cases.append(
            ("show", "--all", "--tag_set", first_tags, "--signature_def", first_sig, "--list_ops")
        )
    cases.append(("scan",))
    for mg in sm.meta_graphs:
        cases.append(("scan", "--tag_set", ",".join(mg.meta_info_def.tags)))
    cases.append(("scan", "--op_denylist", "Const,NoOp,SmliteNoSuchOp"))
    cases.append(("scan", "--op_denylist", ""))
    cases.append(("scan", "--op_denylist", ","))
    if first_tags is not None:
        cases.append(("scan", "--tag_set", first_tags, "--op_denylist", "Placeholder, Identity"))
    cases.append(("scan", "--tag_set", NO_SUCH_TAG))
    return [(c[0], "--dir", "{model}", *c[1:]) for c in cases]


def _substitute(text: str | None, paths: dict[str, str]) -> str | None:
    if text is None:
        return None
    # Longest first, so that {model}/2 style paths are not half-replaced.
    for placeholder, path in sorted(paths.items(), key=lambda kv: -len(kv[1])):
        text = text.replace(path, placeholder)
    return text


def _run_case(
    cli: SavedModelCli,
    argv: Sequence[str],
    paths: dict[str, str],
    fresh: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    concrete = []
    for arg in argv:
        for placeholder, path in paths.items():
            arg = arg.replace(placeholder, path)
        concrete.append(arg)
    model_dir = concrete[concrete.index("--dir") + 1] if "--dir" in concrete else None
    if argv[0] == "show" and "--all" in argv and model_dir in fresh:
        # show() ignores every other flag when --all is set: one fresh run answers all forms.
        result = fresh[model_dir]
    else:
        result = cli(concrete)
    return {
        "argv": list(argv),
        "stdout": _substitute(result["stdout"], paths),
        "exit": result["exit"],
        "error": _substitute(result["error"], paths),
        "error_type": result["error_type"],
    }


def _npz_view(array: Any) -> str | None:
    """The unsigned view numpy can store for dtypes only ml_dtypes knows (bfloat16, int4...)."""
    if type(array.dtype).__module__.startswith("numpy.dtypes") and array.dtype.kind != "V":
        return None
    return f"uint{array.dtype.itemsize * 8}"


def _record_variables(prefix: Path, rel: str, arrays: dict[str, Any]) -> dict[str, Any]:
    reader = tf.train.load_checkpoint(str(prefix))
    dtypes = reader.get_variable_to_dtype_map()
    entries = []
    for key, shape in tf.train.list_variables(str(prefix)):
        dtype = dtypes[key]
        entry: dict[str, Any] = {
            "key": key,
            "dtype": dtype.name,
            "shape": list(shape),
            "npz": None,
            "npz_view": None,
            "numpy_dtype": None,
            "strings_b64": None,
        }
        if key != "_CHECKPOINTABLE_OBJECT_GRAPH":
            value = reader.get_tensor(key)
            if dtype == tf.string:
                flat = np.asarray(value, dtype=object).reshape(-1)
                entry["strings_b64"] = [base64.b64encode(bytes(s)).decode() for s in flat]
            else:
                value = np.asarray(value)
                entry["numpy_dtype"] = value.dtype.name
                view = _npz_view(value)
                npz_name = f"v{len(arrays)}"
                if view is not None:
                    value = value.view(view)
                # A C-ordered copy; np.ascontiguousarray would turn scalars into shape (1,).
                arrays[npz_name] = np.array(value, order="C", copy=True)
                entry["npz"] = npz_name
                entry["npz_view"] = view
        entries.append(entry)
    return {"prefix": rel, "entries": entries}


def _record_fingerprint(model_dir: Path) -> dict[str, Any] | None:
    if not (model_dir / "fingerprint.pb").exists():
        return None
    from tensorflow.core.protobuf import fingerprint_pb2

    fp = tf.saved_model.experimental.read_fingerprint(str(model_dir))
    raw = fingerprint_pb2.FingerprintDef()
    raw.ParseFromString((model_dir / "fingerprint.pb").read_bytes())
    return {
        "saved_model_checksum": int(fp.saved_model_checksum),
        "graph_def_program_hash": int(fp.graph_def_program_hash),
        "signature_def_hash": int(fp.signature_def_hash),
        "saved_object_graph_hash": int(fp.saved_object_graph_hash),
        "checkpoint_hash": int(fp.checkpoint_hash),
        "singleprint": fp.singleprint(),
        "version_producer": int(raw.version.producer),
        "uuid": raw.uuid,
    }


def _model_dirs(fx: Fixture, root: Path) -> list[tuple[str, Path]]:
    """(path relative to the fixture, directory) of every SavedModel inside the fixture."""
    if fx.kind == "serving_base":
        return [(p.name, p) for p in sorted(root.iterdir()) if p.is_dir()]
    if fx.kind == "checkpoint":
        return []
    return [("", root)]


def record(out: Path, names: list[str], notes: dict[str, list[str]]) -> None:
    _import_tf()
    from tensorflow.python.tools import saved_model_utils

    cli = SavedModelCli()
    expected = out / "expected"
    expected.mkdir(parents=True, exist_ok=True)
    # Fresh-process `show --all` runs (~3 s each) go to two worker threads right away.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    pending: dict[str, concurrent.futures.Future[dict[str, Any]]] = {}
    for name in names:
        fx = FIXTURES[name]
        candidates = {
            "saved_model": [out / fx.model_path],
            "serving_base": [out / fx.model_path / "2"],
        }.get(fx.kind, [])
        for model_dir in candidates:
            if _has_object_graph(saved_model_utils.read_saved_model(str(model_dir))):
                pending[str(model_dir)] = pool.submit(_fresh_show_all, model_dir)
    for name in names:
        started = time.monotonic()
        fx = FIXTURES[name]
        root = out / fx.model_path
        fresh = {
            d: f.result()
            for d, f in pending.items()
            if d == str(root) or d.startswith(str(root) + os.sep)
        }
        with tempfile.TemporaryDirectory(prefix="smlite-fx-outdir-") as outdir:
            paths = {
                "{model}": str(root),
                "{inputs}": str(out / "inputs" / name),
                "{outdir}": str(Path(outdir) / "out"),
            }
            doc: dict[str, Any] = {
                "schema": SCHEMA_VERSION,
                "name": name,
                "tf_version": tf.__version__,
                "model": fx.model_path,
                "kind": fx.kind,
                "description": fx.description,
                "tag_sets": [],
                "cases": [],
                "run_cases": [],
                "variables": [],
                "fingerprint": None,
                "notes": notes.get(name, []),
            }
            arrays: dict[str, Any] = {}
            if fx.kind == "saved_model":
                sm = saved_model_utils.read_saved_model(str(root))
                doc["tag_sets"] = [list(mg.meta_info_def.tags) for mg in sm.meta_graphs]
                argvs = [*_show_and_scan_cases(sm), *fx.extra_cases]
            elif fx.kind == "serving_base":
                argvs = [("show", "--dir", "{model}"), ("scan", "--dir", "{model}")]
                for rel, _ in _model_dirs(fx, root):
                    argvs.append(("show", "--dir", f"{{model}}/{rel}"))
                sm = saved_model_utils.read_saved_model(str(root / "2"))
                doc["tag_sets"] = [list(mg.meta_info_def.tags) for mg in sm.meta_graphs]
                argvs += [
                    tuple(a.replace("{model}", "{model}/2") for a in c)
                    for c in _show_and_scan_cases(sm)
                ]
            else:
                argvs = []
            doc["cases"] = [_run_case(cli, argv, paths, fresh) for argv in argvs]
            doc["run_cases"] = [_run_case(cli, argv, paths, fresh) for argv in fx.run_cases]

            if fx.kind == "checkpoint":
                prefixes = [("ckpt-1", root / "ckpt-1")]
            else:
                prefixes = []
                for rel, model_dir in _model_dirs(fx, root):
                    if (model_dir / "variables" / "variables.index").exists():
                        prefix_rel = f"{rel}/variables/variables" if rel else "variables/variables"
                        prefixes.append((prefix_rel, model_dir / "variables" / "variables"))
            for rel, prefix in prefixes:
                doc["variables"].append(_record_variables(prefix, rel, arrays))
            fingerprints = {
                rel: _record_fingerprint(model_dir) for rel, model_dir in _model_dirs(fx, root)
            }
            if fx.kind == "saved_model":
                doc["fingerprint"] = fingerprints.get("")
            elif fx.kind == "serving_base":
                doc["fingerprint"] = fingerprints
        with (expected / f"{name}.json").open("w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")
        if arrays:
            np.savez(expected / f"{name}.variables.npz", **arrays)
        print(
            f"recorded {name:24s} {time.monotonic() - started:5.1f} s "
            f"({len(doc['cases'])} show/scan, {len(doc['run_cases'])} run cases)",
            file=sys.stderr,
        )
    pool.shutdown()


# ------------------------------------------------------------------------------------------------


def _available(fx: Fixture) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in fx.needs)


def _select(only: str | None) -> tuple[list[str], list[str]]:
    """(fixtures to make, fixtures skipped for a missing optional module)."""
    if only:
        names = [n.strip() for n in only.split(",") if n.strip()]
        unknown = [n for n in names if n not in FIXTURES]
        if unknown:
            raise SystemExit(
                f"unknown fixture(s): {', '.join(unknown)}; choose from: {', '.join(FIXTURES)}"
            )
    else:
        names = list(FIXTURES)
    chosen = [n for n in names if _available(FIXTURES[n])]
    return chosen, [n for n in names if n not in chosen]


@contextlib.contextmanager
def _timer(label: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    print(f"{label}: {time.monotonic() - started:.1f} s", file=sys.stderr)


@dataclass
class _Args:
    out: Path
    only: str | None
    record_only: bool = False
    notes_file: Path | None = None
    names: list[str] = field(default_factory=list)


def _parse(argv: Sequence[str] | None) -> _Args:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixtures directory")
    parser.add_argument(
        "--only", help=f"comma-separated subset of: {', '.join(FIXTURES)}", default=None
    )
    parser.add_argument("--list", action="store_true", help="list the fixtures and exit")
    # Internal: the record phase, run in a fresh interpreter by the build phase.
    parser.add_argument("--record-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--notes-file", type=Path, default=None, help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    if ns.list:
        for fx in FIXTURES.values():
            extra = f"  (needs {', '.join(fx.needs)})" if fx.needs else ""
            print(f"{fx.name:24s} {fx.description}{extra}")
        raise SystemExit(0)
    return _Args(
        out=ns.out.resolve(), only=ns.only, record_only=ns.record_only, notes_file=ns.notes_file
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    names, skipped = _select(args.only)
    if args.record_only:
        notes = json.loads(args.notes_file.read_text()) if args.notes_file else {}
        record(args.out, names, notes)
        return 0
    for name in skipped:
        print(f"skipped  {name}: needs {', '.join(FIXTURES[name].needs)}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.only:
        for sub in ("models", "expected", "inputs", "checkpoints"):
            shutil.rmtree(args.out / sub, ignore_errors=True)
    with _timer("build phase"):
        notes = build(args.out, names)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(notes, f)
    try:
        with _timer("record phase"):
            cmd = [
                sys.executable, str(Path(__file__).resolve()), "--out", str(args.out),
                "--only", ",".join(names), "--record-only", "--notes-file", f.name,
            ]
            subprocess.run(cmd, check=True)
    finally:
        os.unlink(f.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
