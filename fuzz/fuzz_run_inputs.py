"""Fuzz the ``smlite run`` input parsers: --input_exprs, --input_examples, --inputs.

The input is decoded as the command line would be (UTF-8 with
surrogateescape) and handed to each parser; InputError is a SmliteError.

    python fuzz/fuzz_run_inputs.py fuzz/corpus/run_inputs -max_total_time=60
"""

from __future__ import annotations

import contextlib

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import import_all, main

    import smlite
    from smlite.run.examples import parse_input_examples
    from smlite.run.input_exprs import parse_input_exprs, parse_literal
    from smlite.run.input_files import parse_inputs

    import_all()


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    for parse in (
        parse_input_exprs,
        parse_input_examples,
        parse_inputs,
        lambda t: parse_literal(t, allow_numpy=True),
    ):
        with contextlib.suppress(smlite.SmliteError):
            parse(text)


if __name__ == "__main__":
    main(test_one_input)
