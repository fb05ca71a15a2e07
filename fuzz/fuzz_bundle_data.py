"""Fuzz reading variable values: a TensorBundle index plus its one data shard.

The input is ``<u32 len> index data`` (see ``_common.split2``), so mutations
hit both the entries (dtype, shape, offset, size, slices, crc) and the bytes
they point at: fixed-size reads, DT_STRING length tables, partitioned slices.

    python fuzz/fuzz_bundle_data.py fuzz/corpus/bundle_data -max_total_time=60
"""

from __future__ import annotations

import contextlib

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import import_all, main, scratch_dir, split2, write

    import smlite
    from smlite.model.variables import open_checkpoint
    from smlite.render.variables import variables_document

    import_all()

DIR = scratch_dir("bundle_data")
PREFIX = DIR / "ckpt"


def test_one_input(data: bytes) -> None:
    index, shard = split2(data)
    write(DIR / "ckpt.index", index)
    write(DIR / "ckpt.data-00000-of-00001", shard)
    try:
        with open_checkpoint(PREFIX) as vs:
            problems = vs.verify()
            variables_document(vs, vs.select(), path=str(PREFIX), problems=problems)
            for key in vs:
                for verify in (True, False):
                    with contextlib.suppress(smlite.SmliteError):
                        vs.read(key, verify=verify)
    except smlite.SmliteError:
        pass


if __name__ == "__main__":
    main(test_one_input)
