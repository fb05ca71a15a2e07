"""smlite.model.functions and smlite.render.functions: saved functions and ``show --all``'s section.

The "Concrete Functions" section is compared with ``saved_model_cli show --all`` as recorded
for every fixture (after ``samcli.normalize``: dicts sorted, no backspaces).  The ``custom_op``
fixture is the exception: saved_model_cli could not load it and printed
``N/A (could not be listed due to the existence of custom ops in the SavedModel)``; smlite reads
the object graph and lists the functions anyway.  Its expected text below is written from that
object graph: the ``__call__`` function traced once, ``plus`` traced twice with a Python int
argument.  It is exactly what saved_model_cli 2.21 prints for a copy of the model with the
custom op renamed back to the ``Mul`` it replaced (checked when the fixture was made; the op's
output count is the same, so the option order is too).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smlite import pb
from smlite.formats.graph_index import Function, GraphIndex, Node, index_graph
from smlite.model.dtypes import DType
from smlite.model.functions import (
    ConcreteFunction,
    FunctionSpec,
    loaded_function_names,
)
from smlite.model.object_graph import object_graph
from smlite.model.saved_model import SavedModel
from smlite.model.structure import DictValue, ListValue, NamedTupleValue, NumpyValue
from smlite.model.structure_decoder import decode_structure
from smlite.model.tensors import TensorShape
from smlite.model.type_specs import TensorSpec
from smlite.render.functions import (
    call_text,
    composite_spec_text,
    concrete_functions_text,
    functions_json,
    functions_renderables,
    print_args_lines,
)
from tests.support import samcli

MARK = "\nConcrete Functions:"

CUSTOM_OP_FUNCTIONS = """
Concrete Functions:
  Function Name: '__call__'
    Option #1
      Callable with:
        Argument #1
          x: TensorSpec(shape=(None,), dtype=tf.float32, name='x')

  Function Name: 'plus'
    Option #1
      Callable with:
        Argument #1
          x: TensorSpec(shape=(1,), dtype=tf.float32, name='x')
        Argument #2
          DType: int
          Value: 1
    Option #2
      Callable with:
        Argument #1
          x: TensorSpec(shape=(), dtype=tf.float32, name='x')
        Argument #2
          DType: int
          Value: 2
"""


def _all_cases() -> list[tuple[str, samcli.Case]]:
    out = []
    for name in samcli.fixture_names():
        for case in samcli.load_cases(name):
            if case.argv == ("show", "--dir", "{model}", "--all"):
                out.append((name, case))
    return out


ALL_CASES = _all_cases()


def _section(text: str) -> str:
    cut = text.find(MARK)
    return text[cut:] if cut >= 0 else ""


@pytest.mark.skipif(not ALL_CASES, reason="no recorded fixtures")
@pytest.mark.parametrize(("name", "case"), ALL_CASES, ids=[n for n, _ in ALL_CASES])
def test_concrete_functions_section_matches_saved_model_cli(name: str, case: samcli.Case) -> None:
    expected = _section(case.normalized_stdout)
    if "N/A (could not be listed" in expected:
        assert name == "custom_op", "only custom_op is expected to defeat saved_model_cli"
        expected = CUSTOM_OP_FUNCTIONS
    with SavedModel.open(samcli.model_dir(name)) as sm:
        assert concrete_functions_text(sm) == expected


def test_custom_op_really_is_custom() -> None:
    with SavedModel.open(samcli.model_dir("custom_op")) as sm:
        assert "SmliteTestCustomOp" in sm.meta_graphs[0].all_ops


def test_model_without_functions_prints_only_the_header() -> None:
    with SavedModel.open(samcli.model_dir("serving_base") / "1") as sm:
        assert concrete_functions_text(sm) == MARK


def test_tf1_model_has_no_section() -> None:
    with SavedModel.open(samcli.model_dir("tf1_multi_tag")) as sm:
        assert concrete_functions_text(sm) == ""
        assert functions_json(sm) is None


# -- _print_args, line by line ---------------------------------------------------------------------


def spec(dims: tuple[int, ...] | None, dtype: int = 1, name: str | None = None) -> TensorSpec:
    return TensorSpec(TensorShape(dims), DType(dtype), name)


def test_print_args_kinds() -> None:
    args = (
        spec((2,), name="x"),
        spec(None, 7),
        "raw text",
        ListValue((1, "a", None, spec((1,)))),
        DictValue((("k", "v"), ("n", (1, "b")))),
        NamedTupleValue("Point", (("x", 1), ("y", 2))),
        TensorShape((-1, 3)),
        DType(1),
        1.5,
        None,
    )
    assert print_args_lines(args) == [
        "        Argument #1",
        "          x: TensorSpec(shape=(2,), dtype=tf.float32, name='x')",
        "        Argument #2",
        "          None: TensorSpec(shape=<unknown>, dtype=tf.string, name=None)",
        "        Argument #3",
        "          raw text",
        "        Argument #4",
        "          DType: list",
        "          Value: [1, 'a', None, TensorSpec(shape=(1,), dtype=tf.float32, name=None)]",
        "        Argument #5",
        "          DType: dict",
        "          Value: {'k': 'v', 'n': (1, 'b')}",
        "        Argument #6",
        "          DType: Point",
        "          Value: [1, 2]",
        "        Argument #7",
        "          DType: TensorShape",
        "          Value: [None, 3]",
        "        Argument #8",
        "          DType: DType",
        "          Value: <dtype: 'float32'>",
        "        Argument #9",
        "          DType: float",
        "          Value: 1.5",
        "        Argument #10",
        "          DType: NoneType",
        "          Value: None",
    ]


def test_named_arguments_are_the_keys() -> None:
    kwargs = DictValue((("alpha", spec(())), ("beta", spec(()))))
    assert print_args_lines(kwargs, "Named Argument") == [
        "        Named Argument #1",
        "          alpha",
        "        Named Argument #2",
        "          beta",
    ]


def test_empty_containers_and_numpy() -> None:
    array = decode_structure(
        pb.StructuredValue(
            numpy_value=pb.TensorProto(
                dtype=3,
                tensor_shape=pb.TensorShapeProto(dim=[pb.TensorShapeProto.Dim(size=2)]),
                int_val=[4, 5],
            )
        )
    )
    assert isinstance(array, NumpyValue)
    assert print_args_lines((ListValue(), (), DictValue(), array)) == [
        "        Argument #1",
        "          DType: list",
        "          Value: []",
        "        Argument #2",
        "          DType: tuple",
        "          Value: []",
        "        Argument #3",
        "          DType: dict",
        "          Value: {}",
        "        Argument #4",
        "          DType: ndarray",
        "          Value: [4, 5]",
    ]


def test_names_from_the_file_are_escaped() -> None:
    args = (
        spec((1,), name="x\x1b[31m"),
        "\x1b]0;title\x07",
        DictValue((("k\n", "v\x1b"),)),
        ListValue(("\u202e",)),
        NamedTupleValue("P\x1b", (("x", 1),)),
    )
    lines = print_args_lines(args)
    assert not any(c in "".join(lines) for c in "\x1b\x07\n\u202e")
    assert (
        lines[1]
        == "          x\\x1b[31m: TensorSpec(shape=(1,), dtype=tf.float32, name='x\\x1b[31m')"
    )
    assert lines[3] == "          \\x1b]0;title\\x07"
    assert lines[6] == "          Value: {'k\\n': 'v\\x1b'}"
    assert lines[9] == "          Value: ['\\u202e']"
    assert lines[11] == "          DType: P\\x1b"


# -- a model written here -----------------------------------------------------------------------


def _structured(value: Any) -> pb.StructuredValue:
    """A StructuredValue from a small Python description (tuples, dicts, TensorSpec triples)."""
    out = pb.StructuredValue()
    if value is None:
        out.none_value.SetInParent()
    elif isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int64_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, dict):
        out.dict_value.SetInParent()
        for k, v in value.items():
            out.dict_value.fields[k].CopyFrom(_structured(v))
    elif isinstance(value, tuple) and value and value[0] == "spec":
        _, name, dtype, dims = value
        out.tensor_spec_value.name = name
        out.tensor_spec_value.dtype = dtype
        for d in dims:
            out.tensor_spec_value.shape.dim.add(size=d)
    elif isinstance(value, tuple):
        out.tuple_value.SetInParent()
        for v in value:
            out.tuple_value.values.add().CopyFrom(_structured(v))
    else:
        raise TypeError(value)
    return out


def _function_def(name: str, n_inputs: int, body: list[tuple[str, str]]) -> pb.FunctionDef:
    fdef = pb.FunctionDef()
    fdef.signature.name = name
    for k in range(n_inputs):
        fdef.signature.input_arg.add(name=f"a{k}", type=1)
    fdef.signature.output_arg.add(name="out", type=1)
    for node_name, op in body:
        fdef.node_def.add(name=node_name, op=op)
    return fdef


def write_model(
    directory: Path,
    root_children: list[tuple[str, pb.SavedObject]],
    concrete: dict[str, tuple[Any, Any]],
    library: list[pb.FunctionDef] | None = None,
) -> Path:
    """A one-meta-graph SavedModel whose root has the given children."""
    sm = pb.SavedModel(saved_model_schema_version=1)
    mg = sm.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    og = mg.object_graph_def
    root = og.nodes.add()
    root.user_object.identifier = "_generic_user_object"
    for local_name, node in root_children:
        root.children.add(node_id=len(og.nodes), local_name=local_name)
        og.nodes.add().CopyFrom(node)
    for name, (inputs, outputs) in concrete.items():
        og.concrete_functions[name].canonicalized_input_signature.CopyFrom(_structured(inputs))
        og.concrete_functions[name].output_signature.CopyFrom(_structured(outputs))
    for fdef in library or []:
        mg.graph_def.library.function.add().CopyFrom(fdef)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "saved_model.pb").write_bytes(sm.SerializeToString())
    return directory


def function_node(*names: str) -> pb.SavedObject:
    node = pb.SavedObject()
    node.function.concrete_functions.extend(names)
    return node


def bare_node(name: str, keywords: list[str]) -> pb.SavedObject:
    node = pb.SavedObject()
    node.bare_concrete_function.concrete_function_name = name
    node.bare_concrete_function.argument_keywords.extend(keywords)
    return node


def test_options_follow_tensorflows_loaded_names(tmp_path: Path) -> None:
    # Three traces of "f": file order 12, 7, 9 (library names).  TensorFlow names them by a
    # counter in load order and sorts the names as strings; the long body of the first one
    # pushes the second across a digit boundary.
    lib = [
        _function_def("__inference_f_12", 1, [(f"n{k}", "Identity") for k in range(3)]),
        _function_def("__inference_f_7", 1, [("a", "Identity")]),
        _function_def("__inference_f_9", 1, [("a", "Identity")]),
    ]
    sig = {
        "__inference_f_12": ((("spec", "x", 1, [2]),), {}),
        "__inference_f_7": ((("spec", "x", 3, []),), {}),
        "__inference_f_9": ((("spec", "x", 9, []),), {}),
    }
    model = write_model(
        tmp_path / "m",
        [("f", function_node("__inference_f_12", "__inference_f_7", "__inference_f_9"))],
        {k: (v, None) for k, v in sig.items()},
        lib,
    )
    with SavedModel.open(model) as sm:
        og = object_graph(sm.meta_graphs[0])
        assert og is not None
        # Load order is a stack: the last ready function first.  2 uids are taken before the
        # first function; each takes 1 (graph) + inputs + outputs of its nodes + 1 (name).
        assert dict(og.loaded_names) == {
            "__inference_f_9": "__inference_f_5",
            "__inference_f_7": "__inference_f_9",
            "__inference_f_12": "__inference_f_15",
        }
        (fn,) = og.functions
        assert [cf.name for cf in fn.concrete_functions] == [
            "__inference_f_12",
            "__inference_f_9",
            "__inference_f_7",
        ]
        text = concrete_functions_text(sm)
    assert text.count("Option #") == 3
    assert text.index("shape=(2,)") < text.index("tf.int64") < text.index("tf.int32")


def test_children_that_are_not_functions_are_skipped_and_names_sorted(tmp_path: Path) -> None:
    variable = pb.SavedObject()
    variable.variable.dtype = 1
    model = write_model(
        tmp_path / "m",
        [
            ("zeta", bare_node("g", ["a", "b"])),
            ("v", variable),
            ("Alpha", function_node()),
            ("mid", function_node("missing_from_everything")),
        ],
        {},
    )
    with SavedModel.open(model) as sm:
        text = concrete_functions_text(sm)
    # "g" has no signature entry: saved_model_cli falls back on the argument keywords.
    assert text == (
        "\nConcrete Functions:"
        "\n  Function Name: 'Alpha'\n"
        "\n  Function Name: 'mid'\n"
        "\n  Function Name: 'zeta'\n"
        "    Option #1\n"
        "      Callable with:\n"
        "        Argument #1\n"
        "          a\n"
        "        Argument #2\n"
        "          b\n"
    )


def test_options_without_arguments_keep_their_number(tmp_path: Path) -> None:
    model = write_model(
        tmp_path / "m",
        [("f", function_node("__inference_f_1", "__inference_f_2"))],
        {
            "__inference_f_1": (((), {}), None),
            "__inference_f_2": (((("spec", "x", 1, []),), {"k": ("spec", "k", 1, [])}), None),
        },
        # Loaded first (the sort's stack pops the last), f_1 gets the lower uid: option 1.
        [_function_def("__inference_f_2", 2, []), _function_def("__inference_f_1", 0, [])],
    )
    with SavedModel.open(model) as sm:
        text = concrete_functions_text(sm)
    assert "Option #1" not in text
    assert "    Option #2\n" in text
    assert text.endswith("        Named Argument #1\n          k\n")


def test_function_names_are_escaped(tmp_path: Path) -> None:
    model = write_model(tmp_path / "m", [("evil\x1b[2J\nname", function_node())], {})
    with SavedModel.open(model) as sm:
        text = concrete_functions_text(sm)
    assert text == "\nConcrete Functions:\n  Function Name: 'evil\\x1b[2J\\nname'\n"


# -- the function library and loaded names ---------------------------------------------------------


def _node(
    name: str, op: str, inputs: tuple[str, ...] = (), ints: dict[str, int] | None = None
) -> Node:
    attrs = tuple((k, "i", v) for k, v in sorted((ints or {}).items()))
    return Node(name, op, inputs, (), attrs, (0, 0))


def _function(name: str, num_inputs: int, num_outputs: int, nodes: tuple[Node, ...]) -> Function:
    return Function(name, tuple(f"a{i}" for i in range(num_inputs)), num_outputs, nodes)


def _library(
    functions: tuple[Function, ...], registered: tuple[tuple[bytes, str], ...] = ()
) -> GraphIndex:
    return GraphIndex((), functions, {f.name: f for f in functions}, (), registered)


def test_the_graph_index_reads_what_naming_needs() -> None:
    graph = pb.GraphDef()
    fdef = graph.library.function.add()
    fdef.signature.name = "__inference_g_3"
    fdef.signature.input_arg.add(name="a")
    fdef.signature.output_arg.add(name="b")
    fdef.signature.output_arg.add(name="c")
    node = fdef.node_def.add(name="split", op="Split", input=["a", "dim:output:0"])
    node.attr["num_split"].i = 3
    node.attr["big"].tensor.tensor_content = b"\x00" * 1000
    call = fdef.node_def.add(name="call", op="StatefulPartitionedCall")
    call.attr["f"].func.name = "__inference_h_4"
    call.attr["Tout"].list.type.extend([1, 3, 9])
    table = fdef.node_def.add(name="t", op="HashTableV2")
    table.attr["use_node_name_sharing"].b = False
    grad = fdef.node_def.add(name="g", op="Identity")
    grad.attr["_gradient_op_type"].s = b"CustomGradient-7"
    graph.library.registered_gradients.add(gradient_func="gf", registered_op_type="Op7")
    library = index_graph(graph.SerializeToString())
    (f,) = library.library
    assert (f.name, len(f.args), f.num_outputs) == ("__inference_g_3", 1, 2)
    split, call_node, table_node, grad_node = f.nodes
    assert (split.name, split.op, split.inputs) == ("split", "Split", ("a", "dim:output:0"))
    assert split.attr_int("num_split") == 3
    assert call_node.function_attrs == (("f", "__inference_h_4"),)
    assert call_node.type_list_length("Tout") == 3
    assert table_node.attr_bool("use_node_name_sharing") is False
    assert grad_node.attr_bytes("_gradient_op_type") == b"CustomGradient-7"
    assert library.registered_gradients == ((b"Op7", "gf"),)


def test_the_graph_index_of_the_fixtures_agrees_with_a_full_parse() -> None:
    for name in ("polymorphic", "tf_keras_model", "lookup_table"):
        with SavedModel.open(samcli.model_dir(name)) as sm:
            mg = sm.meta_graphs[0]
            scanned = mg.graph_index
            parsed = mg.graph_def.library
        assert [f.name for f in scanned.library] == [f.signature.name for f in parsed.function]
        for s, p in zip(scanned.library, parsed.function, strict=True):
            assert len(s.args) == len(p.signature.input_arg)
            assert s.num_outputs == len(p.signature.output_arg)
            assert [(n.name, n.op) for n in s.nodes] == [(n.name, n.op) for n in p.node_def]


def test_loaded_names_count_tensors_from_op_signatures() -> None:
    callee = _function("__inference_h_1", 1, 3, ())
    caller = _function(
        "__inference_g_2",
        2,
        1,
        (
            _node("s", "Split", ints={"num_split": 4}),  # 4 outputs (op table)
            _node("n", "NoOp"),  # none
            _node("u", "Unique"),  # 2
            _node("c", "__inference_h_1"),  # a library function called as an op: 3
            _node("t", "HashTableV2"),  # 1, and the loader renames its table: +1 uid
            _node("x", "MyCustomOp"),  # unknown op: outputs read by others (2)
            _node("y", "Identity", inputs=("x:out:1", "^n")),
        ),
    )
    names = loaded_function_names(_library((caller, callee)))
    # h first (g depends on it): 2 + 1 graph + 1 input + 0 nodes -> uid 4.
    assert names["__inference_h_1"] == "__inference_h_4"
    # g: 5 + 1 table + 1 graph + 2 inputs + (4 + 0 + 2 + 3 + 1 + 2 + 1) -> 22.
    assert names["__inference_g_2"] == "__inference_g_22"


def test_loaded_names_use_the_models_op_list_first() -> None:
    fn = _function("plain_name", 0, 1, (_node("a", "Unique"),))
    ops = pb.OpList()
    op = ops.op.add(name="Unique")
    op.output_arg.add(name="y")  # claims one output only
    assert loaded_function_names(_library((fn,)))["plain_name"] == "__inference_plain_name_5"
    assert loaded_function_names(_library((fn,)), ops)["plain_name"] == "__inference_plain_name_4"


def test_registered_gradients_take_uids_first() -> None:
    fn = _function("__inference_f_9", 0, 0, ())
    library = _library((fn,), ((b"Op1", "g1"), (b"", "g2"), (b"Op3", "g3")))
    assert loaded_function_names(library)["__inference_f_9"] == "__inference_f_5"


def test_cycles_do_not_hang() -> None:
    a = _function("a", 0, 1, (_node("x", "b"),))
    b = _function("b", 0, 1, (_node("x", "a"),))
    assert set(loaded_function_names(_library((a, b)))) == {"a", "b"}


# -- typed views ---------------------------------------------------------------------------------


def test_function_spec_drops_self() -> None:
    proto = pb.FunctionSpec(is_method=True)
    argspec = proto.fullargspec.named_tuple_value
    argspec.name = "FullArgSpec"
    args = argspec.values.add(key="args")
    for n in ("self", "x", "scale"):
        args.value.list_value.values.add(string_value=n)
    argspec.values.add(key="varargs").value.none_value.SetInParent()
    argspec.values.add(key="varkw").value.string_value = "kw"
    defaults = argspec.values.add(key="defaults").value.tuple_value
    defaults.values.add(float64_value=1.0)
    proto.input_signature.none_value.SetInParent()
    proto.jit_compile = pb.FunctionSpec.JitCompile.ON
    spec = FunctionSpec.from_proto(proto)
    assert spec.arg_names == ("x", "scale")
    assert spec.varargs is None and spec.varkw == "kw"
    assert spec.defaults == (1.0,)
    assert spec.jit_compile == "ON"
    assert spec.input_signature is None


def test_concrete_function_parts() -> None:
    proto = pb.SavedConcreteFunction(bound_inputs=[3, 4])
    proto.canonicalized_input_signature.CopyFrom(
        _structured(((("spec", "x", 1, []),), {"k": ("spec", "k", 1, [])}))
    )
    proto.output_signature.none_value.SetInParent()
    cf = ConcreteFunction.from_proto("__inference_f_1", proto)
    assert cf.args == (spec((), name="x"),)
    assert cf.kwargs == DictValue((("k", spec((), name="k")),))
    assert cf.output_signature is None and cf.bound_inputs == (3, 4)
    missing = ConcreteFunction.from_proto("gone", None)
    assert missing.input_signature is None and missing.args is None and missing.kwargs is None


def test_polymorphic_functions_as_objects() -> None:
    with SavedModel.open(samcli.model_dir("polymorphic")) as sm:
        og = object_graph(sm.meta_graphs[0])
        assert og is not None
        functions = og.functions  # reads the graph's library: while the model is open
    names = [fn.name for fn in functions]
    assert names == ["bare", "f", "jit", "kw", "nested", "never_traced", "structured"]
    f = functions[1]
    assert f.kind == "function" and len(f.concrete_functions) == 10
    assert f.function_spec is not None
    assert f.function_spec.arg_names == ("x", "scale", "training", "config")
    assert functions[0].kind == "bare_concrete_function"
    assert functions[2].function_spec is not None
    assert functions[2].function_spec.jit_compile == "ON"
    assert functions[5].concrete_functions == ()
    assert call_text(f, f.concrete_functions[0]) == (
        "f(x: float32[2], scale=1.0, training=False, config=None) -> float32[2]"
    )
    kw = functions[3]
    assert call_text(kw, kw.concrete_functions[0]) == (
        "kw(x: float32[], 5, 6, *, beta: float32[]) -> float32[]"
    )
    assert call_text(kw, kw.concrete_functions[1]) == (
        "kw(x: float32[], *, alpha: float32[], mid: float32[], zeta: float32[]) -> float32[]"
    )
    assert repr(functions[0]) == (
        "Function('bare', kind='bare_concrete_function', concrete_functions=1)"
    )


def test_functions_json_matches_the_text() -> None:
    with SavedModel.open(samcli.model_dir("polymorphic")) as sm:
        doc = functions_json(sm)
        text = concrete_functions_text(sm)
    assert doc is not None
    json.dumps(doc, allow_nan=False)
    assert [d["name"] for d in doc] == [
        line.split("'")[1] for line in text.splitlines() if "Function Name:" in line
    ]
    f = doc[1]
    assert f["kind"] == "function" and f["parameters"] == ["x", "scale", "training", "config"]
    first = f["concrete_functions"][0]
    assert first["option"] == 1
    assert first["args_repr"] == [
        "TensorSpec(shape=(2,), dtype=tf.float32, name='x')",
        "1.0",
        "False",
        "None",
    ]
    assert first["args"][0] == {
        "tensor_spec": {
            "name": "x",
            "dtype": {"name": "float32", "enum": "DT_FLOAT", "value": 1},
            "shape": [2],
        }
    }
    assert first["kwargs"] == {} and first["kwargs_repr"] == {}
    assert first["outputs_repr"] == "TensorSpec(shape=(2,), dtype=tf.float32, name='unknown')"
    assert first["argument_keywords"] == ["x"]
    never = doc[5]
    assert never["name"] == "never_traced" and never["concrete_functions"] == []


def test_summary_lines() -> None:
    from rich.console import Console

    with SavedModel.open(samcli.model_dir("module_multi_signature")) as sm:
        renderables = functions_renderables(sm.meta_graphs[0])
    console = Console(width=200, record=True)
    for r in renderables:
        console.print(r)
    assert console.export_text() == (
        "  functions (2)\n"
        "    __call__(x: float32[]) -> float32[]\n"
        "    __call__(x: float32[*]) -> float32[*]\n"
        "    mutate(new_v: float32[]) -> None\n"
    )
    with SavedModel.open(samcli.model_dir("tf1_multi_tag")) as sm:
        assert functions_renderables(sm.meta_graphs[0]) == []


def test_composite_spec_text_of_signature_entries() -> None:
    with SavedModel.open(samcli.model_dir("sparse_ragged")) as sm:
        mg = sm.meta_graphs[0]
        texts = {
            (key, out): composite_spec_text(info)
            for key, sig in mg.signatures.items()
            for out, info in sig.outputs.items()
        }
    assert texts[("ragged", "doubled")] == (
        "RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, tf.int64)"
    )
    assert texts[("ragged", "row_lengths")] is None
