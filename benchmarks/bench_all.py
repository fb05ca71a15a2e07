"""The whole scale suite: every smlite command beside TensorFlow, one run, one table.

Run it with a Python that has TensorFlow 2.21 and smlite installed (the TF test
venv made by ``scripts/test.sh tf`` has both)::

    .ci/venvs/tf/bin/python benchmarks/bench_all.py [--runs 3] [--out benchmarks/RESULTS.md]
    .ci/venvs/tf/bin/python benchmarks/bench_all.py --only gate --no-readme  # one section

It generates once (cached under ``benchmarks/cache/``, not committed):

* ``mobilenet``: Keras MobileNetV2 (bench_show.py);
* ``large``: a saved_model.pb over 1 GB of folded constants (bench_show.py);
* ``function_10k``: a serving function of 17,500 nodes (3,500 layers of mul/add/relu);
* ``graph_100k``: a TF1 graph of 100,000 nodes (20,000 layers of mul/add/relu);
* ``variables_2000``: 2,000 variables, ~800 MB in 4 shards (bench_variables.py);
* ``large_signature``, ``variables_2000_retrained``: changed copies for ``diff`` (bench_diff.py);
* fleets of small models and of ``variables_2000`` copies, local, on S3 and HTTP servers on
  127.0.0.1 (bench_fleet.py, run by the remote tier's Python: ``--only fleet``).

Every case runs ``--runs`` times as a fresh process (median wall time, largest
peak RSS from ``os.wait4``) after one untimed warm-up, so both tools read from
the page cache; smlite's bytecode is compiled first, as an installed wheel's
would be.  TensorFlow baselines are ``saved_model_cli`` with the same flags, or
a short script that imports TensorFlow and does the same work.  The Markdown
report (machine named, targets marked) is printed, written to ``--out``
(``benchmarks/RESULTS.md``) and copied into README.md between its markers.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_diff
import bench_fleet
import bench_show
import bench_variables
from _harness import Timing, machine, measure

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
README_START = "<!-- benchmark results: start -->"
README_END = "<!-- benchmark results: end -->"

MiB = 2**20

# Child programs for the TensorFlow side of the non-show commands (imports included).
TF_FINGERPRINT = """
import sys, tensorflow as tf
fp = tf.saved_model.experimental.read_fingerprint(sys.argv[1])
print(fp.saved_model_checksum)
"""
TF_LOAD = """
import sys, tensorflow as tf
tf.saved_model.load(sys.argv[1])
"""
TF_LIST = """
import sys, tensorflow as tf
rows = tf.train.list_variables(sys.argv[1])
tf.train.load_checkpoint(sys.argv[1]).get_variable_to_dtype_map()
print(len(rows))
"""
# FarmHash rates in process: the default install's Fingerprint64 over the whole file (a
# memory map, in the page cache after a warm-up pass) and the pure-Python fallback on 4 MiB.
FARMHASH_RATES = """
import json, mmap, sys, time
from smlite.formats import farmhash
with open(sys.argv[1], "rb") as f:
    data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
farmhash.fingerprint64(data)
runs = 3
t = time.perf_counter()
for _ in range(runs):
    farmhash.fingerprint64(data)
native = (time.perf_counter() - t) / runs
small = data[: 4 * 2**20]
t = time.perf_counter()
farmhash.fingerprint64_py(small)
py = time.perf_counter() - t
print(json.dumps({"native": len(data) / native, "py": len(small) / py, "seconds": native,
                  "runs": runs, "implementation": farmhash.IMPLEMENTATION}))
"""
TF_LOAD_TF1 = """
import sys, tensorflow as tf
with tf.compat.v1.Session(graph=tf.Graph()) as s:
    tf.compat.v1.saved_model.load(s, ["serve"], sys.argv[1])
"""


def make_function_10k(path: Path) -> None:
    import tensorflow as tf

    class Deep(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32, name="x")])
        def serve(self, x):  # type: ignore[no-untyped-def]
            y = x
            for _ in range(3500):  # 5 nodes a layer: 17,500 nodes in one function
                y = tf.nn.relu(y * 1.0001 + 0.5)
            return {"y": y}

    module = Deep()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})


def make_graph_100k(path: Path) -> None:
    """A TF1 SavedModel whose graph has 100,000 nodes (20,000 layers of 5 ops)."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 8], name="x")
        y = x
        for _ in range(20_000):  # mul, add, relu and their two constants
            y = tf.nn.relu(y * 1.0001 + 0.5)
        with tf.compat.v1.Session(graph=graph) as session:
            builder = tf.compat.v1.saved_model.Builder(str(path))
            signature = tf.compat.v1.saved_model.predict_signature_def({"x": x}, {"y": y})
            builder.add_meta_graph_and_variables(
                session, ["serve"], signature_def_map={"serving_default": signature}
            )
            builder.save()


def generate_in_child(name: str, env: dict[str, str]) -> Path:
    """Generate a cached model in a child process (a parent grown by TF inflates child RSS)."""
    path = bench_show.CACHE / name
    if not (path / "saved_model.pb").exists():
        subprocess.run([sys.executable, __file__, "--generate", name], env=env, check=True)
    return path


MAKERS = {
    "mobilenet": bench_show.make_mobilenet,
    "large": bench_show.make_large,
    "function_10k": make_function_10k,
    "graph_100k": make_graph_100k,
}


@dataclass(frozen=True)
class Row:
    case: str
    ours: Timing
    theirs: Timing | None
    target: str = ""
    met: bool | None = None
    note: str = ""


class Suite:
    def __init__(self, runs: int, env: dict[str, str]) -> None:
        self.runs = runs
        self.env = env
        self.sections: list[tuple[str, list[Row]]] = []
        self.notes: list[str] = []
        #: Markdown of sections with a table of their own (fleet audits), after the others.
        self.blocks: list[str] = []

    def time(self, label: str, argv: list[str]) -> Timing:
        measure(label, argv, runs=1, env=self.env)  # warm-up: page cache
        timing = measure(label, argv, runs=self.runs, env=self.env)
        print(f"  {label}: {timing.wall_s:.3f} s, {timing.peak_rss_mib:.0f} MiB", file=sys.stderr)
        return timing

    def section(self, title: str) -> list[Row]:
        print(f"{title}", file=sys.stderr)
        rows: list[Row] = []
        self.sections.append((title, rows))
        return rows


def _fmt(t: Timing) -> str:
    return f"{t.wall_s:.3f} s, {t.peak_rss_mib:.0f} MiB"


def report(suite: Suite) -> str:
    lines = [
        "# smlite benchmark results",
        "",
        f"Machine: {machine()}.  Median of {suite.runs} fresh processes after a warm-up "
        "(files in the page cache); peak RSS is the largest of the runs.  Regenerate with "
        "`python benchmarks/bench_all.py` (a Python with TensorFlow 2.21 and smlite).",
        "",
    ]
    for title, rows in suite.sections:
        lines += [f"## {title}", "", "| case | smlite | TensorFlow | speed-up | target | met |"]
        lines.append("|---|---|---|---|---|---|")
        for r in rows:
            theirs = _fmt(r.theirs) if r.theirs else "-"
            ratio = f"{r.ours.ratio(r.theirs):.1f}x" if r.theirs else "-"
            met = {True: "yes", False: "**no**", None: ""}[r.met]
            case = f"{r.case} ({r.note})" if r.note else r.case
            lines.append(f"| {case} | {_fmt(r.ours)} | {theirs} | {ratio} | {r.target} | {met} |")
        lines.append("")
    if suite.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in suite.notes] + [""]
    return "\n".join(lines) + "".join(suite.blocks)


def section_startup(suite: Suite, models: dict[str, Path], smlite: str, samcli: str) -> None:
    py = sys.executable
    rows = suite.section("Start-up")
    ours = suite.time("import smlite", [py, "-c", "import smlite"])
    theirs = suite.time("import tensorflow", [py, "-c", "import tensorflow"])
    rows.append(
        Row("`import smlite` vs `import tensorflow`", ours, theirs, "< 150 ms", ours.wall_s < 0.150)
    )
    floor = suite.time("import typer, smlite.pb", [py, "-c", "import typer, smlite.pb"])
    rows.append(
        Row(
            "start-up floor: CPython + Typer + protobuf runtime (`import typer, smlite.pb`)",
            floor,
            None,
            note="every command pays this before it reads a byte",
        )
    )
    ours = suite.time("smlite --help", [smlite, "--help"])
    # saved_model_cli --help exits 1 (absl), which measure() treats as a failure.
    theirs = suite.time("saved_model_cli --help", ["sh", "-c", f'"{samcli}" --help; true'])
    rows.append(Row("`--help`", ours, theirs, "< 300 ms", ours.wall_s < 0.300))


TINY_MODEL = HERE.parent / "tests" / "fixtures" / "models" / "module_one_signature"


def section_show(suite: Suite, models: dict[str, Path], smlite: str, samcli: str) -> None:
    for key, title, targets in (
        ("mobilenet", "show: MobileNetV2", None),
        ("large", "show: saved_model.pb over 1 GB", "large"),
    ):
        model = models[key]
        size = (model / "saved_model.pb").stat().st_size / MiB
        rows = suite.section(f"{title} (saved_model.pb {size:,.0f} MiB)")
        for case, argv in bench_show.forms(model):
            ours = suite.time(f"smlite {case}", [smlite, *argv])
            theirs = suite.time(f"saved_model_cli {case}", [samcli, *argv])
            ratio = ours.ratio(theirs)
            if targets is None:
                rows.append(Row(case, ours, theirs, ">= 20x", ratio >= 20))
            elif case in ("--list_ops", "--all"):
                rows.append(Row(case, ours, theirs, "< 1 GiB", ours.peak_rss_mib < 1024))
            else:
                met = ratio >= 40 and ours.peak_rss_mib < 150
                rows.append(Row(case, ours, theirs, ">= 40x, < 150 MiB", met))
            if case == "--all":
                show_all = ours
        if targets is not None:
            # Issue 18: size walks the file by spans and keeps no parse, so its memory does not
            # grow with the model; it does import rich for its tree, which show --all does not.
            ours = suite.time("smlite size", [smlite, "size", str(model)])
            tiny = suite.time("smlite size (tiny)", [smlite, "size", str(TINY_MODEL)])
            rows.append(
                Row(
                    "`smlite size` (no saved_model_cli equivalent)",
                    ours,
                    None,
                    "< 150 MiB, same as on a tiny model (+2 MiB)",
                    ours.peak_rss_mib < 150 and ours.peak_rss_mib <= tiny.peak_rss_mib + 2,
                    note=f"--all peaks at {show_all.peak_rss_mib:.0f} MiB; size on a 15 KiB "
                    f"model at {tiny.peak_rss_mib:.0f} MiB (the difference to --all is the code "
                    "of its rich tree and the variables reader, not the model)",
                )
            )


def section_function(suite: Suite, models: dict[str, Path], smlite: str, samcli: str) -> None:
    model = models["function_10k"]
    rows = suite.section("show: a function of 17,500 nodes")
    for case, argv in bench_show.forms(model)[3:]:
        ours = suite.time(f"smlite {case}", [smlite, *argv])
        theirs = suite.time(f"saved_model_cli {case}", [samcli, *argv])
        target, met = (">= 40x", ours.ratio(theirs) >= 40) if case == "--all" else ("", None)
        rows.append(Row(case, ours, theirs, target, met))


def section_gate(suite: Suite, models: dict[str, Path], smlite: str, samcli: str) -> None:
    """scan, check and fingerprint (issue 13's targets for the gate)."""
    py = sys.executable
    rows = suite.section("scan, check, fingerprint")
    mobilenet, large = str(models["mobilenet"]), str(models["large"])
    large_mib = (models["large"] / "saved_model.pb").stat().st_size / MiB
    ours = suite.time("smlite scan --dir", [smlite, "scan", "--dir", mobilenet])
    theirs = suite.time("saved_model_cli scan", [samcli, "scan", "--dir", mobilenet])
    rows.append(Row("`scan --dir` MobileNetV2 vs `saved_model_cli scan`", ours, theirs))
    ours = suite.time("smlite check", [smlite, "check", mobilenet])
    theirs = suite.time("tf.saved_model.load", [py, "-c", TF_LOAD, mobilenet])
    rows.append(
        Row(
            "`check` MobileNetV2 vs `tf.saved_model.load`",
            ours,
            theirs,
            "<= 0.5 s",
            ours.wall_s <= 0.5,
        )
    )
    for label, model_dir, target, met in (
        ("MobileNetV2", mobilenet, "<= 0.4 s", lambda t: t.wall_s <= 0.4),
        (
            "over 1 GB",
            large,
            "<= 5 s, <= 1.5x file",
            lambda t: t.wall_s <= 5 and t.peak_rss_mib <= 1.5 * large_mib,
        ),
    ):
        ours = suite.time(f"smlite fingerprint {label}", [smlite, "fingerprint", model_dir])
        theirs = suite.time(f"read_fingerprint {label}", [py, "-c", TF_FINGERPRINT, model_dir])
        rows.append(
            Row(
                f"`fingerprint` {label} vs `read_fingerprint`",
                ours,
                theirs,
                target,
                met(ours),
                note="smlite recomputes every hash; TF only reads fingerprint.pb",
            )
        )
    ours = suite.time("smlite check over 1 GB", [smlite, "check", large])
    met = ours.wall_s <= 5 and ours.peak_rss_mib <= 1.5 * large_mib
    rows.append(
        Row(
            f"`check` over 1 GB ({large_mib:,.0f} MiB saved_model.pb)",
            ours,
            None,
            "<= 5 s, <= 1.5x file",
            met,
        )
    )
    graph_100k = str(models["graph_100k"])
    ours = suite.time("smlite check graph_100k", [smlite, "check", graph_100k])
    theirs = suite.time("tf.saved_model.load graph_100k", [py, "-c", TF_LOAD_TF1, graph_100k])
    rows.append(
        Row(
            "`check` of a 100,000-node graph vs `tf.compat.v1.saved_model.load`",
            ours,
            theirs,
            "<= 2 s",
            ours.wall_s <= 2,
        )
    )
    rates = json.loads(
        subprocess.run(
            [py, "-c", FARMHASH_RATES, str(models["large"] / "saved_model.pb")],
            env=suite.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    hashed = Timing("farmhash", rates["seconds"], 0.0, rates["runs"])
    rows.append(
        Row(
            f"FarmHash Fingerprint64 of saved_model.pb in process ({rates['implementation']}): "
            f"{rates['native'] / 1e9:.2f} GB/s (pure Python {rates['py'] / 1e6:.1f} MB/s)",
            hashed,
            None,
            ">= 3 GB/s",
            rates["native"] >= 3e9,
        )
    )


def section_variables(suite: Suite, models: dict[str, Path], smlite: str, samcli: str) -> None:
    py = sys.executable
    variables = models["variables_2000"]
    prefix = str(variables / "variables" / "variables")
    data = sum(p.stat().st_size for p in (variables / "variables").glob("variables.data-*"))
    rows = suite.section(f"variables: 2,000 variables, {data / 1e6:,.0f} MB in 4 shards")
    ours = suite.time("smlite variables", [smlite, "variables", str(variables)])
    theirs = suite.time("tf.train.list_variables", [py, "-c", TF_LIST, prefix])
    rows.append(Row("list (whole command)", ours, theirs, "< 0.5 s", ours.wall_s < 0.5))
    ours = suite.time(
        "smlite variables --verify", [smlite, "variables", str(variables), "--verify"]
    )
    theirs = suite.time("TF read all", [py, "-c", bench_variables.TF_READ, prefix])
    rows.append(
        Row(
            "read + verify all (whole command, import included)",
            ours,
            theirs,
            "faster than TF",
            ours.wall_s < theirs.wall_s,
        )
    )
    ours_op = bench_variables.measure(
        "smlite read", bench_variables.SMLITE_READ, prefix, suite.runs, suite.env
    )
    theirs_op = bench_variables.measure(
        "TF read", bench_variables.TF_READ, prefix, suite.runs, suite.env
    )
    rows.append(
        Row(
            f"open + read + verify all, in process: smlite {ours_op.gb_s:.2f} GB/s, "
            f"TF {theirs_op.gb_s:.2f} GB/s",
            Timing("smlite", ours_op.op_s, ours_op.peak_rss_mib, suite.runs),
            Timing("TF", theirs_op.op_s, theirs_op.peak_rss_mib, suite.runs),
            "faster than TF",
            ours_op.op_s < theirs_op.op_s,
        )
    )
    rows.append(
        Row(
            f"read + verify all once open, in process: smlite {ours_op.read_gb_s:.2f} GB/s, "
            f"TF {theirs_op.read_gb_s:.2f} GB/s",
            Timing("smlite", ours_op.read_s, ours_op.peak_rss_mib, suite.runs),
            Timing("TF", theirs_op.read_s, theirs_op.peak_rss_mib, suite.runs),
            ">= 4 GB/s",
            ours_op.read_gb_s >= 4,
        )
    )


def section_diff(suite: Suite, models: dict[str, Path], smlite: str, samcli: str) -> None:
    bench_diff.run_section(suite, Row, smlite)


def section_fleet(suite: Suite, models: dict[str, Path], smlite: str, samcli: str) -> None:
    """Fleet audits (bench_fleet.py, run by a Python with smlite[remote,fleet])."""
    print("fleet audits", file=sys.stderr)
    suite.blocks.append(bench_fleet.section(suite.runs))


#: Section name -> (runner, the cached models it needs), in report order.
SECTIONS = {
    "startup": (section_startup, ()),
    "show": (section_show, ("mobilenet", "large")),
    "function": (section_function, ("function_10k",)),
    "gate": (section_gate, ("mobilenet", "large", "graph_100k")),
    "variables": (section_variables, ("variables_2000",)),
    # bench_diff makes (and caches) the large model and the variables it changes copies of.
    "diff": (section_diff, ()),
    # bench_fleet makes its fleets; variables_2000 comes from bench_variables through it.
    "fleet": (section_fleet, ()),
}


def run_suite(
    suite: Suite, models: dict[str, Path], smlite: str, samcli: str, only: list[str]
) -> None:
    for name in only:
        SECTIONS[name][0](suite, models, smlite, samcli)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--no-readme",
        dest="readme",
        action="store_false",
        help="do not copy the tables into README.md",
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default: all of {', '.join(SECTIONS)}); "
        "a subset writes --out but never README.md",
    )
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.generate:
        bench_show.ensure(args.generate, MAKERS[args.generate])
        return

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    import smlite

    compileall.compile_dir(str(Path(smlite.__file__).parent), quiet=1)
    needed = {model for name in only for model in SECTIONS[name][1]}
    models = {name: generate_in_child(name, env) for name in MAKERS if name in needed}
    if "variables_2000" in needed:
        models["variables_2000"] = bench_variables.ensure(env)

    smlite_bin, samcli = bench_show._tool("smlite"), bench_show._tool("saved_model_cli")
    suite = Suite(args.runs, env)
    start = time.perf_counter()
    run_suite(suite, models, smlite_bin, samcli, only)
    text = report(suite)
    text += f"Suite ran in {(time.perf_counter() - start) / 60:.1f} min.\n"
    args.out.write_text(text)
    if args.readme and only == list(SECTIONS):
        update_readme(README, text)
    print(text)


def update_readme(readme: Path, report_text: str) -> None:
    """Put the report (headings one level down) between the README's benchmark markers."""
    body = report_text.split("\n", 2)[2]  # without the "# smlite benchmark results" title
    body = body.replace("\n## ", "\n### ")
    text = readme.read_text()
    head, start, rest = text.partition(README_START)
    _, end, tail = rest.partition(README_END)
    if not start or not end:
        raise SystemExit(f"{readme}: no {README_START} ... {README_END} markers")
    readme.write_text(f"{head}{start}\n{body.strip()}\n{end}{tail}")


if __name__ == "__main__":
    main()
