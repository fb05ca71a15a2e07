"""The byte and request budget: tag-sets and signatures of a 1 GB saved_model.pb.

The walk is the one a SavedModel reader makes: the envelope's keys from the
head of the file, ``graph_def`` (field 2 of the MetaGraphDef, the gigabyte)
skipped by its length, the fields after it (signatures, object graph) read
in one request.  The servers' own logs are the evidence: at most 3 range
requests and 1 MiB beyond listing, on a real S3 endpoint (moto) and over
HTTP, for a file whose GraphDef holds a gigabyte of constant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smlite import pb
from smlite.formats import storage, wire
from smlite.formats.remote import RangeBuffer
from tests.remote.conftest import BUCKET, MODELS
from tests.support.big_model import big_saved_model, materialize
from tests.support.http_server import ModelServer
from tests.support.s3_server import LoggedMotoServer, client

TEMPLATE = MODELS / "module_multi_signature"
MiB = 1 << 20


def _header(src: storage.Source) -> list[pb.MetaGraphDef]:
    """Every MetaGraphDef of the file without its graph_def (the reader's envelope walk)."""
    buf = src.buffer()
    assert isinstance(buf, RangeBuffer)
    metas = []
    for f in wire.iter_fields(buf):  # type: ignore[arg-type]
        if f.number != 2 or f.wire_type != wire.LEN:
            continue
        pieces = []
        for g in wire.iter_fields(buf, f.start, f.end):  # type: ignore[arg-type]
            if g.number == 2 and g.wire_type == wire.LEN:
                src.prefetch(g.end, f.end)  # everything after the graph, in one request
            else:
                pieces.append(bytes(buf[g.key_start : g.end]))
        metas.append(pb.MetaGraphDef.FromString(b"".join(pieces)))
    return metas


def _expected() -> pb.MetaGraphDef:
    return pb.SavedModel.FromString((TEMPLATE / "saved_model.pb").read_bytes()).meta_graphs[0]


def _check(metas: list[pb.MetaGraphDef]) -> None:
    want = _expected()
    assert len(metas) == 1
    assert list(metas[0].meta_info_def.tags) == list(want.meta_info_def.tags)
    assert metas[0].signature_def == want.signature_def
    assert metas[0].object_graph_def == want.object_graph_def


def test_http_1gb_model_signatures_in_two_requests_under_1mib() -> None:
    vf = big_saved_model(TEMPLATE, 1 << 30)
    assert vf.size > 1 << 30
    with ModelServer(files={"big/saved_model.pb": vf}) as server:
        with storage.measure() as stats:
            path = storage.as_path(server.url + "/big/saved_model.pb")
            with storage.open_source(path) as src:
                _check(_header(src))
        gets = server.requests("GET")
        assert 1 <= len(gets) <= 3, gets
        assert sum(g.body_bytes for g in gets) <= MiB
        assert stats.requests == len(gets) and stats.bytes == sum(g.body_bytes for g in gets)
        # The listing part (a HEAD for the size) is separate from the budget.
        assert len(server.requests("HEAD")) == 1


@pytest.fixture(scope="module")
def s3_big(moto: LoggedMotoServer) -> str:
    """A 64 MiB saved_model.pb on S3 (the budget does not depend on the graph's size)."""
    data = materialize(big_saved_model(TEMPLATE, 64 * MiB))
    client(moto).put_object(Bucket=BUCKET, Key="big/1/saved_model.pb", Body=data)
    return f"s3://{BUCKET}/big/1"


def test_s3_big_model_signatures_in_at_most_3_requests_under_1mib(
    moto: LoggedMotoServer, s3_big: str
) -> None:
    root = storage.as_path(s3_big, storage_options=moto.storage_options())
    storage.listdir(root)  # the listing gives the size: no HEAD needed
    moto.settle()
    before = len(moto.log)
    with storage.open_source(root / "saved_model.pb") as src:
        _check(_header(src))
    moto.settle()
    after = moto.log[before:]
    reads = [r for r in after if r.is_read]
    assert 1 <= len(reads) <= 3 and len(after) == len(reads), after
    assert all(r.range for r in reads)
    assert sum(r.body_bytes for r in reads) <= MiB


def test_local_sparse_1gb_file_reads_through_the_same_walk(tmp_path: Path) -> None:
    from tests.support.big_model import write_sparse

    vf = big_saved_model(TEMPLATE, 1 << 30)
    write_sparse(vf, tmp_path / "saved_model.pb")
    url = (tmp_path / "saved_model.pb").as_uri()
    with storage.measure() as stats, storage.open_source(storage.as_path(url)) as src:
        _check(_header(src))
    assert stats.requests <= 3 and stats.bytes <= MiB
