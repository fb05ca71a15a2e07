"""The typed views ``smlite size`` builds: a tree of parts that add up, and the lists beside it.

:func:`smlite.model.size.size_report` builds a :class:`SizeReport`; the
render layer prints it and :func:`smlite.model.size.size_findings` judges it.
All of them are exported by :mod:`smlite.model.size` too.
"""

from __future__ import annotations

from dataclasses import dataclass

from smlite.formats.storage import AnyPath
from smlite.model.disk import FileSize
from smlite.model.dtypes import DType

__all__ = [
    "PROTOBUF_LIMIT",
    "ConstTensor",
    "FunctionSize",
    "MetaGraphSize",
    "SizePart",
    "SizeReport",
    "TracedFunction",
    "VariableEntry",
    "VariableGroup",
    "VariablesSize",
]

#: Protobuf refuses to parse or serialize a message of 2 GiB or more.
PROTOBUF_LIMIT = 2**31


@dataclass(frozen=True, slots=True)
class SizePart:
    """A named part of a file; ``children`` (when any) add up to ``bytes`` exactly."""

    name: str
    #: What the part is, for machines: ``meta_graph``, ``graph_nodes``, ``function``, ...
    kind: str
    bytes: int
    children: tuple[SizePart, ...] = ()

    def __repr__(self) -> str:
        return f"SizePart({self.name!r}, {self.bytes}, children={len(self.children)})"


@dataclass(frozen=True, slots=True)
class ConstTensor:
    """A tensor folded into the graph as a constant node."""

    #: The library function holding it; None for a node of the graph itself.
    function: str | None
    node: str
    dtype: DType
    #: None for an unknown rank.
    shape: tuple[int, ...] | None
    #: Bytes of the node in ``saved_model.pb``.
    bytes: int

    @property
    def path(self) -> str:
        """``function[f]/node[n]`` or ``node[n]``."""
        node = f"node[{self.node}]"
        return node if self.function is None else f"function[{self.function}]/{node}"


@dataclass(frozen=True, slots=True)
class FunctionSize:
    name: str
    bytes: int
    nodes: int
    const_bytes: int
    #: The Python function it is a trace of, and how many traces of it the library holds.
    python_name: str | None
    variants: int


@dataclass(frozen=True, slots=True)
class TracedFunction:
    """A Python function traced into several library functions."""

    python_name: str
    variants: int
    bytes: int


@dataclass(frozen=True, slots=True)
class MetaGraphSize:
    index: int
    tags: tuple[str, ...]
    bytes: int
    graph_bytes: int
    nodes: int
    function_count: int
    #: The largest functions, largest first.
    functions: tuple[FunctionSize, ...]
    #: Python functions with more than one trace, by bytes.
    traced: tuple[TracedFunction, ...]
    const_count: int
    const_bytes: int
    #: Constants other than strings and handles: weights folded into the graph.
    weight_const_bytes: int
    largest_consts: tuple[ConstTensor, ...]
    part: SizePart


@dataclass(frozen=True, slots=True)
class VariableEntry:
    name: str
    dtype: DType
    shape: tuple[int, ...]
    bytes: int


@dataclass(frozen=True, slots=True)
class VariableGroup:
    """Variables sharing an object-path prefix (a layer)."""

    prefix: str
    count: int
    bytes: int
    largest: tuple[VariableEntry, ...]


@dataclass(frozen=True, slots=True)
class VariablesSize:
    count: int
    bytes: int
    #: The largest groups; ``more_groups`` more are left out.
    groups: tuple[VariableGroup, ...]
    more_groups: int
    largest: tuple[VariableEntry, ...]
    #: Why the variables could not be read, or None.
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SizeReport:
    """Sizes of one SavedModel.  ``tree`` attributes ``encoded_bytes`` exactly."""

    model_dir: AnyPath
    file: AnyPath
    #: ``pb``, or ``pbtxt`` whose binary encoding (what protobuf's limit is about) is attributed.
    format: str
    file_bytes: int
    encoded_bytes: int
    tree: SizePart
    meta_graphs: tuple[MetaGraphSize, ...]
    files: tuple[FileSize, ...]
    variables: VariablesSize
    top: int

    @property
    def headroom(self) -> int:
        """Bytes left before protobuf's 2 GiB limit (negative past it)."""
        return PROTOBUF_LIMIT - self.encoded_bytes

    @property
    def directory_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def __repr__(self) -> str:
        return (
            f"SizeReport({str(self.model_dir)!r}, saved_model={self.encoded_bytes}, "
            f"meta_graphs={len(self.meta_graphs)}, files={len(self.files)})"
        )
