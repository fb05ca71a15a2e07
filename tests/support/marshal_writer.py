"""A small writer of CPython's marshal format, for building test payloads by hand.

It writes the code-object layouts of CPython 3.0-3.7, 3.8-3.10 and 3.11-3.13 (chosen
by a ``(major, minor)`` version), so that the core tests can feed smlite's reader
payloads "from" every Python release without those interpreters.  Facts from
``Python/marshal.c`` (see ``smlite.formats.marshal_reader`` for the byte layout).

>>> data = dumps(CodeSpec(names=("os", "system"), consts=(None, "id")), (3, 11))
>>> data[:1]
b'c'
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

FLAG_REF = 0x80
CO_FAST_LOCAL = 0x20
CO_FAST_CELL = 0x40
CO_FAST_FREE = 0x80


@dataclass(frozen=True)
class CodeSpec:
    """The fields of a code object (``co_*`` without the prefix)."""

    argcount: int = 0
    posonlyargcount: int = 0
    kwonlyargcount: int = 0
    nlocals: int | None = None  # default: len(varnames)
    stacksize: int = 1
    flags: int = 0x3  # CO_OPTIMIZED | CO_NEWLOCALS
    code: bytes = b"\x97\x00d\x00S\x00"
    consts: tuple[Any, ...] = (None,)
    names: tuple[str, ...] = ()
    varnames: tuple[str, ...] = ()
    freevars: tuple[str, ...] = ()
    cellvars: tuple[str, ...] = ()
    filename: str = "/models/helpers/fn.py"
    name: str = "fn"
    qualname: str | None = None  # default: name
    firstlineno: int = 1
    linetable: bytes = b""
    exceptiontable: bytes = b""


@dataclass(frozen=True)
class Raw:
    """Bytes written as they are (a damaged or foreign object)."""

    data: bytes


@dataclass(frozen=True)
class Ref:
    """``r <index>``: a reference to the index-th object written with FLAG_REF."""

    index: int


@dataclass(frozen=True)
class Flagged:
    """``value`` written with FLAG_REF set (it takes the next reference index)."""

    value: Any


@dataclass
class _Out:
    version: tuple[int, int]
    parts: list[bytes] = field(default_factory=list)

    def byte(self, b: int) -> None:
        self.parts.append(bytes([b]))

    def long(self, n: int) -> None:
        self.parts.append(struct.pack("<i", n))


def dumps(value: Any, version: tuple[int, int]) -> bytes:
    """``value`` in marshal format, code objects in the layout of CPython ``version``."""
    out = _Out(version)
    _write(out, value, 0)
    return b"".join(out.parts)


def _type(out: _Out, code: str, flags: int) -> None:
    out.byte(ord(code) | flags)


def _write(out: _Out, value: Any, flags: int) -> None:
    if isinstance(value, Raw):
        out.parts.append(value.data)
    elif isinstance(value, Ref):
        _type(out, "r", 0)
        out.long(value.index)
    elif isinstance(value, Flagged):
        _write(out, value.value, FLAG_REF)
    elif value is None or value is True or value is False or value is Ellipsis:
        _type(out, {None: "N", True: "T", False: "F", Ellipsis: "."}[value], flags)
    elif value is StopIteration:
        _type(out, "S", flags)
    elif isinstance(value, int):
        _int(out, value, flags)
    elif isinstance(value, float):
        _type(out, "g", flags)
        out.parts.append(struct.pack("<d", value))
    elif isinstance(value, complex):
        _type(out, "y", flags)
        out.parts.append(struct.pack("<dd", value.real, value.imag))
    elif isinstance(value, bytes):
        _type(out, "s", flags)
        out.long(len(value))
        out.parts.append(value)
    elif isinstance(value, str):
        _str(out, value, flags)
    elif isinstance(value, tuple):
        if len(value) < 256:
            _type(out, ")", flags)
            out.byte(len(value))
        else:
            _type(out, "(", flags)
            out.long(len(value))
        for item in value:
            _write(out, item, 0)
    elif isinstance(value, (list, set, frozenset)):
        _type(
            out, "[" if isinstance(value, list) else "<" if isinstance(value, set) else ">", flags
        )
        out.long(len(value))
        for item in value:
            _write(out, item, 0)
    elif isinstance(value, dict):
        _type(out, "{", flags)
        for key, item in value.items():
            _write(out, key, 0)
            _write(out, item, 0)
        out.byte(ord("0"))
    elif isinstance(value, CodeSpec):
        _code(out, value, flags)
    else:
        raise TypeError(f"cannot marshal {type(value).__name__}")


def _int(out: _Out, value: int, flags: int) -> None:
    if -(2**31) <= value < 2**31:
        _type(out, "i", flags)
        out.long(value)
        return
    digits = []
    rest = abs(value)
    while rest:
        digits.append(rest & 0x7FFF)
        rest >>= 15
    _type(out, "l", flags)
    out.long(-len(digits) if value < 0 else len(digits))
    out.parts.append(struct.pack(f"<{len(digits)}H", *digits))


def _str(out: _Out, value: str, flags: int) -> None:
    if value.isascii():
        raw = value.encode("ascii")
        if len(raw) < 256:
            _type(out, "z", flags)
            out.byte(len(raw))
        else:
            _type(out, "a", flags)
            out.long(len(raw))
    else:
        raw = value.encode("utf-8", "surrogatepass")
        _type(out, "u", flags)
        out.long(len(raw))
    out.parts.append(raw)


def _code(out: _Out, spec: CodeSpec, flags: int) -> None:
    _type(out, "c", flags)
    new = out.version >= (3, 11)
    ints = [spec.argcount]
    if out.version >= (3, 8):
        ints.append(spec.posonlyargcount)
    ints.append(spec.kwonlyargcount)
    if not new:
        ints.append(len(spec.varnames) if spec.nlocals is None else spec.nlocals)
    ints += [spec.stacksize, spec.flags]
    for n in ints:
        out.long(n)
    for item in (spec.code, spec.consts, spec.names):
        _write(out, item, 0)
    if new:
        names, kinds = _locals_plus(spec)
        _write(out, names, 0)
        _write(out, kinds, 0)
    else:
        for item in (spec.varnames, spec.freevars, spec.cellvars):
            _write(out, item, 0)
    _write(out, spec.filename, 0)
    _write(out, spec.name, 0)
    if new:
        _write(out, spec.qualname if spec.qualname is not None else spec.name, 0)
    out.long(spec.firstlineno)
    _write(out, spec.linetable, 0)
    if new:
        _write(out, spec.exceptiontable, 0)


def _locals_plus(spec: CodeSpec) -> tuple[tuple[str, ...], bytes]:
    """3.11+: locals, then cells that are not locals, then free variables, with their kinds."""
    names: list[str] = []
    kinds: list[int] = []
    for name in spec.varnames:
        names.append(name)
        kinds.append(CO_FAST_LOCAL | (CO_FAST_CELL if name in spec.cellvars else 0))
    for name in spec.cellvars:
        if name not in spec.varnames:
            names.append(name)
            kinds.append(CO_FAST_CELL)
    for name in spec.freevars:
        names.append(name)
        kinds.append(CO_FAST_FREE)
    return tuple(names), bytes(kinds)


def spec_of(code: Any) -> CodeSpec:
    """The spec of a live code object of the running Python (nested code converted too)."""

    def const(value: Any) -> Any:
        if hasattr(value, "co_code"):
            return spec_of(value)
        if isinstance(value, tuple):
            return tuple(const(v) for v in value)
        if isinstance(value, frozenset):
            return frozenset(const(v) for v in value)
        return value

    return CodeSpec(
        argcount=code.co_argcount,
        posonlyargcount=code.co_posonlyargcount,
        kwonlyargcount=code.co_kwonlyargcount,
        nlocals=code.co_nlocals,
        stacksize=code.co_stacksize,
        flags=code.co_flags,
        code=code.co_code,
        consts=tuple(const(c) for c in code.co_consts),
        names=code.co_names,
        varnames=code.co_varnames,
        freevars=code.co_freevars,
        cellvars=code.co_cellvars,
        filename=code.co_filename,
        name=code.co_name,
        qualname=getattr(code, "co_qualname", None),
        firstlineno=code.co_firstlineno,
        linetable=code.co_linetable if hasattr(code, "co_linetable") else code.co_lnotab,
        exceptiontable=getattr(code, "co_exceptiontable", b""),
    )
