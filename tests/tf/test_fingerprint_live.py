"""Fingerprints recomputed by smlite equal TensorFlow's on freshly exported models.

Two oracles: ``tf.saved_model.experimental.read_fingerprint`` (what the export wrote to
fingerprint.pb) and TensorFlow's C++ ``CreateFingerprintDef`` run on the directory now (which
also fingerprints TF1 exports, which have no fingerprint.pb).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import smlite
from smlite.formats import farmhash
from smlite.formats.farmhash import fingerprint64_py
from smlite.model.fingerprint import FIELDS, compute, fingerprint

tf = pytest.importorskip("tensorflow")


def _model_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "models").rglob("saved_model.pb"))


def _cpp_fingerprint(model: Path) -> dict[str, int]:
    from tensorflow.core.protobuf import fingerprint_pb2
    from tensorflow.python.saved_model.pywrap_saved_model import fingerprinting

    proto = fingerprint_pb2.FingerprintDef.FromString(
        fingerprinting.CreateFingerprintDef(str(model))
    )
    return {name: getattr(proto, name) for name in FIELDS}


def test_fresh_exports_match_tensorflow(fresh_fixtures: Path) -> None:
    models = _model_dirs(fresh_fixtures)
    assert models
    checked_stored = 0
    for model in models:
        with smlite.open(model) as sm:
            fp = fingerprint(sm)
            computed = compute(sm).as_dict()
        assert computed == _cpp_fingerprint(model), model
        if (model / "fingerprint.pb").exists():
            stored = tf.saved_model.experimental.read_fingerprint(str(model))
            assert fp.computed.singleprint == stored.singleprint(), model
            assert fp.computed.saved_model_checksum == stored.saved_model_checksum
            assert fp.matches, (model, fp.mismatches)
            checked_stored += 1
    assert checked_stored >= 3


def test_a_module_saved_now(tmp_path: Path) -> None:
    class M(tf.Module):
        def __init__(self) -> None:
            self.v = tf.Variable([1.0, 2.0, 3.0])
            self.table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(["a", "b"], [1, 2]), default_value=-1
            )

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def __call__(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            return {
                "y": x * self.v,
                "z": tf.reduce_sum(x, axis=1),
                "k": self.table.lookup(tf.constant("a")),
            }

    path = tmp_path / "m"
    tf.saved_model.save(M(), str(path))
    stored = tf.saved_model.experimental.read_fingerprint(str(path))
    with smlite.open(path) as sm:
        fp = fingerprint(sm)
    assert fp.matches
    assert fp.computed.singleprint == stored.singleprint()


def test_pure_python_farmhash_matches_the_native_one() -> None:
    if not farmhash.NATIVE:
        pytest.skip("no native farmhash module in this environment")
    rng = random.Random(99)
    for n in range(0, 301):
        for _ in range(3):
            data = rng.randbytes(n)
            assert fingerprint64_py(data) == farmhash.fingerprint64(data), n


def test_an_export_over_100_mb_matches_tensorflow(tmp_path: Path) -> None:
    """A saved_model.pb of over 100 MB (folded constants) and one of its string constants."""
    import numpy as np

    rng = np.random.default_rng(0)
    consts = [rng.standard_normal(13_500_000 // 4, np.float32) for _ in range(8)]

    class Big(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            total = tf.constant(0.0)
            for c in consts:
                total += tf.reduce_sum(tf.constant(c)[: tf.shape(x)[0]] * x)
            return {"y": total, "s": tf.strings.join([tf.constant("a"), tf.constant("b")])}

    path = tmp_path / "big"
    module = Big()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    assert (path / "saved_model.pb").stat().st_size > 100 * 2**20
    stored = tf.saved_model.experimental.read_fingerprint(str(path))
    with smlite.open(path) as sm:
        fp = fingerprint(sm)
    assert fp.matches, fp.mismatches
    assert fp.computed.singleprint == stored.singleprint()
    assert fp.computed.saved_model_checksum == stored.saved_model_checksum
