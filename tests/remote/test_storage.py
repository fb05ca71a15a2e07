"""The storage layer over real fsspec filesystems: memory://, file://, http:// and s3:// (moto)."""

from __future__ import annotations

import pickle
from pathlib import Path

import fsspec
import pytest

from smlite.errors import NotASavedModelError, Reason, RemoteError, SmliteError
from smlite.formats import storage
from smlite.formats.remote import RemoteSource, Store
from tests.remote.conftest import BUCKET, MODELS
from tests.support.http_server import Fault, ModelServer, VirtualFile
from tests.support.s3_server import LoggedMotoServer

MODEL = "module_multi_signature"
PB = (MODELS / MODEL / "saved_model.pb").read_bytes()
INDEX = (MODELS / MODEL / "variables" / "variables.index").read_bytes()


def _names(entries: list[storage.DirEntry]) -> list[tuple[str, str]]:
    return [(e.name, e.kind) for e in entries]


# -- every filesystem gives the same answers --------------------------------------------


@pytest.fixture()
def memory_model() -> str:
    fs = fsspec.filesystem("memory")
    root = "/smlite-tests/" + MODEL
    for path in (MODELS / MODEL).rglob("*"):
        if path.is_file():
            fs.pipe(f"{root}/{path.relative_to(MODELS / MODEL).as_posix()}", path.read_bytes())
    yield "memory://smlite-tests/" + MODEL
    fs.rm("/smlite-tests", recursive=True)


def _urls(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    kind = request.param
    if kind == "memory":
        return request.getfixturevalue("memory_model"), {}
    if kind == "file":
        return (MODELS / MODEL).resolve().as_uri(), {}
    if kind == "http":
        return request.getfixturevalue("http_models").url + "/" + MODEL, {}
    moto: LoggedMotoServer = request.getfixturevalue("moto")
    return f"s3://{BUCKET}/models/{MODEL}", moto.storage_options()


@pytest.fixture(params=["memory", "file", "http", "s3"])
def model_url(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    return _urls(request)


def test_listing_and_kinds_agree_across_filesystems(model_url: tuple[str, dict]) -> None:
    url, options = model_url
    root = storage.as_path(url, storage_options=options)
    assert isinstance(root, storage.RemotePath)
    assert str(root) == url.rstrip("/")
    names = _names(storage.listdir(root))
    assert ("saved_model.pb", "file") in names and ("variables", "dir") in names
    assert root.is_dir() and not root.is_file()
    assert (root / "saved_model.pb").is_file()
    assert (root / "variables").is_dir()
    assert not (root / "no_such_file").exists()
    assert storage.size(root / "saved_model.pb") == len(PB)
    assert storage.read_bytes(root / "variables" / "variables.index") == INDEX
    inner = _names(storage.listdir(root / "variables"))
    assert ("variables.index", "file") in inner


def test_reads_are_byte_exact_and_counted(model_url: tuple[str, dict]) -> None:
    url, options = model_url
    root = storage.as_path(url, storage_options=options)
    with storage.measure() as stats, storage.open_source(root / "saved_model.pb") as src:
        assert src.size == len(PB)
        assert bytes(src.read(100, 200)) == PB[100:200]
        assert bytes(src.buffer()[len(PB) - 5 :]) == PB[-5:]
        assert src.buffer()[7] == PB[7]
        assert b"".join(bytes(c) for c in src.chunks(10, 5000, 1000)) == PB[10:5000]
    # A small file is fetched whole by its first read; chunks are not cached reads.
    assert stats.bytes >= len(PB)
    assert stats.files[str(root / "saved_model.pb")].requests >= 1


def test_missing_root_is_not_a_saved_model(model_url: tuple[str, dict]) -> None:
    url, options = model_url
    missing = storage.as_path(url + "_missing", storage_options=options)
    assert not missing.exists()
    with pytest.raises(NotASavedModelError, match="no such directory"):
        storage.listdir(missing)
    with pytest.raises(SmliteError):
        storage.open_source(missing / "saved_model.pb")


# -- range reads and the cache -----------------------------------------------------------


def _big_server_file(size: int) -> tuple[VirtualFile, bytes]:
    pattern = bytes(range(256)) * (size // 256)
    return VirtualFile([pattern]), pattern


def test_range_reads_fetch_only_what_is_asked_plus_readahead() -> None:
    vf, data = _big_server_file(8 << 20)
    with ModelServer(files={"big.bin": vf}) as server:
        src = storage.open_source(storage.as_path(server.url + "/big.bin"))
        assert isinstance(src, RemoteSource)
        readahead = src.store.settings.readahead
        with storage.measure() as stats:
            assert src.read(10, 20) == data[10:20]
            assert src.read(30, 40) == data[30:40]  # served from the first fetch
            assert src.read(5_000_000, 5_000_010) == data[5_000_000:5_000_010]
            # A read running off the end of a cached range fetches only the rest.
            assert (
                src.read(5_000_000, 5_000_000 + 2 * readahead)
                == data[5_000_000 : 5_000_000 + 2 * readahead]
            )
            assert src.read(10, 20) == data[10:20]  # the head is still cached
        gets = server.requests("GET")
        assert [g.range for g in gets] == [
            f"bytes=10-{10 + readahead - 1}",
            f"bytes=5000000-{5_000_000 + readahead - 1}",
            f"bytes={5_000_000 + readahead}-{5_000_000 + 2 * readahead - 1}",
        ]
        assert stats.requests == 3 and stats.bytes == 3 * readahead
        src.prefetch(7_000_000, 7_100_000)
        assert server.requests("GET")[-1].range == "bytes=7000000-7099999"
        assert src.read(7_050_000, 7_060_000) == data[7_050_000:7_060_000]
        assert len(server.requests("GET")) == 4
        chunks = list(src.chunks(0, 3 << 20, 1 << 20))
        assert b"".join(chunks) == data[: 3 << 20] and len(server.requests("GET")) == 7


def test_server_ignoring_range_is_read_correctly_and_reported_whole() -> None:
    vf, data = _big_server_file(4 << 20)
    with ModelServer(files={"big.bin": vf}, ranges=False) as server:
        with storage.measure() as stats:
            src = storage.open_source(storage.as_path(server.url + "/big.bin"))
            assert src.read(1_000_000, 1_000_100) == data[1_000_000:1_000_100]
            assert src.read(3_000_000, 3_000_100) == data[3_000_000:3_000_100]
            assert src.buffer()[123] == data[123]
        # One download of the whole file, kept: later reads cost nothing.
        assert len(server.requests("GET")) == 1
        assert stats.whole_files == (server.url + "/big.bin",)
        assert stats.as_dict()["whole_file_fetches"] == [server.url + "/big.bin"]
        assert stats.bytes == len(data)


def test_cache_is_bounded() -> None:
    vf, data = _big_server_file(8 << 20)
    with ModelServer(files={"big.bin": vf}) as server:
        path = storage.as_path(server.url + "/big.bin")
        assert isinstance(path, storage.RemotePath)
        store = path.store.with_settings(cache_bytes=256 << 10)
        src = store.open(path.path)
        for i in range(10):
            assert src.read(i << 20, (i << 20) + 100) == data[i << 20 : (i << 20) + 100]
        assert src._cached <= 256 << 10 + src.store.settings.readahead


# -- s3 specifics: what crosses the socket ------------------------------------------------


def test_s3_reads_are_ranged_gets_and_nothing_is_written(
    moto: LoggedMotoServer, s3_options: dict
) -> None:
    before = len(moto.log)
    root = storage.as_path(f"s3://{BUCKET}/models/{MODEL}", storage_options=s3_options)
    names = _names(storage.listdir(root))
    assert ("saved_model.pb", "file") in names
    with storage.open_source(root / "saved_model.pb") as src:
        assert src.read(0, 16) == PB[:16]
    moto.settle()
    log = moto.log[before:]
    reads = [r for r in log if r.is_read]
    # One byte past the announced end: a larger file than listed would show.
    assert [r.range for r in reads] == [f"bytes=0-{len(PB)}"]
    assert reads[0].body_bytes == len(PB)
    assert all(r.method in ("GET", "HEAD") for r in log)


def test_s3_find_lists_a_whole_prefix_in_one_call(moto: LoggedMotoServer, s3_options: dict) -> None:
    root = storage.as_path(f"s3://{BUCKET}/models", storage_options=s3_options)
    assert isinstance(root, storage.RemotePath)
    before = len(moto.log)
    found = root.store.find(root)
    files = {str(e.path) for e in found if e.kind == "file"}
    assert f"s3://{BUCKET}/models/{MODEL}/saved_model.pb" in files
    assert f"s3://{BUCKET}/models/serving_base/2/saved_model.pb" in files
    assert len(moto.log) - before == 1
    # The listings it implies are cached: asking about a model costs nothing more.
    model = root / MODEL
    assert (model / "saved_model.pb").is_file() and (model / "variables").is_dir()
    assert len(moto.log) - before == 1


def test_storage_options_reach_the_filesystem(moto: LoggedMotoServer) -> None:
    options = storage.parse_storage_options(
        [
            "key=testing",
            "secret=testing",
            f"client_kwargs.endpoint_url={moto.endpoint}",
            "client_kwargs.region_name=us-east-1",
            "skip_instance_cache=true",
        ]
    )
    root = storage.as_path(f"s3://{BUCKET}/models/{MODEL}", storage_options=options)
    assert (root / "saved_model.pb").is_file()


# -- pickling: results travel between processes without credentials -----------------------


def test_remote_paths_pickle_as_urls_only(s3_options: dict) -> None:
    root = storage.as_path(f"s3://{BUCKET}/models/{MODEL}", storage_options=s3_options)
    data = pickle.dumps(root / "saved_model.pb")
    assert b"testing" not in data
    back = pickle.loads(data)
    assert back == root / "saved_model.pb" and str(back).endswith("saved_model.pb")
    with pytest.raises(RemoteError, match="open the URL again"):
        back.is_file()


def test_missing_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_backend(url: str, **options: object) -> None:
        raise ImportError("Install gcsfs to access Google Storage")

    monkeypatch.setattr("fsspec.core.url_to_fs", no_backend)
    with pytest.raises(RemoteError, match=r"smlite\[remote\]") as info:
        Store.for_url("gs://bucket/model", {})
    assert info.value.reason is Reason.NO_BACKEND and info.value.url == "gs://bucket/model"


def test_local_root_of_file_url_is_read_by_fsspec(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"0123456789")
    root = storage.as_path(tmp_path.as_uri())
    assert isinstance(root, storage.RemotePath)
    with storage.open_source(root / "a.bin") as src:
        assert src.read(2, 5) == b"234"


# -- streaming shards: large sequential ranges, files in parallel -------------------------


def test_streaming_four_files_in_parallel_windows() -> None:
    from smlite.formats.stream import run_parallel, stream_spans

    size, window = 8 << 20, 2 << 20
    files = {f"s{i}.bin": VirtualFile([bytes([i]) * size]) for i in range(4)}
    faults = {name: Fault(stall=0.2) for name in files}
    with ModelServer(files=files, faults=faults) as server:

        def job(name: str) -> tuple[str, int]:
            src = storage.open_source(storage.as_path(f"{server.url}/{name}"))
            spans = [(i * 1024, (i + 1) * 1024) for i in range(size // 1024)]
            total = sum(len(p) for _, p, _ in stream_spans(src, spans, window=window))
            return name, total

        with storage.measure() as stats:
            got = dict(run_parallel([lambda n=n: job(n) for n in files], workers=4))
        assert got == dict.fromkeys(files, size)
        gets = server.requests("GET")
        assert len(gets) == 4 * (size // window)
        # Windows in order; the last asks one byte past the announced end (see _fetch).
        assert {g.range for g in gets if g.path == "/s0.bin"} == {
            f"bytes={k * window}-{(k + 1) * window - (k < 3)}" for k in range(size // window)
        }
        assert stats.requests == len(gets) and stats.bytes == 4 * size
        assert server.max_in_flight() >= 2  # the shards were read at the same time


def test_http_without_index_pages_reads_files_by_name() -> None:
    with ModelServer(MODELS, index_pages=False) as server:
        model = storage.as_path(f"{server.url}/{MODEL}")
        pb = model / "saved_model.pb"
        index = model / "variables" / "variables.index"
        assert pb.is_file() and index.is_file()
        assert not (model / "saved_model.pbtxt").exists()
        assert storage.read_bytes(index) == INDEX
        # Each folder's missing index page is asked for once, then files by HEAD.
        folders = {f"/{MODEL}/", f"/{MODEL}/variables/"}
        folder_gets = [g.path for g in server.requests("GET") if g.path in folders]
        assert sorted(folder_gets) == sorted(folders)
        with pytest.raises(NotASavedModelError):
            storage.listdir(model)
