"""Fleet audits: models/s and bytes/s with -j 1, -j 2 and a Dask LocalCluster of 2 workers.

Run it with a Python that has smlite[remote,fleet] and moto[server] (the venv
of the remote test tier)::

    .ci/venvs/remote/bin/python benchmarks/bench_fleet.py [--models 1000] [--copies 20]
    .ci/venvs/tf/bin/python benchmarks/bench_all.py --only fleet   # the same, in the suite

Cases (everything generated under ``benchmarks/cache/``, not committed):

* ``small, local``: ``--models`` SavedModels laid out by ``tests/support/fleet.py``
  (hard links to the test fixtures, TF Serving bases, four damaged models),
  audited with ``check`` (checksums included);
* ``small, S3``: ``--s3-models`` of them uploaded to moto's S3 server on
  127.0.0.1, audited from ``s3://``;
* ``large --verify, local``: ``--copies`` copies of ``variables_2000`` (2,000
  variables, ~800 MB in 4 shards, made once by ``bench_variables.py`` with
  TensorFlow) as hard links -- one set on disk, in the page cache after a
  warm-up -- with ``check``, which verifies every checksum;
* ``large --verify, HTTP``: the same copies served by the test HTTP server on
  127.0.0.1 under ``--copies`` prefixes: every shard streamed over the network.

A second table counts what single commands read, from the test servers' own
logs: ``show`` of a saved_model.pb with a 1 GB GraphDef over HTTP, and
``show``/``check``/``scan``/``variables``/``fingerprint`` of the fixture models
on moto's S3 (``--budgets-only`` prints just that table).

Times are the wall time of :func:`smlite.fleet.audit_targets` (discovery and the
Dask cluster's start not included: a cluster is already running when one
audits on it; its workers have imported smlite once).  models/s = models /
time; bytes/s = bytes of the models' files / time; "fetched" = what the
workers received over the network; "one model" is the mean time of one
model inside its worker (the cost model's ``t_i``).  ``--markdown`` prints
only the table (bench_all.py includes it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import bench_variables  # noqa: E402
from _harness import machine  # noqa: E402

CACHE = HERE / "cache"
SETUPS = ("-j 1", "-j 2", "Dask LocalCluster, 2 workers")


@dataclass(frozen=True)
class Row:
    case: str
    setup: str
    models: int
    seconds: float
    #: Bytes of the models' files.
    size: int
    #: Bytes the workers received over the network.
    fetched: int
    requests: int
    problems: int
    #: Mean time of one model inside its worker (the cost model's t_i).
    per_model: float

    def markdown(self) -> str:
        from smlite.model.units import format_bytes

        fetched = "-"
        if self.fetched:
            fetched = f"{format_bytes(self.fetched)} in {self.requests:,} reads"
        return (
            f"| {self.case} | {self.setup} | {self.models} | {self.seconds:.2f} s "
            f"| {self.models / self.seconds:.1f} | {format_bytes(int(self.size / self.seconds))}/s "
            f"| {fetched} | {self.per_model * 1000:.0f} ms | {self.problems} |"
        )


def _fleet_small(count: int) -> Path:
    from tests.support.fleet import make_fleet

    root = CACHE / f"fleet_small_{count}"
    if not (root / "damaged").is_dir():
        shutil.rmtree(root, ignore_errors=True)
        make_fleet(root, count, teams=10, bases=2)
    return root


def _variables_2000(tf_python: str | None) -> Path:
    source = bench_variables.CACHE / bench_variables.NAME
    if not (source / "saved_model.pb").is_file():
        if tf_python is None:
            sys.exit(
                f"{source} is missing: generate it once with a TensorFlow Python, e.g. "
                "--tf-python .ci/venvs/tf/bin/python"
            )
        code = "import sys, os; sys.path.insert(0, 'benchmarks'); import bench_variables; "
        code += "bench_variables.ensure(dict(os.environ))"
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), TF_CPP_MIN_LOG_LEVEL="3")
        subprocess.run([tf_python, "-c", code], cwd=ROOT, env=env, check=True)
    return source


def _fleet_large(copies: int, source: Path) -> Path:
    from tests.support.fleet import link_tree

    root = CACHE / f"fleet_large_{copies}"
    for i in range(copies):
        if not (root / f"copy-{i:02d}" / "saved_model.pb").is_file():
            link_tree(source, root / f"copy-{i:02d}")
    return root


def _timed(label: str, runs: int, audit: Callable[[], list[Any]]) -> tuple[float, list[Any]]:
    times, results = [], []
    for _ in range(runs):
        start = time.perf_counter()
        results = audit()
        times.append(time.perf_counter() - start)
    print(f"  {label}: {statistics.median(times):.2f} s", file=sys.stderr)
    return statistics.median(times), results


def bench_audits(
    case: str,
    roots: list[str],
    runs: int,
    client: object,
    *,
    storage_options: dict[str, Any] | None = None,
    size_of: Callable[[Any], int] | None = None,
) -> list[Row]:
    """One row per setup: the same targets audited in this process, 2 processes, Dask."""
    from smlite import fleet

    options = fleet.AuditOptions("check", storage_options=storage_options or {})
    targets = list(fleet.discover(roots, storage_options=options.storage_options))
    list(fleet.audit_targets(targets, options, jobs=1))  # warm-up: page cache, bytecode
    rows = []
    for setup, kwargs in zip(SETUPS, ({"jobs": 1}, {"jobs": 2}, {"client": client}), strict=True):
        seconds, results = _timed(
            f"{case} {setup}",
            runs,
            lambda kw=kwargs: list(fleet.audit_targets(targets, options, **kw)),
        )
        size = sum((size_of or (lambda r: r.target.size or 0))(r) for r in results)
        rows.append(
            Row(
                case,
                setup,
                len(results),
                seconds,
                size,
                sum(r.fetched.bytes for r in results) if storage_options is not None else 0,
                sum(r.fetched.requests for r in results),
                sum(r.status != "ok" for r in results),
                statistics.mean(r.seconds for r in results),
            )
        )
    return rows


@contextmanager
def _s3_fleet(root: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``root`` uploaded to moto's S3 server on 127.0.0.1: (URL, storage options)."""
    from tests.support.s3_server import FAKE_CREDENTIALS, LoggedMotoServer, client, upload_tree

    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    server = LoggedMotoServer()
    server.start()
    try:
        s3 = client(server)
        s3.create_bucket(Bucket="fleet")
        started = time.perf_counter()
        files = upload_tree(s3, "fleet", "models", root)
        print(f"  uploaded {files} files in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        options = server.storage_options()
        options.pop("skip_instance_cache")
        yield "s3://fleet/models", options
    finally:
        server.stop()


def _large_size(source: Path) -> Callable[[Any], int]:
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    return lambda result: size


BUDGET_COMMANDS = [
    ("show (tag-sets)", ["show", "--dir", "{m}"]),
    ("show --tag_set serve", ["show", "--dir", "{m}", "--tag_set", "serve"]),
    (
        "show one signature",
        ["show", "--dir", "{m}", "--tag_set", "serve", "--signature_def", "serving_default"],
    ),
    ("show --list_ops", ["show", "--dir", "{m}", "--tag_set", "serve", "--list_ops"]),
    ("scan", ["scan", "{m}"]),
    ("variables", ["variables", "{m}"]),
    ("variables --verify", ["variables", "{m}", "--verify"]),
    ("fingerprint", ["fingerprint", "{m}"]),
    ("check", ["check", "{m}"]),
]


def budget_rows() -> list[str]:
    """What each command reads, as the servers logged it (GETs with a body, bytes, listings)."""
    import contextlib
    import io

    from smlite.cli import run
    from smlite.model.units import format_bytes
    from tests.support.big_model import big_saved_model
    from tests.support.http_server import ModelServer

    models = ROOT / "tests" / "fixtures" / "models"
    big = big_saved_model(models / "module_multi_signature", 1 << 30)
    rows = []

    def measured(server: ModelServer, label: str, model: str, argv: list[str]) -> None:
        server.clear_log()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            run([f"{server.url}/{model}" if a == "{m}" else a for a in argv])
        gets = [r for r in server.requests("GET") if not r.path.endswith("/")]
        listings = len(server.requests("GET")) - len(gets) + len(server.requests("HEAD"))
        rows.append(
            f"| {label} | {model} | {len(gets)} | {format_bytes(sum(g.body_bytes for g in gets))} "
            f"| {listings} |"
        )

    with ModelServer(files={"big_1gb/saved_model.pb": big}) as server:
        for label, argv in BUDGET_COMMANDS[:5]:
            measured(server, label, "big_1gb", argv)
    with ModelServer(models) as server:
        for label, argv in BUDGET_COMMANDS:
            measured(server, label, "variables_sharded", argv)
    return [
        "| command | model | read requests | bytes read | listing requests |",
        "|---|---|---|---|---|",
        *rows,
    ]


def markdown(rows: list[Row]) -> str:
    lines = [
        "| case | how | models | time | models/s | bytes/s | fetched | one model | not ok |",
        "|---|---|---|---|---|---|---|---|---|",
        *(r.markdown() for r in rows),
    ]
    return "\n".join(lines) + f"\n\nMachine: {machine()}.\n"


def section(runs: int = 1) -> str:
    """The fleet table for bench_all.py, run by a Python that has smlite[remote,fleet].

    That is ``$SMLITE_FLEET_PYTHON`` or the remote test tier's venv; the
    calling Python (bench_all's, with TensorFlow) generates variables_2000.
    """
    python = os.environ.get("SMLITE_FLEET_PYTHON") or str(ROOT / ".ci/venvs/remote/bin/python")
    if not Path(python).exists():
        return (
            "\n## Fleet audits\n\nSkipped: no Python with smlite[remote,fleet] "
            "(`bash scripts/test.sh remote` makes one; or set SMLITE_FLEET_PYTHON).\n"
        )
    argv = [python, __file__, "--markdown", "--runs", str(runs), "--tf-python", sys.executable]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
    return "\n## Fleet audits\n\n" + out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--s3-models", type=int, default=200)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--tf-python", help="a Python with TensorFlow, to generate variables_2000")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="print only the table")
    parser.add_argument("--budgets-only", action="store_true", help="only the requests table")
    args = parser.parse_args()
    budgets = "\n".join(budget_rows()) + "\n\n"
    if args.budgets_only:
        print(budgets)
        return

    from distributed import Client, LocalCluster

    from tests.support.http_server import ModelServer

    rows: list[Row] = []
    small = _fleet_small(args.models)
    source = None if args.skip_large else _variables_2000(args.tf_python)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        from smlite import fleet

        list(fleet.audit([str(small / "damaged")], client=client))  # workers import smlite
        rows += bench_audits("small, local", [str(small)], args.runs, client)
        with _s3_fleet(_fleet_small(args.s3_models)) as (url, options):
            rows += bench_audits(
                "small, S3 (moto)", [url], args.runs, client, storage_options=options
            )
        if source is not None:
            large = _fleet_large(args.copies, source)
            size_of = _large_size(source)
            rows += bench_audits(
                "large --verify, local", [str(large)], args.runs, client, size_of=size_of
            )
            prefixes = {f"copy-{i:02d}": source for i in range(args.copies)}
            with ModelServer(prefixes=prefixes) as server:
                urls = [f"{server.url}/{p}" for p in prefixes]
                rows += bench_audits(
                    "large --verify, HTTP",
                    urls,
                    args.runs,
                    client,
                    storage_options={},
                    size_of=size_of,
                )
    text = budgets + markdown(rows)
    print(text if args.markdown else f"# smlite fleet benchmark\n\n{text}")


if __name__ == "__main__":
    main()
