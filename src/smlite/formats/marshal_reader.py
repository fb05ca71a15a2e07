"""A pure-Python reader of CPython's ``marshal`` format, for code objects it must never run.

Keras 2 stores the function of a ``Lambda`` layer as ``marshal.dumps(func.__code__)``.
``marshal.loads`` is not an option for a model from elsewhere: the standard library
documents it as unsafe on untrusted data (crafted input can crash the interpreter), it
refuses payloads written by another Python version, and what it returns is one call away
from running.  This module reads the bytes itself and returns plain values: nothing is
executed, imported or turned into a real code object.

Wire format (``Python/marshal.c``, marshal version 4, CPython 3.4-3.13).  Each object
is one type byte, optionally or-ed with ``FLAG_REF`` (0x80: the object is appended to a
reference table that a later ``r`` refers to by index; containers and code objects take
their slot *before* their items are read), then a payload.  ``<i4`` is a little-endian
signed 32-bit integer, ``<u1`` an unsigned byte::

    0  NULL (only as the end mark of a dict)       N None   F False   T True
    S  StopIteration   .  Ellipsis                 i <i4>   I <i8> (read only)
    l  <i4 n> |n| 15-bit digits as <u2>, least significant first, sign of n
    f  <u1 n> n ASCII bytes of repr(float)         g <f8>
    x  two "f" payloads (real, imag)               y <f8> <f8>
    s  <i4 n> n bytes (bytes)
    u, t  <i4 n> n bytes UTF-8 (t: interned)       a, A  <i4 n> n bytes ASCII
    z, Z  <u1 n> n bytes ASCII                     r  <i4 index> a reference
    ( [ < >  <i4 n> n objects (tuple, list, set, frozenset)   )  <u1 n> n objects (tuple)
    {  key, value pairs until a NULL key
    c  a code object, laid out per CPython release (see ``LAYOUTS``)

A code object starts with 32-bit integers, then objects, then ``co_firstlineno`` as a
raw ``<i4>``, then objects.  The layout carries no version number: :func:`read_code`
tries each known layout and keeps the one under which the whole payload reads and every
field has the type CPython requires (a real payload fits exactly one).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from smlite.errors import CorruptFileError
from smlite.formats.marshal_code import (
    BYTES_FIELDS,
    CO_FAST_CELL,
    CO_FAST_FREE,
    CO_FAST_LOCAL,
    CO_VARARGS,
    CO_VARKEYWORDS,
    LAYOUTS,
    STR_FIELDS,
    STR_TUPLE_FIELDS,
    CodeObject,
    Layout,
)

__all__ = [
    "LAYOUTS",
    "CodeObject",
    "LargeInt",
    "Layout",
    "MarshalError",
    "MAX_DEPTH",
    "read_code",
]

#: Deepest nesting of containers and code objects read (CPython allows 2000; real
#: functions nest a handful of levels, and the bound keeps the reader off the recursion limit).
MAX_DEPTH = 100
#: Longest integer decoded to its value, in 15-bit digits (about 4,500 decimal digits);
#: a longer one is kept as a :class:`LargeInt` size marker.
MAX_LONG_DIGITS = 1000

FLAG_REF = 0x80


class MarshalError(CorruptFileError):
    """The bytes are not a marshalled code object of a CPython layout smlite knows."""


@dataclass(frozen=True, slots=True)
class LargeInt:
    """An integer constant longer than ``MAX_LONG_DIGITS`` digits: its size, not its value."""

    digits: int
    negative: bool


class _Bad(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


_REF_PENDING = object()


class _Reader:
    def __init__(self, data: bytes, layout: Layout) -> None:
        self.data = data
        self.pos = 0
        self.layout = layout
        self.refs: list[Any] = []

    # -- primitives ----------------------------------------------------------------
    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise _Bad(f"needs {n} bytes, {len(self.data) - self.pos} left", self.pos)
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def long(self) -> int:
        value: int = struct.unpack("<i", self.take(4))[0]
        return value

    def size(self, what: str, unit: int = 1) -> int:
        """A 32-bit count, bounded by the bytes left (each item takes at least ``unit``)."""
        at = self.pos
        n = self.long()
        if n < 0 or n * unit > len(self.data) - self.pos:
            left = len(self.data) - self.pos
            raise _Bad(f"{what} declares {n} items, more than the {left} bytes left", at)
        return n

    # -- objects ---------------------------------------------------------------------
    def object(self, depth: int) -> Any:
        at = self.pos
        if depth > MAX_DEPTH:
            raise _Bad(f"nested deeper than {MAX_DEPTH} levels", at)
        code = self.byte()
        flag, kind = code & FLAG_REF, chr(code & ~FLAG_REF)
        slot = -1
        if flag:
            slot = len(self.refs)
            self.refs.append(_REF_PENDING)
        value = self._value(kind, at, depth)
        if flag:
            self.refs[slot] = value
        return value

    def _value(self, kind: str, at: int, depth: int) -> Any:
        simple = _SINGLETONS.get(kind, _REF_PENDING)
        if simple is not _REF_PENDING:
            return simple
        if kind == "0":
            raise _Bad("NULL object outside a dict", at)
        if kind == "i":
            return self.long()
        if kind == "I":
            return struct.unpack("<q", self.take(8))[0]
        if kind == "l":
            return self._long(at)
        if kind == "f":
            return self._float_text(at)
        if kind == "g":
            return struct.unpack("<d", self.take(8))[0]
        if kind == "x":
            return complex(self._float_text(at), self._float_text(at))
        if kind == "y":
            real, imag = struct.unpack("<dd", self.take(16))
            return complex(real, imag)
        if kind == "s":
            return self.take(self.size("bytes"))
        if kind in "utaAzZ":
            n = self.byte() if kind in "zZ" else self.size("string")
            raw = self.take(n)
            try:
                return raw.decode("utf-8" if kind in "ut" else "ascii", "surrogatepass")
            except UnicodeDecodeError as e:
                encoding = "UTF-8" if kind in "ut" else "ASCII"
                raise _Bad(f"string is not {encoding}: {e.reason}", at) from e
        if kind == "r":
            return self._ref(at)
        if kind in "([<>)":
            n = self.byte() if kind == ")" else self.size("container")
            items = [self.object(depth + 1) for _ in range(n)]
            return self._container(kind, items, at)
        if kind == "{":
            return self._dict(at, depth)
        if kind == "c":
            return self._code(at, depth)
        raise _Bad(f"unknown type code {kind!r}", at)

    def _long(self, at: int) -> int | LargeInt:
        n = self.long()
        count = abs(n)
        if count * 2 > len(self.data) - self.pos:
            raise _Bad(f"integer declares {count} digits, more than the bytes left", at)
        digits = struct.unpack(f"<{count}H", self.take(2 * count))
        if any(d >= 1 << 15 for d in digits):
            raise _Bad("integer digit out of range", at)
        if count and digits[-1] == 0:
            raise _Bad("integer not normalized (leading zero digit)", at)
        if count > MAX_LONG_DIGITS:
            return LargeInt(count, n < 0)
        value = 0
        for d in reversed(digits):
            value = (value << 15) | d
        return -value if n < 0 else value

    def _float_text(self, at: int) -> float:
        raw = self.take(self.byte())
        try:
            return float(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as e:
            raise _Bad(f"float text {raw!r} is not a number", at) from e

    def _ref(self, at: int) -> Any:
        index = self.long()
        if not 0 <= index < len(self.refs):
            raise _Bad(f"reference {index} out of range ({len(self.refs)} objects so far)", at)
        value = self.refs[index]
        if value is _REF_PENDING:
            raise _Bad(f"reference {index} to an object still being read", at)
        return value

    @staticmethod
    def _container(kind: str, items: list[Any], at: int) -> Any:
        if kind in "()":
            return tuple(items)
        if kind == "[":
            return items
        try:
            return set(items) if kind == "<" else frozenset(items)
        except TypeError as e:
            raise _Bad(f"set item is not hashable: {e}", at) from e

    def _dict(self, at: int, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        while True:
            if self.pos < len(self.data) and self.data[self.pos] == ord("0"):
                self.pos += 1
                return result
            key = self.object(depth + 1)
            value = self.object(depth + 1)
            try:
                result[key] = value
            except TypeError as e:
                raise _Bad(f"dict key is not hashable: {e}", at) from e

    def _code(self, at: int, depth: int) -> CodeObject:
        layout = self.layout
        fields: dict[str, Any] = {}
        for name in layout.ints:
            fields[name] = self.long()
            if fields[name] < 0:
                raise _Bad(f"co_{name} is negative ({fields[name]})", at)
        for name in layout.head:
            fields[name] = self._field(name, depth)
        fields["firstlineno"] = self.long()
        for name in layout.tail:
            fields[name] = self._field(name, depth)
        return _code_object(layout, fields, at)

    def _field(self, name: str, depth: int) -> Any:
        at = self.pos
        value = self.object(depth + 1)
        if name in STR_TUPLE_FIELDS:
            ok = isinstance(value, tuple) and all(isinstance(v, str) for v in value)
            expected = "a tuple of strings"
        elif name in STR_FIELDS:
            ok, expected = isinstance(value, str), "a string"
        elif name in BYTES_FIELDS:
            ok, expected = isinstance(value, bytes), "bytes"
        else:  # consts
            ok, expected = isinstance(value, tuple), "a tuple"
        if not ok:
            raise _Bad(f"co_{name} is {type(value).__name__}, expected {expected}", at)
        return value


_SINGLETONS: dict[str, Any] = {
    "N": None,
    "F": False,
    "T": True,
    "S": StopIteration,
    ".": Ellipsis,
}


def _code_object(layout: Layout, f: dict[str, Any], at: int) -> CodeObject:
    if "localsplusnames" in f:
        names, kinds = f["localsplusnames"], f["localspluskinds"]
        if len(names) != len(kinds):
            raise _Bad(
                f"co_localsplusnames has {len(names)} names but co_localspluskinds {len(kinds)}",
                at,
            )
        f["varnames"] = tuple(n for n, k in zip(names, kinds, strict=True) if k & CO_FAST_LOCAL)
        f["cellvars"] = tuple(n for n, k in zip(names, kinds, strict=True) if k & CO_FAST_CELL)
        f["freevars"] = tuple(n for n, k in zip(names, kinds, strict=True) if k & CO_FAST_FREE)
    args = f["argcount"] + f["kwonlyargcount"]
    args += bool(f["flags"] & CO_VARARGS) + bool(f["flags"] & CO_VARKEYWORDS)
    if args > len(f["varnames"]) or f.get("posonlyargcount", 0) > f["argcount"]:
        raise _Bad(f"the argument counts ({args}) exceed the {len(f['varnames'])} local names", at)
    return CodeObject(
        layout=layout.label,
        argcount=f["argcount"],
        posonlyargcount=f.get("posonlyargcount", 0),
        kwonlyargcount=f["kwonlyargcount"],
        nlocals=f.get("nlocals"),
        stacksize=f["stacksize"],
        flags=f["flags"],
        code=f["code"],
        consts=f["consts"],
        names=f["names"],
        varnames=f["varnames"],
        freevars=f["freevars"],
        cellvars=f["cellvars"],
        filename=f["filename"],
        name=f["name"],
        qualname=f.get("qualname"),
        firstlineno=f["firstlineno"],
        linetable=f["linetable"],
        exceptiontable=f.get("exceptiontable"),
    )


def read_code(data: bytes | bytearray | memoryview, *, layout: Layout | None = None) -> CodeObject:
    """Read ``marshal.dumps(code)`` of CPython 3.0-3.13 without running or loading anything.

    Every layout of :data:`LAYOUTS` is tried (or only ``layout``); the first under which
    the whole payload reads as one code object wins.  Raises :class:`MarshalError` when
    none does, saying how far each got.

    >>> import marshal
    >>> code = read_code(marshal.dumps(compile("print(x)", "<demo>", "eval")))
    >>> code.names, code.filename
    (('print', 'x'), '<demo>')
    """
    payload = bytes(data)
    failures: list[tuple[Layout, _Bad]] = []
    for candidate in (layout,) if layout is not None else LAYOUTS:
        reader = _Reader(payload, candidate)
        try:
            value = reader.object(0)
            if not isinstance(value, CodeObject):
                raise _Bad(f"the payload is a {type(value).__name__}, not a code object", 0)
            if reader.pos != len(payload):
                left = len(payload) - reader.pos
                raise _Bad(f"{left} bytes left after the code object", reader.pos)
            return value
        except _Bad as e:
            failures.append((candidate, e))
        except RecursionError:  # only when called already deep in the stack
            failures.append((candidate, _Bad("nested too deeply for this stack", reader.pos)))
    best = max(failures, key=lambda f: f[1].offset)
    tried = "; ".join(f"as CPython {lay.label}: {e} at offset {e.offset}" for lay, e in failures)
    raise MarshalError(
        f"{len(payload)} bytes of marshal data do not read as a code object of a known CPython "
        f"layout ({tried})",
        offset=best[1].offset,
    )
