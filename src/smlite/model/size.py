"""Where the bytes of a SavedModel go, and how close it is to protobuf's 2 GiB wall.

:func:`size_report` attributes every byte of ``saved_model.pb`` (from
:mod:`smlite.formats.layout`: a span walk over the memory map, no parse kept)
to a tree of :class:`SizePart` whose children always add up to their parent,
lists the largest functions and constants of each meta graph, and measures the
other files of the model directory, the variables grouped by layer (from the
variables index; no tensor data is read).  :func:`size_findings` judges it
(rules ``SML702``-``SML704``).

>>> import smlite
>>> from smlite.model.size import size_report
>>> with smlite.open("tests/fixtures/models/keras_model") as sm:  # doctest: +SKIP
...     report = size_report(sm, top=5)
...     assert report.tree.bytes == sum(c.bytes for c in report.tree.children)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

from smlite.errors import CorruptFileError, SmliteError
from smlite.formats import layout as layout_format
from smlite.formats import storage, wire
from smlite.formats.storage import RemotePath
from smlite.model.disk import FileSize, model_files
from smlite.model.dtypes import DType, dtype
from smlite.model.rules import Finding, Where, rule
from smlite.model.saved_model import SavedModel
from smlite.model.size_views import (
    PROTOBUF_LIMIT,
    ConstTensor,
    FunctionSize,
    MetaGraphSize,
    SizePart,
    SizeReport,
    TracedFunction,
    VariableEntry,
    VariableGroup,
    VariablesSize,
)
from smlite.model.units import format_bytes

__all__ = [
    "PROTOBUF_LIMIT",
    "WARNING_SIZE",
    "ConstTensor",
    "FileSize",
    "FunctionSize",
    "MetaGraphSize",
    "SizePart",
    "SizeReport",
    "TracedFunction",
    "VariableEntry",
    "VariableGroup",
    "VariablesSize",
    "layer_of",
    "python_function_name",
    "size_findings",
    "size_report",
]

#: Above this a SavedModel is close enough to the limit to warn (1.5 GiB).
WARNING_SIZE = 3 * 2**29

# DataTypes whose constants are not weights (strings, handles).
_NON_WEIGHT_DTYPES = frozenset(dtype(name) for name in ("string", "resource", "variant"))
# __inference_<python name>_<uid>: the traces TensorFlow makes of one Python function.
_TRACE_NAME = re.compile(r"^__inference_(.+?)(?:_\d+)+$", re.DOTALL)


def python_function_name(function: str) -> str | None:
    """``__inference_call_123`` -> ``call``; None for a name that is not a trace's."""
    m = _TRACE_NAME.match(function)
    return m.group(1) if m else None


def _part(name: str, kind: str, children: Iterable[SizePart]) -> SizePart:
    """A part made of ``children`` (empty ones left out): its size is their sum."""
    kept = tuple(c for c in children if c.bytes)
    return SizePart(name, kind, sum(c.bytes for c in kept), kept)


def _capped(parts: Sequence[SizePart], top: int, noun: str) -> list[SizePart]:
    """The ``top`` largest parts and one part for the rest, so sums stay exact."""
    ranked = sorted(parts, key=lambda p: p.bytes, reverse=True)
    if top < 0 or len(ranked) <= top:
        return ranked
    rest = ranked[top:]
    more = SizePart(f"{len(rest)} more {noun}", "more", sum(p.bytes for p in rest))
    return [*ranked[:top], more]


# -- saved_model.pb ------------------------------------------------------------------------


def _functions(
    graph: layout_format.GraphLayout, top: int
) -> tuple[list[FunctionSize], list[TracedFunction]]:
    names = [python_function_name(f.name) for f in graph.functions]
    counts: dict[str, int] = {}
    traced_bytes: dict[str, int] = {}
    for fn, py in zip(graph.functions, names, strict=True):
        if py is not None:
            counts[py] = counts.get(py, 0) + 1
            traced_bytes[py] = traced_bytes.get(py, 0) + fn.bytes
    sizes = [
        FunctionSize(f.name, f.bytes, f.nodes, f.const_bytes, py, counts.get(py, 1) if py else 1)
        for f, py in zip(graph.functions, names, strict=True)
    ]
    sizes.sort(key=lambda f: f.bytes, reverse=True)
    traced = [TracedFunction(py, n, traced_bytes[py]) for py, n in counts.items() if n > 1]
    traced.sort(key=lambda t: (t.bytes, t.variants), reverse=True)
    return sizes[:top], traced[:top]


def _graph_parts(graph: layout_format.GraphLayout, top: int) -> list[SizePart]:
    functions = [SizePart(f.name, "function", f.bytes) for f in graph.functions]
    library = _part(
        f"function library ({len(graph.functions)} functions)",
        "function_library",
        [
            *_capped(functions, top, "functions"),
            SizePart("gradients", "gradients", graph.gradient_bytes),
            SizePart("framing", "framing", graph.library_framing),
        ],
    )
    other = [SizePart(f"graph {name}", "graph_other", n) for name, n in sorted(graph.other.items())]
    return [
        SizePart(f"graph nodes ({graph.nodes} nodes)", "graph_nodes", graph.node_bytes),
        library,
        *other,
        SizePart("graph framing", "framing", graph.framing),
    ]


_SECTION_PARTS = {
    "object_graph_def": ("object graph", "object_graph"),
    "signature_def": ("signatures", "signatures"),
    "stripped_op_list": ("stripped op list", "stripped_op_list"),
}


def _meta_graph(sm: SavedModel, raw: layout_format.MetaGraphLayout, top: int) -> MetaGraphSize:
    mg = sm.meta_graphs[raw.index] if raw.index < len(sm.meta_graphs) else None
    tags = mg.tags if mg is not None else ()
    graph = raw.graph
    main: list[SizePart] = []
    rest: list[SizePart] = []
    if graph is not None:
        graph_parts = _graph_parts(graph, top)
        main.extend(graph_parts[:2])
        rest.extend(graph_parts[2:])
    for section, size in raw.sections.items():
        name, kind = _SECTION_PARTS.get(section, (section, section.replace(" fields", "")))
        (main if section in _SECTION_PARTS else rest).append(SizePart(name, kind, size))
    rest.append(SizePart("meta graph framing", "framing", raw.framing))
    label = ",".join(tags) if tags else "no tags"
    part = _part(
        f"meta graph #{raw.index} [{label}]",
        "meta_graph",
        [*main, _part("other", "other", rest)],
    )
    functions, traced = _functions(graph, top) if graph is not None else ([], [])
    weights = sum(
        n for d, n in raw.const_bytes_by_dtype.items() if DType(d).base not in _NON_WEIGHT_DTYPES
    )
    consts = tuple(
        ConstTensor(c.function, c.node, DType(c.dtype), c.shape, c.bytes)
        for c in raw.largest_consts
    )
    return MetaGraphSize(
        raw.index,
        tags,
        raw.bytes,
        graph.bytes if graph is not None else 0,
        graph.nodes if graph is not None else 0,
        len(graph.functions) if graph is not None else 0,
        tuple(functions),
        tuple(traced),
        raw.const_count,
        raw.const_bytes,
        weights,
        consts,
        part,
    )


def _layout(sm: SavedModel, top: int) -> tuple[layout_format.FileLayout, int]:
    """The file's layout and its size on disk (a text file's binary encoding is walked)."""
    import mmap

    path = sm.file
    try:
        if sm.format == "pbtxt":
            return layout_format.layout(sm.proto.SerializeToString(), top=top), path.stat().st_size
        if isinstance(path, RemotePath):  # fetched once, shared with the graph index
            return layout_format.layout(sm.contents(), top=top), storage.size(path)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                return layout_format.layout(b"", top=top), 0
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return layout_format.layout(buf, top=top), size
    except wire.WireError as e:
        raise CorruptFileError(
            f"cannot attribute the bytes of {path.name}: {e}", path=path, offset=e.offset
        ) from e
    except OSError as e:
        raise SmliteError(f"{path}: cannot read: {e.strerror or e}", path=path) from e


# -- the rest of the directory ---------------------------------------------------------------


def layer_of(name: str) -> str:
    """The object-path prefix (layer) of a variable: ``dense.kernel`` -> ``dense``.

    Checkpoint keys without an object path are cut at ``/``
    (``dense/kernel/.ATTRIBUTES/VARIABLE_VALUE`` -> ``dense``); optimizer slots
    ``optimizer.m[dense.kernel]`` go with their optimizer.
    """
    base = name.split("/.ATTRIBUTES/", 1)[0].split("[", 1)[0]
    sep = "/" if "/" in base else "."
    head, found, _ = base.rpartition(sep)
    return head if found and head else "(root)"


def _variables(sm: SavedModel, top: int) -> VariablesSize:
    try:
        variables = sm.variables
        entries = [
            VariableEntry(v.display_name, v.tf_dtype, v.shape, v.nbytes) for v in variables.values()
        ]
    except SmliteError as e:
        return VariablesSize(0, 0, (), 0, (), error=str(e))
    ranked = sorted(entries, key=lambda v: v.bytes, reverse=True)
    groups: dict[str, list[VariableEntry]] = {}
    for v in ranked:
        groups.setdefault(layer_of(v.name), []).append(v)
    made = [
        VariableGroup(prefix, len(vs), sum(v.bytes for v in vs), tuple(vs[:top]))
        for prefix, vs in groups.items()
    ]
    made.sort(key=lambda g: (g.bytes, g.count), reverse=True)
    return VariablesSize(
        len(entries),
        sum(v.bytes for v in entries),
        tuple(made[:top]),
        max(0, len(made) - top),
        tuple(ranked[:top]),
    )


def size_report(sm: SavedModel, *, top: int = 10) -> SizeReport:
    """Attribute the bytes of ``sm``; lists keep the ``top`` largest entries.

    Raises :class:`~smlite.errors.CorruptFileError` when ``saved_model.pb``
    does not walk as a protocol buffer.
    """
    top = max(0, top)
    layout, file_bytes = _layout(sm, top)
    metas = tuple(_meta_graph(sm, m, top) for m in layout.meta_graphs)
    tree = _part(
        sm.file.name,
        "saved_model",
        [m.part for m in metas]
        + [SizePart("schema version and other fields", "other", layout.other)],
    )
    if tree.bytes != layout.size:  # pragma: no cover - the layout's own invariant
        raise AssertionError(f"attributed {tree.bytes} of {layout.size} bytes of {sm.file}")
    return SizeReport(
        sm.path,
        sm.file,
        sm.format,
        file_bytes,
        layout.size,
        tree,
        metas,
        model_files(sm.path, sm.file.name),
        _variables(sm, top),
        top,
    )


# -- judgement -------------------------------------------------------------------------------

#: Constants below this many bytes are never worth a finding, whatever their share.
CONSTANTS_NOTE_MIN = 2**20


def _amount(n: int) -> str:
    """``1.50 GiB (1610612736 bytes)``: the rounded size and the exact one."""
    return format_bytes(n, exact=True, digits=2)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _where(report: SizeReport) -> Where:
    """The innermost message at or over the limit: a GraphDef, a meta graph or the file."""
    for m in report.meta_graphs:
        if m.graph_bytes >= PROTOBUF_LIMIT:
            return Where(report.file, meta_graph=m.index, tags=m.tags, detail="graph_def")
    for m in report.meta_graphs:
        if m.bytes >= PROTOBUF_LIMIT:
            return Where(report.file, meta_graph=m.index, tags=m.tags)
    return Where(report.file)


def _advice(report: SizeReport) -> str:
    """What would shrink saved_model.pb most, from its largest contributor."""
    weights = sum(m.weight_const_bytes for m in report.meta_graphs)
    if weights * 2 >= report.encoded_bytes:
        return (
            f"{_amount(weights)} of it are constant tensors folded into the graph: keep them "
            "as tf.Variable objects so they are saved in variables/, which has no such limit"
        )
    traced = [t for m in report.meta_graphs for t in m.traced]
    if traced:
        t = max(traced, key=lambda t: t.bytes)
        if t.bytes * 4 >= report.encoded_bytes:
            return (
                f"the Python function '{t.python_name}' is traced {t.variants} times "
                f"({_amount(t.bytes)}): an input_signature on its tf.function keeps one trace"
            )
    largest = max(
        (c for m in report.meta_graphs for c in m.part.children),
        key=lambda p: p.bytes,
        default=None,
    )
    if largest is None:
        return "nothing in it stands out"
    return f"its largest part is {largest.name} ({_amount(largest.bytes)})"


def size_findings(report: SizeReport) -> tuple[Finding, ...]:
    """Rules SML702-SML704 over a :class:`SizeReport`.

    * SML702 (error): the SavedModel message (a pbtxt's binary encoding) is
      2 GiB or more; located at the innermost message over the limit.
    * SML703 (warning): it is over 1.5 GiB.
    * SML704 (note): more than half of it are weights folded into a meta
      graph as constants (and at least 1 MiB of them).
    """
    found: list[Finding] = []
    size = report.encoded_bytes
    name = (
        report.file.name if report.format == "pb" else f"the binary encoding of {report.file.name}"
    )
    if size >= PROTOBUF_LIMIT:
        where = _where(report)
        inner = ""
        if where.detail == "graph_def":
            inner = f"; the GraphDef of meta graph #{where.meta_graph} alone is over it"
        elif where.meta_graph is not None:
            inner = f"; meta graph #{where.meta_graph} alone is over it"
        found.append(
            Finding(
                rule("SML702"),
                f"{name} is {_amount(size)}, at or over protobuf's 2 GiB limit for one "
                f"message{inner}: TensorFlow cannot load it. {_sentence(_advice(report))}.",
                where,
            )
        )
    elif size > WARNING_SIZE:
        found.append(
            Finding(
                rule("SML703"),
                f"{name} is {_amount(size)}, {_amount(report.headroom)} below protobuf's 2 GiB "
                f"limit, past which TensorFlow can neither save nor load it. "
                f"{_sentence(_advice(report))}.",
                Where(report.file),
            )
        )
    for m in report.meta_graphs:
        if m.weight_const_bytes < CONSTANTS_NOTE_MIN or m.weight_const_bytes * 2 <= size:
            continue
        share = 100 * m.weight_const_bytes // size
        largest = m.largest_consts[0] if m.largest_consts else None
        detail = ""
        where = Where(report.file, meta_graph=m.index, tags=m.tags)
        if largest is not None:
            shape = "?" if largest.shape is None else list(largest.shape)
            detail = (
                f"; the largest is {largest.path}, {largest.dtype.name} {shape}, "
                f"{_amount(largest.bytes)}"
            )
            where = Where(
                report.file, meta_graph=m.index, tags=m.tags, function=largest.function,
                node=largest.node,
            )  # fmt: skip
        found.append(
            Finding(
                rule("SML704"),
                f"{share}% of {name}, {_amount(m.weight_const_bytes)}, are weights folded into "
                f"meta graph #{m.index} as constants ({m.const_count} constant nodes{detail}). "
                "These weights "
                "would live in variables/ if they were variables: create them as tf.Variable "
                "attributes of the saved tf.Module or Keras layer instead of capturing NumPy "
                "arrays or tf.constant values in a tf.function (TF1: save before freezing the "
                "graph). Variables are restored from checkpoint shards, do not count toward "
                "protobuf's 2 GiB limit, and can be updated without re-exporting the graph.",
                where,
            )
        )
    return tuple(found)
