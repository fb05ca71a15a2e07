"""``smlite run`` against TensorFlow 2.21 and ``saved_model_cli run``.

* Every recorded ``saved_model_cli run`` case of the committed fixtures (TF1 classify/regress/
  predict over ``--input_examples``, multi-tag, ``.npy``/``.npz`` inputs, ``--outdir``, string and
  lookup-table inputs, a two-input keras model, the dtype zoo) gives the same standard output
  with both backends: the same text, with numbers equal within a tolerance per output dtype
  (``tests/support/run_output.py``) -- the recording was made on another CPU, and a numeric run
  is not bit-reproducible across CPUs.
* A few runs are compared with a live ``saved_model_cli`` process on the same machine and inputs:
  with the session backend (saved_model_cli's own way) standard output and the ``--outdir`` files
  are identical byte for byte; with ``auto`` (the signature function) within the tolerance.
* A TF2 export that ``tf.saved_model.load`` cannot load runs with ``auto`` as saved_model_cli
  runs it (the Session loader), with a note on stderr.
* ``--input_examples`` serializes exactly what saved_model_cli's ``_create_example_string`` does.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import smlite
from smlite.cli import run as cli_run
from smlite.run.backend import resolve_backend
from smlite.run.examples import create_example
from tests.support import samcli
from tests.support.run_output import assert_arrays_close, assert_run_text_close, output_dtypes

tf = pytest.importorskip("tensorflow")

ROOT = Path(__file__).resolve().parents[2]
SavedModelCliRunner = Callable[[Sequence[str]], Any]

RUN_CASES = [
    (name, index)
    for name in samcli.fixture_names()
    for index, _ in enumerate(samcli.load_cases(name, run=True))
]


def _smlite(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli_run(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _case_argv(name: str, index: int, outdir: Path) -> tuple[samcli.Case, list[str]]:
    case = samcli.load_cases(name, run=True)[index]
    argv = case.argv_for(samcli.model_dir(name), inputs=samcli.inputs_dir(name), outdir=outdir)
    return case, argv


def _assert_same_run(name: str, argv: Sequence[str], actual: str, recorded: str) -> None:
    """``actual`` prints the recorded run's text, numbers within the output dtypes' tolerance."""
    dtypes = output_dtypes(samcli.model_dir(name), argv)
    assert_run_text_close(actual, recorded, dtypes)


def _find_case(name: str, *words: str) -> int:
    """Index of the recorded run case of ``name`` whose argv contains every one of ``words``."""
    for index, case in enumerate(samcli.load_cases(name, run=True)):
        if all(w in case.argv for w in words):
            return index
    raise AssertionError(f"{name}: no recorded run case with {words}")


@pytest.mark.parametrize("backend", ["session", "function"])
@pytest.mark.parametrize(("name", "index"), RUN_CASES, ids=[f"{n}-{i}" for n, i in RUN_CASES])
def test_recorded_run_cases(
    name: str, index: int, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = tmp_path / "out"
    case, argv = _case_argv(name, index, outdir)
    code, out, err = _smlite([*argv, "--backend", backend], capsys)
    if case.exit == 0:
        assert code == 0, err
        _assert_same_run(name, argv, out.replace(str(outdir), "{outdir}"), case.stdout)
        if "--outdir" in argv:
            saved = [line for line in out.splitlines() if line.startswith("Output ")]
            assert saved and all(Path(line.rsplit(" ", 1)[1]).is_file() for line in saved)
    elif name == "keras_model" and backend == "function":
        # saved_model_cli's Session cannot restore this keras 3 export (recorded failure); the
        # restored signature function runs it.
        assert code == 0, err
        assert out.startswith("Result for output key h:\n[[")
    else:
        assert code == 2
        assert out == ""
        assert err.startswith("smlite: error: ")
        assert "Traceback" not in err


def test_numpy_constructors_give_the_literal_result(capsys: pytest.CaptureFixture[str]) -> None:
    index = _find_case("tf1_multi_tag", "x=[[1.0,2.0],[3.0,4.0]]")
    case, argv = _case_argv("tf1_multi_tag", index, Path("unused"))
    assert "x=[[1.0,2.0],[3.0,4.0]]" in argv
    i = argv.index("x=[[1.0,2.0],[3.0,4.0]]")
    argv[i] = "x=np.arange(1, 5, dtype='float32').reshape(2, 2)"
    code, _, err = _smlite(argv, capsys)
    assert code == 2 and "calling np.arange(1, 5, dtype='float32').reshape" in err
    argv[i] = "x=np.array([[1, 2], [3, 4]], dtype='float64')"
    code, out, err = _smlite(argv, capsys)
    assert code == 0, err
    _assert_same_run("tf1_multi_tag", argv, out, case.stdout)


def test_json_output_matches_the_text(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    _, argv = _case_argv("dtype_zoo", _find_case("dtype_zoo", ZOO_EXPRS), Path("unused"))
    code, out, err = _smlite([*argv, "--format", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "run" and doc["backend"] == "function"
    outputs = doc["outputs"]
    assert list(outputs) == sorted(outputs)
    assert outputs["out_float16"] == {
        "dtype": {"name": "float16", "enum": "DT_HALF", "value": 19},
        "shape": [1],
        "value": [1.5],
    }
    assert outputs["out_complex64"]["value"] == [[1.0, 2.0]]
    assert outputs["out_string"]["value"] == ["a"] and outputs["out_string"]["encoding"] == "utf-8"
    assert outputs["out_uint64"]["value"] == [3]
    assert outputs["out_bool"]["value"] == [True]


@pytest.mark.parametrize(
    "features",
    [
        {"x": [1.0, 2.0]},
        {"x": [0.5], "id": [7, -3], "name": ["a", "é"], "raw": [b"\x00\xff"]},
        {"mixed": [1.5, 2], "big": [2**63 - 1, -(2**63)]},
        {},
    ],
)
def test_examples_serialize_like_saved_model_cli(features: dict[str, list[Any]]) -> None:
    from tensorflow.python.tools import saved_model_cli

    assert create_example(features) == saved_model_cli._create_example_string(features)


# ---------------------------------------------------------------------------
# Live saved_model_cli processes
# ---------------------------------------------------------------------------

ZOO_EXPRS = next(
    c.argv[-1] for c in samcli.load_cases("dtype_zoo", run=True) if "string=" in c.argv[-1]
)
EXOTIC_EXPRS = (
    "bfloat16=[[1.0,2.0,3.0],[4.0,5.0,6.0]];float4_e2m1fn=[[1.0,2.0,3.0],[4.0,0.5,6.0]];"
    "float8_e4m3fn=[[1.0,2.0,3.0],[4.0,5.0,6.0]];float8_e5m2=[[1.0,2.0,3.0],[4.0,5.0,6.0]];"
    "int2=[[1,0,-1],[-2,1,0]];int4=[[1,2,3],[-8,7,0]];qint32=[[1,2,3],[4,5,6]];"
    "qint8=[[1,2,3],[4,5,6]];quint8=[[1,2,3],[4,5,6]];uint2=[[1,2,3],[0,1,2]];"
    "uint4=[[1,2,3],[15,0,4]]"
)

# name -> (fixture, argv after "run" with {model}/{outdir}/{tmp} placeholders)
LIVE: dict[str, tuple[str, tuple[str, ...]]] = {
    "tf1_classify_outdir": (
        "tf1_multi_tag",
        (
            "--tag_set", "serve", "--signature_def", "predict_y",
            "--input_examples", 'examples=[{"x":[1.0,2.0]},{"x":[-1.5,0.5]},{"x":[0.0,4.0]}]',
            "--outdir", "{outdir}",
        ),
    ),
    "dtype_zoo_outdir": (
        "dtype_zoo",
        ("--tag_set", "serve", "--signature_def", "serving_default", "--input_exprs",
         ZOO_EXPRS, "--outdir", "{outdir}"),
    ),
    "dtype_zoo_exotic": (
        "dtype_zoo",
        ("--tag_set", "serve", "--signature_def", "exotic", "--input_exprs", EXOTIC_EXPRS),
    ),
    "keras_files_and_precedence": (
        "keras_multi_export",
        ("--tag_set", "serve", "--signature_def", "serving_default",
         "--inputs", "a={tmp}/in.npz[a];b={tmp}/b.npy", "--input_exprs", "b=[[0.25, -2.0]]"),
    ),
}  # fmt: skip


def _fill(argv: Sequence[str], model: Path, outdir: Path, tmp: Path) -> list[str]:
    values = {"{model}": str(model), "{outdir}": str(outdir), "{tmp}": str(tmp)}
    filled = []
    for arg in argv:
        for placeholder, value in values.items():
            arg = arg.replace(placeholder, value)
        filled.append(arg)
    return filled


@pytest.fixture(scope="module")
def live_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("run_live")
    np.savez(tmp / "in.npz", a=np.array([[1.0, -2.0, 0.5]], dtype=np.float32))
    np.save(tmp / "b.npy", np.array([[9.0, 9.0]], dtype=np.float32))
    return tmp


@pytest.fixture(scope="module")
def live(live_dir: Path, saved_model_cli: SavedModelCliRunner) -> dict[str, Any]:
    """Every saved_model_cli run of this module, two processes at a time."""
    jobs = {}
    for key, (name, argv) in LIVE.items():
        outdir = live_dir / f"samcli-{key}"
        model = samcli.model_dir(name)
        jobs[key] = ["run", "--dir", str(model), *_fill(argv, model, outdir, live_dir)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(saved_model_cli, argv) for key, argv in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("backend", ["session", "auto"])
@pytest.mark.parametrize("key", list(LIVE))
def test_same_as_live_saved_model_cli(
    key: str,
    backend: str,
    live: dict[str, Any],
    live_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = live[key]
    assert reference.returncode == 0, reference.stderr[-3000:]
    name, argv = LIVE[key]
    model = samcli.model_dir(name)
    ours = tmp_path / "out"
    filled = _fill(argv, model, ours, live_dir)
    code, out, err = _smlite(["run", "--dir", str(model), *filled, "--backend", backend], capsys)
    assert code == 0, err
    theirs = live_dir / f"samcli-{key}"
    out = out.replace(str(ours), "{outdir}")
    expected = reference.stdout.replace(str(theirs), "{outdir}")
    # The same backend as saved_model_cli on the same machine: the same bits.  The signature
    # function (auto on TF2 exports) may round differently on some CPUs.
    with smlite.open(model) as sm:
        has_object_graph = sm.meta_graph("serve").has_object_graph
    exact = resolve_backend(backend, has_object_graph=has_object_graph) == "session"
    if exact:
        assert out == expected
    else:
        _assert_same_run(name, filled, out, expected)
    if "{outdir}" in argv:
        written = sorted(p.name for p in theirs.iterdir())
        assert sorted(p.name for p in ours.iterdir()) == written
        for file in written:
            if exact:
                assert (ours / file).read_bytes() == (theirs / file).read_bytes(), file
            else:
                # Files this test wrote itself: string outputs are object arrays.
                mine = np.load(ours / file, allow_pickle=True)
                assert_arrays_close(mine, np.load(theirs / file, allow_pickle=True))
    if key == "keras_files_and_precedence":
        assert "the --input_exprs value is used" in err


def test_tricky_strings_through_a_lookup_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Non-ASCII, non-UTF-8 and NUL-carrying strings: both backends agree with TF's own run."""
    model = samcli.model_dir("lookup_table")
    words = ["the", "zebra", "caf\u00e9", b"\xff\x00", ""]
    argv = ["run", str(model), "--tag_set", "serve", "--input_exprs", f"words={words!r}"]
    outputs = {}
    for backend in ("session", "function"):
        code, out, err = _smlite([*argv, "--backend", backend], capsys)
        assert code == 0, err
        outputs[backend] = out
    assert outputs["session"] == outputs["function"]
    loaded = tf.saved_model.load(str(model))
    result = loaded.signatures["serving_default"](words=tf.constant(words))
    expected = "".join(f"Result for output key {k}:\n{result[k].numpy()}\n" for k in sorted(result))
    assert outputs["session"] == expected


def test_outdir_refuses_to_overwrite_then_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case, argv = _case_argv("tf1_multi_tag", _find_case("tf1_multi_tag", "--outdir"), tmp_path)
    assert "--outdir" in argv
    (tmp_path / "y.npy").write_bytes(b"old")
    code, out, err = _smlite(argv, capsys)
    assert code == 2 and out == ""
    assert "already exists; add --overwrite" in err
    assert (tmp_path / "y.npy").read_bytes() == b"old"
    code, out, err = _smlite([*argv, "--overwrite"], capsys)
    assert code == 0, err
    _assert_same_run("tf1_multi_tag", argv, out.replace(str(tmp_path), "{outdir}"), case.stdout)
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), [[-1.25]])


def test_standard_output_of_a_real_process_carries_only_results(tmp_path: Path) -> None:
    """TensorFlow's logging (left at its default here) must not reach standard output."""
    case, argv = _case_argv("tf1_multi_tag", 0, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run(
        [sys.executable, "-m", "smlite", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_same_run("tf1_multi_tag", argv, proc.stdout, case.stdout)


# ---------------------------------------------------------------------------
# A TF2 export that tf.saved_model.load cannot load (issue 12, item 6)
# ---------------------------------------------------------------------------

OPTIMIZER_SLOTS = samcli.FIXTURES / "derived" / "optimizer_slots"
ADD_SLOT = "'_UserObject' object has no attribute 'add_slot'"


def test_the_derived_fixture_fails_only_in_the_object_graph_loader() -> None:
    """scripts/make_run_fallback_fixture.py: an optimizer TF 2.21 revives as a _UserObject."""
    with pytest.raises(AttributeError, match=ADD_SLOT):
        tf.saved_model.load(str(OPTIMIZER_SLOTS))
    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        tf.compat.v1.saved_model.load(sess, ["serve"], str(OPTIMIZER_SLOTS))


def test_auto_runs_what_saved_model_cli_runs_when_the_function_loader_fails(
    saved_model_cli: SavedModelCliRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--dir", str(OPTIMIZER_SLOTS), "--tag_set", "serve"]
    argv += ["--signature_def", "serving_default", "--input_exprs", "x=[[1.0, 2.0], [0.5, -1.0]]"]
    reference = saved_model_cli(argv)
    assert reference.returncode == 0, reference.stderr[-3000:]
    code, out, err = _smlite(argv, capsys)
    assert code == 0, err
    assert out == reference.stdout == "Result for output key y:\n[[-2.5 ]\n [ 2.75]]\n"
    assert (
        f"smlite: note: tf.saved_model.load could not load the model (AttributeError: {ADD_SLOT})"
        in err
    )
    code, out, err = _smlite([*argv, "--backend", "function"], capsys)
    assert code == 2 and out == ""
    assert ADD_SLOT in err and "(try --backend session)" in err
