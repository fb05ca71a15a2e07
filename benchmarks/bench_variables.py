"""Benchmark smlite's TensorBundle reader against TensorFlow's, side by side.

Run it with a Python that has TensorFlow 2.21 and smlite installed (the TF test
venv made by ``scripts/test.sh tf`` has both)::

    .ci/venvs/tf/bin/python benchmarks/bench_variables.py [--runs 3]

It generates once (cached under ``benchmarks/cache/``, not committed) a SavedModel
with 2,000 float32 variables, about 800 MB of data, sharded into 4+ data files by
``tf.train.experimental.MaxShardSizePolicy`` (so some tensors are split into
slices).  Each case then runs ``--runs`` times in a fresh process, after one
warm-up run so that both tools read from the page cache:

* list: ``smlite.open_checkpoint(prefix)`` + every key, dtype and shape, against
  ``tf.train.list_variables`` + ``get_variable_to_dtype_map``;
* read: every value read with its checksum verified, against
  ``tf.train.load_checkpoint(prefix).get_tensor`` of every key (TensorFlow
  verifies checksums too).

Reported: the median in-process time of the operation (imports excluded), the
median wall time of the whole process, its peak RSS (``os.wait4``), and for
reads the throughput in GB/s.  RSS of the smlite read includes the file pages
of the memory map it touched (shared with the page cache).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine

CACHE = Path(__file__).resolve().parent / "cache"
NAME = "variables_2000"
NUM_VARIABLES = 2000
TOTAL_BYTES = 800_000_000

# Child programs: each prints {"op_s": seconds, "bytes": n} on stdout.
SMLITE_LIST = """
import json, sys, time
import smlite, smlite.model.variables
t = time.perf_counter()
with smlite.open_checkpoint(sys.argv[1]) as vs:
    rows = [(k, v.tf_dtype.name, v.shape) for k, v in vs.items()]
print(json.dumps({"op_s": time.perf_counter() - t, "bytes": 0, "n": len(rows)}))
"""
SMLITE_READ = """
import json, sys, time
import numpy  # imported before the clock starts, as TensorFlow's own numpy is
import smlite, smlite.model.variables
t = time.perf_counter()
total = 0
with smlite.open_checkpoint(sys.argv[1]) as vs:
    opened = time.perf_counter()
    for v in vs.values():
        total += v.read(verify=True).nbytes
end = time.perf_counter()
print(json.dumps({"op_s": end - t, "read_s": end - opened, "bytes": total, "n": len(vs)}))
"""
TF_LIST = """
import json, sys, time
import tensorflow as tf
t = time.perf_counter()
rows = tf.train.list_variables(sys.argv[1])
dtypes = tf.train.load_checkpoint(sys.argv[1]).get_variable_to_dtype_map()
print(json.dumps({"op_s": time.perf_counter() - t, "bytes": 0, "n": len(rows)}))
"""
TF_READ = """
import json, sys, time
import tensorflow as tf
t = time.perf_counter()
reader = tf.train.load_checkpoint(sys.argv[1])
total = 0
keys = [k for k, _ in tf.train.list_variables(sys.argv[1]) if k != "_CHECKPOINTABLE_OBJECT_GRAPH"]
opened = time.perf_counter()
for k in keys:
    total += reader.get_tensor(k).nbytes
end = time.perf_counter()
print(json.dumps({"op_s": end - t, "read_s": end - opened, "bytes": total, "n": len(keys)}))
"""


@dataclass(frozen=True)
class Run:
    label: str
    op_s: float
    wall_s: float
    peak_rss_mib: float
    nbytes: int
    #: The reads alone, after the checkpoint is open (the index parsed).
    read_s: float = 0.0

    @property
    def gb_s(self) -> float:
        """Bytes per second of the whole operation, opening the checkpoint included."""
        return self.nbytes / self.op_s / 1e9 if self.op_s else float("inf")

    @property
    def read_gb_s(self) -> float:
        return self.nbytes / self.read_s / 1e9 if self.read_s else float("inf")


def make_model(path: Path) -> None:
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    # Sizes between 0.2x and 1.8x the mean, scaled to the total.
    weights = rng.uniform(0.2, 1.8, NUM_VARIABLES)
    counts = np.maximum(1, (weights / weights.sum() * TOTAL_BYTES / 4).astype(int))
    module = tf.Module()
    variables = []
    for i, n in enumerate(counts):
        cols = 64
        rows = max(1, int(n) // cols)
        value = rng.standard_normal((rows, cols), dtype=np.float32)
        variables.append(tf.Variable(value, name=f"layer_{i:04d}/kernel"))
    module.layers = variables
    policy = tf.train.experimental.MaxShardSizePolicy(max_shard_size=TOTAL_BYTES // 4 + 2**20)
    options = tf.saved_model.SaveOptions(experimental_sharding_callback=policy)
    tf.saved_model.save(module, str(path), options=options)


def ensure(env: dict[str, str]) -> Path:
    path = CACHE / NAME
    if not (path / "saved_model.pb").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = CACHE / f"{NAME}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"generating {NAME} (once) ...", file=sys.stderr)
        # In a child process: a parent grown by TensorFlow would inflate the peak RSS the
        # kernel reports for every later child (it counts the memory forked from it).
        subprocess.run([sys.executable, __file__, "--generate", str(tmp)], env=env, check=True)
        tmp.rename(path)
    return path


def run_once(
    program: str, prefix: str, env: dict[str, str]
) -> tuple[dict[str, float], float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", program, prefix],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(err.decode(errors="replace")[-3000:])
    return json.loads(out.decode().strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024


def measure(label: str, program: str, prefix: str, runs: int, env: dict[str, str]) -> Run:
    run_once(program, prefix, env)  # warm-up: page cache, bytecode
    ops, reads, walls, peaks, nbytes = [], [], [], [], 0
    for _ in range(runs):
        result, wall, peak = run_once(program, prefix, env)
        ops.append(result["op_s"])
        reads.append(result.get("read_s", 0.0))
        walls.append(wall)
        peaks.append(peak)
        nbytes = int(result["bytes"])
    return Run(
        label,
        statistics.median(ops),
        statistics.median(walls),
        max(peaks),
        nbytes,
        statistics.median(reads),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--generate", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        make_model(Path(args.generate))
        return
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    model = ensure(env)
    prefix = str(model / "variables" / "variables")
    shards = sorted((model / "variables").glob("variables.data-*"))
    data = sum(p.stat().st_size for p in shards)
    index = (model / "variables" / "variables.index").stat().st_size

    from smlite.formats import crc32c

    print(f"machine: {machine()}; crc32c: {crc32c.IMPLEMENTATION}")
    print(
        f"model: {NUM_VARIABLES} variables, {data / 1e6:.0f} MB in {len(shards)} shards, "
        f"index {index / 1024:.0f} KiB; median of {args.runs} fresh processes after a warm-up\n"
    )
    print("| case | tool | operation | process wall | peak RSS | throughput |")
    print("|---|---|---|---|---|---|")
    for case, ours_prog, theirs_prog in (
        ("list", SMLITE_LIST, TF_LIST),
        ("read + verify all", SMLITE_READ, TF_READ),
    ):
        for tool, program in (("smlite", ours_prog), ("TensorFlow", theirs_prog)):
            r = measure(f"{tool} {case}", program, prefix, args.runs, env)
            rate = f"{r.gb_s:.2f} GB/s" if r.nbytes else "-"
            print(
                f"| {case} | {tool} | {r.op_s:.3f} s | {r.wall_s:.2f} s "
                f"| {r.peak_rss_mib:.0f} MiB | {rate} |"
            )


if __name__ == "__main__":
    main()
