"""Fleet audits: models/s and bytes/s with -j 1, -j 2 and a Dask LocalCluster of 2 workers.

Run it with a Python that has smlite[remote,fleet] (the venv of the remote
test tier)::

    .ci/venvs/remote/bin/python benchmarks/bench_fleet.py [--models 1000] [--copies 20]

Cases (everything generated under ``benchmarks/cache/``, not committed):

* ``small``: ``--models`` SavedModels laid out by ``tests/support/fleet.py``
  (hard links to the test fixtures, two TF Serving bases, four damaged
  models), audited with ``check`` (checksums included);
* ``large``: ``--copies`` copies of ``variables_2000`` (2,000 variables,
  ~800 MB in 4 shards, made once by ``bench_variables.py`` with TensorFlow)
  as hard links — one set on disk, in the page cache after a warm-up — with
  ``check``, which verifies every checksum;
* ``fetch``: the network side of ``large``: the same 4 shards served by the
  test HTTP server on 127.0.0.1 under ``--copies`` prefixes, streamed by the
  storage layer in 16 MiB ranges with the shards of a model in parallel.

Times are the wall time of :func:`smlite.fleet.audit` (discovery included,
the Dask cluster's start not: a cluster is already running when one audits
on it; its workers have imported smlite once).  models/s = models / time,
bytes/s = bytes of the models' files / time; "one model" is the mean time
of one model inside its worker.  ``--markdown`` prints only the table
(bench_all.py includes it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import bench_variables  # noqa: E402
from _harness import machine  # noqa: E402

CACHE = HERE / "cache"


@dataclass(frozen=True)
class Row:
    case: str
    setup: str
    models: int
    seconds: float
    size: int
    problems: int
    #: Mean time of one model inside its worker (the cost model's t_model).
    per_model: float

    def markdown(self) -> str:
        from smlite.render.fleet import human_bytes

        return (
            f"| {self.case} | {self.setup} | {self.models} | {self.seconds:.2f} s "
            f"| {self.models / self.seconds:.1f} | {human_bytes(self.size / self.seconds)}/s "
            f"| {self.per_model * 1000:.0f} ms | {self.problems} |"
        )


def _fleet_small(count: int) -> Path:
    from tests.support.fleet import make_fleet

    root = CACHE / f"fleet_small_{count}"
    if not (root / "damaged").is_dir():
        shutil.rmtree(root, ignore_errors=True)
        make_fleet(root, count, teams=10, bases=2)
    return root


def _fleet_large(copies: int, tf_python: str | None) -> Path:
    from tests.support.fleet import link_tree

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
    root = CACHE / f"fleet_large_{copies}"
    for i in range(copies):
        if not (root / f"copy-{i:02d}" / "saved_model.pb").is_file():
            link_tree(source, root / f"copy-{i:02d}")
    return root


def _timed(label: str, runs: int, audit: Callable[[], list]) -> tuple[float, list]:
    times, results = [], []
    for _ in range(runs):
        start = time.perf_counter()
        results = audit()
        times.append(time.perf_counter() - start)
    print(f"  {label}: {statistics.median(times):.2f} s", file=sys.stderr)
    return statistics.median(times), results


def bench_audits(case: str, root: Path, runs: int, client: object) -> list[Row]:
    from smlite import fleet

    rows = []
    list(fleet.audit([str(root)], jobs=1))  # warm-up: page cache, bytecode
    for setup, kwargs in (
        ("-j 1", {"jobs": 1}),
        ("-j 2", {"jobs": 2}),
        ("Dask LocalCluster, 2 workers", {"client": client}),
    ):
        seconds, results = _timed(
            f"{case} {setup}", runs, lambda kw=kwargs: list(fleet.audit([str(root)], **kw))
        )
        size = sum(r.target.size or 0 for r in results)
        problems = sum(r.status != "ok" for r in results)
        per_model = statistics.mean(r.seconds for r in results)
        rows.append(Row(case, setup, len(results), seconds, size, problems, per_model))
    return rows


def bench_fetch(root: Path, copies: int, runs: int) -> Row:
    """Stream every shard of every copy over HTTP on loopback: the network ceiling."""
    from smlite.formats import storage
    from smlite.formats.stream import run_parallel, stream_spans
    from tests.support.http_server import ModelServer

    source = bench_variables.CACHE / bench_variables.NAME
    shards = sorted(p.name for p in (source / "variables").glob("variables.data-*"))
    prefixes = {f"copy-{i:02d}": source for i in range(copies)}
    with ModelServer(prefixes=prefixes) as server:

        def one(url: str) -> int:
            with storage.open_source(storage.as_path(url)) as src:
                return sum(len(p) for _, p, _ in stream_spans(src, [(0, src.size)]))

        def all_copies() -> list[int]:
            out = []
            for prefix in prefixes:
                urls = [f"{server.url}/{prefix}/variables/{s}" for s in shards]
                out += run_parallel([lambda u=u: one(u) for u in urls], workers=len(urls))
            return out

        seconds, sizes = _timed("fetch over http", runs, all_copies)
    how = "one process, 4 shards at a time"
    return Row("fetch (HTTP, 127.0.0.1)", how, copies, seconds, sum(sizes), 0, seconds / copies)


def markdown(rows: list[Row]) -> str:
    lines = [
        "| case | how | models | time | models/s | bytes/s | one model | not ok |",
        "|---|---|---|---|---|---|---|---|",
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
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--tf-python", help="a Python with TensorFlow, to generate variables_2000")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="print only the table")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    rows: list[Row] = []
    small = _fleet_small(args.models)
    large = None if args.skip_large else _fleet_large(args.copies, args.tf_python)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        from smlite import fleet

        list(fleet.audit([str(small / "damaged")], client=client))  # workers import smlite
        rows += bench_audits("small", small, args.runs, client)
        if large is not None:
            rows += bench_audits("large (--verify)", large, args.runs, client)
    if large is not None:
        rows.append(bench_fetch(large, args.copies, args.runs))
    text = markdown(rows)
    if not args.markdown:
        print(f"# smlite fleet benchmark\n\n{text}")
    else:
        print(text)


if __name__ == "__main__":
    main()
