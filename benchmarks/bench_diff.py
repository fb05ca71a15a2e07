"""Benchmark ``smlite diff`` on the big models of the scale suite.

Run it with a Python that has TensorFlow 2.21 and smlite installed (the TF test
venv made by ``scripts/test.sh tf`` has both)::

    .ci/venvs/tf/bin/python benchmarks/bench_diff.py [--runs 3]

``bench_all.py`` runs the same rows.  It generates once (cached under
``benchmarks/cache/``, not committed), besides ``large`` (bench_show.py) and
``variables_2000`` (bench_variables.py):

* ``large_signature``: ``large`` with one signature changed (the input of
  ``serving_default`` narrowed from ``(None,)`` to ``(8,)``), written by
  copying ``saved_model.pb`` with an edited header: the same 1.1 GB graph;
* ``variables_2000_retrained``: every one of the 2,000 variables moved by a
  small step (``v + 0.01 * noise``) and saved again by TensorFlow with the
  same sharding policy, as a retraining run would.

Rows (median of ``--runs`` fresh processes after a warm-up, peak RSS):

* diff of the 1 GB model against its changed-signature copy (no ``--values``):
  target <= 0.5 s and < 150 MiB;
* diff of the 800 MB variable set against its retrained copy with
  ``--values``, the whole command, and in process: the variable bytes of one
  side compared per second, target >= 2 GB/s.  TensorFlow's side: both
  checkpoints read with ``tf.train.load_checkpoint`` and the same statistics
  computed with numpy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_show
import bench_variables
from _harness import Timing, machine, measure

CACHE = bench_show.CACHE

# Child programs (bench_variables.run_once): argv[1] is "OLD<os.pathsep>NEW"; they print
# {"op_s": seconds, "bytes": n}, n the bytes of one side's variables.
SMLITE_VALUES = """
import json, os, sys, time
import numpy  # imported before the clock starts, as TensorFlow's own numpy is
import smlite, smlite.model.diff
old, new = sys.argv[1].split(os.pathsep)
smlite.diff(old, new)  # modules imported on first use, BLAS threads: not the comparison's cost
t, cpu = time.perf_counter(), time.process_time()
d = smlite.diff(old, new, values=True)
elapsed, elapsed_cpu = time.perf_counter() - t, time.process_time() - cpu
assert sum(1 for c in d.changes if c.values is not None) == 2000, len(d.changes)
t, cpu = time.perf_counter(), time.process_time()
smlite.diff(old, new)
structure, structure_cpu = time.perf_counter() - t, time.process_time() - cpu
nbytes = sum(v.nbytes for v in smlite.open(old).variables.values())
print(json.dumps({"op_s": elapsed, "values_s": elapsed - structure,
                  "values_cpu_s": elapsed_cpu - structure_cpu, "bytes": nbytes}))
"""
TF_VALUES = """
import json, os, sys, time
import numpy as np
import tensorflow as tf
t = time.perf_counter()
paths = sys.argv[1].split(os.pathsep)
a, b = (tf.train.load_checkpoint(p + "/variables/variables") for p in paths)
keys = [k for k in a.get_variable_to_shape_map() if k != "_CHECKPOINTABLE_OBJECT_GRAPH"]
nbytes = 0
for k in keys:
    x, y = a.get_tensor(k), b.get_tensor(k)
    nbytes += x.nbytes
    d = y - x
    changed = int(np.count_nonzero(x.view(np.uint32) != y.view(np.uint32)))
    top = float(np.abs(d).max())
    rel = float(np.linalg.norm(d) / np.linalg.norm(x))
print(json.dumps({"op_s": time.perf_counter() - t, "bytes": nbytes}))
"""


def make_signature_copy(source: Path, target: Path) -> None:
    """``source`` with the input of ``serving_default`` narrowed, its graph bytes copied as-is.

    SavedModel := {1: int64 schema version, 2: MetaGraphDef}; the copy is one meta graph
    whose header fields are re-serialized and whose GraphDef (field 2) is streamed over.
    """
    import smlite
    from smlite import pb

    shutil.copytree(source, target, ignore=shutil.ignore_patterns("saved_model.pb"))
    with smlite.open(source) as sm:
        (mg,) = sm.meta_graphs
        header = pb.MetaGraphDef()
        header.CopyFrom(mg.header)
        shape = header.signature_def["serving_default"].inputs["x"].tensor_shape
        shape.dim[0].size = 8
        head = header.SerializeToString()
        graph = mg.graph_bytes()
        graph_field = _varint(2 << 3 | 2) + _varint(len(graph))
        meta = _varint(2 << 3 | 2) + _varint(len(head) + len(graph_field) + len(graph))
        with open(target / "saved_model.pb", "wb") as f:
            f.write(_varint(1 << 3) + _varint(sm.schema_version) + meta + head + graph_field)
            f.write(graph)
        del graph


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def make_retrained(source: Path, target: Path) -> None:
    import numpy as np
    import tensorflow as tf

    loaded = tf.saved_model.load(str(source))
    rng = np.random.default_rng(1)
    for v in loaded.layers:
        noise = rng.standard_normal(v.shape, dtype=np.float32)
        v.assign(v + 0.01 * noise)
    policy = tf.train.experimental.MaxShardSizePolicy(
        max_shard_size=bench_variables.TOTAL_BYTES // 4 + 2**20
    )
    options = tf.saved_model.SaveOptions(experimental_sharding_callback=policy)
    tf.saved_model.save(loaded, str(target), options=options)


def _ensure(name: str, env: dict[str, str], *args: str) -> Path:
    path = CACHE / name
    if not (path / "saved_model.pb").exists():
        subprocess.run([sys.executable, __file__, "--generate", name, *args], env=env, check=True)
    return path


def ensure_models(env: dict[str, str]) -> dict[str, Path]:
    large = _ensure("large", env)
    variables = bench_variables.ensure(env)
    return {
        "large": large,
        "large_signature": _ensure("large_signature", env),
        "variables": variables,
        "variables_retrained": _ensure("variables_2000_retrained", env),
    }


def _generate(name: str) -> None:
    makers: dict[str, Callable[[Path], None]] = {
        "large": bench_show.make_large,
        "large_signature": lambda p: make_signature_copy(CACHE / "large", p),
        "variables_2000_retrained": lambda p: make_retrained(CACHE / bench_variables.NAME, p),
    }
    bench_show.ensure(name, makers[name])


@dataclass(frozen=True)
class InProcess:
    op_s: float
    peak_rss_mib: float
    nbytes: int
    #: The value comparison alone: the diff with --values less the diff without.
    values_s: float = 0.0
    #: The same in CPU time (user + system): what a machine shared with other work still shows.
    values_cpu_s: float = 0.0

    @property
    def gb_s(self) -> float:
        """Bytes of one side per second, the whole diff (opening both sides included)."""
        return self.nbytes / self.op_s / 1e9 if self.op_s else float("inf")

    @property
    def values_gb_s(self) -> float:
        return self.nbytes / self.values_s / 1e9 if self.values_s else float("inf")

    @property
    def values_cpu_gb_s(self) -> float:
        return self.nbytes / self.values_cpu_s / 1e9 if self.values_cpu_s else float("inf")


def in_process(program: str, pair: tuple[str, str], runs: int, env: dict[str, str]) -> InProcess:
    ops, values, cpu, peaks, nbytes = [], [], [], [], 0
    for i in range(runs + 1):  # the first run warms the page cache
        result, _, peak = bench_variables.run_once(program, os.pathsep.join(pair), env)
        if i:
            ops.append(result["op_s"])
            values.append(result.get("values_s", 0.0))
            cpu.append(result.get("values_cpu_s", 0.0))
            peaks.append(peak)
            nbytes = int(result["bytes"])
    median = statistics.median
    return InProcess(median(ops), max(peaks), nbytes, median(values), median(cpu))


def run_section(suite: Any, row: Any, smlite: str) -> None:
    """The diff rows of ``bench_all.py``: ``suite`` its Suite, ``row`` its Row class."""
    models = ensure_models(suite.env)
    large, changed = str(models["large"]), str(models["large_signature"])
    rows = suite.section("diff")
    argv = [smlite, "diff", large, changed, "--fail-on", "never"]
    ours = suite.time("smlite diff 1 GB vs changed signature", argv)
    met = ours.wall_s <= 0.5 and ours.peak_rss_mib < 150
    rows.append(
        row(
            "1 GB model vs a copy with one changed signature",
            ours,
            None,
            "<= 0.5 s, < 150 MiB",
            met,
        )
    )
    old, new = str(models["variables"]), str(models["variables_retrained"])
    argv = [smlite, "diff", old, new, "--values", "--fail-on", "never", "--format", "json"]
    ours = suite.time("smlite diff --values 800 MB", argv)
    rows.append(
        row(
            "800 MB variables vs retrained copy, --values (whole command)",
            ours,
            None,
            note="peak RSS counts the memory-mapped pages read, shared with the page cache",
        )
    )
    mine = in_process(SMLITE_VALUES, (old, new), suite.runs, suite.env)
    theirs = in_process(TF_VALUES, (old, new), suite.runs, suite.env)
    rows.append(
        row(
            f"--values in process, whole diff: smlite {mine.gb_s:.2f} GB/s, TF + numpy "
            f"{theirs.gb_s:.2f} GB/s (bytes of one side per second; of both sides read: "
            f"smlite {2 * mine.gb_s:.2f} GB/s)",
            Timing("smlite", mine.op_s, mine.peak_rss_mib, suite.runs),
            Timing("TF", theirs.op_s, theirs.peak_rss_mib, suite.runs),
        )
    )
    rows.append(
        row(
            f"--values in process, the value comparison alone: {mine.values_gb_s:.2f} GB/s, "
            f"{mine.values_cpu_gb_s:.2f} GB/s per CPU second (one side's bytes; the diff with "
            "--values less the diff without)",
            Timing("smlite", mine.values_s, mine.peak_rss_mib, suite.runs),
            None,
            ">= 2 GB/s",
            mine.values_gb_s >= 2,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        _generate(args.generate)
        return
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    models = ensure_models(env)
    smlite = bench_show._tool("smlite")
    print(f"machine: {machine()}; median of {args.runs} fresh processes after a warm-up\n")
    argv = [
        smlite,
        "diff",
        str(models["large"]),
        str(models["large_signature"]),
        "--fail-on",
        "never",
    ]
    measure("warm-up", argv, runs=1, env=env)
    t = measure("diff 1 GB", argv, runs=args.runs, env=env)
    print(f"| diff 1 GB vs changed signature | {t.wall_s:.3f} s, {t.peak_rss_mib:.0f} MiB |")
    old, new = str(models["variables"]), str(models["variables_retrained"])
    argv = [smlite, "diff", old, new, "--values", "--fail-on", "never", "--format", "json"]
    measure("warm-up", argv, runs=1, env=env)
    t = measure("diff --values", argv, runs=args.runs, env=env)
    print(f"| diff --values 800 MB (command) | {t.wall_s:.3f} s, {t.peak_rss_mib:.0f} MiB |")
    for label, program in (("smlite", SMLITE_VALUES), ("TF + numpy", TF_VALUES)):
        r = in_process(program, (old, new), args.runs, env)
        alone = (
            f", comparison alone {r.values_gb_s:.2f} GB/s ({r.values_cpu_gb_s:.2f} per CPU s)"
            if r.values_s
            else ""
        )
        print(
            f"| --values in process, {label} | {r.op_s:.3f} s, {r.peak_rss_mib:.0f} MiB, "
            f"{r.gb_s:.2f} GB/s{alone} |"
        )
    print("(GB/s: the variable bytes of one side per second)")


if __name__ == "__main__":
    main()
