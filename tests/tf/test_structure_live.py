"""smlite's StructuredValue decoding and object-graph listings against TensorFlow 2.21 itself.

* Objects encoded by TensorFlow's ``nested_structure_coder`` decode in smlite to objects whose
  ``repr``/``str``/type name are those of the object TensorFlow's ``decode_proto`` rebuilds.
* The same holds for every StructuredValue and TypeSpec stored in the fixture models (committed
  and freshly exported ones).
* The names smlite computes for loaded functions (they order ``show --all``'s options) are the
  ones ``tf.saved_model.load`` gives, and ``variables``/``trainable_variables`` list what the
  loaded object lists.

Dict items are compared sorted: TensorFlow builds dicts in protobuf map order, which is not
stable, and smlite sorts them.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smlite import pb
from smlite.model.functions import loaded_function_names
from smlite.model.object_graph import object_graph
from smlite.model.saved_model import SavedModel
from smlite.model.structure import type_name
from smlite.model.structure_decoder import decode_structure
from smlite.render.tf_repr import tf_repr, tf_str
from tests.support import samcli
from tests.tf.conftest import quiet_tf_env

tf = pytest.importorskip("tensorflow")

from tensorflow.python.saved_model import nested_structure_coder as coder  # noqa: E402


def _sorted_dicts(text: str) -> str:
    return samcli._sort_dicts(text)


def _tf_decode(data: bytes) -> Any:
    from tensorflow.core.protobuf import struct_pb2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return coder.decode_proto(struct_pb2.StructuredValue.FromString(data))


def _assert_same(data: bytes, what: str) -> None:
    theirs = _tf_decode(data)
    ours = decode_structure(pb.StructuredValue.FromString(data))
    assert _sorted_dicts(tf_repr(ours)) == _sorted_dicts(repr(theirs)), what
    assert _sorted_dicts(tf_str(ours)) == _sorted_dicts(str(theirs)), what
    assert type_name(ours) == type(theirs).__name__, what


Point = collections.namedtuple("Point", ["x", "y"])


class Pair(tf.experimental.ExtensionType):
    # A registered name is what lets TensorFlow encode the spec.
    __name__ = "smlite_tests.Pair"
    left: tf.Tensor
    right: tf.Tensor
    label: str = "pair"


def _objects() -> Iterator[tuple[str, Any]]:
    from tensorflow.python.data.ops import iterator_ops
    from tensorflow.python.distribute.values import PerReplicaSpec
    from tensorflow.python.framework.tensor import BoundedTensorSpec
    from tensorflow.python.ops import resource_variable_ops
    from tensorflow.python.ops.ragged.row_partition import RowPartitionSpec

    spec = tf.TensorSpec
    yield "none", None
    yield "scalars", (True, False, 0, -(2**63), 2**63 - 1, 1.5, -0.0, "", 'it\'s "q"\n')
    yield "floats", (float("nan"), float("inf"), float("-inf"), 1e300, 1 / 3)
    yield "unicode", ("é\u202e\x1b[31m", ["a", ("b",)])
    yield "containers", ([], (), {}, [[]], ((),), {"a": {}})
    yield "dict", {"z": 1, "a": [1, "x"], "m": (None, {"k": 2.0})}
    yield "namedtuple", Point(x=1, y=Point(x=[1], y="s"))
    yield "shapes", (tf.TensorShape(None), tf.TensorShape([]), tf.TensorShape([None, 3]))
    more = tuple(tf.dtypes.as_dtype(v) for v in (24, 29, 101))
    yield "dtypes", (tf.float32, tf.string, tf.bfloat16, tf.resource, tf.variant, *more)
    yield "tensor_spec", (spec([2], tf.float32, "x"), spec(None, tf.int64), spec([], tf.bool, ""))
    yield "bounded", BoundedTensorSpec([2], tf.float32, 0.0, 1.0, "b")
    yield "bounded_int", BoundedTensorSpec([3], tf.int32, [0, 1, 2], 10)
    yield "bounded_2d", BoundedTensorSpec([2, 2], tf.float64, -1.5, [[1.0, 2.0], [3.0, 4.0]])
    yield "sparse", tf.SparseTensorSpec([None, 4], tf.float32)
    yield "sparse_unknown", tf.SparseTensorSpec(None, tf.int64)
    yield "ragged", tf.RaggedTensorSpec([None, None], tf.int32, 1, tf.int64)
    yield "ragged3", tf.RaggedTensorSpec([2, None, None], tf.float32, 2, tf.int32)
    yield "ragged_unknown_rank", tf.RaggedTensorSpec(None, tf.string, 2)
    yield (
        "ragged_flat_values",
        tf.RaggedTensorSpec(
            [None, None, 3],
            ragged_rank=1,
            dtype=None,
            flat_values_spec=tf.RaggedTensorSpec([None, 3], tf.float32, 0),
        ),
    )
    yield "indexed_slices", tf.IndexedSlicesSpec([None, 3], tf.float32, tf.int32, tf.int32, [2])
    yield "indexed_slices_no_dense", tf.IndexedSlicesSpec([5, 3], tf.float16, tf.int64, None)
    yield "tensor_array", tf.TensorArraySpec([2], tf.float32, True, False)
    yield "tensor_array_default", tf.TensorArraySpec(None, tf.int32)
    yield "dataset", tf.data.DatasetSpec(spec([], tf.int64))
    yield "dataset_dict", tf.data.DatasetSpec({"b": spec([None], tf.string), "a": (spec([1]),)}, [])
    yield "dataset_batched", tf.data.DatasetSpec(spec([3], tf.int32), [None])
    yield "iterator", iterator_ops.IteratorSpec(spec([2], tf.float32))
    yield "optional", tf.OptionalSpec(spec([2], tf.int32))
    yield "optional_nested", tf.OptionalSpec((spec([]), {"k": spec([1], tf.string)}))
    yield "per_replica", PerReplicaSpec(spec([2]), spec([2]))
    yield "variable", resource_variable_ops.VariableSpec([2, 3], tf.float32)
    yield "variable_alias", resource_variable_ops.VariableSpec(None, tf.int64, False, 3)
    yield "row_partition_default", RowPartitionSpec()
    yield "row_partition", RowPartitionSpec(nrows=3, nvals=None, uniform_row_length=2)
    yield "row_partition_nvals", RowPartitionSpec(nrows=None, nvals=6, uniform_row_length=3)
    yield "row_partition_int32", RowPartitionSpec(nrows=0, dtype=tf.int32)
    yield "numpy", np.array([[1, 2], [3, 4]], dtype=np.int32)
    yield "numpy_scalar", np.array(2.5, dtype=np.float32)
    yield "numpy_strings", np.array([b"a", b"bc"])
    yield "numpy_bool", np.array([True, False])
    yield "tensor", tf.constant([1.0, 2.0])
    yield "tensor_scalar", tf.constant(3)
    yield "tensor_string", tf.constant("s")
    yield "tensor_bytes_array", tf.constant([b"x", b"yz"])
    yield (
        "nested_everything",
        (
            [spec([1], name="a"), tf.SparseTensorSpec([2], tf.int8)],
            {"r": tf.RaggedTensorSpec([None, None], tf.float32)},
            Point(x=tf.OptionalSpec(spec([])), y=None),
        ),
    )


@pytest.mark.parametrize(("label", "obj"), list(_objects()), ids=[n for n, _ in _objects()])
def test_decoding_matches_tensorflow(label: str, obj: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = coder.encode_structure(obj).SerializeToString()
    _assert_same(data, label)


def test_unregistered_extension_type_decodes_as_anonymous() -> None:
    from tensorflow.core.protobuf import struct_pb2

    value = Pair(tf.constant([1.0]), tf.constant([2.0]))
    proto = coder.encode_structure(value._type_spec)
    proto.type_spec_value.type_spec_class_name = "smlite_tests.NotImported.Spec"
    data = proto.SerializeToString()
    assert proto.type_spec_value.type_spec_class == struct_pb2.TypeSpecProto.EXTENSION_TYPE_SPEC
    _assert_same(data, "extension type")
    assert tf_repr(decode_structure(pb.StructuredValue.FromString(data))).startswith(
        "AnonymousExtensionTypeSpec(left=TensorSpec(shape=(1,)"
    )


# -- the fixture models ----------------------------------------------------------------------


def _structured_values(model: Path) -> Iterator[tuple[str, bytes]]:
    """Every StructuredValue of a model's object graphs and composite signature entries."""
    from google.protobuf import text_format
    from tensorflow.core.protobuf import saved_model_pb2, struct_pb2

    proto = saved_model_pb2.SavedModel()
    if (model / "saved_model.pb").exists():
        proto.ParseFromString((model / "saved_model.pb").read_bytes())
    else:
        text_format.Parse((model / "saved_model.pbtxt").read_text(encoding="utf-8"), proto)
    for m, mg in enumerate(proto.meta_graphs):
        og = mg.object_graph_def
        for name, cf in sorted(og.concrete_functions.items()):
            yield f"#{m} {name} inputs", cf.canonicalized_input_signature.SerializeToString()
            yield f"#{m} {name} outputs", cf.output_signature.SerializeToString()
        for i, node in enumerate(og.nodes):
            kind = node.WhichOneof("kind")
            spec = None
            if kind == "function" and node.function.HasField("function_spec"):
                spec = node.function.function_spec
            elif kind == "bare_concrete_function" and node.bare_concrete_function.HasField(
                "function_spec"
            ):
                spec = node.bare_concrete_function.function_spec
            if spec is not None:
                yield f"#{m} node {i} fullargspec", spec.fullargspec.SerializeToString()
                yield f"#{m} node {i} input_signature", spec.input_signature.SerializeToString()
        for key, sig in sorted(mg.signature_def.items()):
            for side, infos in (("in", sig.inputs), ("out", sig.outputs)):
                for k, info in sorted(infos.items()):
                    if info.WhichOneof("encoding") == "composite_tensor":
                        value = struct_pb2.StructuredValue()
                        value.type_spec_value.CopyFrom(info.composite_tensor.type_spec)
                        yield f"#{m} {key} {side} {k}", value.SerializeToString()


def _model_dirs(root: Path) -> list[tuple[str, Path]]:
    out = []
    for name in samcli.fixture_names(root):
        doc = samcli.load_expected(name, root)
        if doc["kind"] == "checkpoint":
            continue
        model = root / doc["model"]
        if doc["kind"] == "serving_base":
            model = model / "2"
        out.append((name, model))
    return out


def _check_model_structures(model: Path) -> int:
    failures = []
    count = 0
    for what, data in _structured_values(model):
        count += 1
        try:
            _assert_same(data, what)
        except AssertionError as e:
            failures.append(f"{what}: {e}")
    assert not failures, "\n".join(failures)
    return count


@pytest.mark.parametrize(("name", "model"), _model_dirs(samcli.FIXTURES))
def test_committed_fixture_structures_match_tensorflow(name: str, model: Path) -> None:
    _check_model_structures(model)


def test_fresh_fixture_structures_match_tensorflow(
    fresh_fixtures: Path, live_subset: tuple[str, ...]
) -> None:
    total = 0
    for name, model in _model_dirs(fresh_fixtures):
        if name in live_subset:
            total += _check_model_structures(model)
    assert total > 50


# -- names of loaded functions -----------------------------------------------------------------

# Loads each model the way saved_model_cli does (in a tf.Graph, checkpoint skipped) and prints
# the name TensorFlow gave each library function.  The first model is loaded in a fresh process,
# like saved_model_cli; later ones see a counter advanced by the earlier loads.
_LOAD_NAMES = r"""
import json, sys
from tensorflow.python.framework import ops
from tensorflow.python.saved_model import function_deserialization, load, load_options

found = []
original = function_deserialization.load_function_def_library

def recording(*args, **kwargs):
    functions = original(*args, **kwargs)
    found.append({name: fn.name.decode() for name, fn in functions.items()})
    return functions

load.function_deserialization.load_function_def_library = recording
result = {}
for path in sys.argv[1:]:
    found.clear()
    with ops.Graph().as_default():
        load.load(path, options=load_options.LoadOptions(experimental_skip_checkpoint=True))
    result[path] = found[0]
print(json.dumps(result))
"""


def _uid(name: str) -> int:
    return int(name.rsplit("_", 1)[1])


def test_loaded_function_names_are_tensorflows() -> None:
    def tf2(model: Path) -> bool:
        with SavedModel.open(model) as sm:
            return len(sm.meta_graphs) == 1 and sm.meta_graphs[0].has_object_graph

    # polymorphic first: its option order is what depends on the absolute uids.
    candidates = sorted(_model_dirs(samcli.FIXTURES), key=lambda nm: nm[0] != "polymorphic")
    models = [str(m) for n, m in candidates if n != "custom_op" and tf2(m)]
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_NAMES, *models],
        capture_output=True,
        text=True,
        env=quiet_tf_env(),
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded: dict[str, dict[str, str]] = json.loads(proc.stdout.strip().splitlines()[-1])
    failures = []
    for i, model in enumerate(models):
        with SavedModel.open(model) as sm:
            mg = sm.meta_graphs[0]
            ours = loaded_function_names(mg.graph_index, mg.header.meta_info_def.stripped_op_list)
        theirs = loaded[model]
        assert set(ours) == set(theirs), model
        # Same base names; uids equal for the first (fresh-process) load, shifted by a constant
        # for the others.
        offsets = {_uid(theirs[k]) - _uid(ours[k]) for k in ours}
        bases = {k for k in ours if ours[k].rsplit("_", 1)[0] != theirs[k].rsplit("_", 1)[0]}
        if bases or len(offsets) > 1 or (i == 0 and offsets != {0}):
            failures.append(f"{model}: offsets {sorted(offsets)}, other names {sorted(bases)}")
    assert not failures, "\n".join(failures)


class _ControlFlow(tf.Module):
    """Functions whose graphs hold what shifts the loader's counter: branches, loops,
    datasets, a hash table, gradients, ops with several outputs."""

    def __init__(self) -> None:
        self.v = tf.Variable(2.0)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(["a", "b"], [1, 2]), -1
        )

    @tf.function
    def ctrl(self, x: Any, n: Any) -> Any:
        y = tf.cond(tf.reduce_sum(x) > 0, lambda: x * self.v, lambda: x - 1.0)
        _, acc = tf.while_loop(
            lambda i, acc: i < n,
            lambda i, acc: (i + 1, acc + tf.reduce_sum(y)),
            [tf.constant(0), tf.constant(0.0)],
        )
        u, _ = tf.unique(tf.cast(x, tf.int32))
        parts = tf.split(tf.concat([x, x], 0), 2)
        top, _ = tf.math.top_k(x, k=1)
        return acc + tf.cast(tf.size(u), tf.float32) + parts[0][0] + top[0]

    @tf.function
    def ds(self, x: Any) -> Any:
        d = tf.data.Dataset.from_tensor_slices(x).map(lambda e: e * 2.0).batch(2)
        return d.reduce(tf.constant(0.0), lambda a, b: a + tf.reduce_sum(b))

    @tf.function
    def lookup(self, s: Any) -> Any:
        return self.table.lookup(s)

    @tf.function
    def grads(self, x: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.sin(x) * self.v)
        return tape.gradient(y, x)


def test_loaded_function_names_with_control_flow(
    tmp_path: Path, saved_model_cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _ControlFlow()
    for dims in ([2], [3], [None]):
        m.ctrl.get_concrete_function(tf.TensorSpec(dims, tf.float32), tf.TensorSpec([], tf.int32))
    for dims in ([4], [None]):
        m.ds.get_concrete_function(tf.TensorSpec(dims, tf.float32))
        m.grads.get_concrete_function(tf.TensorSpec(dims, tf.float32))
    m.lookup.get_concrete_function(tf.TensorSpec([None], tf.string))
    model = tmp_path / "control_flow"
    tf.saved_model.save(m, str(model))
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_NAMES, str(model)],
        capture_output=True,
        text=True,
        env=quiet_tf_env(),
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])[str(model)]
    with SavedModel.open(model) as sm:
        mg = sm.meta_graphs[0]
        ours = loaded_function_names(mg.graph_index, mg.header.meta_info_def.stripped_op_list)
    assert ours == theirs
    # And the whole of show --all, Concrete Functions included.
    from smlite.cli import run

    live = saved_model_cli(["show", "--dir", str(model), "--all"])
    assert live.returncode == 0, live.stderr[-3000:]
    assert run(["show", "--dir", str(model), "--all"]) == 0
    assert capsys.readouterr().out == samcli.normalize(live.stdout)


# -- what the loaded object lists ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["keras3_export", "tf_keras_model", "module_one_signature", "variables_sharded"]
)
def test_variable_listings_match_the_loaded_object(name: str) -> None:
    model = samcli.model_dir(name)
    loaded = tf.saved_model.load(str(model))
    with SavedModel.open(model) as sm:
        og = object_graph(sm.meta_graphs[0])
    assert og is not None
    for attribute, ours in (
        ("variables", og.variables),
        ("trainable_variables", og.trainable_variables),
        ("non_trainable_variables", og.non_trainable_variables),
    ):
        theirs = getattr(loaded, attribute, None)
        if theirs is None:
            assert ours is None, attribute
            continue
        assert ours is not None, attribute
        assert [n.detail.tensor_name for _, n in ours] == [v.name for v in theirs], attribute
        assert [n.detail.trainable for _, n in ours] == [v.trainable for v in theirs], attribute
        assert [n.detail.dtype.name for _, n in ours] == [v.dtype.name for v in theirs]
        assert [list(n.detail.shape.dims) for _, n in ours] == [v.shape.as_list() for v in theirs]
