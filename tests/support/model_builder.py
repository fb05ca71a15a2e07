"""Tiny SavedModels built from protos in tests: one TF1-style meta graph, nodes given by hand.

Enough to put any op, function, asset or saver in front of the checks without
TensorFlow.  The models have no variables and no fingerprint.pb, so a clean one
gets no finding at all::

    write_model(tmp_path / "m", [node("x", "Placeholder"), node("y", "Identity", "x")])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from smlite import pb

__all__ = ["function", "node", "write_model"]


def node(name: str, op: str, *inputs: str, **attrs: pb.AttrValue) -> pb.NodeDef:
    """A NodeDef: ``node("y", "Identity", "x", T=pb.AttrValue(type=1))``."""
    made = pb.NodeDef(name=name, op=op, input=list(inputs))
    for key, value in attrs.items():
        made.attr[key].CopyFrom(value)
    return made


def string_attr(value: bytes) -> pb.AttrValue:
    return pb.AttrValue(s=value)


def func_attr(name: str) -> pb.AttrValue:
    return pb.AttrValue(func=pb.NameAttrList(name=name))


def function(name: str, nodes: Sequence[pb.NodeDef], args: Sequence[str] = ()) -> pb.FunctionDef:
    """A FunctionDef named ``name`` whose body is ``nodes``."""
    made = pb.FunctionDef()
    made.signature.name = name
    for arg in args:
        made.signature.input_arg.add(name=arg, type=7)
    made.node_def.extend(nodes)
    return made


def saved_model(
    nodes: Sequence[pb.NodeDef],
    *,
    outputs: Mapping[str, str] | None = None,
    functions: Sequence[pb.FunctionDef] = (),
    assets: Sequence[tuple[str, str]] = (),
    tags: Sequence[str] = ("serve",),
    main_op: str | None = None,
) -> pb.SavedModel:
    """A SavedModel with one meta graph; ``serving_default`` returns ``outputs`` (key -> tensor).

    ``assets`` are ``(file name, tensor)`` pairs stored as TF1's SavedModelBuilder
    stores them (Any-packed AssetFileDefs in the ``saved_model_assets`` collection).
    """
    message = pb.SavedModel(saved_model_schema_version=1)
    mg = message.meta_graphs.add()
    mg.meta_info_def.tags.extend(tags)
    mg.meta_info_def.tensorflow_version = "2.21.0"
    mg.graph_def.node.extend(nodes)
    mg.graph_def.library.function.extend(functions)
    signature = mg.signature_def["serving_default"]
    signature.method_name = "tensorflow/serving/predict"
    for key, tensor in (outputs or {}).items():
        signature.outputs[key].name = tensor
        signature.outputs[key].dtype = 1
    for filename, tensor in assets:
        asset = pb.AssetFileDef(filename=filename)
        asset.tensor_info.name = tensor
        mg.collection_def["saved_model_assets"].any_list.value.append(pb.pack_any(asset))
    if main_op is not None:
        mg.collection_def["saved_model_main_op"].node_list.value.append(main_op)
    return message


def write_model(path: Path, nodes: Sequence[pb.NodeDef], **kwargs: object) -> Path:
    """:func:`saved_model` written to ``path/saved_model.pb``; returns ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    message = saved_model(nodes, **kwargs)  # type: ignore[arg-type]
    (path / "saved_model.pb").write_bytes(message.SerializeToString())
    return path
