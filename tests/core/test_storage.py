"""The storage layer for local paths (memory maps, no fsspec) and the pure parts of URLs."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from smlite.errors import NotASavedModelError, Reason, RemoteError, SmliteError
from smlite.formats import storage
from smlite.formats.remote import Store
from smlite.formats.remote_errors import classify

MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "module_multi_signature"


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("s3://bucket/key", True),
        ("gs://b/m", True),
        ("http://127.0.0.1:8000/m", True),
        ("file:///tmp/m", True),
        ("memory://m", True),
        ("simplecache::s3://b/m", True),
        ("models/m1", False),
        ("/abs/models", False),
        ("C:\\models\\m", False),
        ("c:/models/m", False),
        ("weird:name/x", False),
    ],
)
def test_is_url(text: str, url: bool) -> None:
    assert storage.is_url(text) is url


def test_local_paths_stay_paths_and_refuse_storage_options(tmp_path: Path) -> None:
    assert storage.as_path(str(tmp_path)) == tmp_path
    assert storage.as_path(tmp_path) == tmp_path
    with pytest.raises(SmliteError, match="storage options apply to URLs"):
        storage.as_path(tmp_path, storage_options={"anon": True})


def test_local_reading_never_imports_fsspec() -> None:
    code = f"""
import sys
from smlite.formats import storage
p = storage.as_path({str(MODEL)!r})
names = [e.name for e in storage.listdir(p)]
with storage.open_source(p / "saved_model.pb") as src:
    src.read(0, 10)
assert "saved_model.pb" in names
assert "fsspec" not in sys.modules, "fsspec was imported for a local path"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_parse_storage_options() -> None:
    options = storage.parse_storage_options(
        [
            "anon=true",
            "key=AKIA",
            "client_kwargs.endpoint_url=http://127.0.0.1:9000",
            "client_kwargs.region_name=eu-west-1",
            'config_kwargs.retries={"max_attempts": 2}',
            "requester_pays=false",
            "block_size=1048576",
            "token=abc=def",
        ]
    )
    assert options == {
        "anon": True,
        "key": "AKIA",
        "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000", "region_name": "eu-west-1"},
        "config_kwargs": {"retries": {"max_attempts": 2}},
        "requester_pays": False,
        "block_size": 1048576,
        "token": "abc=def",
    }


@pytest.mark.parametrize("bad", ["novalue", "=x", "a..b=1", "a.=1"])
def test_parse_storage_options_rejects_malformed_items(bad: str) -> None:
    with pytest.raises(SmliteError, match="expected KEY=VALUE"):
        storage.parse_storage_options([bad])


def test_parse_storage_options_rejects_a_value_used_as_a_table() -> None:
    with pytest.raises(SmliteError, match="already a value"):
        storage.parse_storage_options(["a=1", "a.b=2"])


def test_listdir_kinds_sizes_and_symlinks(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "f.bin").write_bytes(b"12345")
    (tmp_path / "link_to_d").symlink_to(tmp_path / "d")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    entries = {e.name: e for e in storage.listdir(tmp_path)}
    assert list(entries) == ["d", "dangling", "f.bin", "link_to_d"]
    assert entries["d"].kind == "dir" and entries["d"].is_dir()
    assert entries["f.bin"].kind == "file" and entries["f.bin"].size == 5
    assert entries["link_to_d"].kind == "symlink" and entries["link_to_d"].is_dir()
    assert entries["dangling"].kind == "symlink" and not entries["dangling"].is_dir()
    assert storage.exists(tmp_path / "dangling")
    assert storage.size(tmp_path / "f.bin") == 5


def test_listdir_of_missing_or_file_is_a_smlite_error(tmp_path: Path) -> None:
    with pytest.raises(NotASavedModelError, match="no such directory"):
        storage.listdir(tmp_path / "missing")
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotASavedModelError, match="not a directory"):
        storage.listdir(tmp_path / "f")


def test_walk_does_not_follow_links(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x").write_bytes(b"x")
    (tmp_path / "loop").symlink_to(tmp_path)
    found = [str(e.path.relative_to(tmp_path)) for e in storage.walk(tmp_path)]
    assert found == ["a", os.path.join("a", "b"), os.path.join("a", "b", "x"), "loop"]


def test_local_source_reads_views_and_chunks() -> None:
    data = (MODEL / "saved_model.pb").read_bytes()
    with storage.measure() as outer:
        with storage.measure() as inner, storage.open_source(MODEL / "saved_model.pb") as src:
            assert src.size == len(data)
            assert src.read(5, 25) == data[5:25]
            assert src.read(len(data) - 3, len(data) + 100) == data[-3:]
            assert src.buffer()[0] == data[0]
            pieces = [bytes(c) for c in src.chunks(0, len(data), 4096)]
            assert b"".join(pieces) == data and len(pieces) == -(-len(data) // 4096)
        assert inner.requests == 0 and inner.bytes == 20 + 3 + len(data)
    assert outer.bytes == inner.bytes
    assert str(MODEL / "saved_model.pb") in inner.as_dict()["files"]


def test_empty_local_file_is_an_empty_source(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    with storage.open_source(tmp_path / "empty") as src:
        assert src.size == 0 and src.read(0, 10) == b"" and list(src.chunks(0, 10, 4)) == []


def test_missing_local_file_is_not_a_saved_model(tmp_path: Path) -> None:
    with pytest.raises(NotASavedModelError, match="no such file"):
        storage.open_source(tmp_path / "nothing")


# -- RemotePath: naming needs no filesystem -------------------------------------------


def _remote(url: str) -> storage.RemotePath:
    return Store.detached(url).root


def test_remote_path_joins_names_and_parents() -> None:
    root = _remote("s3://bucket/models/m1")
    pb = root / "variables" / "variables.index"
    assert str(pb) == "s3://bucket/models/m1/variables/variables.index"
    assert pb.name == "variables.index" and pb.suffix == ".index"
    assert pb.parent.parent == root
    assert str(root / "variables/variables.index") == str(pb)
    assert str(root / "./a/../b") == "s3://bucket/models/m1/b"
    assert str(pb.relative_to(root)) == "variables/variables.index"
    assert pb.is_relative_to(root) and not root.is_relative_to(pb)
    with pytest.raises(ValueError, match="not below"):
        root.relative_to(pb)
    assert pb.as_posix() == str(pb) and pb.resolve() is pb
    assert repr(root) == "RemotePath('s3://bucket/models/m1')"


def test_remote_path_has_no_fspath() -> None:
    with pytest.raises(TypeError):
        os.fspath(_remote("s3://bucket/m"))  # type: ignore[call-overload]


def test_remote_path_pickles_as_url_and_refuses_io_after() -> None:
    p = _remote("s3://bucket/m") / "saved_model.pb"
    back = pickle.loads(pickle.dumps(p))
    assert back == p and hash(back) == hash(p)
    with pytest.raises(RemoteError, match="open the URL again"):
        back.exists()


def test_detached_store_reports_the_url_in_its_error() -> None:
    p = _remote("gs://b/m")
    with pytest.raises(RemoteError) as info:
        storage.listdir(p)
    assert info.value.url == "gs://b/m" and info.value.reason is Reason.REQUEST_FAILED


def test_read_bytes_of_a_missing_local_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    assert storage.read_bytes(tmp_path / "f") == b"abc"
    with pytest.raises(NotASavedModelError, match="no such file"):
        storage.read_bytes(tmp_path / "missing")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (FileNotFoundError("k"), (Reason.NOT_FOUND, False)),
        (PermissionError("denied"), (Reason.ACCESS_DENIED, False)),
        (TimeoutError(), (Reason.TIMEOUT, True)),
        (ConnectionResetError(), (Reason.UNAVAILABLE, True)),
        (ValueError("bad"), (Reason.REQUEST_FAILED, False)),
    ],
)
def test_classification_of_backend_exceptions(exc: BaseException, expected: tuple) -> None:
    """Without fsspec installed: the exceptions its backends raise, by type and cause."""
    assert classify(exc) == expected


def test_status_in_the_cause_chain_wins() -> None:
    class ResponseError(Exception):
        status = 429

    try:
        try:
            raise ResponseError("slow down")
        except ResponseError as inner:
            raise FileNotFoundError("wrapped") from inner
    except FileNotFoundError as outer:
        assert classify(outer) == (Reason.UNAVAILABLE, True)


def test_using_and_configure_set_the_options_of_urls_for_a_block() -> None:
    assert dict(storage.current_options()[0]) == {}
    with storage.using({"anon": True}):
        assert dict(storage.current_options()[0]) == {"anon": True}
        with storage.using({"key": "k"}):
            assert dict(storage.current_options()[0]) == {"key": "k"}
        assert dict(storage.current_options()[0]) == {"anon": True}
    assert dict(storage.current_options()[0]) == {}

    def configured() -> object:
        storage.configure({"anon": False})
        return dict(storage.current_options()[0])

    import contextvars

    assert contextvars.copy_context().run(configured) == {"anon": False}
    assert dict(storage.current_options()[0]) == {}  # the context it ran in kept it


def test_named_relative_and_entry_size(tmp_path: Path) -> None:
    url = storage.named("s3://bucket/models/m")
    assert str(url) == "s3://bucket/models/m" and url.name == "m"
    assert storage.relative(url / "variables" / "variables.index", url) == (
        "variables/variables.index"
    )
    assert storage.relative(tmp_path / "a" / "b", tmp_path) == "a/b"
    with pytest.raises(ValueError):
        storage.relative(tmp_path, url)
    (tmp_path / "f").write_bytes(b"12345")
    (entry,) = [e for e in storage.listdir(tmp_path) if e.name == "f"]
    assert storage.entry_size(entry) == 5
    no_size = storage.DirEntry("f", tmp_path / "f", "file", None)
    assert storage.entry_size(no_size) == 5  # asked for, as over http


def test_totals_of_a_measurement() -> None:
    with storage.measure() as stats, storage.open_source(MODEL / "saved_model.pb") as src:
        src.read(0, 10)
    totals = stats.totals()
    assert totals.bytes == 10 and totals.requests == 0
    assert totals.as_dict() == {
        "requests": 0,
        "list_requests": 0,
        "bytes": 10,
        "retries": 0,
        "whole_file_fetches": [],
    }
