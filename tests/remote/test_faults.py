"""Remote failures end as a RemoteError with the URL and a reason: no hang, no partial data.

Each case runs against the threaded HTTP test server with a fault on one
path; retries are short (a few ms of backoff) and timeouts a second or two,
so the whole file runs in seconds.
"""

from __future__ import annotations

import time

import pytest

from smlite.errors import NotASavedModelError, Reason, RemoteError, SmliteError
from smlite.formats import storage
from smlite.formats.remote import RemoteSettings
from tests.support.http_server import Fault, ModelServer, VirtualFile

SIZE = 3 << 20
DATA = bytes(range(256)) * (SIZE // 256)
FAST = RemoteSettings(retries=2, backoff=0.01, timeout=2.0)


def _open(server: ModelServer, settings: RemoteSettings = FAST) -> storage.Source:
    return storage.open_source(storage.as_path(f"{server.url}/f.bin", settings=settings))


def _serve(**fault: object) -> ModelServer:
    return ModelServer(files={"f.bin": VirtualFile([DATA])}, faults={"f.bin": Fault(**fault)})


def test_500s_then_success_is_retried_and_counted() -> None:
    with _serve(status=500, times=2) as server, storage.measure() as stats:
        src = _open(server)
        assert src.read(0, 100) == DATA[:100]
    assert stats.retries == 2
    assert [r.status for r in server.requests("GET")] == [500, 500, 206]


def test_persistent_503_gives_up_after_the_bounded_retries() -> None:
    with _serve(status=503) as server:
        src = _open(server)
        start = time.monotonic()
        with pytest.raises(RemoteError) as info:
            src.read(0, 100)
        assert time.monotonic() - start < 5
    err = info.value
    assert err.reason is Reason.UNAVAILABLE and err.attempts == FAST.retries + 1
    assert err.url == f"{server.url}/f.bin"
    assert str(err).startswith(f"{server.url}/f.bin: cannot read: the server is unavailable")
    assert "503" in str(err)
    assert len(server.requests("GET")) == FAST.retries + 1


def test_403_is_access_denied_at_once_with_advice() -> None:
    with _serve(status=403) as server:
        src = _open(server)
        with pytest.raises(RemoteError) as info:
            src.read(0, 10)
    assert info.value.reason is Reason.ACCESS_DENIED
    assert "--storage-option" in str(info.value) and "HTTP 403" in str(info.value)
    assert len(server.requests("GET")) == 1  # not retried


def test_403_on_the_size_probe_is_not_mistaken_for_a_missing_file() -> None:
    # fsspec's http info() turns every failure into FileNotFoundError; the cause says 403.
    with ModelServer(
        files={"f.bin": VirtualFile([DATA])}, faults={"f.bin": Fault(status=403, get_only=False)}
    ) as server:
        path = storage.as_path(f"{server.url}/f.bin", settings=FAST)
        with pytest.raises(RemoteError) as info:
            storage.open_source(path)
    assert info.value.reason is Reason.ACCESS_DENIED


def test_404_is_not_found() -> None:
    with ModelServer(files={"f.bin": VirtualFile([DATA])}) as server:
        path = storage.as_path(f"{server.url}/missing.bin", settings=FAST)
        assert not path.exists()
        with pytest.raises(NotASavedModelError, match="no such file"):
            storage.open_source(path)


def test_connection_reset_mid_file_is_an_error_not_short_data() -> None:
    with _serve(reset_after=100_000) as server:
        src = _open(server)
        with pytest.raises(RemoteError) as info:
            src.read(0, SIZE)
    assert info.value.reason in (Reason.TRUNCATED, Reason.UNAVAILABLE)
    assert info.value.attempts == FAST.retries + 1


def test_truncated_body_is_retried_then_reported() -> None:
    with _serve(truncate_to=1000) as server:
        src = _open(server)
        with pytest.raises(RemoteError) as info:
            src.read(0, 2 << 20)
    assert info.value.reason is Reason.TRUNCATED
    assert "cut short" in str(info.value)


def test_truncated_body_that_heals_is_read_whole() -> None:
    with ModelServer(
        files={"f.bin": VirtualFile([DATA])}, faults={"f.bin": Fault(truncate_to=1000)}
    ) as server:
        src = _open(server)
        server.faults["f.bin"].truncate_to = None
        assert src.read(0, 2 << 20) == DATA[: 2 << 20]


def test_size_announced_larger_than_the_file() -> None:
    with _serve(announce_size=SIZE + 5000, get_only=False) as server:
        src = _open(server)
        assert src.size == SIZE + 5000
        assert src.read(0, 10) == DATA[:10]  # the part that exists reads fine
        with pytest.raises(RemoteError) as info:
            src.read(SIZE + 1000, SIZE + 2000)  # past the real end: 416
    assert info.value.reason is Reason.SIZE_MISMATCH


def test_size_announced_smaller_than_the_file_read_whole() -> None:
    small = b"x" * 5000
    with ModelServer(
        files={"f.bin": small}, faults={"f.bin": Fault(announce_size=4000, get_only=False)}
    ) as server:
        src_path = storage.as_path(f"{server.url}/f.bin", settings=FAST)
        with pytest.raises(RemoteError) as info:
            storage.read_bytes(src_path)
    # The read up to the announced end asks for one byte more, and gets it.
    assert info.value.reason is Reason.SIZE_MISMATCH
    assert "4000 bytes announced, but there are more" in str(info.value)


def test_stalled_server_times_out_instead_of_hanging() -> None:
    settings = RemoteSettings(retries=1, backoff=0.01, timeout=1.0)
    with _serve(stall=3.0) as server:
        src = _open(server, settings)
        start = time.monotonic()
        with pytest.raises(RemoteError) as info:
            src.read(0, 10)
        elapsed = time.monotonic() - start
    assert info.value.reason is Reason.TIMEOUT
    assert elapsed < 6


def test_remote_errors_are_smlite_errors_with_the_url() -> None:
    err = RemoteError("s3://b/k", "cannot read: x", reason=Reason.TIMEOUT)
    assert isinstance(err, SmliteError) and err.path == "s3://b/k"
