"""smlite.model.object_graph: the SavedObjectGraph as typed nodes, a tree and the loaded listings.

``variables`` / ``trainable_variables`` are compared with what ``tf.saved_model.load`` lists in
tests/tf/test_structure_live.py; here the fixtures' values are pinned and hand-built graphs
exercise cycles, dangling references and unknown kinds.
"""

from __future__ import annotations

from typing import Any

import pytest

from smlite import pb
from smlite.errors import SmliteError
from smlite.model.dtypes import DType
from smlite.model.object_graph import (
    CapturedTensor,
    ObjectGraph,
    SavedAsset,
    SavedConstant,
    SavedResource,
    SavedVariable,
    UserObject,
    checkpoint_key,
    object_graph,
)
from smlite.model.saved_model import SavedModel
from smlite.model.tensors import TensorShape
from smlite.render.functions import object_tree_lines
from tests.support import samcli


def _og(name: str) -> ObjectGraph:
    with SavedModel.open(samcli.model_dir(name)) as sm:
        og = object_graph(sm.meta_graphs[0])
        assert og is not None
        og.functions  # noqa: B018 - resolve the loaded names while the file is open
        return og


def _names(listing: Any) -> list[str] | None:
    if listing is None:
        return None
    return [node.detail.tensor_name for _, node in listing]


def test_tf1_models_have_no_object_graph() -> None:
    with SavedModel.open(samcli.model_dir("tf1_multi_tag")) as sm:
        assert all(object_graph(mg) is None for mg in sm.meta_graphs)


def test_module_nodes() -> None:
    og = _og("module_one_signature")
    assert repr(og) == "ObjectGraph(nodes=9, concrete_functions=4)"
    root = og.root
    assert root.kind == "user_object"
    assert root.detail == UserObject("_generic_user_object", (1, 1, ()))
    assert [r.local_name for r in root.children] == ["v", "__call__", "mutate", "signatures"]
    v = og.nodes[1]
    assert v.detail == SavedVariable(
        "Variable", DType(1), TensorShape(()), True, "AUTO", "NONE", "", ()
    )
    assert v.label == "variable float32[] 'Variable'"
    assert og.nodes[2].kind == "function" and og.nodes[5].kind == "bare_concrete_function"
    # A plain tf.Module: the loaded object has no variables attribute.
    assert og.variables is None and og.trainable_variables is None
    assert [(p, n.id) for p, n in og.all_variables] == [(("v",), 1)]


def test_module_tree() -> None:
    assert object_tree_lines(_og("module_one_signature")) == [
        "(root) #0 user_object _generic_user_object",
        "  v #1 variable float32[] 'Variable'",
        "  __call__ #2 function (2 concrete)",
        "    trace_0 #5 bare_concrete_function (1 concrete)",
        "    trace_1 #6 bare_concrete_function (1 concrete)",
        "  mutate #3 function (1 concrete)",
        "    trace_0 #7 bare_concrete_function (1 concrete)",
        "  signatures #4 user_object signature_map",
        "    serving_default #8 bare_concrete_function (1 concrete)",
    ]


def test_keras_export_variable_lists() -> None:
    og = _og("keras3_export")
    expected = [
        "tiny_sequential/hidden/kernel:0",
        "tiny_sequential/hidden/bias:0",
        "tiny_sequential/logits/kernel:0",
        "tiny_sequential/logits/bias:0",
    ]
    assert _names(og.variables) == expected
    assert _names(og.trainable_variables) == expected
    assert og.non_trainable_variables == ()
    assert [fn.name for fn in og.functions] == ["serve"]


def test_tf_keras_model_lists_and_paths() -> None:
    og = _og("tf_keras_model")
    assert og.root.detail == UserObject("_tf_keras_network", (1, 1, ()))
    assert _names(og.variables) == ["emb/embeddings:0", "prob/kernel:0", "prob/bias:0"]
    assert _names(og.trainable_variables) == ["emb/embeddings:0", "prob/kernel:0", "prob/bias:0"]
    assert og.non_trainable_variables is None  # not an attribute of the saved root
    # The first breadth-first path names the variable (as its checkpoint key does).
    assert [p for p, _ in og.variables or ()] == [
        ("layer_with_weights-0", "embeddings"),
        ("layer_with_weights-1", "kernel"),
        ("layer_with_weights-1", "bias"),
    ]
    assert [fn.name for fn in og.functions] == [
        "__call__",
        "_default_save_signature",
        "call_and_return_all_conditional_losses",
    ]


def test_tree_marks_nodes_seen_before() -> None:
    og = _og("tf_keras_model")
    tree = og.tree()
    assert tree is not None
    top = {t.name: t for t in tree.children}
    assert not top["layer_with_weights-0"].repeated
    assert top["layer-1"].repeated and top["layer-1"].node.id == 2 and not top["layer-1"].children
    lines = object_tree_lines(og)
    assert lines[0] == "(root) #0 user_object _tf_keras_network"
    assert "  layer-1 -> #2" in lines
    assert "    embeddings #21 variable float32[5, 2] 'emb/embeddings'" in lines
    shallow = og.tree(max_depth=1)
    assert shallow is not None
    assert all(not child.children for child in shallow.children)


def _bundle_keys(name: str) -> set[str]:
    doc = samcli.load_expected(name)
    return {e["key"] for group in doc["variables"] for e in group["entries"]}


@pytest.mark.parametrize(
    "name",
    ["module_one_signature", "tf_keras_model", "keras3_export", "variables_sharded", "dtype_zoo"],
)
def test_checkpoint_keys_of_variables_are_in_the_bundle(name: str) -> None:
    og = _og(name)
    keys = {checkpoint_key(path) for path, _ in og.all_variables}
    assert keys
    assert keys <= _bundle_keys(name)


def test_checkpoint_key_escapes_names() -> None:
    assert checkpoint_key(("odd_names", "a/b.c")) == "odd_names/a.Sb..c/.ATTRIBUTES/VARIABLE_VALUE"
    assert checkpoint_key((), "x") == ".ATTRIBUTES/x"


def test_lookup_table_resources_assets_and_captures() -> None:
    og = _og("lookup_table")
    table = og.nodes[1]
    assert table.kind == "resource" and table.detail == SavedResource("")
    assert table.registered_name == "tf.StaticHashTable"
    assert table.label == "resource (tf.StaticHashTable)"
    kinds = {n.kind for n in og.nodes}
    assert {"asset", "constant"} <= kinds
    asset = next(n for n in og.nodes if n.kind == "asset")
    assert asset.detail == SavedAsset(0, "vocab.txt")
    constant = next(n for n in og.nodes if n.kind == "constant")
    assert isinstance(constant.detail, SavedConstant) and constant.detail.operation


# -- hand-built graphs -------------------------------------------------------------------------


def _graph(*nodes: pb.SavedObject) -> ObjectGraph:
    proto = pb.SavedObjectGraph()
    for node in nodes:
        proto.nodes.add().CopyFrom(node)
    return ObjectGraph.from_proto(pb.SavedObjectGraph.FromString(proto.SerializeToString()))


def _user(identifier: str, *children: tuple[int, str]) -> pb.SavedObject:
    node = pb.SavedObject()
    node.user_object.identifier = identifier
    for node_id, name in children:
        node.children.add(node_id=node_id, local_name=name)
    return node


def _variable(name: str, dtype: int = 1, **fields: Any) -> pb.SavedObject:
    node = pb.SavedObject()
    node.variable.name = name
    node.variable.dtype = dtype
    for k, v in fields.items():
        setattr(node.variable, k, v)
    return node


def test_cycles_and_dangling_references() -> None:
    og = _graph(
        _user("root", (1, "a"), (7, "dangling"), (-1, "negative")),
        _user("obj", (0, "back_to_root"), (1, "self"), (2, "v")),
        _variable("v"),
    )
    assert dict(og.paths) == {0: (), 1: ("a",), 2: ("a", "v")}
    assert object_tree_lines(og) == [
        "(root) #0 user_object root",
        "  a #1 user_object obj",
        "    back_to_root -> #0",
        "    self -> #1",
        "    v #2 variable float32[] 'v'",
    ]
    assert og.node(7) is None and og.node(-1) is None
    assert og.functions == ()


def test_empty_graph() -> None:
    og = _graph()
    assert og.tree() is None and og.functions == () and og.variables is None
    assert og.all_variables == () and dict(og.paths) == {}


def test_unknown_kind_and_odd_enums() -> None:
    unknown = pb.SavedObject.FromString(b"\xf2\x06\x00")  # field 110: a kind from the future
    og = _graph(
        _user("root", (1, "x"), (2, "w")),
        unknown,
        _variable("w", 14, synchronization=9, aggregation=2, trainable=False),
    )
    assert og.nodes[1].kind == "unknown" and og.nodes[1].detail is None
    w = og.nodes[2].detail
    assert isinstance(w, SavedVariable)
    assert (w.dtype.name, w.synchronization, w.aggregation, w.trainable) == (
        "bfloat16",
        "UNKNOWN_9",
        "MEAN",
        False,
    )


def test_distributed_variable_components() -> None:
    node = _variable("mirrored")
    part = node.variable.experimental_distributed_variable_components.add()
    part.name = "mirrored/replica_1"
    part.device = "/job:worker/replica:0/task:0/device:GPU:1"
    og = _graph(_user("root", (1, "m")), node)
    detail = og.nodes[1].detail
    assert isinstance(detail, SavedVariable)
    assert [c.name for c in detail.components] == ["mirrored/replica_1"]
    assert detail.components[0].device.endswith("GPU:1")


def test_variables_list_attribute() -> None:
    og = _graph(
        _user("root", (1, "variables"), (5, "trainable_variables")),
        _user("trackable_list_wrapper", (3, "1"), (2, "0"), (4, "name"), (6, "2")),
        _variable("a"),
        _variable("b"),
        _variable("not_listed"),
        _user("trackable_dict_wrapper", (2, "x")),
        _user("not_a_variable"),
    )
    # Items in index order; non-index names and non-variables left out.
    assert _names(og.variables) == ["a:0", "b:0"]
    # A dict is not what ``loaded.trainable_variables`` would be.
    assert og.trainable_variables is None


def test_duplicate_child_names_last_one_wins() -> None:
    first = pb.SavedObject()
    first.function.SetInParent()
    second = pb.SavedObject()
    second.bare_concrete_function.concrete_function_name = "g"
    og = _graph(_user("root", (1, "f"), (2, "f")), first, second)
    (fn,) = og.functions
    assert fn.kind == "bare_concrete_function" and fn.node_id == 2
    assert og.root.child("f") == 2


def test_details_of_each_kind() -> None:
    asset = pb.SavedObject()
    asset.asset.asset_file_def_index = 3
    constant = pb.SavedObject()
    constant.constant.operation = "Const_1"
    captured = pb.SavedObject()
    captured.captured_tensor.name = "t"
    captured.captured_tensor.concrete_function = "__inference_f_1"
    og = _graph(_user("root", (1, "a"), (2, "c"), (3, "t")), asset, constant, captured)
    assert og.nodes[1].detail == SavedAsset(3, None)  # no such asset_file_def
    assert og.nodes[2].detail == SavedConstant("Const_1")
    assert og.nodes[3].detail == CapturedTensor("t", "__inference_f_1")
    assert og.nodes[3].label == "captured_tensor 't'"
    assert [fn.name for fn in og.all_functions] == []


def test_meta_graph_gives_the_object_graph() -> None:
    with SavedModel.open(samcli.model_dir("module_one_signature")) as sm:
        mg = sm.meta_graphs[0]
        assert mg.object_graph is mg.object_graph
        assert mg.object_graph is not None and mg.object_graph.root.kind == "user_object"
    with SavedModel.open(samcli.model_dir("tf1_multi_tag")) as sm:
        assert sm.meta_graphs[0].object_graph is None


def test_ordering_traces_needs_the_open_model() -> None:
    with SavedModel.open(samcli.model_dir("polymorphic")) as sm:
        og = object_graph(sm.meta_graphs[0])
    assert og is not None
    assert og.root.kind == "user_object"  # the object graph itself is in memory
    with pytest.raises(SmliteError, match="has been closed"):
        og.functions  # noqa: B018
