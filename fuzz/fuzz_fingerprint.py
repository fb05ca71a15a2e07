"""Fuzz fingerprint.pb reading and the fingerprint recomputation.

The input is ``<u32 len> fingerprint.pb saved_model.pb`` (see
``_common.split2``); the variables index comes from a fixture and stays put.
Both the stored fingerprint and the five recomputed hashes are rendered.

    python fuzz/fuzz_fingerprint.py fuzz/corpus/fingerprint -max_total_time=60
"""

from __future__ import annotations

import contextlib
import shutil

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import FIXTURES, import_all, main, scratch_dir, split2, write

    import smlite
    from smlite.model.fingerprint import fingerprint, read_stored
    from smlite.render.fingerprint import fingerprint_document, fingerprint_renderable

    import_all()

DIR = scratch_dir("fingerprint")
shutil.copytree(FIXTURES / "keras_model" / "variables", DIR / "variables")


def test_one_input(data: bytes) -> None:
    stored, model = split2(data)
    write(DIR / "fingerprint.pb", stored)
    write(DIR / "saved_model.pb", model)
    with contextlib.suppress(smlite.SmliteError):
        read_stored(DIR)
    try:
        with smlite.open(DIR) as sm:
            fp = fingerprint(sm)
            fp.mismatches  # noqa: B018
            fingerprint_document(fp)
            fingerprint_renderable(fp)
    except smlite.SmliteError:
        pass


if __name__ == "__main__":
    main(test_one_input)
