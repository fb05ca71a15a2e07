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
    from smlite.model.dtypes import dtype
    from smlite.model.structure_decoder import decode_structure
    from smlite.model.tensor_proto import tensor_proto_array
    from smlite.render.tf_repr import tf_repr, tf_str

    import_all()

CASTS = tuple(dtype(name) for name in ("float32", "int32", "string", "bool", "bfloat16"))


def test_one_input(data: bytes) -> None:
    try:
        proto = pb.TensorProto.FromString(data)
    except pb.DecodeError:
        return
    tensor_proto_array(proto)
    for cast in CASTS:  # the bounds of a BoundedTensorSpec are cast to its dtype
        bounded = pb.StructuredValue()
        bounded.bounded_tensor_spec_value.dtype = cast.value
        bounded.bounded_tensor_spec_value.minimum.CopyFrom(proto)
        with contextlib.suppress(smlite.SmliteError):
            value = decode_structure(bounded)
            tf_repr(value)
            tf_str(value)
    sv = pb.StructuredValue()
    sv.numpy_value.CopyFrom(proto)
    with contextlib.suppress(smlite.SmliteError):
        tf_repr(decode_structure(sv))


if __name__ == "__main__":
    main(test_one_input)
