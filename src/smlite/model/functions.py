"""Saved functions of a TF2 SavedModel: typed views with their decoded signatures.

A TF2 export keeps, next to the graph, the Python-side description of every
``tf.function`` it saved (``MetaGraphDef.object_graph_def``):

* a ``SavedFunction`` object-graph node per polymorphic function, naming its
  traces (concrete functions) and carrying a ``FunctionSpec`` (the Python
  argument spec);
* a ``SavedBareConcreteFunction`` node per concrete function reachable on its
  own (a trace, a signature), with its flat argument keywords;
* ``concrete_functions[name]`` (``SavedConcreteFunction``) with the input
  signature ``(args, kwargs)`` and the output structure, as StructuredValues.

:class:`Function` and :class:`ConcreteFunction` are those, decoded with
:mod:`smlite.model.structure_decoder`.

``saved_model_cli show --all`` lists the traces of a function sorted by the
names TensorFlow's loader gives them, ``__inference_<name>_<uid>`` where the
uid comes from a process-wide counter, compared as strings (so
``__inference_f_101`` sorts before ``__inference_f_27``).  The counter is
deterministic: :func:`loaded_function_names` replays it from the function
library (see there), which is how smlite numbers the options exactly as
saved_model_cli does without loading anything.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Literal

from smlite import pb
from smlite.formats.graph_index import CALL_OPS, GraphIndex, Node
from smlite.model.structure import (
    DictValue,
    ListValue,
    NamedTupleValue,
    Structure,
)
from smlite.model.structure_decoder import decode_structure

__all__ = [
    "ConcreteFunction",
    "Function",
    "FunctionSpec",
    "loaded_function_names",
]

FunctionKind = Literal["function", "bare_concrete_function"]

_JIT_COMPILE = {0: "DEFAULT", 1: "ON", 2: "OFF"}


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """The Python calling convention of a saved function (``FunctionSpec`` proto).

    ``fullargspec`` is the decoded ``inspect.FullArgSpec`` namedtuple;
    ``input_signature`` the ``tf.function(input_signature=...)`` given, or None.
    """

    fullargspec: Structure
    is_method: bool
    input_signature: Structure
    jit_compile: str
    proto: pb.FunctionSpec = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, proto: pb.FunctionSpec, *, where: str = "") -> FunctionSpec:
        return cls(
            fullargspec=decode_structure(proto.fullargspec, where=f"{where}.fullargspec"),
            is_method=proto.is_method,
            input_signature=decode_structure(
                proto.input_signature, where=f"{where}.input_signature"
            ),
            jit_compile=_JIT_COMPILE.get(proto.jit_compile, f"UNKNOWN_{proto.jit_compile}"),
            proto=proto,
        )

    def _argspec_field(self, name: str) -> Structure:
        if isinstance(self.fullargspec, NamedTupleValue):
            for key, value in self.fullargspec.fields:
                if key == name:
                    return value
        return None

    @property
    def arg_names(self) -> tuple[str, ...]:
        """Positional parameter names, without ``self`` (as TensorFlow's loader sees them)."""
        args = self._argspec_field("args")
        names = tuple(a for a in args if isinstance(a, str)) if isinstance(args, ListValue) else ()
        if names and (self.is_method or names[0] == "self"):
            names = names[1:]
        return names

    @property
    def kwonly_names(self) -> tuple[str, ...]:
        args = self._argspec_field("kwonlyargs")
        return tuple(a for a in args if isinstance(a, str)) if isinstance(args, ListValue) else ()

    @property
    def varargs(self) -> str | None:
        value = self._argspec_field("varargs")
        return value if isinstance(value, str) else None

    @property
    def varkw(self) -> str | None:
        value = self._argspec_field("varkw")
        return value if isinstance(value, str) else None

    @property
    def defaults(self) -> tuple[Structure, ...]:
        """Defaults of the last positional parameters (``FullArgSpec.defaults``)."""
        value = self._argspec_field("defaults")
        if isinstance(value, (tuple, ListValue)):
            return tuple(value)
        return ()


@dataclass(frozen=True, slots=True)
class ConcreteFunction:
    """One trace of a saved function: a FunctionDef of the graph's library.

    ``input_signature`` is the decoded ``canonicalized_input_signature``,
    normally the pair ``(args, kwargs)`` that TensorFlow's loaded function
    reports as ``structured_input_signature``; None when the object graph has
    no entry for this function.
    """

    name: str
    input_signature: Structure
    output_signature: Structure
    bound_inputs: tuple[int, ...] = ()
    #: Flat argument names, from a ``bare_concrete_function`` node naming this function.
    argument_keywords: tuple[str, ...] | None = None
    allowed_positional_arguments: int | None = None
    proto: pb.SavedConcreteFunction | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_proto(cls, name: str, proto: pb.SavedConcreteFunction | None) -> ConcreteFunction:
        if proto is None:
            return cls(name, None, None)
        where = f"concrete_functions[{name!r}]"
        return cls(
            name=name,
            input_signature=decode_structure(
                proto.canonicalized_input_signature,
                where=f"{where}.canonicalized_input_signature",
            ),
            output_signature=decode_structure(
                proto.output_signature, where=f"{where}.output_signature"
            ),
            bound_inputs=tuple(proto.bound_inputs),
            proto=proto,
        )

    def with_bare(self, bare: pb.SavedBareConcreteFunction) -> ConcreteFunction:
        """This function with the argument keywords a bare-function node gives it."""
        return ConcreteFunction(
            self.name,
            self.input_signature,
            self.output_signature,
            self.bound_inputs,
            tuple(bare.argument_keywords),
            bare.allowed_positional_arguments,
            self.proto,
        )

    @property
    def args(self) -> tuple[Structure, ...] | None:
        """The positional part of an ``(args, kwargs)`` input signature, else None."""
        sig = self.input_signature
        if isinstance(sig, tuple) and len(sig) == 2 and isinstance(sig[0], tuple):
            return sig[0]
        return None

    @property
    def kwargs(self) -> DictValue | None:
        """The keyword part of the input signature."""
        sig = self.input_signature
        if isinstance(sig, tuple) and len(sig) == 2 and isinstance(sig[1], DictValue):
            return sig[1]
        return None


@dataclass(frozen=True, slots=True)
class Function:
    """A saved ``tf.function`` (polymorphic) or a bare concrete function.

    ``name`` is the attribute name it is saved under (``__call__``,
    ``serve``); ``concrete_functions`` are its traces in saved_model_cli's
    order (option 1 first).  A function saved before it was ever called has
    none.
    """

    name: str
    node_id: int
    kind: FunctionKind
    concrete_functions: tuple[ConcreteFunction, ...]
    function_spec: FunctionSpec | None = None

    def __repr__(self) -> str:
        return (
            f"Function({self.name!r}, kind={self.kind!r}, "
            f"concrete_functions={len(self.concrete_functions)})"
        )


# ---------------------------------------------------------------------------
# Names TensorFlow's loader gives the library functions
# ---------------------------------------------------------------------------

OutputSpec = tuple[int | str, ...]

# function_deserialization._FUNCTION_WRAPPER_NAME_REGEX
_WRAPPER_NAME = re.compile(r"^__inference_(.*)_\d+$", re.DOTALL)


@lru_cache(maxsize=1)
def _op_output_table() -> Mapping[str, OutputSpec]:
    """Output arguments of TensorFlow 2.21's ops (written by scripts/make_op_outputs.py)."""
    data = resources.files("smlite").joinpath("data", "tf_op_outputs_2.21.json")
    text = data.read_text(encoding="utf-8")
    doc = json.loads(text)
    table: dict[str, OutputSpec] = {name: (1,) for name in doc["single"]}
    table.update((name, tuple(spec)) for name, spec in doc["ops"].items())
    return table


def _op_def_outputs(op_def: pb.OpDef) -> OutputSpec:
    defaults: dict[str, str] = {}
    for a in op_def.attr:
        if a.HasField("default_value"):
            value = a.default_value
            count = len(value.list.type) if value.WhichOneof("value") == "list" else value.i
            defaults[a.name] = f"={count}"
    out: list[int | str] = []
    for arg in op_def.output_arg:
        if arg.number_attr:
            out.append(f"#{arg.number_attr}{defaults.get(arg.number_attr, '')}")
        elif arg.type_list_attr:
            out.append(f"*{arg.type_list_attr}{defaults.get(arg.type_list_attr, '')}")
        else:
            out.append(1)
    return tuple(out)


def _referenced_outputs(node_name: str, references: Iterable[str]) -> int:
    """Outputs of an op of unknown signature: those others read (``node:arg:index``), at least 1."""
    widest: dict[str, int] = {}
    prefix = node_name + ":"
    for ref in references:
        if ref.startswith(prefix):
            arg, _, index = ref[len(prefix) :].rpartition(":")
            if index.isdigit():
                widest[arg] = max(widest.get(arg, 0), int(index) + 1)
    return max(1, sum(widest.values()))


def _count_outputs(node: Node, spec: OutputSpec | None, references: list[str]) -> int:
    if spec is None:
        return _referenced_outputs(node.name, references)
    total = 0
    for item in spec:
        if isinstance(item, int):
            total += item
            continue
        kind, rest = item[0], item[1:]
        attr, _, default = rest.partition("=")
        value = node.attr_int(attr) if kind == "#" else node.type_list_length(attr)
        if value is None:
            value = int(default) if default.lstrip("-").isdigit() else 0
        total += max(0, value)
    return total


def loaded_function_names(
    library: GraphIndex, stripped_ops: pb.OpList | None = None
) -> dict[str, str]:
    """The names TensorFlow 2.21's ``tf.saved_model.load`` gives each library function.

    ``saved_model_cli`` orders a function's traces by these names.  The
    loader (``function_deserialization.load_function_def_library``) rebuilds
    the functions in a topological order of their call dependencies and names
    each ``__inference_<original name without __inference_ and _<n>>_<uid>``,
    the uid drawn from ``ops.uid()``, a counter the whole process shares.
    Replayed here:

    * ``saved_model_cli`` draws two uids before the first function: its
      ``tf.Graph()`` and the loader's shared-name suffix; one more per
      registered gradient (``custom_gradient.generate_name``);
    * per function, in topological order: one per ``HashTableV2`` node without
      ``use_node_name_sharing`` (the loader renames its table), one for the new
      function graph, one per tensor the graph holds (one per input, plus the
      outputs of every node, counted from OpDefs: the model's
      ``stripped_op_list``, else TensorFlow 2.21's op table), then the uid in
      the name.

    Checked against TensorFlow 2.21 on the fixture models (tests/tf).
    """
    fdefs = dict(library.functions)
    op_specs: dict[str, OutputSpec] = dict(_op_output_table())
    if stripped_ops is not None:
        for op_def in stripped_ops.op:
            op_specs[op_def.name] = _op_def_outputs(op_def)
    gradient_funcs = {op_type: func for op_type, func in library.registered_gradients if op_type}
    order = _topological_order(library, set(fdefs), gradient_funcs)

    # The next uid ops.uid() hands out: saved_model_cli's tf.Graph() took 0 and
    # the loader's shared-name suffix 1.
    counter = 2 + sum(1 for op_type, _ in library.registered_gradients if op_type)
    names: dict[str, str] = {}
    for name in order:
        fdef = fdefs[name]
        counter += sum(
            1
            for n in fdef.nodes
            if n.op == "HashTableV2" and not n.attr_bool("use_node_name_sharing")
        )
        tensors = len(fdef.args)
        references: list[str] = []
        for node in fdef.nodes:
            if node.op in fdefs:
                tensors += fdefs[node.op].num_outputs
                continue
            spec = op_specs.get(node.op)
            if spec is None and not references:
                references = [ref for n in fdef.nodes for ref in n.inputs]
            tensors += _count_outputs(node, spec, references)
        counter += 1 + tensors  # the function graph's key, then its tensors
        match = _WRAPPER_NAME.match(name)
        base = match.group(1) if match else name
        names[name] = f"__inference_{base}_{counter}"
        counter += 1
    return names


def _topological_order(
    library: GraphIndex, names: set[str], gradient_funcs: Mapping[bytes, str]
) -> list[str]:
    """function_deserialization._sort_function_defs: a stack-based topological sort."""
    deps: dict[str, set[str]] = {}
    for f in library.library:
        found: set[str] = set()
        for node in f.nodes:
            gradient = b""
            if node.op not in CALL_OPS:
                gradient = node.attr_bytes("_gradient_op_type") or b""
            if node.op in names:
                found.add(node.op)
            elif gradient and gradient in gradient_funcs:
                found.add(gradient_funcs[gradient])
            else:
                found.update(fn for _, fn in node.function_attrs)
        deps[f.name] = found
    edges: dict[str, list[str]] = defaultdict(list)
    waiting: dict[str, int] = defaultdict(int)
    for name, found in deps.items():
        for dep in found:
            edges[dep].append(name)
            waiting[name] += 1
    ready = [f.name for f in library.library if waiting[f.name] == 0]
    order: list[str] = []
    while ready:
        name = ready.pop()
        order.append(name)
        for dest in edges[name]:
            waiting[dest] -= 1
            if not waiting[dest]:
                ready.append(dest)
    # A dependency cycle (TensorFlow refuses to load it) or a call of a
    # function missing from the library: the rest in file order.
    seen = set(order)
    order.extend(f.name for f in library.library if f.name not in seen)
    return order
