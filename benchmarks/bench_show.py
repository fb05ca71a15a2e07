"""Benchmark ``smlite show`` against ``saved_model_cli show``, side by side.

Run it with a Python that has TensorFlow 2.21 and smlite installed (the TF
test venv made by ``scripts/test.sh tf`` has both)::

    .ci/venvs/tf/bin/python benchmarks/bench_show.py [--runs 3] [--skip-large]

It generates (once; cached under ``benchmarks/cache/``, not committed):

* ``mobilenet``: Keras MobileNetV2 (random weights), exported with
  ``tf.saved_model.save`` — a typical small model;
* ``large``: a tf.Module whose serving function folds ~1.2 GB of constants
  into its graph, so ``saved_model.pb`` is over 1 GB.

Every ``show`` form is then timed for both tools (median of ``--runs`` fresh
processes, wall time and peak RSS) and a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Timing, machine, measure, table

CACHE = Path(__file__).resolve().parent / "cache"


def _tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        sys.exit(f"cannot find {name!r} next to {sys.executable} or on PATH")
    return found


def make_mobilenet(path: Path) -> None:
    import tensorflow as tf

    model = tf.keras.applications.MobileNetV2(weights=None)
    model.export(str(path))


def make_large(path: Path, gigabytes: float = 1.2) -> None:
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    # Several constants of 150 MB each: one constant must stay under 2 GB.
    pieces = max(1, round(gigabytes * 1e9 / 150e6))
    consts = [rng.standard_normal(150_000_000 // 4, dtype=np.float32) for _ in range(pieces)]

    class Large(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x):
            total = tf.constant(0.0)
            for c in consts:
                total += tf.reduce_sum(tf.constant(c)[: tf.shape(x)[0]] * x)
            return {"y": total}

    module = Large()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})


def ensure(name: str, maker) -> Path:  # type: ignore[no-untyped-def]
    path = CACHE / name
    if not (path / "saved_model.pb").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = CACHE / f"{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"generating {name} ...", file=sys.stderr)
        maker(tmp)
        tmp.rename(path)
    return path


def forms(model: Path) -> list[tuple[str, list[str]]]:
    d = str(model)
    return [
        ("tag-sets", ["show", "--dir", d]),
        ("signature keys", ["show", "--dir", d, "--tag_set", "serve"]),
        (
            "one signature",
            ["show", "--dir", d, "--tag_set", "serve", "--signature_def", "serving_default"],
        ),
        ("--list_ops", ["show", "--dir", d, "--tag_set", "serve", "--list_ops"]),
        ("--all", ["show", "--dir", d, "--all"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true", help="only the MobileNet model")
    args = parser.parse_args()

    smlite, samcli = _tool("smlite"), _tool("saved_model_cli")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    models = [("MobileNetV2", ensure("mobilenet", make_mobilenet))]
    if not args.skip_large:
        models.append(("1.2 GB saved_model.pb", ensure("large", make_large)))

    print(f"machine: {machine()}\n")
    for title, model in models:
        size = (model / "saved_model.pb").stat().st_size / 2**20
        rows: list[tuple[str, Timing, Timing]] = []
        for case, argv in forms(model):
            ours = measure(f"smlite {case}", [smlite, *argv], runs=args.runs, env=env)
            theirs = measure(f"saved_model_cli {case}", [samcli, *argv], runs=args.runs, env=env)
            rows.append((case, ours, theirs))
        print(f"### {title} (saved_model.pb {size:.1f} MiB), median of {args.runs}\n")
        print(table(rows))
        print()


if __name__ == "__main__":
    main()
