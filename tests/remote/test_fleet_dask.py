"""Fleet audits as Dask tasks on a LocalCluster of two worker processes, and remote discovery."""

from __future__ import annotations

import json
import operator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from smlite.model import fleet
from tests.core.test_fleet import _outcome
from tests.support.fleet import DAMAGE, make_fleet
from tests.support.s3_server import LoggedMotoServer, client, upload_tree

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[str]]]:
    root = tmp_path_factory.mktemp("dask-fleet")
    return root, make_fleet(root, 12)


@pytest.fixture(scope="module")
def dask_client() -> Client:
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def test_dask_results_equal_the_local_run(generated: tuple, dask_client: Client) -> None:
    root, expected = generated
    local = list(fleet.audit([str(root)], jobs=1))
    on_dask = list(fleet.audit([str(root)], client=dask_client))
    assert sorted(r.target.path for r in on_dask) == sorted(expected)
    assert _outcome(on_dask) == _outcome(local)
    assert sum(r.status == "findings" for r in on_dask) == len(DAMAGE)
    # The work ran in the worker processes, not here.
    import os

    assert all(not r.worker.endswith(f":{os.getpid()}") for r in on_dask)


def test_a_task_that_dies_becomes_an_error_result(generated: tuple, dask_client: Client) -> None:
    root, _ = generated
    targets = list(fleet.discover([str(root)]))[:2]
    bad = _Undeliverable(str(root / "team-0" / "model-0000"), "model", str(root))
    results = list(fleet._on_dask(dask_client, [*targets, bad], fleet.AuditOptions()))
    assert len(results) == 3
    by_path = {r.target.path: r for r in results}
    assert all(by_path[t.path].status != "error" for t in targets)
    lost = by_path[bad.path]
    assert lost.status == "error" and lost.reason == "worker"
    assert lost.error is not None and lost.error.startswith("the Dask task failed")


class _Undeliverable(fleet.Target):
    """A target that cannot be unpacked on the worker (its task fails outside audit_one)."""

    def __reduce__(self) -> object:
        return (operator.truediv, (1, 0))


def test_discovery_under_an_s3_prefix_uses_one_listing(
    moto: LoggedMotoServer, tmp_path: Path
) -> None:
    expected = make_fleet(tmp_path, 5, bases=1)
    upload_tree(client(moto), "registry", "fleet", tmp_path)
    options = moto.storage_options()
    moto.settle()
    before = len(moto.log)
    targets = list(fleet.discover(["s3://registry/fleet"], storage_options=options))
    moto.settle()
    listing = moto.log[before:]
    want = {p.replace(str(tmp_path), "s3://registry/fleet") for p in expected}
    assert {t.path for t in targets} == want
    assert len(listing) == 1 and listing[0].method == "GET"  # one recursive listing
    kinds = {t.path: t.kind for t in targets}
    assert kinds["s3://registry/fleet/team-0/served-0"] == "serving-base"
    sizes = {t.path: t.size for t in targets}
    local = tmp_path / "team-0" / "model-0000"
    assert sizes["s3://registry/fleet/team-0/model-0000"] == sum(
        p.stat().st_size for p in local.rglob("*") if p.is_file()
    )


def _models(doc: dict) -> list[dict]:
    """The per-model objects of a fleet document, without what depends on where they ran."""
    drop = {"seconds", "worker", "fetched"}
    return [{k: v for k, v in m.items() if k not in drop} for m in doc["models"]]


def test_the_cli_on_dask_gives_the_documents_of_j1(
    generated: tuple, dask_client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    from smlite.cli import ExitCode, run

    root, expected = generated
    docs = []
    for how in (["-j", "1"], ["--dask", dask_client.scheduler.address]):
        code = run(["check", str(root), "--recursive", "--format", "json", *how])
        out, err = capsys.readouterr()
        assert code == ExitCode.FINDINGS, err  # the damaged models
        docs.append(json.loads(out))
    local, on_dask = docs
    assert len(local["models"]) == len(expected)
    assert _models(on_dask) == _models(local)
    assert on_dask["summary"]["workers"] == 2 and local["summary"]["workers"] == 1


def test_an_s3_fleet_on_dask_matches_the_local_copy(
    moto: LoggedMotoServer,
    dask_client: Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The workers open the URLs themselves, with the storage options sent along."""
    from smlite.cli import run

    make_fleet(tmp_path, 6, bases=1)
    upload_tree(client(moto), "registry", "dask-fleet", tmp_path)
    flags = [
        "--storage-option=key=testing",
        "--storage-option=secret=testing",
        f"--storage-option=client_kwargs.endpoint_url={moto.endpoint}",
        "--storage-option=client_kwargs.region_name=us-east-1",
    ]
    url = "s3://registry/dask-fleet"
    run(["check", url, "-r", "--dask", dask_client.scheduler.address, "--format", "json", *flags])
    remote = json.loads(capsys.readouterr().out)
    run(["check", str(tmp_path), "-r", "-j", "1", "--format", "json"])
    local = json.loads(capsys.readouterr().out)
    for doc, where in ((remote, url), (local, str(tmp_path))):
        for m in doc["models"]:
            m["path"] = m["path"].replace(where, "<fleet>")
            m["root"] = "<fleet>"
            report = m.pop("report", None)  # file paths inside: its rules are compared
            m["rules"] = sorted(f["rule"] for f in report["findings"]) if report else None
    assert _models(remote) == _models(local)
    assert remote["summary"]["findings"] == local["summary"]["findings"] > 0
    assert remote["summary"]["fetched_bytes"] > 0
