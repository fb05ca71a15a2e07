"""Fleet audits as Dask tasks on a LocalCluster of two worker processes, and remote discovery."""

from __future__ import annotations

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
