"""The byte and request budgets, from the servers' own logs, with the real commands.

* tag-sets and signatures of a remote ``saved_model.pb`` whose GraphDef holds
  a gigabyte of constant: at most 3 read requests and 1 MiB beyond listing
  (``smlite show``, over HTTP with 1 GB, on moto's S3 with 64 MiB: the walk
  does not depend on the graph's size);
* ``scan``/``show --list_ops`` fetch the graph once; ``check`` too, for the
  graph index, the fingerprint and the size attribution together;
* the variables listing reads ``variables.index`` (and the model's head and
  tail), no data shard;
* ``variables --verify`` streams each shard in large ranges, shards at the
  same time.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from smlite.cli import ExitCode, run
from tests.remote.conftest import BUCKET, MODELS
from tests.support.big_model import big_saved_model, materialize
from tests.support.http_server import Fault, ModelServer
from tests.support.s3_server import LoggedMotoServer, client

TEMPLATE = MODELS / "module_multi_signature"
MiB = 1 << 20
#: Arguments after ``show --dir URL``, and a line the answer holds.
SHOW_FORMS = {
    "tag-sets": ([], "'serve'"),
    "signature keys": (["--tag_set", "serve"], 'SignatureDef key: "serving_default"'),
    "one signature": (
        ["--tag_set", "serve", "--signature_def", "serving_default"],
        "Method name is: tensorflow/serving/predict",
    ),
}


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert run(args) == ExitCode.OK, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def http_1gb() -> Iterator[ModelServer]:
    vf = big_saved_model(TEMPLATE, 1 << 30)
    assert vf.size > 1 << 30
    with ModelServer(files={"big/saved_model.pb": vf}) as server:
        yield server


@pytest.mark.parametrize("form", sorted(SHOW_FORMS))
def test_show_of_a_1gb_model_over_http_reads_under_1mib_in_3_requests(
    http_1gb: ModelServer, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    http_1gb.clear_log()
    argv, answer = SHOW_FORMS[form]
    out = _cli(["show", "--dir", f"{http_1gb.url}/big", *argv], capsys)
    reads = http_1gb.requests("GET", under="/big/saved_model.pb")
    assert 1 <= len(reads) <= 3, reads
    assert all(r.range for r in reads) and sum(r.body_bytes for r in reads) <= MiB
    # Listing apart: the folder's index page and a HEAD for the file's size.
    assert [r.path for r in http_1gb.requests("GET") if r not in reads] == ["/big/"]
    assert len(http_1gb.requests("HEAD")) == 1
    assert answer in out


def test_verbose_counts_what_the_server_logged(
    http_1gb: ModelServer, capsys: pytest.CaptureFixture[str]
) -> None:
    http_1gb.clear_log()
    assert run(["show", "--dir", f"{http_1gb.url}/big", "--tag_set", "serve", "--verbose"]) == 0
    err = capsys.readouterr().err
    found = re.search(r"read ([\d,]+) bytes in (\d+) read requests, (\d+) listing", err)
    assert found is not None, err
    reads = http_1gb.requests("GET", under="/big/saved_model.pb")
    assert int(found.group(1).replace(",", "")) == sum(r.body_bytes for r in reads)
    assert int(found.group(2)) == len(reads)
    assert int(found.group(3)) == 2  # the folder and the file's size


@pytest.fixture(scope="module")
def s3_big(moto: LoggedMotoServer) -> str:
    """A 64 MiB saved_model.pb on S3 (the budget does not depend on the graph's size)."""
    data = materialize(big_saved_model(TEMPLATE, 64 * MiB))
    client(moto).put_object(Bucket=BUCKET, Key="big/1/saved_model.pb", Body=data)
    return f"s3://{BUCKET}/big"


def _s3_flags(moto: LoggedMotoServer) -> list[str]:
    return [
        "--storage-option=key=testing",
        "--storage-option=secret=testing",
        f"--storage-option=client_kwargs.endpoint_url={moto.endpoint}",
        "--storage-option=client_kwargs.region_name=us-east-1",
        "--storage-option=skip_instance_cache=true",
    ]


@pytest.mark.parametrize("form", sorted(SHOW_FORMS))
def test_show_of_a_big_model_on_s3_reads_under_1mib_in_3_requests(
    moto: LoggedMotoServer, s3_big: str, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through a TF Serving base path: two listings (the base, version 1), then the reads."""
    moto.settle()
    before = len(moto.log)
    argv, answer = SHOW_FORMS[form]
    assert answer in _cli(["show", "--dir", s3_big, *argv, *_s3_flags(moto)], capsys)
    moto.settle()
    after = moto.log[before:]
    reads = [r for r in after if r.is_read]
    assert 1 <= len(reads) <= 3, after
    assert all(r.range for r in reads) and sum(r.body_bytes for r in reads) <= MiB
    assert len(after) - len(reads) == 2, after  # listings of the base and of version 1


def test_scan_fetches_the_graph_once(capsys: pytest.CaptureFixture[str]) -> None:
    vf = big_saved_model(TEMPLATE, 64 * MiB)
    with ModelServer(files={"big/saved_model.pb": vf}) as server:
        _cli(["scan", f"{server.url}/big", "--format", "json"], capsys)
        reads = server.requests("GET", under="/big/saved_model.pb")
        assert sum(r.body_bytes for r in reads) <= vf.size + MiB
        assert len([r for r in reads if r.body_bytes > MiB]) == 1, reads


def test_check_fetches_the_graph_once_for_index_fingerprint_and_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ModelServer(MODELS) as server:
        model = "/module_multi_signature/"
        assert run(["check", f"{server.url}{model}", "--format", "json"]) == ExitCode.OK
        capsys.readouterr()
        reads = server.requests("GET", under=model)
        files = [r.path for r in reads if not r.path.endswith("/")]
        assert sorted(files) == sorted(set(files)), files  # every file fetched once


def test_listing_variables_reads_the_index_not_the_data(
    moto: LoggedMotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The index, and of the shards only the checkpoint's object graph (one small range):
    the object paths of the variables come from it."""
    from smlite.formats.bundle import OBJECT_GRAPH_KEY, Bundle

    with Bundle.open(MODELS / "variables_sharded" / "variables" / "variables") as b:
        graph = b.entries[OBJECT_GRAPH_KEY]
        graph_shard = b.shard_path(graph.shard_id).name
    moto.settle()
    before = len(moto.log)
    out = _cli(["variables", f"s3://{BUCKET}/models/variables_sharded", *_s3_flags(moto)], capsys)
    assert "dense" in out or "Variable" in out or out.strip()
    moto.settle()
    reads = [r for r in moto.log[before:] if r.is_read]
    names = sorted(r.path.rsplit("/", 1)[-1] for r in reads)
    assert names == sorted(["saved_model.pb", "variables.index", graph_shard]), names
    (shard_read,) = [r for r in reads if r.path.endswith(graph_shard)]
    assert shard_read.range and shard_read.body_bytes <= graph.size + 64 * 1024


@pytest.mark.parametrize(
    "argv", [["check", "{m}", "--format", "json"], ["variables", "{m}", "--verify"]]
)
def test_verifying_reads_each_shard_once_shards_at_the_same_time(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The fixture's shards padded past 1 KiB (bytes no entry points to), so that the
    # check's Git LFS test of small files does not read them before the stream does.
    model = tmp_path / "variables_sharded"
    shutil.copytree(MODELS / "variables_sharded", model)
    shards = sorted((model / "variables").glob("*.data-*"))
    assert len(shards) >= 2
    for shard in shards:
        with open(shard, "ab") as f:
            f.write(bytes(4096))
    # Each shard's answer is held back a little, so overlapping requests show in the log.
    faults = {f"variables_sharded/variables/{p.name}": Fault(stall=0.3) for p in shards}
    with ModelServer(tmp_path, faults=faults) as server:
        run([f"{server.url}/variables_sharded" if a == "{m}" else a for a in argv])
        assert "error" not in capsys.readouterr().err
        gets = server.requests("GET", under="/variables_sharded/variables/variables.data")
        # One request per shard: each is smaller than the 16 MiB window.
        assert sorted(r.path for r in gets) == sorted(
            f"/variables_sharded/variables/{p.name}" for p in shards
        ), gets
        if argv[0] == "check":
            # (variables --verify reads partitioned tensors, whose slices are in every
            # shard of this fixture, after the stream: one shard at a time.)
            assert server.max_in_flight() >= 2
