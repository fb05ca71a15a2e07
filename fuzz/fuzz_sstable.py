"""Fuzz the SSTable reader and the TensorBundle index (variables.index).

The input is the index file.  It is read as a raw SSTable (every block, every
key), then opened as a bundle: header, entries, slices, object graph, listing.

    python fuzz/fuzz_sstable.py fuzz/corpus/sstable -max_total_time=60
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import import_all, main, scratch_dir, write

    import smlite
    from smlite.formats.sstable import SSTable
    from smlite.model.variables import open_checkpoint
    from smlite.render.variables import variables_document, variables_table

    import_all()

DIR = scratch_dir("sstable")
PREFIX = DIR / "ckpt"
INDEX = DIR / "ckpt.index"


def test_one_input(data: bytes) -> None:
    try:
        table = SSTable(INDEX, data)
        table.data_handles()
        for _ in table.items():
            pass
    except smlite.SmliteError:
        pass
    write(INDEX, data)
    try:
        with open_checkpoint(PREFIX) as vs:
            rows = vs.select()
            variables_table(rows)
            variables_table(rows, keys=True)
            variables_document(vs, rows, path=str(PREFIX))
    except smlite.SmliteError:
        pass


if __name__ == "__main__":
    main(test_one_input)
