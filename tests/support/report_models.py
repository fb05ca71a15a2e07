"""Models for the ``smlite report`` tests: hostile names and a large function library.

Built with the proto classes (the names are valid UTF-8: what matters is that
they are markup, not that they are undecodable).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smlite import pb
from tests.support.bundle_writer import BundleWriter

#: Markup that must show up as text, never run or render.
HOSTILE_SIGNATURE = '<script>window.pwned=1</script>"sig'
HOSTILE_FUNCTION = "__inference_<img src=x onerror=window.pwned=2>_7"
HOSTILE_VARIABLE = "</td><b>bold</b><script>window.pwned=3</script>"


def _call(graph_nodes: object, name: str, function: str, inputs: list[str]) -> None:
    node = graph_nodes.add()  # type: ignore[attr-defined]
    node.name = name
    node.op = "StatefulPartitionedCall"
    node.input.extend(inputs)
    node.attr["f"].func.name = function


def _function(library: pb.FunctionDefLibrary, name: str, callees: list[str]) -> None:
    fn = library.function.add()
    fn.signature.name = name
    ident = fn.node_def.add()
    ident.name = "id"
    ident.op = "Identity"
    for i, callee in enumerate(callees):
        call = fn.node_def.add()
        call.name = f"call_{i}"
        call.op = "PartitionedCall"
        call.attr["f"].func.name = callee


def build_model(
    model: Path,
    *,
    functions: int = 1,
    signature: str = "serving_default",
    function_name: str = "__inference_serve_1",
    variable: str = "w",
) -> None:
    """A model whose signature calls ``function_name``, which calls a chain of ``functions - 1``."""
    model.mkdir(parents=True)
    meta = pb.MetaGraphDef()
    meta.meta_info_def.tags.append("serve")
    meta.meta_info_def.tensorflow_version = "2.21.0"
    sig = meta.signature_def[signature]
    sig.method_name = "tensorflow/serving/predict"
    x = sig.inputs["x"]
    x.name, x.dtype = "x:0", 1
    y = sig.outputs["y"]
    y.name, y.dtype = "call:0", 1
    graph = meta.graph_def
    placeholder = graph.node.add()
    placeholder.name, placeholder.op = "x", "Placeholder"
    _call(graph.node, "call", function_name, ["x"])
    chain = [function_name] + [f"__inference_layer_{i}_{100 + i}" for i in range(functions - 1)]
    for i, name in enumerate(chain):
        _function(graph.library, name, chain[i + 1 : i + 2])
    saved = pb.SavedModel()
    saved.saved_model_schema_version = 1
    saved.meta_graphs.append(meta)
    (model / "saved_model.pb").write_bytes(saved.SerializeToString())
    w = BundleWriter(model / "variables" / "variables")
    w.add(variable.encode(), np.arange(6, dtype=np.float32).reshape(2, 3))
    w.finish()


def build_hostile(model: Path) -> None:
    build_model(
        model,
        functions=3,
        signature=HOSTILE_SIGNATURE,
        function_name=HOSTILE_FUNCTION,
        variable=HOSTILE_VARIABLE,
    )
