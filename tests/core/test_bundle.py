"""The TensorBundle format layer over bundles written byte by byte."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from smlite import pb
from smlite.errors import ChecksumError, CorruptFileError, NotFoundError, UnsupportedError
from smlite.formats import bundle as bf
from smlite.formats.bundle import Bundle, Extent, TensorSlice
from tests.support.bundle_writer import BundleWriter, slice_key

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _strings() -> np.ndarray:
    return np.array([b"", b"a\x00b", b"\x00", b"\xff\xfe", b"z" * 300, b""], dtype=object)


@pytest.fixture
def simple(tmp_path: Path) -> Path:
    w = BundleWriter(tmp_path / "ckpt")
    w.add("w", np.arange(6, dtype=np.float32).reshape(2, 3))
    w.add("s", _strings())
    w.add("scalar", np.array(7, dtype=np.int64))
    return w.finish()


def test_header_entries_and_order(simple: Path) -> None:
    with Bundle.open(simple) as b:
        assert b.num_shards == 1
        assert not b.big_endian
        assert b.header.version.producer == 1
        assert list(b.entries) == ["s", "scalar", "w"]
        w = b.entries["w"]
        assert (w.dtype, w.shape, w.shard_id, w.offset, w.size) == (1, (2, 3), 0, 0, 24)
        assert b.listed_keys() == ("s", "scalar", "w")
        assert b.shard_paths() == (Path(f"{simple}.data-00000-of-00001"),)
        assert list(b.iter_problems()) == []


def test_numeric_bytes_are_a_read_only_view(simple: Path) -> None:
    with Bundle.open(simple) as b:
        view = b.read_bytes(b.entries["w"])
        assert view.readonly
        assert np.frombuffer(view, np.float32).tolist() == [0, 1, 2, 3, 4, 5]


def test_strings_with_empty_and_nul(simple: Path) -> None:
    with Bundle.open(simple) as b:
        assert b.read_strings(b.entries["s"]) == list(_strings())


def test_big_endian_strings(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "be", big_endian=True)
    w.add("s", _strings())
    with Bundle.open(w.finish()) as b:
        assert b.big_endian
        assert b.read_strings(b.entries["s"]) == list(_strings())


def test_big_endian_length_checksum_is_not_little_endian(tmp_path: Path) -> None:
    # The same bytes read with the wrong byte order fail the length checksum.
    w = BundleWriter(tmp_path / "be", big_endian=True)
    w.add("s", _strings())
    w.header = pb.BundleHeaderProto(num_shards=1)
    with (
        Bundle.open(w.finish()) as b,
        pytest.raises(ChecksumError, match="string-length checksum mismatch"),
    ):
        b.read_strings(b.entries["s"])


def test_several_index_blocks_and_snappy(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "many")
    for i in range(300):
        w.add(f"layer_{i:03d}/kernel", np.full(3, i, np.int32))
    prefix = w.finish(block_size=256, compression=1, restart_interval=4)
    with Bundle.open(prefix) as b:
        assert len(b.entries) == 300
        for i in (0, 150, 299):
            data = b.read_bytes(b.entries[f"layer_{i:03d}/kernel"])
            assert np.frombuffer(data, np.int32).tolist() == [i] * 3


def test_slice_keys_match_tensorflow(tmp_path: Path) -> None:
    # From a TF 2.21 export (formats.md 3.5): rows [0:32), cols [0:256).
    key = "vs/1/.ATTRIBUTES/VARIABLE_VALUE"
    slc = TensorSlice((Extent(0, 32), Extent(0, 256)))
    expected = b"\x00vs/1/.ATTRIBUTES/VARIABLE_VALUE\x00\x01\x01\x02\x80\xa0\x80\xc1\x00"
    assert bf.encode_slice_key(key, slc).encode("utf-8", "surrogateescape") == expected
    assert bf.decode_slice_key(bf.encode_slice_key(key, slc)) == (key, slc)


@pytest.mark.parametrize(
    "extents",
    [
        ((0, 4), (0, None)),
        ((4, 3), (100, 5000)),
        ((-1, None),),
        ((2**40, 2**50), (0, 1)),
        ((-(2**62), 2**62),),
    ],
)
def test_slice_key_round_trip(extents: tuple[tuple[int, int | None], ...]) -> None:
    slc = TensorSlice(tuple(Extent(s, n) for s, n in extents))
    name = "a\x00b\xffc/\u00e9"
    key = bf.encode_slice_key(name, slc)
    assert bf.decode_slice_key(key) == (name, slc)
    if all(abs(v) < 8192 for e in extents for v in (e[0], -1 if e[1] is None else e[1])):
        written = slice_key(name, extents).decode("utf-8", "surrogateescape")
        assert key == written


def test_decode_slice_key_rejects_ordinary_keys() -> None:
    assert bf.decode_slice_key("plain/key") is None
    assert bf.decode_slice_key("\x00unterminated") is None


def test_sliced_entries_are_not_listed(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "p")
    w.add_sliced(
        "emb",
        np.arange(20, dtype=np.float32).reshape(5, 4),
        [((0, 2), (0, None)), ((2, 3), (0, None))],
    )
    with Bundle.open(w.finish()) as b:
        assert b.listed_keys() == ("emb",)
        assert len(b.slice_keys) == 2
        full = b.entries["emb"]
        assert full.is_sliced and full.size == 0
        part = b.slice_entry(full, full.slices[1])
        assert part.shape == (3, 4)


def test_missing_slice_entry(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "p")
    w.add_sliced("emb", np.zeros((4, 2), np.float32), [((0, 2), (0, None)), ((2, 2), (0, None))])
    del w.entries[slice_key("emb", ((2, 2), (0, None)))]
    with Bundle.open(w.finish()) as b:
        full = b.entries["emb"]
        with pytest.raises(
            CorruptFileError, match=r"partitioned tensor 'emb': slice 2,2:- has no entry"
        ):
            b.slice_entry(full, full.slices[1])


def test_missing_shard(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "two", num_shards=2)
    w.add("a", np.ones(2, np.float32), shard=0)
    w.add("b", np.ones(2, np.float32), shard=1)
    prefix = w.finish()
    missing = Path(f"{prefix}.data-00001-of-00002")
    missing.unlink()
    with Bundle.open(prefix) as b:
        assert b.missing_shards() == (missing,)
        b.read_bytes(b.entries["a"])
        with pytest.raises(CorruptFileError) as info:
            b.read_bytes(b.entries["b"])
    assert info.value.path == str(missing)
    assert "data shard two.data-00001-of-00002 is missing (needed by entry 'b')" in str(info.value)


def test_crc_mismatch_names_shard_key_and_offset(simple: Path) -> None:
    shard = Path(f"{simple}.data-00000-of-00001")
    with Bundle.open(simple) as b:
        entry = b.entries["scalar"]
    data = bytearray(shard.read_bytes())
    data[entry.offset] ^= 0x01
    shard.write_bytes(bytes(data))
    with Bundle.open(simple) as b:
        with pytest.raises(ChecksumError) as info:
            b.read_bytes(b.entries["scalar"])
        b.read_bytes(b.entries["scalar"], verify=False)
        problems = list(b.iter_problems())
    msg = str(info.value)
    assert msg.startswith(f"{shard} at offset {entry.offset}: entry 'scalar' (shard 0, 8 bytes")
    assert "checksum mismatch: stored 0x" in msg
    assert [e.key for e, _ in problems] == ["scalar"]


def test_string_crc_mismatch(simple: Path) -> None:
    shard = Path(f"{simple}.data-00000-of-00001")
    with Bundle.open(simple) as b:
        entry = b.entries["s"]
    data = bytearray(shard.read_bytes())
    data[entry.offset + entry.size - 1] ^= 0x20  # a byte of the last non-empty string
    shard.write_bytes(bytes(data))
    with (
        Bundle.open(simple) as b,
        pytest.raises(ChecksumError, match=r"entry 's'.*checksum mismatch"),
    ):
        b.read_strings(b.entries["s"])


def test_length_past_end_of_shard(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    entry = w.add("w", np.zeros(4, np.float32))
    entry.size = 4000
    with Bundle.open(w.finish()) as b, pytest.raises(CorruptFileError) as info:
        b.read_bytes(b.entries["w"])
    assert info.value.offset == 0
    assert "entry 'w': 4000 bytes at offset 0 run past the end of the shard (16 bytes)" in str(
        info.value
    )


def test_truncated_shard(simple: Path) -> None:
    shard = Path(f"{simple}.data-00000-of-00001")
    shard.write_bytes(shard.read_bytes()[:10])
    with Bundle.open(simple) as b, pytest.raises(CorruptFileError, match="run past the end"):
        b.read_strings(b.entries["s"])


def test_string_lengths_run_past_the_tensor(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add_bytes("s", b"\x80\x80\x80", dtype=7, shape=[2])
    with Bundle.open(w.finish()) as b, pytest.raises(CorruptFileError) as info:
        b.read_strings(b.entries["s"], verify=False)
    assert "the length of string 0 runs past the tensor's 3 bytes" in str(info.value)
    assert info.value.offset == 3


def test_strings_longer_than_the_tensor(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add_bytes("s", b"\x05\x00\x00\x00\x00ab", dtype=7, shape=[1])
    with (
        Bundle.open(w.finish()) as b,
        pytest.raises(CorruptFileError, match="need 5 bytes but only 2"),
    ):
        b.read_strings(b.entries["s"], verify=False)


def test_too_many_strings_for_the_size(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add_bytes("s", b"\x00" * 8, dtype=7, shape=[10**12])
    with (
        Bundle.open(w.finish()) as b,
        pytest.raises(CorruptFileError, match="cannot fit in 8 bytes"),
    ):
        b.read_strings(b.entries["s"])


def test_empty_string_tensor(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add("s", np.array([], dtype=object))
    w.add_bytes("nothing", b"", dtype=7, shape=[0], crc=bf.crc32c.mask(0))
    with Bundle.open(w.finish()) as b:
        assert b.read_strings(b.entries["s"]) == []
        assert b.entries["s"].size == 4
        assert b.read_strings(b.entries["nothing"]) == []


def test_shard_id_out_of_range(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add("w", np.zeros(1, np.float32)).shard_id = 3
    with (
        Bundle.open(w.finish()) as b,
        pytest.raises(CorruptFileError, match="in shard 3, but the header declares 1"),
    ):
        b.read_bytes(b.entries["w"])


def test_missing_header(tmp_path: Path) -> None:
    from tests.support.bundle_writer import build_table

    path = tmp_path / "x.index"
    path.write_bytes(build_table([(b"w", b"")]))
    with pytest.raises(
        CorruptFileError, match="header entry \\(empty key\\) is missing \\(first key b'w'\\)"
    ):
        Bundle.open(tmp_path / "x")


def test_unparsable_entry(tmp_path: Path) -> None:
    from tests.support.bundle_writer import build_table

    header = pb.BundleHeaderProto(num_shards=1).SerializeToString()
    path = tmp_path / "x.index"
    path.write_bytes(build_table([(b"", header), (b"w", b"\xff\xff")]))
    with pytest.raises(CorruptFileError) as info:
        Bundle.open(tmp_path / "x")
    assert str(info.value).startswith(f"{path}: entry 'w': the BundleEntryProto does not parse")


def test_unknown_rank_shape_is_corrupt(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add("w", np.zeros(2, np.float32)).shape.dim[0].size = -1
    with pytest.raises(CorruptFileError, match="entry 'w': invalid tensor shape \\[-1\\]"):
        Bundle.open(w.finish())


def test_bad_endianness_and_version(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "c")
    w.add("w", np.zeros(2, np.float32))
    w.header = pb.BundleHeaderProto(num_shards=1)
    w.header.endianness = 5  # type: ignore[assignment]
    with pytest.raises(CorruptFileError, match="unknown endianness value 5"):
        Bundle.open(w.finish())
    w.header = pb.BundleHeaderProto(num_shards=1)
    w.header.version.min_consumer = 2
    with pytest.raises(UnsupportedError, match="written by a newer TensorFlow"):
        Bundle.open(w.finish())


@pytest.mark.parametrize("cut", [0, 30, -49, -1])
def test_truncated_index(simple: Path, cut: int) -> None:
    index = Path(f"{simple}.index")
    data = index.read_bytes()
    index.write_bytes(data[:cut])
    with pytest.raises(CorruptFileError) as info:
        Bundle.open(simple)
    assert str(index) in str(info.value)


def test_index_cut_and_flipped_everywhere(simple: Path) -> None:
    """No cut or bit flip in the index escapes as anything but a SmliteError."""
    from smlite.errors import SmliteError

    index = Path(f"{simple}.index")
    data = index.read_bytes()
    for i in range(len(data)):
        for damaged in (data[:i], data[:i] + bytes([data[i] ^ 0x10]) + data[i + 1 :]):
            index.write_bytes(damaged)
            try:
                with Bundle.open(simple) as b:
                    list(b.iter_problems())
            except SmliteError:
                pass


def test_resolve_prefix(tmp_path: Path, simple: Path) -> None:
    assert bf.resolve_prefix(simple) == simple
    assert bf.resolve_prefix(f"{simple}.index") == simple
    assert bf.resolve_prefix(f"{simple}.data-00000-of-00001") == simple
    assert bf.resolve_prefix(tmp_path) == simple  # the only *.index in the directory
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt"\nall_model_checkpoint_paths: "ckpt"\n'
    )
    shutil.copy(f"{simple}.index", tmp_path / "other.index")
    assert bf.resolve_prefix(tmp_path) == simple
    (tmp_path / "checkpoint").unlink()
    with pytest.raises(NotFoundError, match="several checkpoints") as info:
        bf.resolve_prefix(tmp_path)
    assert info.value.choices == ("ckpt", "other")
    with pytest.raises(NotFoundError, match=r"nope\.index does not exist"):
        bf.resolve_prefix(tmp_path / "nope")


def test_resolve_prefix_of_saved_model_dir() -> None:
    model = FIXTURES / "models" / "module_one_signature"
    assert bf.resolve_prefix(model) == model / "variables" / "variables"
    assert bf.resolve_prefix(model / "variables") == model / "variables" / "variables"


def test_checkpoint_state_naming_a_missing_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "gone-7"\n')
    with pytest.raises(CorruptFileError, match="names 'gone-7'"):
        bf.resolve_prefix(tmp_path)


def test_close_with_live_views(simple: Path) -> None:
    b = Bundle.open(simple)
    arr = np.frombuffer(b.read_bytes(b.entries["w"]), np.float32)
    b.close()  # the view keeps the map alive; no BufferError
    assert arr.tolist() == [0, 1, 2, 3, 4, 5]


def test_every_fixture_bundle_verifies() -> None:
    indexes = sorted(FIXTURES.glob("**/*.index"))
    assert indexes
    for index in indexes:
        with Bundle.open(str(index)[: -len(".index")]) as b:
            assert list(b.iter_problems()) == [], index
            assert os.fspath(b.index_path) == os.fspath(index)
