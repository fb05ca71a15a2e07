"""The TensorBundle reader against TensorFlow's own, on freshly written checkpoints.

For every generated bundle the keys, dtypes and shapes equal ``tf.train.list_variables``
(``_CHECKPOINTABLE_OBJECT_GRAPH`` aside) and every value equals
``tf.train.load_checkpoint(...).get_tensor`` bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import smlite
from smlite.model.variables import OBJECT_GRAPH_KEY, VariableSet, open_checkpoint

tf = pytest.importorskip("tensorflow")

# TF dtypes a variable can be saved with in TF 2.21 (qint16/quint16 and the *fnuz float8
# kinds have no AssignVariableOp kernel on CPU).
DTYPES = [
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex64",
    "complex128",
    "float8_e5m2",
    "float8_e4m3fn",
    "int4",
    "uint4",
    "qint8",
    "quint8",
    "qint32",
]


def _value(name: str, shape: tuple[int, ...], seed: int) -> Any:
    rng = np.random.default_rng(seed)
    dtype = tf.as_dtype(name)
    n = int(np.prod(shape))
    if name == "bool":
        return tf.constant(rng.integers(0, 2, n).astype(bool).reshape(shape))
    if name.startswith("complex"):
        return tf.constant(
            (rng.standard_normal(n) + 1j * rng.standard_normal(n)).reshape(shape), dtype
        )
    if name.startswith("q"):
        base = {"qint8": np.int8, "quint8": np.uint8, "qint32": np.int32}[name]
        return tf.constant(rng.integers(0, 100, n).astype(base).reshape(shape), dtype)
    if name.startswith(("int", "uint")):
        lo = 0 if name.startswith("uint") else -7
        return tf.constant(rng.integers(lo, 7, n).reshape(shape).astype(dtype.as_numpy_dtype))
    return (
        tf.constant(rng.standard_normal(n).astype(np.float32).reshape(shape))
        .numpy()
        .astype(dtype.as_numpy_dtype)
    )


def _all_dtypes(root: Path) -> Path:
    module = tf.Module()
    module.by_dtype = {
        name: tf.Variable(_value(name, (3, 5), i), name=f"v_{name}")
        for i, name in enumerate(DTYPES)
    }
    module.words = tf.Variable(
        tf.constant([[b"", b"a\x00b", b"\xff\xfe"], ["ünï".encode(), b"x" * 1000, b"\x00"]])
    )
    module.scalar = tf.Variable(2.5)
    module.empty = tf.Variable(tf.zeros([0, 7]))
    module.frozen = tf.Variable([1.0, 2.0], trainable=False, name="frozen")
    path = root / "all_dtypes"
    tf.saved_model.save(module, str(path))
    return path


def _sharded(root: Path) -> Path:
    module = tf.Module()
    rng = np.random.default_rng(3)
    module.big = tf.Variable(rng.standard_normal((96, 40)).astype(np.float32), name="big")
    module.wide = tf.Variable(rng.standard_normal((7, 300)).astype(np.float64), name="wide")
    module.layers = [tf.Variable(np.full([50], i, np.int32), name=f"layer_{i}") for i in range(8)]
    module.words = tf.Variable(tf.constant([b"w" * i for i in range(40)]), name="words")
    policy = tf.train.experimental.MaxShardSizePolicy(max_shard_size=4000)
    options = tf.saved_model.SaveOptions(experimental_sharding_callback=policy)
    path = root / "sharded"
    tf.saved_model.save(module, str(path), options=options)
    return path


def _tf1_partitioned(root: Path) -> Path:
    graph = tf.Graph()
    path = root / "tf1" / "model.ckpt"
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        emb = tf.compat.v1.get_variable(
            "emb",
            shape=[23, 6],
            partitioner=tf.compat.v1.fixed_size_partitioner(4),
            initializer=tf.compat.v1.random_normal_initializer(seed=1),
        )
        tf.compat.v1.get_variable(
            "cols",
            shape=[5, 12],
            dtype=tf.float64,
            partitioner=tf.compat.v1.fixed_size_partitioner(3, axis=1),
            initializer=tf.compat.v1.random_normal_initializer(seed=2),
        )
        tf.compat.v1.get_variable("w", initializer=tf.constant([[1.0, 2.0]]), trainable=False)
        tf.compat.v1.get_variable("names", initializer=tf.constant([b"a", b"", b"c\x00"]))
        sess.run(tf.compat.v1.global_variables_initializer())
        assert len(list(emb)) == 4
        saver = tf.compat.v1.train.Saver()
        prefix = saver.save(sess, str(path))
    return Path(prefix)


def _checkpoint(root: Path) -> Path:
    module = tf.Module()
    module.kernel = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4))
    module.bias = tf.Variable(np.zeros(4, np.float32))
    objects: dict[str, Any] = {"model": module, "step": tf.Variable(5, dtype=tf.int64)}
    try:
        import tf_keras

        opt = tf_keras.optimizers.legacy.Adam(0.1)
        opt.apply_gradients(
            [(tf.ones_like(module.kernel), module.kernel), (tf.ones_like(module.bias), module.bias)]
        )
        objects["optimizer"] = opt
    except ImportError:
        pass
    ckpt = tf.train.Checkpoint(**objects)
    return Path(ckpt.save(str(root / "training" / "ckpt")))


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "all_dtypes": _all_dtypes,
    "sharded": _sharded,
    "tf1_partitioned": _tf1_partitioned,
    "checkpoint": _checkpoint,
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("variables_live")
    return {name: build(root) for name, build in BUILDERS.items()}


def _prefix(path: Path) -> str:
    return str(path / "variables" / "variables") if path.is_dir() else str(path)


def _assert_same_as_tensorflow(vs: VariableSet, prefix: str) -> None:
    listed = tf.train.list_variables(prefix)
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    expected = [(k, s) for k, s in listed if k != OBJECT_GRAPH_KEY]
    assert [(k, list(v.shape)) for k, v in vs.items()] == [(k, list(s)) for k, s in expected]
    for key, _ in expected:
        var = vs[key]
        assert var.tf_dtype.name == dtypes[key].name, key
        ours = var.read()
        theirs = reader.get_tensor(key)
        if var.tf_dtype.name == "string":
            assert ours.shape == np.shape(theirs)
            assert [bytes(x) for x in ours.reshape(-1)] == [
                bytes(x) for x in np.asarray(theirs, dtype=object).reshape(-1)
            ], key
            continue
        theirs = np.asarray(theirs)
        assert ours.shape == theirs.shape, key
        assert ours.dtype.itemsize == theirs.dtype.itemsize, key
        assert np.ascontiguousarray(ours).tobytes() == np.ascontiguousarray(theirs).tobytes(), key
    assert vs.verify() == ()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_values_equal_tensorflow(generated: dict[str, Path], name: str) -> None:
    with open_checkpoint(_prefix(generated[name])) as vs:
        _assert_same_as_tensorflow(vs, _prefix(generated[name]))


def test_sharded_export_has_slices(generated: dict[str, Path]) -> None:
    with smlite.open(generated["sharded"]) as sm:
        vs = sm.variables
        assert vs.num_shards > 2
        assert any(v.partitions for v in vs.values())
        big = vs["big"]
        assert big.name == "big" and big.trainable is True


def test_all_dtypes_object_information(generated: dict[str, Path]) -> None:
    with smlite.open(generated["all_dtypes"]) as sm:
        vs = sm.variables
        frozen = vs["frozen"]
        assert frozen.key == "frozen/.ATTRIBUTES/VARIABLE_VALUE"
        assert (frozen.name, frozen.trainable) == ("frozen", False)
        assert vs["by_dtype.bfloat16"].name == "v_bfloat16"


def test_tf1_partitioned(generated: dict[str, Path]) -> None:
    with open_checkpoint(generated["tf1_partitioned"]) as vs:
        assert vs["emb"].partitions == 4
        assert vs["cols"].partitions == 3
        assert vs.object_graph is None
        # From model.ckpt.meta, the MetaGraphDef the Saver wrote beside the checkpoint.
        assert (vs["emb"].trainable, vs["w"].trainable) == (True, False)


def test_checkpoint_directory_resolves_to_latest(generated: dict[str, Path]) -> None:
    prefix = generated["checkpoint"]
    with open_checkpoint(prefix.parent) as vs:
        assert vs.prefix == prefix
        assert vs["model.kernel"].read().shape == (3, 4)
