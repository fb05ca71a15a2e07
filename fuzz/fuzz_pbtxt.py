"""Fuzz a text saved_model.pbtxt: smlite.open, meta graphs, signatures, ops, show/summary output.

python fuzz/fuzz_pbtxt.py fuzz/corpus/pbtxt -max_total_time=60
"""

from __future__ import annotations

import contextlib

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import exercise_model, import_all, main, scratch_dir, write

    import smlite

    import_all()

DIR = scratch_dir("pbtxt")


def test_one_input(data: bytes) -> None:
    write(DIR / "saved_model.pbtxt", data)
    with contextlib.suppress(smlite.SmliteError):
        exercise_model(DIR)


if __name__ == "__main__":
    main(test_one_input)
