"""Fuzz StructuredValue / TypeSpecProto decoding (function signatures, composite specs).

The input is a serialized StructuredValue; it is decoded leniently and
strictly, printed the way ``show --all`` prints it, flattened and rendered as
JSON.  The same bytes are also tried as a TypeSpecProto.

    python fuzz/fuzz_structured_value.py fuzz/corpus/structured_value -max_total_time=60
"""

from __future__ import annotations

import contextlib
import json

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import import_all, main

    import smlite
    from smlite import pb
    from smlite.model import structure
    from smlite.model.structure_decoder import decode_structure, decode_type_spec
    from smlite.render import functions as render_functions
    from smlite.render import json_doc
    from smlite.render.escape import escape
    from smlite.render.tf_repr import tf_repr, tf_str

    import_all()


def _use(value: structure.Structure) -> None:
    tf_repr(value, escape=escape)
    tf_str(value)
    json.dumps(json_doc.structure_json(value))
    structure.type_name(value)
    structure.flatten(value)
    structure.truthy(value)
    if structure.is_iterable(value):
        structure.iterate(value)
    render_functions.print_args_lines(value)


def test_one_input(data: bytes) -> None:
    try:
        sv = pb.StructuredValue.FromString(data)
    except pb.DecodeError:
        sv = None
    if sv is not None:
        for strict in (False, True):
            with contextlib.suppress(smlite.SmliteError):
                _use(decode_structure(sv, strict=strict, where="fuzz"))
    try:
        spec = pb.TypeSpecProto.FromString(data)
    except pb.DecodeError:
        return
    for strict in (False, True):
        with contextlib.suppress(smlite.SmliteError):
            _use(decode_type_spec(spec, strict=strict, where="fuzz"))


if __name__ == "__main__":
    main(test_one_input)
