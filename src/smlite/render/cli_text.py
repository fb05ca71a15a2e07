"""``saved_model_cli show`` text, line for line.

Each function renders one of the blocks TensorFlow 2.21's ``saved_model_cli``
prints (``tensorflow/python/tools/saved_model_cli.py``), from smlite's views,
as a string ending in a newline.  The CLI prints them in saved_model_cli's
order.  Two differences are deliberate:

* sets are printed with sorted items (saved_model_cli prints hash order);
* no backspace characters: where saved_model_cli prints ``, \\b\\b`` to rub out
  a trailing separator, the clean text is printed.

Every name read from the file goes through :func:`~smlite.render.escape.escape`;
ordinary names are unchanged by it, so normal models print exactly as
saved_model_cli prints them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from smlite.errors import NamedLocation
from smlite.model.saved_model import MetaGraph, SavedModel, Signature
from smlite.model.tensors import TensorInfo
from smlite.render.escape import escape

__all__ = [
    "LIST_OPS_NEEDS_TAG_SET",
    "meta_graphs_in_show_order",
    "ops_text",
    "serving_notice",
    "show_all_text",
    "signature_keys_text",
    "signature_text",
    "tag_sets_text",
    "tensor_info_lines",
]

LIST_OPS_NEEDS_TAG_SET = "--list_ops must be paired with a tag-set or with --all.\n"
_INDENT = "  "


def tag_sets_text(sm: SavedModel) -> str:
    """``show`` without ``--tag_set``: one quoted, sorted tag list per meta graph."""
    lines = ["The given SavedModel contains the following tag-sets:"]
    # saved_model_cli sorts the tag lists as stored (file order), then prints
    # each list sorted and joined; ``%r`` of that string gives the quotes.
    for tags in sorted(list(mg.tags) for mg in sm.meta_graphs):
        lines.append(escape(repr(", ".join(sorted(tags)))))
    return "\n".join(lines) + "\n"


def signature_keys_text(mg: MetaGraph) -> str:
    """``show --tag_set T``: the signature keys of one meta graph."""
    lines = ["The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:"]
    lines.extend(f'SignatureDef key: "{escape(key)}"' for key in sorted(mg.signatures))
    return "\n".join(lines) + "\n"


def _python_set(items: Iterable[str]) -> str:
    """A set of strings as Python prints it, items sorted (``set()`` when empty)."""
    ordered = sorted(items)
    if not ordered:
        return "set()"
    return "{" + ", ".join(repr(item) for item in ordered) + "}"


def ops_text(mg: MetaGraph) -> str:
    """``--list_ops``: the op types the meta graph uses (from a wire scan of its graph)."""
    # saved_model_cli formats the repeated ``tags`` field with %s, which
    # prints like a Python list of the tags in file order.
    tags = escape(repr(list(mg.tags)))
    return (
        f"The MetaGraph with tag set {tags} contains the following ops: "
        f"{escape(_python_set(mg.ops_used))}\n"
    )


def _shape_text(info: TensorInfo) -> str:
    raw = info.shape.raw_dims
    if raw is None:
        return "unknown_rank"
    # Not a Python tuple: a rank-1 shape prints as "(-1)", a scalar as "()".
    return "(" + ", ".join(str(d) for d in raw) + ")"


def tensor_info_lines(info: TensorInfo, indent: int = 0) -> list[str]:
    """The ``dtype``/``shape``/``name`` lines of one input or output.

    ``name`` is the dense tensor name; sparse and composite entries have none,
    and saved_model_cli prints the label with nothing after it.
    """
    pad = _INDENT * indent + "    "
    return [
        f"{pad}dtype: {info.dtype.enum_name}",
        f"{pad}shape: {_shape_text(info)}",
        f"{pad}name: {escape(info.name or '')}",
    ]


def signature_text(sig: Signature, indent: int = 0) -> str:
    """``show --tag_set T --signature_def S``: inputs, outputs and method name."""
    pad = _INDENT * indent
    lines = [f"{pad}The given SavedModel SignatureDef contains the following input(s):"]
    for key, info in sorted(sig.inputs.items()):
        lines.append(f"{pad}  inputs['{escape(key)}'] tensor_info:")
        lines.extend(tensor_info_lines(info, indent + 1))
    lines.append(f"{pad}The given SavedModel SignatureDef contains the following output(s):")
    for key, info in sorted(sig.outputs.items()):
        lines.append(f"{pad}  outputs['{escape(key)}'] tensor_info:")
        lines.extend(tensor_info_lines(info, indent + 1))
    lines.append(f"{pad}Method name is: {escape(sig.method_name)}")
    return "\n".join(lines) + "\n"


def meta_graphs_in_show_order(sm: SavedModel) -> list[MetaGraph]:
    """Meta graphs in ``show --all`` order: sorted by their tag lists as stored."""
    return sorted(sm.meta_graphs, key=lambda mg: list(mg.tags))


def _meta_graph_all_text(mg: MetaGraph) -> str:
    parts = [
        f"\nMetaGraphDef with tag-set: '{escape(', '.join(mg.tags))}' "
        "contains the following SignatureDefs:\n"
    ]
    for key in sorted(mg.signatures):
        parts.append(f"\nsignature_def['{escape(key)}']:\n")
        parts.append(signature_text(mg.signatures[key], indent=1))
    parts.append(ops_text(mg))
    return "".join(parts)


def _concrete_functions_section(sm: SavedModel) -> str:
    """The "Concrete Functions" section that ends ``show --all`` for TF2 models.

    ``smlite.render.functions.concrete_functions_text(sm)``: the text exactly
    as saved_model_cli prints it, starting with ``"\nConcrete Functions:"``,
    or ``""`` when no meta graph has an object graph.
    """
    from smlite.render.functions import concrete_functions_text

    return concrete_functions_text(sm)


def show_all_text(sm: SavedModel) -> str:
    """``show --all``: every meta graph's signatures and ops, then the functions."""
    body = "".join(_meta_graph_all_text(mg) for mg in meta_graphs_in_show_order(sm))
    return body + _concrete_functions_section(sm)


class _ServingLayout(Protocol):
    """What :func:`serving_notice` reads of ``smlite.formats.saved_model.ServingLayout``."""

    @property
    def base_path(self) -> NamedLocation: ...
    @property
    def versions(self) -> Sequence[tuple[int, NamedLocation]]: ...
    @property
    def chosen(self) -> int: ...
    @property
    def requested(self) -> bool: ...
    @property
    def chosen_path(self) -> NamedLocation: ...


def serving_notice(source: SavedModel | _ServingLayout | None) -> str:
    """The stderr line saying which version of a TF Serving base path is read.

    ``source`` is the SavedModel (or its ``serving`` layout); ``""`` when it
    was not opened through a base path.
    """
    layout = source.serving if isinstance(source, SavedModel) else source
    if layout is None:
        return ""
    numbers = sorted({v for v, _ in layout.versions})
    listed = ", ".join(str(n) for n in numbers)
    base = escape(str(layout.base_path))
    if layout.requested:
        why = f"requested with --version; versions: {listed}"
    else:
        why = f"highest of {listed}"
    notice = f"smlite: serving version {layout.chosen} of {base} ({why})"
    chosen = layout.chosen_path
    if chosen.name != str(layout.chosen):
        notice += f" from folder {escape(chosen.name)}"
    return notice + "\n"
