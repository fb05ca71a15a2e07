"""Fuzz the pure-Python marshal reader (Lambda bytecode of Keras models).

The input is a marshal payload.  It is read with every code layout on its own and with
the automatic choice; whatever it reads as is walked the way the Keras findings walk it
(names, strings, arguments, nested code).  ``marshal.loads`` is never called.

    python fuzz/fuzz_marshal.py fuzz/corpus/marshal -max_total_time=60
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import import_all, main

    from smlite.formats.marshal_reader import LAYOUTS, MarshalError, read_code

    import_all()


def test_one_input(data: bytes) -> None:
    for layout in (None, *LAYOUTS):
        try:
            code = read_code(data, layout=layout)
        except MarshalError:
            continue
        code.all_names  # noqa: B018
        code.strings  # noqa: B018
        code.arg_names  # noqa: B018
        repr(code)
        for nested in code.walk():
            nested.names  # noqa: B018


if __name__ == "__main__":
    main(test_one_input)
