"""Saved functions as text: saved_model_cli's "Concrete Functions" section, JSON, summary lines.

:func:`concrete_functions_text` is the end of ``saved_model_cli show --all``
(TensorFlow 2.21, ``_show_defined_functions`` and ``_print_args`` in
``tensorflow/python/tools/saved_model_cli.py``), computed from the object
graph instead of by loading the model, so it is printed also for models with
custom ops or models TensorFlow fails to load (saved_model_cli prints
``N/A`` for those).  Differences, deliberate and the same as in the rest of
``show``: dict items sorted by key (saved_model_cli prints protobuf map
order, which is not stable) and no backspaces (saved_model_cli prints
``, \\b\\b`` to rub out a trailing separator).

Names and strings read from the model are escaped (:mod:`smlite.render.escape`);
quoted values are Python reprs, which already escape control characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smlite.model.object_graph import ObjectGraph, ObjectTree
from smlite.model.structure import (
    DictValue,
    ListValue,
    NamedTupleValue,
    Structure,
    is_iterable,
    iterate,
    truthy,
    type_name,
)
from smlite.model.structure_decoder import decode_type_spec
from smlite.model.tensors import TensorInfo
from smlite.model.type_specs import BoundedTensorSpec, TensorSpec
from smlite.model.units import format_dims
from smlite.render import json_doc
from smlite.render.escape import escape
from smlite.render.tf_repr import tf_repr, tf_str

if TYPE_CHECKING:
    from rich.console import RenderableType

    from smlite.model.functions import ConcreteFunction, Function
    from smlite.model.saved_model import MetaGraph, SavedModel

__all__ = [
    "call_text",
    "composite_spec_text",
    "concrete_functions_text",
    "functions_json",
    "functions_meta_graph",
    "functions_renderables",
    "object_tree_lines",
    "print_args_lines",
]

_HEADER = "\nConcrete Functions:"
# _print_args is called with indent=4 (two spaces each).
_ARG_INDENT = " " * 8


def functions_meta_graph(sm: SavedModel) -> MetaGraph | None:
    """The meta graph whose object graph describes the functions (the first that has one).

    ``tf.saved_model.load`` without tags reads the object graph of a model's
    only meta graph; with several meta graphs saved_model_cli cannot list
    functions at all, and smlite takes the first one that has an object graph.
    """
    for mg in sm.meta_graphs:
        if mg.has_object_graph:
            return mg
    return None


def _signature_parts(
    cf: ConcreteFunction,
) -> tuple[Structure | None, Structure | None]:
    """``(args, kwargs)`` as ``_show_defined_functions`` takes them from a concrete function."""
    sig = cf.input_signature
    if truthy(sig):
        if isinstance(sig, (tuple, ListValue)) and len(sig) == 2:
            return sig[0], sig[1]
        # Not an (args, kwargs) pair: saved_model_cli would fail; show it as one argument.
        return (sig,), None
    if cf.argument_keywords:
        return tuple(cf.argument_keywords), None
    return None, None


def _quoted(value: Structure) -> str:
    # _maybe_add_quotes: str() of the value, quoted (without escaping) when it is a str.
    if isinstance(value, str):
        return "'" + escape(value) + "'"
    return tf_str(value, escape=escape)


def print_args_lines(arguments: Structure, argument_type: str = "Argument") -> list[str]:
    """The lines ``_print_args(arguments, argument_type, indent=4)`` prints."""
    lines: list[str] = []
    for index, element in enumerate(iterate(arguments), 1):
        lines.append(f"{_ARG_INDENT}{argument_type} #{index}")
        if isinstance(element, str):
            lines.append(f"{_ARG_INDENT}  {escape(element)}")
        elif isinstance(element, (TensorSpec, BoundedTensorSpec)):
            name = escape(element.name) if element.name is not None else "None"
            lines.append(f"{_ARG_INDENT}  {name}: {tf_repr(element, escape=escape)}")
        elif is_iterable(element):
            items = ", ".join(_quoted(v) for v in iterate(element))
            lines.append(f"{_ARG_INDENT}  DType: {escape(type_name(element))}")
            lines.append(f"{_ARG_INDENT}  Value: [{items}]")
        elif isinstance(element, DictValue):
            items = ", ".join(f"'{escape(k)}': {_quoted(v)}" for k, v in element.entries)
            lines.append(f"{_ARG_INDENT}  DType: dict")
            lines.append(f"{_ARG_INDENT}  Value: {{{items}}}")
        else:
            lines.append(f"{_ARG_INDENT}  DType: {escape(type_name(element))}")
            lines.append(f"{_ARG_INDENT}  Value: {tf_str(element, escape=escape)}")
    return lines


def _function_block(fn: Function) -> str:
    lines = [f"\n  Function Name: '{escape(fn.name)}'"]
    for index, cf in enumerate(fn.concrete_functions, 1):
        args, kwargs = _signature_parts(cf)
        if truthy(args):
            lines.append(f"    Option #{index}")
            lines.append("      Callable with:")
            lines.extend(print_args_lines(args))
        if truthy(kwargs):
            lines.extend(print_args_lines(kwargs, "Named Argument"))
    return "\n".join(lines) + "\n"


def concrete_functions_text(sm: SavedModel) -> str:
    """The "Concrete Functions" section ending ``show --all``; ``""`` for TF1 models.

    Starts with ``"\\nConcrete Functions:"``; each function block starts with
    a newline and ends with one (with no function the text has no final
    newline, as saved_model_cli prints it).
    """
    mg = functions_meta_graph(sm)
    og = mg.object_graph if mg is not None else None
    if og is None:
        return ""
    return _HEADER + "".join(_function_block(fn) for fn in og.functions)


# -- JSON ------------------------------------------------------------------------


def _input_parts(
    cf: ConcreteFunction,
) -> tuple[list[Any] | None, dict[str, Any] | None, Any]:
    """args and kwargs as JSON, or the whole input signature when it is not such a pair."""
    if cf.proto is None:
        return None, None, None
    if cf.args is not None and cf.kwargs is not None:
        args = [json_doc.structure_json(v) for v in cf.args]
        kwargs = {k: json_doc.structure_json(v) for k, v in cf.kwargs.entries}
        return args, kwargs, None
    return None, None, json_doc.structure_json(cf.input_signature)


def _concrete_json(cf: ConcreteFunction, option: int) -> dict[str, Any]:
    args, kwargs, whole = _input_parts(cf)
    doc: dict[str, Any] = {
        "option": option,
        "name": cf.name,
        "args": args,
        "kwargs": kwargs,
        "args_repr": [tf_repr(a) for a in cf.args] if cf.args is not None else None,
        "kwargs_repr": (
            {k: tf_repr(v) for k, v in cf.kwargs.entries} if cf.kwargs is not None else None
        ),
        "outputs": json_doc.structure_json(cf.output_signature) if cf.proto else None,
        "outputs_repr": tf_repr(cf.output_signature) if cf.proto is not None else None,
        "argument_keywords": (
            list(cf.argument_keywords) if cf.argument_keywords is not None else None
        ),
        "bound_inputs": list(cf.bound_inputs),
    }
    if whole is not None:
        doc["input_signature"] = whole
    return doc


def _function_json(fn: Function) -> dict[str, Any]:
    spec = fn.function_spec
    return {
        "name": fn.name,
        "kind": fn.kind,
        "node_id": fn.node_id,
        "parameters": list(spec.arg_names) if spec is not None else None,
        "jit_compile": spec.jit_compile if spec is not None else None,
        "concrete_functions": [
            _concrete_json(cf, i) for i, cf in enumerate(fn.concrete_functions, 1)
        ],
    }


def functions_json(sm: SavedModel) -> list[dict[str, Any]] | None:
    """The ``functions`` member of ``show --all --format json``; None for TF1 models.

    One object per function ``show --all`` lists, in the same order, with
    its concrete functions numbered as saved_model_cli's options; argument
    specs in the document's StructuredValue encoding
    (:func:`smlite.render.json_doc.structure_json`) and, for reading,
    as TensorFlow's reprs (``args_repr``, ``kwargs_repr``, ``outputs_repr``).
    """
    mg = functions_meta_graph(sm)
    og = mg.object_graph if mg is not None else None
    if og is None:
        return None
    return [_function_json(fn) for fn in og.functions]


# -- human summary -----------------------------------------------------------------


def _short(value: Structure) -> str:
    """A compact spec: ``float32[?, 3]`` for a TensorSpec, TensorFlow's repr otherwise."""
    if isinstance(value, (TensorSpec, BoundedTensorSpec)):
        return f"{value.dtype.name}{format_dims(value.shape.dims, unknown_rank='[*]')}"
    if isinstance(value, tuple):
        inner = ", ".join(_short(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, ListValue):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, DictValue):
        return "{" + ", ".join(f"{escape(k)}: {_short(v)}" for k, v in value.entries) + "}"
    if isinstance(value, NamedTupleValue):
        fields = ", ".join(f"{escape(k)}={_short(v)}" for k, v in value.fields)
        return f"{escape(value.name)}({fields})"
    return tf_repr(value, escape=escape)


def call_text(fn: Function, cf: ConcreteFunction) -> str:
    """One way to call a function: ``name(x: float32[2], scale=1.0, *, beta: float32[])``."""
    names = fn.function_spec.arg_names if fn.function_spec is not None else ()
    parts: list[str] = []
    args, kwargs = _signature_parts(cf)
    for i, arg in enumerate(iterate(args) if args is not None else ()):
        label = names[i] if i < len(names) else None
        if isinstance(arg, str) and cf.input_signature is None:
            parts.append(escape(arg))
        elif isinstance(arg, (TensorSpec, BoundedTensorSpec)) or label is None:
            shown = _short(arg)
            parts.append(f"{escape(label)}: {shown}" if label else shown)
        else:
            parts.append(f"{escape(label)}={_short(arg)}")
    if isinstance(kwargs, DictValue) and len(kwargs):
        parts.append("*")
        parts.extend(f"{escape(k)}: {_short(v)}" for k, v in kwargs.entries)
    out = f"{escape(fn.name)}({', '.join(parts)})"
    if cf.proto is not None:
        out += f" -> {_short(cf.output_signature)}"
    return out


def functions_renderables(mg: MetaGraph) -> list[RenderableType]:
    """Summary lines: the root's callable functions, one line per traced signature."""
    from rich.text import Text

    og = mg.object_graph
    if og is None or not og.functions:
        return []
    out: list[RenderableType] = [Text(f"  functions ({len(og.functions)})", style="bold")]
    for fn in og.functions:
        if not fn.concrete_functions:
            line = Text(f"    {escape(fn.name)}", style="bold")
            line.append("  (never traced: not callable)", style="dim")
            out.append(line)
            continue
        for cf in fn.concrete_functions:
            out.append(Text(f"    {call_text(fn, cf)}"))
    return out


def composite_spec_text(info: TensorInfo) -> str | None:
    """TensorFlow's repr of a composite signature entry's TypeSpec (None for other entries)."""
    spec = info.type_spec
    if spec is None:
        return None
    return tf_repr(decode_type_spec(spec), escape=escape)


def object_tree_lines(og: ObjectGraph, *, max_depth: int = 64) -> list[str]:
    """The object graph as an indented tree, one node per line."""
    tree = og.tree(max_depth=max_depth)
    if tree is None:
        return []
    lines: list[str] = []
    for depth, t in tree.walk():
        lines.append(_tree_line(depth, t))
    return lines


def _tree_line(depth: int, t: ObjectTree) -> str:
    name = escape(t.name) if depth else "(root)"
    where = f"#{t.node.id}"
    if t.repeated:
        return f"{'  ' * depth}{name} -> {where}"
    return f"{'  ' * depth}{name} {where} {escape(t.node.label)}"
