"""Fuzz TensorProto -> numpy (smlite.model.structure, tensor_util.MakeNdarray's rules).

Used for ``numpy_value`` structured values and BoundedTensorSpec bounds.  The
input is a serialized TensorProto; undecodable bytes are the protobuf
library's business and are skipped.

    python fuzz/fuzz_tensor_proto.py fuzz/corpus/tensor_proto -max_total_time=60
"""

from __future__ import annotations

import contextlib

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import import_all, main

    import smlite
    from smlite import pb
    from smlite.model import structure
    from smlite.model.dtypes import DType

    import_all()

CASTS = (None, DType(1), DType(3), DType(7), DType(10), DType(14))


def test_one_input(data: bytes) -> None:
    try:
        proto = pb.TensorProto.FromString(data)
    except pb.DecodeError:
        return
    for cast in CASTS:
        try:
            value = structure._numpy_value(proto, cast)
            structure.tf_repr(value)
            structure.tf_str(value)
        except smlite.SmliteError:
            pass
    sv = pb.StructuredValue()
    sv.numpy_value.CopyFrom(proto)
    with contextlib.suppress(smlite.SmliteError):
        structure.tf_repr(structure.decode_structure(sv))


if __name__ == "__main__":
    main(test_one_input)
