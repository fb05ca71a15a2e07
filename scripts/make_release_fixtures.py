"""Export small SavedModels with an older TensorFlow release, and record what that release wrote.

smlite judges ``fingerprint.pb`` by the formula of the *writing* release (docs/fingerprint.md).
These fixtures are the evidence: real exports by each release, committed small under
``tests/fixtures/models/release_<major>_<minor>_<kind>/``, with the facts of the export in
``tests/fixtures/releases/<name>.json``.

Run it with the Python of a venv that has that release (``tensorflow-cpu==2.X.*``; for 2.16 and
newer also ``tf-keras==2.X.*``, since ``tf.keras`` is Keras 3 there)::

    /work/venvs/tf-2.14/bin/python scripts/make_release_fixtures.py
    /work/venvs/tf-2.20/bin/python scripts/make_release_fixtures.py --out /tmp/fx --only module

Kinds exported (each into a fresh directory, replacing an older export of the same release):

========  ==============================================================================
kind      what it is
========  ==============================================================================
module    ``tf.Module`` with a variable and one ``tf.function`` signature,
          ``tf.saved_model.save`` (fingerprint.pb from 2.11 on)
keras     Keras 2 functional model (``tf.keras`` up to 2.15, ``tf_keras`` from 2.16),
          ``model.save(path, save_format="tf")``
tf1       TF1 graph, ``tf.compat.v1.saved_model.Builder``: a lookup table initialized from
          an asset (``vocab.txt`` in the ``saved_model_assets`` collection), a variable,
          one ``predict`` signature, ``main_op`` = table initializer
========  ==============================================================================

The facts file holds only what TensorFlow itself reports, no smlite reading:
``{"schema": 1, "name", "kind", "tf_version", "tf_git_version", "keras_version",
"protobuf_version", "files": [relative paths], "fingerprint": null | {field: int, ...,
"version_producer": int, "uuid": str}}`` where ``fingerprint`` is ``fingerprint.pb`` parsed
with the release's own ``fingerprint_pb2`` (null when the release did not write one).

Nothing here downloads anything; the release's wheels come from the package registry when the
venv is built (``python -m venv V && V/bin/pip install "tensorflow-cpu==2.14.*"``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "fixtures"
SCHEMA_VERSION = 1
_FINGERPRINT_FIELDS = (
    "saved_model_checksum",
    "graph_def_program_hash",
    "signature_def_hash",
    "saved_object_graph_hash",
    "checkpoint_hash",
)


def _tf() -> Any:
    import tensorflow as tf

    return tf


def _release(tf: Any) -> tuple[int, int]:
    major, minor = tf.__version__.split(".")[:2]
    return int(major), int(minor)


def build_module(target: Path) -> None:
    tf = _tf()

    class Scale(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable([2.0, 3.0], name="w")

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def __call__(self, x: Any) -> Any:
            return {"y": x * self.w}

    m = Scale()
    tf.saved_model.save(m, str(target), signatures={"serving_default": m.__call__})


def _keras() -> Any:
    tf = _tf()
    if _release(tf) >= (2, 16):
        import tf_keras

        return tf_keras
    return tf.keras


def build_keras(target: Path) -> None:
    keras = _keras()
    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(3,), name="features")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(1, name="score")(hidden)
    model = keras.Model(inputs, outputs, name="tiny")
    model.save(str(target), save_format="tf")


def build_tf1(target: Path) -> None:
    tf = _tf()
    v1 = tf.compat.v1
    with tempfile.TemporaryDirectory() as scratch:
        vocab = Path(scratch) / "vocab.txt"
        vocab.write_text("apple\nbanana\ncherry\n")
        with tf.Graph().as_default() as graph:
            vocab_path = tf.constant(str(vocab), name="vocab_path")
            v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, vocab_path)
            table = tf.lookup.StaticHashTable(
                tf.lookup.TextFileInitializer(
                    vocab_path,
                    tf.string,
                    tf.lookup.TextFileIndex.WHOLE_LINE,
                    tf.int64,
                    tf.lookup.TextFileIndex.LINE_NUMBER,
                ),
                default_value=-1,
            )
            words = v1.placeholder(tf.string, [None], name="words")
            bias = v1.get_variable("bias", initializer=tf.constant(10, tf.int64))
            ids = tf.add(table.lookup(words), bias, name="ids")
            with v1.Session(graph=graph) as sess:
                sess.run(v1.global_variables_initializer())
                sess.run(v1.tables_initializer())
                signature = v1.saved_model.predict_signature_def({"words": words}, {"ids": ids})
                builder = v1.saved_model.Builder(str(target))
                builder.add_meta_graph_and_variables(
                    sess,
                    ["serve"],
                    signature_def_map={"serving_default": signature},
                    assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS),
                    main_op=v1.tables_initializer(),
                    strip_default_attrs=True,
                )
                builder.save()


BUILDERS: dict[str, Callable[[Path], None]] = {
    "module": build_module,
    "keras": build_keras,
    "tf1": build_tf1,
}


def facts(tf: Any, name: str, kind: str, model: Path) -> dict[str, Any]:
    import google.protobuf

    keras_version = None
    if kind == "keras":
        from importlib.metadata import version

        keras_version = version("tf-keras" if _release(tf) >= (2, 16) else "keras")
    fingerprint = None
    fp_path = model / "fingerprint.pb"
    if fp_path.exists():
        from tensorflow.core.protobuf import fingerprint_pb2

        fp = fingerprint_pb2.FingerprintDef.FromString(fp_path.read_bytes())
        # TF 2.11 named field 1 graph_def_checksum; read it by number.
        by_number = {f.number: v for f, v in fp.ListFields()}
        fingerprint = {
            name_: by_number.get(i + 1, 0) for i, name_ in enumerate(_FINGERPRINT_FIELDS)
        }
        fingerprint["version_producer"] = fp.version.producer
        fingerprint["uuid"] = getattr(fp, "uuid", "")
    return {
        "schema": SCHEMA_VERSION,
        "name": name,
        "kind": kind,
        "tf_version": tf.__version__,
        "tf_git_version": tf.version.GIT_VERSION,
        "keras_version": keras_version,
        "protobuf_version": google.protobuf.__version__,
        "files": sorted(p.relative_to(model).as_posix() for p in model.rglob("*") if p.is_file()),
        "fingerprint": fingerprint,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", default=",".join(BUILDERS), help="comma-separated kinds")
    args = parser.parse_args(argv)
    tf = _tf()
    major, minor = _release(tf)
    for kind in args.only.split(","):
        name = f"release_{major}_{minor}_{kind}"
        target = args.out / "models" / name
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        BUILDERS[kind](target)
        record = facts(tf, name, kind, target)
        facts_dir = args.out / "releases"
        facts_dir.mkdir(parents=True, exist_ok=True)
        (facts_dir / f"{name}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"{name}: {len(record['files'])} files, fingerprint: {record['fingerprint']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
