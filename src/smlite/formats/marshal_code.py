"""What a marshalled code object holds, field by field, for each CPython release.

:mod:`smlite.formats.marshal_reader` reads ``marshal.dumps(code)`` into a
:class:`CodeObject`: plain values, never a live ``types.CodeType``.  A code
object starts with 32-bit integers, then objects, then ``co_firstlineno`` as a
raw ``<i4>``, then objects; which fields, in which order, depends on the
CPython release that wrote it (:data:`LAYOUTS`, from ``Python/marshal.c``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BYTES_FIELDS",
    "CO_FAST_CELL",
    "CO_FAST_FREE",
    "CO_FAST_LOCAL",
    "CO_VARARGS",
    "CO_VARKEYWORDS",
    "LAYOUTS",
    "STR_FIELDS",
    "STR_TUPLE_FIELDS",
    "CodeObject",
    "Layout",
]

CO_VARARGS = 0x04
CO_VARKEYWORDS = 0x08
# Kinds of co_localspluskinds (CPython 3.11+, Include/internal/pycore_code.h).
CO_FAST_LOCAL = 0x20
CO_FAST_CELL = 0x40
CO_FAST_FREE = 0x80


@dataclass(frozen=True, slots=True)
class Layout:
    """Which fields a code object has, in order, for a range of CPython releases."""

    label: str
    #: The leading 32-bit integers.
    ints: tuple[str, ...]
    #: The objects between the integers and co_firstlineno.
    head: tuple[str, ...]
    #: The objects after co_firstlineno.
    tail: tuple[str, ...]


_COMMON_HEAD = ("code", "consts", "names", "varnames", "freevars", "cellvars", "filename", "name")

#: Newest first; :func:`read_code` tries them in this order.
LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "3.11-3.13",
        ("argcount", "posonlyargcount", "kwonlyargcount", "stacksize", "flags"),
        (
            "code",
            "consts",
            "names",
            "localsplusnames",
            "localspluskinds",
            "filename",
            "name",
            "qualname",
        ),
        ("linetable", "exceptiontable"),
    ),
    Layout(
        "3.8-3.10",
        ("argcount", "posonlyargcount", "kwonlyargcount", "nlocals", "stacksize", "flags"),
        _COMMON_HEAD,
        ("linetable",),  # co_lnotab in 3.8 and 3.9, co_linetable in 3.10
    ),
    Layout(
        "3.0-3.7",
        ("argcount", "kwonlyargcount", "nlocals", "stacksize", "flags"),
        _COMMON_HEAD,
        ("linetable",),  # co_lnotab
    ),
)

# The type CPython requires of each object field: a tuple of strings, a string, bytes
# (``consts`` is any tuple).
STR_TUPLE_FIELDS = frozenset({"names", "varnames", "freevars", "cellvars", "localsplusnames"})
STR_FIELDS = frozenset({"filename", "name", "qualname"})
BYTES_FIELDS = frozenset({"code", "localspluskinds", "linetable", "exceptiontable"})


@dataclass(frozen=True, slots=True, eq=False)
class CodeObject:
    """A code object as its marshal bytes describe it (never a live ``types.CodeType``).

    Field names follow ``co_*`` without the prefix.  ``layout`` is the label of the
    :data:`LAYOUTS` entry it was read with; ``nlocals`` is None for 3.11+ (not stored),
    ``qualname`` and ``exceptiontable`` are None before 3.11.
    """

    layout: str
    argcount: int
    posonlyargcount: int
    kwonlyargcount: int
    nlocals: int | None
    stacksize: int
    flags: int
    code: bytes
    consts: tuple[Any, ...]
    names: tuple[str, ...]
    varnames: tuple[str, ...]
    freevars: tuple[str, ...]
    cellvars: tuple[str, ...]
    filename: str
    name: str
    qualname: str | None
    firstlineno: int
    linetable: bytes
    exceptiontable: bytes | None

    @property
    def arg_names(self) -> tuple[str, ...]:
        """Parameter names, as ``inspect`` lists them (``*args`` and ``**kwargs`` included)."""
        n = self.argcount + self.kwonlyargcount
        n += bool(self.flags & CO_VARARGS) + bool(self.flags & CO_VARKEYWORDS)
        return self.varnames[:n]

    def walk(self) -> Iterator[CodeObject]:
        """This code object, then every code object nested in its constants, depth first."""
        yield self
        for const in _flat(self.consts):
            if isinstance(const, CodeObject):
                yield from const.walk()

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every name referenced (``co_names``) here and in nested code, sorted, once each."""
        return tuple(sorted({n for c in self.walk() for n in c.names}))

    @property
    def strings(self) -> tuple[str | bytes, ...]:
        """String and bytes constants here and in nested code, in order of appearance, once each."""
        seen: dict[str | bytes, None] = {}
        for c in self.walk():
            for const in _flat(c.consts):
                if isinstance(const, (str, bytes)):
                    seen.setdefault(const, None)
        return tuple(seen)

    def __repr__(self) -> str:
        return (
            f"CodeObject({self.qualname or self.name!r}, layout={self.layout!r}, "
            f"names={list(self.all_names)})"
        )


def _flat(values: Any) -> Iterator[Any]:
    """Items of nested tuples/frozensets of constants (bounded: marshal nesting is bounded)."""
    for value in values:
        if isinstance(value, (tuple, frozenset)):
            yield from _flat(value)
        else:
            yield value
