"""Fuzz the two small binary decoders: TFRecord framing (TF Serving warmup file) and Snappy.

python fuzz/fuzz_tfrecord_snappy.py fuzz/corpus/tfrecord_snappy -max_total_time=60
"""

from __future__ import annotations

import contextlib

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import import_all, main

    import smlite
    from smlite.formats import snappy, tfrecord

    import_all()


def test_one_input(data: bytes) -> None:
    try:
        for _ in tfrecord.iter_records(data, path="warmup"):
            pass
    except smlite.SmliteError:
        pass
    # SnappyError is a ValueError the SSTable reader turns into CorruptFileError.
    with contextlib.suppress(snappy.SnappyError):
        snappy.decompress(data, max_size=1 << 20)


if __name__ == "__main__":
    main(test_one_input)
