"""C++-canonical re-serialization (formats/canonical.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smlite import pb
from smlite.formats import canonical
from smlite.formats.canonical import CanonicalError, canonical_bytes, encode
from smlite.formats.wire import encode_key, encode_len_header

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
TF2_MODELS = (
    sorted(p.name for p in FIXTURES.iterdir() if (p / "saved_model.pb").is_file())
    if FIXTURES.is_dir()
    else []
)


def _key(number: int, wire_type: int) -> bytes:
    return encode_key(number, wire_type)


def _len(number: int, payload: bytes) -> bytes:
    return encode_len_header(number, len(payload)) + payload


def _entry(key: bytes, value: bytes) -> bytes:
    return _len(1, key) + _len(2, value)


def test_map_entries_are_sorted_bytewise() -> None:
    node = pb.NodeDef(name="n", op="Const")
    for key in ("d", "d_10", "ab", "a", "b", "d_1", "dd", "e", "c"):
        node.attr[key].i = len(key)
    data = canonical_bytes(node)
    keys = [
        bytes(data[f[3] : f[4]])
        for entry in canonical.occurrences(data, 0, len(data))
        if entry[0] == 5
        for f in canonical.occurrences(data, entry[3], entry[4])[:1]
    ]
    assert keys == [b"a", b"ab", b"b", b"c", b"d", b"d_1", b"d_10", b"dd", b"e"]
    assert pb.NodeDef.FromString(data) == node


def test_integer_map_keys_ascending_signed() -> None:
    fn = pb.FunctionDef()
    for k in (10, 3, 2, 1, 0):
        fn.resource_arg_unique_id[k] = k + 100
    data = canonical_bytes(fn)
    keys = [e[0] for e in _map_keys(data)]
    assert keys == [0, 1, 2, 3, 10]


def _map_keys(data: bytes) -> list[tuple[int, int]]:
    out = []
    for f in canonical.occurrences(data, 0, len(data)):
        inner = canonical.occurrences(data, f[3], f[4])
        out.append((inner[0][5], inner[1][5]))
    return out


def test_map_entry_always_has_key_and_value() -> None:
    # An entry with neither key nor value (both defaults) is written with both.
    raw = _len(5, b"")  # NodeDef.attr entry, empty
    assert encode(raw, pb.NodeDef.DESCRIPTOR).tobytes() == _len(5, _entry(b"", b""))


def test_duplicate_map_keys_last_wins() -> None:
    first = pb.AttrValue(i=1).SerializeToString()
    second = pb.AttrValue(i=2).SerializeToString()
    raw = _len(5, _entry(b"k", first)) + _len(5, _entry(b"k", second))
    out = pb.NodeDef.FromString(encode(raw, pb.NodeDef.DESCRIPTOR).tobytes())
    assert out.attr["k"].i == 2


def test_fields_in_number_order_and_unknown_last() -> None:
    raw = _len(2, b"Const") + _len(99, b"x") + _len(1, b"n")
    assert encode(raw, pb.NodeDef.DESCRIPTOR).tobytes() == _len(1, b"n") + _len(2, b"Const") + _len(
        99, b"x"
    )


def test_implicit_zero_scalars_dropped_and_presence_kept() -> None:
    # TensorProto.dtype = 0 written explicitly, version_number = 0: both dropped.
    raw = _key(1, 0) + b"\x00" + _key(3, 0) + b"\x00"
    assert encode(raw, pb.TensorProto.DESCRIPTOR).tobytes() == b""
    # AttrValue.i = 0 is a oneof member: kept.
    raw = _key(3, 0) + b"\x00"
    assert encode(raw, pb.AttrValue.DESCRIPTOR).tobytes() == raw
    # -0.0 is not zero for floats (bit pattern), +0.0 is.
    neg = _key(4, 5) + b"\x00\x00\x00\x80"
    assert encode(neg, pb.AttrValue.DESCRIPTOR).tobytes() == neg


def test_overlong_varints_and_int32_normalization() -> None:
    raw = _key(3, 0) + b"\x85\x80\x80\x00"  # AttrValue.i = 5, overlong
    assert encode(raw, pb.AttrValue.DESCRIPTOR).tobytes() == _key(3, 0) + b"\x05"
    # int32 -1 written as 5 bytes: C++ writes the sign-extended 10-byte form.
    raw = _key(1, 0) + b"\xff\xff\xff\xff\x0f"  # VersionDef.producer (int32)
    expected = _key(1, 0) + b"\xff" * 9 + b"\x01"
    assert encode(raw, pb.VersionDef.DESCRIPTOR).tobytes() == expected


def test_unpacked_repeated_becomes_packed_and_packed_merged() -> None:
    # TensorProto.int_val (7) as two unpacked elements plus one packed run.
    raw = _key(7, 0) + b"\x01" + _key(7, 0) + b"\x02" + _len(7, b"\x03\x04")
    assert encode(raw, pb.TensorProto.DESCRIPTOR).tobytes() == _len(7, b"\x01\x02\x03\x04")


def test_repeated_singular_message_is_merged() -> None:
    raw = _len(4, _key(1, 0) + b"\x05") + _len(4, _key(2, 0) + b"\x01")  # GraphDef.versions
    out = encode(raw, pb.GraphDef.DESCRIPTOR).tobytes()
    assert out == _len(4, _key(1, 0) + b"\x05" + _key(2, 0) + b"\x01")


def test_oneof_last_member_wins() -> None:
    raw = _key(3, 0) + b"\x07" + _len(2, b"s")  # AttrValue: i then s
    assert encode(raw, pb.AttrValue.DESCRIPTOR).tobytes() == _len(2, b"s")


def test_unchanged_input_is_passed_through_as_one_range() -> None:
    node = pb.NodeDef(name="n", op="Const", input=["a", "b"])
    node.attr["only"].s = b"x" * 1000
    data = canonical_bytes(node)
    enc = encode(data, pb.NodeDef.DESCRIPTOR)
    assert enc.is_range(0, len(data))
    assert len(enc.pieces()) == 1


@pytest.mark.parametrize("cut", [1, 2, 3, 7])
def test_truncated_input_raises_with_offset(cut: int) -> None:
    node = pb.NodeDef(name="node", op="Const")
    node.attr["k"].s = b"value"
    data = node.SerializeToString()
    with pytest.raises(CanonicalError) as info:
        encode(data[:-cut], pb.NodeDef.DESCRIPTOR)
    assert info.value.offset >= 0


@pytest.mark.parametrize("name", TF2_MODELS)
def test_fixture_models_reencode_to_equal_messages(name: str) -> None:
    data = (FIXTURES / name / "saved_model.pb").read_bytes()
    out = encode(data, pb.SavedModel.DESCRIPTOR).tobytes()
    assert pb.SavedModel.FromString(out) == pb.SavedModel.FromString(data)
    # Canonical bytes are a fixed point.
    assert encode(out, pb.SavedModel.DESCRIPTOR).tobytes() == out


_ORACLE = """
import sys
from smlite import pb
data = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(pb.SavedModel.FromString(data).SerializeToString(deterministic=True))
"""


@pytest.mark.parametrize("name", ["keras_model", "tf1_multi_tag", "polymorphic"])
def test_equals_pure_python_protobuf_deterministic_serialization(name: str) -> None:
    # protobuf's pure-Python backend sorts map keys as C++ does (formats.md 5.4, recipe 1):
    # an independent oracle for the re-encoder.
    path = FIXTURES / name / "saved_model.pb"
    if not path.is_file():
        pytest.skip(f"fixture {name} not present")
    env = dict(os.environ, PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION="python")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", _ORACLE, str(path)], capture_output=True, env=env, check=True
    )
    assert encode(path.read_bytes(), pb.SavedModel.DESCRIPTOR).tobytes() == proc.stdout


@pytest.mark.parametrize("name", TF2_MODELS)
def test_protobuf_fast_path_and_python_walk_agree(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (FIXTURES / name / "saved_model.pb").read_bytes()
    fast = encode(data, pb.SavedModel.DESCRIPTOR).tobytes()
    monkeypatch.setattr(canonical, "FAST_LIMIT", -1)
    assert encode(data, pb.SavedModel.DESCRIPTOR).tobytes() == fast


def test_fast_path_writes_its_own_maps_in_cpp_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from smlite.formats.canonical_tables import fast_canonical, table

    node = pb.NodeDef(name="n")
    node.attr["Tidx"].i = 2
    node.attr["T"].i = 1
    data = node.SerializeToString(deterministic=True)  # upb: "Tidx" before "T"
    fast = fast_canonical(table(pb.NodeDef.DESCRIPTOR), data)
    assert fast is not None and fast != data
    monkeypatch.setattr(canonical, "FAST_LIMIT", -1)
    assert canonical_bytes(node) == fast


def test_contiguous_output_is_a_view_or_one_copy() -> None:
    source = bytes(range(256)) * 1024  # 256 KiB
    enc = canonical.Encoded(source)
    enc.add_range(0, len(source))
    view = enc.contiguous()
    assert isinstance(view, memoryview) and view.obj is source
    enc = canonical.Encoded(source)
    enc.add_range(10, 100_010)
    enc.add_bytes(b"literal")
    enc.add_range(200_000, 200_100)
    reads: list[tuple[int, int]] = []

    def read_range(offset: int, dest: memoryview) -> None:
        reads.append((offset, dest.nbytes))
        dest[:] = source[offset : offset + dest.nbytes]

    scratch = bytearray(enc.size + 50)
    out = enc.contiguous(read_range, scratch)
    assert bytes(out) == enc.tobytes()
    assert out.obj is scratch  # reused, not a new buffer
    assert reads == [(10, 100_000)]  # only the big range is read; small ones are copied


def test_own_maps_in_upb_disorder_are_written_in_cpp_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from smlite.formats.canonical_tables import fast_canonical, table

    fn = pb.FunctionDef()
    fn.signature.name = "f"
    node = fn.node_def.add(name="n", op="Identity")
    node.attr["T"].type = pb.DataType.DT_FLOAT
    for k in (10, 3, 2, 1, 0):
        fn.arg_attr[k].attr["_user_specified_name"].s = b"x%d" % k
        fn.resource_arg_unique_id[k] = 100 - k
    for key in ("identity_1", "identity", "a"):
        fn.ret[key] = key + ":output:0"
    fn.attr["_noinline"].b = True
    data = fn.SerializeToString()
    fast = fast_canonical(table(pb.FunctionDef.DESCRIPTOR), data)
    assert fast is not None
    monkeypatch.setattr(canonical, "FAST_LIMIT", -1)
    assert fast == encode(data, pb.FunctionDef.DESCRIPTOR).tobytes()
    # A nested map in disorder is still the walk's: None.
    node.attr["Tidx"].type = pb.DataType.DT_INT32
    assert fast_canonical(table(pb.FunctionDef.DESCRIPTOR), fn.SerializeToString()) is None
