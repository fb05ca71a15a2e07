"""Fuzz a binary saved_model.pb: smlite.open, meta graphs, signatures, ops, show/summary output.

python fuzz/fuzz_saved_model.py fuzz/corpus/saved_model -max_total_time=60
"""

from __future__ import annotations

import contextlib

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import exercise_model, import_all, main, scratch_dir, write

    import smlite

    import_all()

DIR = scratch_dir("saved_model")


def test_one_input(data: bytes) -> None:
    write(DIR / "saved_model.pb", data)
    with contextlib.suppress(smlite.SmliteError):
        exercise_model(DIR)


if __name__ == "__main__":
    main(test_one_input)
